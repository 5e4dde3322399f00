"""``export_database``: the whole export, in the order that makes every failure harmless.

1. **Before connecting**: the target path is checked (its directory exists and is writable;
   no file there unless ``replace``; no stray SQLite journal next to it), temporary files of
   killed exports are swept, the Prisma history is prepared.
2. **One transaction on PostgreSQL**, ``REPEATABLE READ, READ ONLY``, through
   :mod:`rms.db` (the service's settings, cold starts ridden through, its TLS default):
   the snapshot is taken; the schema must be revision head column for column; every value
   SQLite could not hold exactly is listed (and stops the export before any file exists).
3. **The file**, under a temporary name next to the target, watched by the clean-up guard:
   the schema head (Alembic), the rows table by table from the snapshot, the indexes, the
   application's migration history.
4. **Verification** before anything is put in place (:mod:`rms.export.verify`): counts and
   checksums on both sides, foreign keys, integrity. The PostgreSQL transaction ends here.
5. **fsync, rename** (or link, when nothing may be replaced), fsync of the directory.

Any failure (an error, Ctrl-C, a lost connection) deletes the temporary file and SQLite's
companions before the error reaches the caller; a SIGKILL leaves them to the guard process.
The report is written in every case once step 1 passed.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import closing, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rms.db.database import Database
from rms.db.errors import DRIVER_ERRORS, translate
from rms.db.pg import PgConnection, PgCursor, driver_connection
from rms.errors import RmsError
from rms.export.errors import (
    ExportDataError,
    ExportError,
    ExportSourceError,
    ExportTargetError,
    ExportVerificationError,
)
from rms.export.observe import ExportObserver
from rms.export.placement import (
    CleanupGuard,
    check_target,
    companions,
    fsync_path,
    place,
    remove_all,
    sweep_stale,
    temporary_path,
)
from rms.export.postgresql import (
    check_schema,
    find_problems,
    open_snapshot,
    stream_rows,
    unknown_tables,
)
from rms.export.prisma import PrismaHistory, prisma_history, record_history
from rms.export.report import ExportReport, TableResult
from rms.export.sqlite import (
    create_schema,
    drop_indexes,
    insert_rows,
    open_for_load,
    restore_indexes,
)
from rms.export.verify import PgDigests, verify_file
from rms.settings.state import make_private_dir
from rms.settings.urls import display_url
from rms.transfer.spec import TableSpec, table_specs

__all__ = ["DATETIME_STORAGE", "ExportObserver", "ExportOptions", "export_database"]

DATETIME_STORAGE = (
    "TEXT YYYY-MM-DDTHH:MM:SS.mmm+00:00 (UTC, milliseconds): what the application's Prisma 7 "
    "client writes on SQLite and what our service writes and compares since revision 0002"
)


@dataclass
class ExportOptions:
    """Everything an export can be told; the CLI maps its flags onto this one object."""

    replace: bool = False
    #: The JSON report; default ``<work_root>/<run id>/report.json``.
    report_path: Path | None = None
    #: Where a run without ``report_path`` gets its directory; the CLI passes
    #: ``<state dir>/export``.
    work_root: Path | None = None
    #: The application's ``prisma/migrations`` directory, for the real checksums.
    prisma_migrations: Path | None = None
    observer: ExportObserver = field(default_factory=ExportObserver)
    #: Rows per batch from the COPY stream into SQLite (memory stays flat).
    batch_rows: int = 5000
    #: The clean-up guard process (off only for callers that cannot start processes).
    guard: bool = True


def _now() -> datetime:
    return datetime.now(UTC)


def _source_label(db: Database) -> str:
    return display_url(db.engine.url)


def export_database(
    db: Database, target: Path, options: ExportOptions | None = None
) -> ExportReport:
    """Copy the PostgreSQL database behind ``db`` into a new SQLite file at ``target``.

    Returns the report (status ``exported``); raises an :class:`ExportError` (or the
    database's own :class:`rms.errors.RmsError`, e.g. unavailable) otherwise, with nothing at
    ``target`` that was not there before.
    """
    from rms import __version__

    options = options or ExportOptions()
    run_id = str(uuid.uuid4())
    source = _source_label(db)
    if db.dialect != "postgresql":
        raise ExportSourceError(
            f"the configured database is {db.dialect} ({source}): `rms db export` copies a "
            "PostgreSQL database into a new SQLite file; set DATABASE_URL (or the DB_* "
            "variables) to the PostgreSQL database"
        )
    target = check_target(target, replace=options.replace)
    history = prisma_history(options.prisma_migrations)
    report = ExportReport(
        run_id=run_id,
        source=source,
        target=str(target),
        replaced_existing=target.exists(),
        tool_version=__version__,
        datetime_storage=DATETIME_STORAGE,
        started_at=_now().isoformat(),
        warnings=list(history.warnings),
    )
    for stale in sweep_stale(target):
        report.warnings.append(f"removed {stale.name}, left by an export whose process was killed")
    report_path = _report_path(options, run_id)
    temporary = temporary_path(target, run_id)
    report.temporary_file = str(temporary)
    clock = time.perf_counter()
    try:
        _run(db, target, temporary, history, options, report)
    except BaseException as exc:
        translated = _translated(exc, source, target)
        report.status = "failed"
        report.error = str(translated) or type(translated).__name__
        if isinstance(exc, ExportDataError):
            report.problems, report.problems_total = exc.problems, exc.total
        if isinstance(exc, ExportVerificationError):
            report.mismatches = exc.mismatches
        _finish(report, report_path, clock)
        if translated is exc:
            raise
        raise translated from exc
    report.status = "exported"
    report.file_bytes = target.stat().st_size
    _finish(report, report_path, clock)
    return report


def _translated(exc: BaseException, source: str, target: Path) -> BaseException:
    """Driver and file-system errors as the export's own errors (others pass unchanged)."""
    if isinstance(exc, RmsError) or not isinstance(exc, Exception):
        return exc
    if isinstance(exc, DRIVER_ERRORS):
        return translate(
            exc,
            where=source,
            into=lambda translated, _exc: ExportSourceError(
                f"{translated}; the export stopped and nothing was written to {target}: "
                "run it again"
            ),
        )
    if isinstance(exc, sqlite3.Error | OSError):
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return ExportTargetError(
            f"writing the new file next to {target} failed: {reason}; nothing was changed"
        )
    return exc


def _report_path(options: ExportOptions, run_id: str) -> Path:
    if options.report_path is not None:
        return Path(options.report_path)
    if options.work_root is None:
        raise ValueError("ExportOptions needs report_path or work_root: where the report goes")
    return make_private_dir(Path(options.work_root) / run_id) / "report.json"


def _finish(report: ExportReport, path: Path, clock: float) -> None:
    report.finished_at = _now().isoformat()
    report.seconds = round(time.perf_counter() - clock, 3)
    try:
        report.write(path)
    except OSError as exc:
        report.warnings.append(f"the report could not be written to {path}: {exc.strerror or exc}")


def _timed(report: ExportReport, name: str, started: float) -> float:
    now = time.perf_counter()
    report.timings[name] = round(now - started, 3)
    return now


def _run(
    db: Database,
    target: Path,
    temporary: Path,
    history: PrismaHistory,
    options: ExportOptions,
    report: ExportReport,
) -> None:
    observer = options.observer
    specs = table_specs()
    paths = companions(temporary)
    guard = CleanupGuard(paths) if options.guard else None
    digests: PgDigests | None = None
    try:
        observer.phase(f"connecting to {report.source}")
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            observer.event("connected")
            transaction = conn.begin()
            try:
                pg = driver_connection(conn)
                counts = _check_source(pg, specs, options, report)
                if guard is not None:
                    guard.__enter__()

                def rows_written() -> None:
                    # The server digests the snapshot while SQLite builds the indexes.
                    nonlocal digests
                    digests = PgDigests(pg, specs)

                _write(pg, temporary, specs, counts, history, options, report, rows_written)
                assert digests is not None
                observer.phase("verifying: checksums on both sides, foreign keys, integrity")
                observer.event("verify")
                started = time.perf_counter()
                verify_file(temporary, specs, report, digests)
                _timed(report, "verify", started)
                observer.event("verified")
            finally:
                if digests is not None:
                    digests.abandon()
                # Read only: nothing to commit. By now every read is done (and verified, on
                # the way to success), so a connection lost at this point changes nothing.
                with suppress(*DRIVER_ERRORS):
                    transaction.rollback()
        started = time.perf_counter()
        fsync_path(temporary)
        observer.event("before-rename")
        place(temporary, target, replace=options.replace)
        _timed(report, "place", started)
        observer.event("renamed")
    except BaseException:
        remove_all(paths)
        raise
    finally:
        if guard is not None:
            guard.release()


def _check_source(
    pg: PgConnection,
    specs: Sequence[TableSpec],
    options: ExportOptions,
    report: ExportReport,
) -> dict[str, int]:
    """Snapshot, schema, unknown tables, unrepresentable values; row counts for progress."""
    from rms.schema.migrations import head_revision

    observer = options.observer
    started = time.perf_counter()
    with pg.cursor() as cur:
        info = open_snapshot(cur)
        report.snapshot = asdict(info)
        observer.event("snapshot")
        observer.phase(
            f"snapshot {info.snapshot} taken at {info.taken_at}: checking the schema and values"
        )
        report.schema_revision = check_schema(cur, specs, head_revision())
        for name, rows in unknown_tables(cur, specs).items():
            why = (
                "Prisma's own bookkeeping of the PostgreSQL database (the file gets its own)"
                if name == "_prisma_migrations"
                else "not an RMS table"
            )
            report.warnings.append(f"table {name} ({rows} rows) is NOT exported: {why}")
        problems, total = find_problems(cur, specs)
        if total:
            raise ExportDataError(problems, total)
        counts: dict[str, int] = {}
        for spec in specs:
            cur.execute(f'SELECT count(*) FROM "{spec.name}"')  # noqa: S608 - our own table names
            row = cur.fetchone()
            counts[spec.name] = int(row[0]) if row else 0
    _timed(report, "checks", started)
    observer.event("checked")
    return counts


def _write(
    pg: PgConnection,
    temporary: Path,
    specs: Sequence[TableSpec],
    counts: dict[str, int],
    history: PrismaHistory,
    options: ExportOptions,
    report: ExportReport,
    rows_written: Callable[[], None],
) -> None:
    """The new file: schema head, every row of the snapshot, Prisma's history, the indexes
    (``rows_written`` is called once the rows are in, before the indexes are built)."""
    from rms.schema.migrations import head_revision

    observer = options.observer
    started = time.perf_counter()
    observer.phase(f"writing {temporary.name} (renamed to its place once verified)")
    revision = create_schema(temporary)
    if revision != head_revision():  # pragma: no cover - the history's own head
        raise ExportError(f"the new file's schema is at {revision}, not {head_revision()}")
    observer.event("schema-created")
    lite = open_for_load(temporary)
    try:
        indexes = drop_indexes(lite)
        lite.execute("BEGIN")
        with pg.cursor() as cur:
            for spec in specs:
                _copy_table(cur, lite, spec, counts[spec.name], options, report)
        finished_ms = int(_now().timestamp() * 1000)
        recorded = record_history(lite, history, finished_ms)
        report.prisma_migrations = {
            "table": "_prisma_migrations",
            "recorded": recorded,
            "checksums": history.source,
        }
        lite.execute("COMMIT")
        started = _timed(report, "write", started)
        observer.phase("building the indexes")
        observer.event("indexes")
        rows_written()
        restore_indexes(lite, indexes)
        _timed(report, "indexes", started)
    finally:
        lite.close()
    observer.event("loaded")


def _copy_table(
    cur: PgCursor,
    lite: sqlite3.Connection,
    spec: TableSpec,
    total: int,
    options: ExportOptions,
    report: ExportReport,
) -> None:
    observer = options.observer
    name = spec.name
    result = TableResult(name=name)
    report.tables[name] = result
    started = time.perf_counter()
    observer.table_started(name, total)
    observer.event(f"table-start:{name}")
    with closing(stream_rows(cur, spec, options.batch_rows)) as batches:
        for batch in batches:
            insert_rows(lite, spec, batch)
            result.rows += len(batch)
            observer.table_advanced(name, len(batch))
            observer.event(f"rows:{name}")
    observer.table_finished(name)
    result.seconds = round(time.perf_counter() - started, 3)
