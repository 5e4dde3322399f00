"""Step 2 of a run, the backup: the live source copied once, the copy checked.

:func:`take_backup` copies the file through the run's :class:`~rms.migrate.sqlite.SourceWatch`
(online backup API: one committed snapshot) into the run's private directory;
:func:`backup_lineage` checks the copy is what the preflight planned for (else the file was
written in between); :class:`BackgroundChecks` runs the full ``integrity_check`` and the
copy's SHA-256 while the load runs, joined before COMMIT. Every later read comes from the copy.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import suppress
from pathlib import Path

from rms.migrate.errors import SourceChangedError, SourceError
from rms.migrate.lineage import Lineage, build_lineage
from rms.migrate.lineage_store import materialize
from rms.migrate.plan import MigrateOptions, MigrationPlan
from rms.migrate.report import MigrationReport
from rms.migrate.sqlite import SourceWatch, integrity_check, open_source, read_schema
from rms.transfer.sqlite import file_sha256, remove_database_file

__all__ = ["STILL_WRITING", "BackgroundChecks", "backup_lineage", "take_backup"]

STILL_WRITING = (
    "the application is still writing to it: stop the application (rms serve, or the "
    "original RMS app) and run the migration again; nothing was written to the target"
)


def take_backup(plan: MigrationPlan, report: MigrationReport, watch: SourceWatch) -> Path:
    started = time.perf_counter()
    tmp = plan.work_dir / f"source-{plan.run_id}.db.partial"
    try:
        watch.backup(tmp)
    except BaseException:
        remove_database_file(tmp)
        raise
    final = plan.work_dir / f"source-{plan.run_id}-{plan.source_sha256[:12]}.db"
    tmp.replace(final)
    with suppress(OSError):
        final.chmod(0o444)
    report.backup = str(final)
    report.timings["backup"] = round(time.perf_counter() - started, 3)
    return final


def backup_lineage(plan: MigrationPlan, source: sqlite3.Connection, backup: Path) -> Lineage:
    """The lineage of the backup; it must be the one planned (else the file was written)."""
    schema = read_schema(source, backup)
    lineage = build_lineage(source, schema, plan.lineage_options, plan.run)
    if lineage.fingerprint() != plan.lineage.fingerprint():
        raise SourceChangedError(
            f"{plan.source} changed between the preflight and the backup (its tables or row "
            f"counts differ): {STILL_WRITING}"
        )
    materialize(source, schema, lineage, plan.run)
    return lineage


class BackgroundChecks:
    """Checks of the backup copy in threads (SQLite and hashlib release the GIL), joined
    before COMMIT: the backup's SHA-256 beside the load, the full integrity_check after it."""

    def __init__(self, backup: Path, options: MigrateOptions) -> None:
        self.backup = backup
        self.sha: str | None = None
        self.error: BaseException | None = None
        self.full = options.integrity == "full"
        self.threads = [threading.Thread(target=self._sha, daemon=True)]
        self.threads[0].start()

    def after_load(self) -> None:
        """Start the full integrity_check once the rows are in (docs/benchmarks.md, issue 31:
        beside the load it competes for the cores with the conversion and the COPY)."""
        if self.full:
            self.threads.append(threading.Thread(target=self._integrity, daemon=True))
            self.threads[-1].start()

    def _sha(self) -> None:
        try:
            self.sha = file_sha256(self.backup)
        except OSError as exc:  # pragma: no cover - the backup vanished under us
            self.error = exc

    def _integrity(self) -> None:
        try:
            conn = open_source(self.backup)
            try:
                integrity_check(conn, self.backup)
            finally:
                conn.close()
        except BaseException as exc:
            self.error = exc

    def wait(self, report: MigrationReport | None) -> None:
        for thread in self.threads:
            thread.join()
        if report is None:
            return
        report.backup_sha256 = self.sha
        if isinstance(self.error, SourceError):
            raise self.error
        if self.error is not None:
            raise SourceError(f"checking the backup copy failed: {self.error}")
