"""``rms db verify``: the migration's comparison, run again later and on demand.

It compares the source with the run whose rows the target holds (the newest run of the
ledger that was neither rolled back nor replaced, or the one named), applying that run's
decisions again: what it left behind, its risk-group map and fills, its start instant
(the default of columns older files lack) and its id (the archived values' origin and
ids). So it recomputes exactly what the run loaded, archive included.

The source is read in one read transaction (a consistent snapshot even while the
application writes), converted with the same rules as the migration, and the rows that
belong in the target (the rows a quarantine run would load) are digested per table in
Python; the target's digests are computed by PostgreSQL. Any difference is reported with
the first differing rows; foreign keys are checked with orphan queries. Every table and
column of the source must be accounted for (carried, archived, defaulted, or left behind by
the run's own ``--leave-behind``): anything else is a mismatch too.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rms.errors import InvalidInputError
from rms.migrate.compare import first_differences
from rms.migrate.errors import VerificationError
from rms.migrate.ledger import KIND_MIGRATE, KIND_QUARANTINE, RunRecord, find_run, list_runs
from rms.migrate.lineage import LineageOptions, RunIdentity, build_lineage
from rms.migrate.lineage_store import materialize
from rms.migrate.observe import MigrationObserver
from rms.migrate.plan import accounting_of
from rms.migrate.report import MigrationReport, TableReport
from rms.migrate.scan import ScanContext, scan_table
from rms.migrate.sqlite import open_source, read_schema
from rms.migrate.target import (
    Target,
    as_target,
    no_statement_timeout,
    orphan_counts,
    raw,
    target_digest,
    target_errors,
)
from rms.transfer.spec import table_specs
from rms.transfer.sqlite import file_sha256

if TYPE_CHECKING:
    from rms.settings import Settings


__all__ = ["VerifyOptions", "mismatch_error", "verify"]


@dataclass
class VerifyOptions:
    observer: MigrationObserver = field(default_factory=MigrationObserver)
    source_busy_timeout: float = 2.0
    #: The run to compare with (default: the one whose rows the target holds).
    run_id: str | None = None


def _advance(observer: MigrationObserver, table: str) -> Callable[[int], None]:
    return lambda rows: observer.table_advanced(table, rows)


def _run_identity(record: RunRecord) -> RunIdentity:
    start = record.options.get("run_start_ms")
    if start is None:  # a ledger row from before the options were recorded
        start = int(record.started_at.timestamp() * 1000)
    return RunIdentity(record.run_id, int(start))


def verify(
    source: Path,
    target: Target | str,
    options: VerifyOptions | None = None,
    *,
    settings: Settings | None = None,
) -> MigrationReport:
    """Compare source and target; the report's ``status`` is ``verified`` or ``mismatch``."""
    target = as_target(target, settings)
    try:
        return _verify(Path(source), target, options or VerifyOptions())
    finally:
        if target.owned:
            target.dispose()


def mismatch_error(report: MigrationReport) -> VerificationError | None:
    """Why a comparison's report is not ``verified``, as the error to raise (None if it is):
    unresolved references, data nothing accounts for, problems, the tables that differ."""
    if report.status == "verified":
        return None
    problems = []
    orphaned = {k: v for k, v in report.orphans.items() if v}
    if orphaned:
        problems.append(f"unresolved references: {orphaned}")
    if report.unaccounted:
        problems.append(
            "the source holds data nothing accounts for (not carried, archived or "
            "left behind by the run): "
            + ", ".join(f"{k} ({n})" for k, n in report.unaccounted.items())
        )
    if report.problems_total:
        problems.append(f"{report.problems_total} problem(s) in the file")
    differing = [t.name for t in report.tables.values() if not t.verified]
    if differing:
        problems.append("tables that differ: " + ", ".join(differing))
    return VerificationError(
        "the target differs from the source: " + "; ".join(problems), report.differences
    )


def _verify(source: Path, target: Target, options: VerifyOptions) -> MigrationReport:
    from rms import __version__

    observer = options.observer
    started = datetime.now(UTC)
    clock = time.perf_counter()
    report = MigrationReport(
        run_id=str(uuid.uuid4()),
        source=str(source),
        target=target.label,
        tool_version=__version__,
        on_error="quarantine",
        started_at=started.isoformat(),
    )
    conn = open_source(source, options.source_busy_timeout)
    try:
        report.source_sha256_before = file_sha256(source)
        with target.connect() as pg, target_errors(target.label, "cannot read the target"):
            cur = raw(pg).cursor()
            no_statement_timeout(cur)
            record = find_run(cur, options.run_id, target.label, kind=KIND_MIGRATE)
            if record.kind != KIND_MIGRATE:
                raise InvalidInputError(
                    f"run {record.run_id} loaded the quarantine file {record.source_path}, "
                    "not a SQLite file: verify it with --from that file",
                    field="--run",
                )
            # Rows that quarantine loads added on top are theirs, not this run's.
            on_top = [r.run_id for r in list_runs(cur) if r.active and r.kind == KIND_QUARANTINE]
            run = _run_identity(record)
            report.compared_run = record.run_id
            report.options = dict(record.options)
            conn.execute("BEGIN")  # one snapshot of the source for the whole comparison
            schema = read_schema(conn, source)
            lineage = build_lineage(conn, schema, LineageOptions.from_dict(record.options), run)
            materialize(conn, schema, lineage, run)
            report.warnings = list(lineage.warnings)
            report.notes = list(lineage.notes)
            report.accounting = accounting_of(lineage)
            report.unaccounted = dict(lineage.unknown)
            ctx = ScanContext(quarantine=True)
            mismatched = []
            for mapping in lineage.mappings:
                spec = mapping.spec
                observer.table_started(spec.name, mapping.source.rows if mapping.source else 0)
                result = scan_table(conn, mapping, ctx, None, None, _advance(observer, spec.name))
                observer.table_finished(spec.name)
                actual = target_digest(cur, spec, exclude_runs=on_top)
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
                    filled_columns=dict(mapping.filled),
                    derived_columns=dict(mapping.derived),
                )
                report.tables[spec.name] = table
                if not table.verified:
                    mismatched.append((mapping, result.bad_rowids))
            report.orphans = orphan_counts(cur, table_specs())
            for mapping, bad in mismatched:
                report.differences += first_differences(raw(pg), conn, mapping, bad)
            pg.rollback()
        conn.execute("COMMIT")
    finally:
        conn.close()
    report.problems = ctx.problems
    report.problems_total = ctx.problems_total
    report.source_sha256_after = file_sha256(source)
    ok = (
        all(t.verified for t in report.tables.values())
        and not any(report.orphans.values())
        and not report.unaccounted
    )
    report.status = "verified" if ok else "mismatch"
    report.finished_at = datetime.now(UTC).isoformat()
    report.seconds = round(time.perf_counter() - clock, 3)
    return report
