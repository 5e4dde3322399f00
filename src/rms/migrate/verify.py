"""``rms db verify``: the migration's comparison, run again later and on demand.

The source is read in one read transaction (a consistent snapshot even while the
application writes), converted with the same rules as the migration, and the rows that
belong in the target (the rows a quarantine run would load) are digested per table in
Python; the target's digests are computed by PostgreSQL. Any difference is reported with the
first differing rows; foreign keys are checked with orphan queries.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rms.db.errors import DRIVER_ERRORS
from rms.migrate.errors import SourceError
from rms.migrate.load import MigrateOptions, _map_source, first_differences
from rms.migrate.observe import MigrationObserver
from rms.migrate.report import MigrationReport, TableReport
from rms.migrate.scan import ScanContext, scan_table
from rms.migrate.source import file_sha256, open_readonly, read_schema
from rms.migrate.spec import table_specs
from rms.migrate.target import (
    hidden,
    orphan_counts,
    raw,
    target_connection,
    target_digest,
    target_error,
)

__all__ = ["VerifyOptions", "verify"]


@dataclass
class VerifyOptions:
    observer: MigrationObserver = field(default_factory=MigrationObserver)
    connect_timeout: float = 10.0
    source_busy_timeout: float = 2.0


def _advance(observer: MigrationObserver, table: str) -> Callable[[int], None]:
    return lambda rows: observer.table_advanced(table, rows)


def verify(source: Path, target_url: str, options: VerifyOptions | None = None) -> MigrationReport:
    """Compare source and target; the report's ``status`` is ``verified`` or ``mismatch``."""
    from rms import __version__

    options = options or VerifyOptions()
    observer = options.observer
    source = Path(source)
    started = datetime.now(UTC)
    clock = time.perf_counter()
    report = MigrationReport(
        run_id=str(uuid.uuid4()),
        source=str(source),
        target=hidden(target_url),
        tool_version=__version__,
        on_error="quarantine",
        started_at=started.isoformat(),
    )
    conn = open_readonly(source, options.source_busy_timeout)
    try:
        report.source_sha256_before = file_sha256(source)
        conn.execute("BEGIN")  # one snapshot of the source for the whole comparison
        schema = read_schema(conn, source)
        mappings, _unknown, warnings = _map_source(
            conn, schema, started, MigrateOptions(strict=False)
        )
        report.warnings = warnings
        ctx = ScanContext(quarantine=True)
        with target_connection(target_url, options.connect_timeout) as target:
            try:
                cur = raw(target).cursor()
                mismatched = []
                for mapping in mappings:
                    spec = mapping.spec
                    observer.table_started(spec.name, mapping.source.rows if mapping.source else 0)
                    result = scan_table(
                        conn, mapping, ctx, None, None, _advance(observer, spec.name)
                    )
                    observer.table_finished(spec.name)
                    actual = target_digest(cur, spec)
                    table = TableReport(
                        name=spec.name,
                        present_in_source=mapping.source is not None,
                        read=result.read,
                        loaded=result.good,
                        quarantined=result.bad,
                        source_checksum=result.digest.checksum,
                        target_rows=actual.count,
                        target_checksum=actual.checksum,
                        verified=actual == result.digest,
                        defaulted_columns=dict(mapping.defaulted),
                    )
                    report.tables[spec.name] = table
                    if not table.verified:
                        mismatched.append((mapping, result.bad_rowids))
                report.orphans = orphan_counts(cur, table_specs())
                for mapping, bad in mismatched:
                    report.differences += first_differences(raw(target), conn, mapping, bad)
                target.rollback()
            except DRIVER_ERRORS as exc:
                raise target_error(target_url, exc, "cannot read the target") from exc
        conn.execute("COMMIT")
    except SourceError:
        raise
    finally:
        conn.close()
    report.problems = ctx.problems
    report.problems_total = ctx.problems_total
    report.source_sha256_after = file_sha256(source)
    ok = all(t.verified for t in report.tables.values()) and not any(report.orphans.values())
    report.status = "verified" if ok else "mismatch"
    report.finished_at = datetime.now(UTC).isoformat()
    report.seconds = round(time.perf_counter() - clock, 3)
    return report
