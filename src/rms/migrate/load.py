"""The migration itself: one PostgreSQL transaction, verified before COMMIT.

The order of a run, and why:

1. :func:`~rms.migrate.plan.preflight` reads only: the source (``quick_check``, every
   table and column accounted for) and the target (UTF-8, at the schema head or empty,
   empty unless ``replace`` was asked) are checked and the run planned
   (:mod:`rms.migrate.plan` says how and why).
2. :func:`run_migration` opens a :class:`~rms.migrate.sqlite.SourceWatch` on the live file,
   takes a consistent backup of it through that connection (online backup API) into the
   run's private directory (by default ``<state dir>/migrate/<run id>/``), checks that the
   backup is what the preflight planned for, and reads only from that copy from then on
   (:mod:`rms.migrate.backup`).
3. In **one** transaction on the target: an advisory lock (one migration at a time), the
   Alembic upgrade if the database was empty, ``ACCESS EXCLUSIVE`` locks on the tables
   (the application cannot write half-way), emptiness checked again under the lock, then
   ``TRUNCATE`` (which also lets ``COPY FREEZE`` skip later vacuum work; tables the run has
   just created are empty already and need none), keys/indexes/foreign
   keys dropped, binary ``COPY`` of each table in foreign-key order (archived values into
   ``rms_archive``, created risk groups into ``risk_group``), keys/indexes/foreign keys
   recreated (PostgreSQL validates every reference here), checksums compared, the ledger
   written, the source checked once more for writes by anyone else since the backup, and
   only then COMMIT. DDL is transactional in PostgreSQL, so a rollback at any point (an
   error, Ctrl-C, a kill, a lost connection: the server aborts a transaction whose client
   vanished) restores the dropped indexes and leaves the target as it was.

This module runs those steps in order; each has its own module: taking the target
(:mod:`rms.migrate.prepare`: lock, schema, emptiness, TRUNCATE, and the keys rebuilt after
the copy), the copy of a table (:mod:`rms.migrate.copy`), the comparison
(:mod:`rms.migrate.compare`), the ledger and COMMIT (:mod:`rms.migrate.commit`).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rms.migrate.backup import STILL_WRITING, BackgroundChecks, backup_lineage, take_backup
from rms.migrate.commit import commit, write_ledger
from rms.migrate.compare import verify_loaded
from rms.migrate.copy import QuarantineWriter, copy_table
from rms.migrate.errors import (
    BadDataError,
    ReportNotWrittenError,
    SourceChangedError,
    VerificationError,
)
from rms.migrate.plan import MigrateOptions, MigrationPlan, accounting_of, confirm_replace, now
from rms.migrate.prepare import lock_target, rebuild_keys
from rms.migrate.report import MigrationReport, TableReport
from rms.migrate.scan import ScanContext
from rms.migrate.sqlite import SourceWatch, open_source
from rms.migrate.target import (
    ConstraintDef,
    drop_secondary,
    raw,
    secondary_definitions,
    target_errors,
    validated_references,
)
from rms.settings.state import make_private_dir
from rms.transfer.digest import TableDigest
from rms.transfer.spec import table_specs
from rms.transfer.sqlite import file_sha256, remove_database_file, remove_side_files

if TYPE_CHECKING:
    from rms.migrate.lineage import Lineage
    from rms.migrate.parallel import ConverterPool

__all__ = ["run_migration"]

log = logging.getLogger("rms.migrate")


def run_migration(plan: MigrationPlan, options: MigrateOptions) -> MigrationReport:
    """Load, verify and commit (or roll back for a dry run); returns the report.

    Raises a :class:`rms.errors.MigrationError` subclass on any failure, after rolling
    back; the report (status ``failed``) is written all the same when the run got past
    the preflight, so the problems are on disk in full. A committed run whose report
    cannot be written raises :class:`ReportNotWrittenError` (the data is committed).
    """
    try:
        return _run(plan, options)
    finally:
        if plan.target.owned:
            plan.target.dispose()


def _run(plan: MigrationPlan, options: MigrateOptions) -> MigrationReport:
    from rms import __version__

    confirm_replace(plan, options)
    report = MigrationReport(
        run_id=plan.run_id,
        source=str(plan.source),
        source_sha256_before=plan.source_sha256,
        target=plan.target.label,
        tool_version=__version__,
        on_error=options.on_error,
        dry_run=options.dry_run,
        started_at=plan.started_at.isoformat(),
        warnings=list(plan.warnings),
        notes=list(plan.lineage.notes),
        accounting=accounting_of(plan.lineage),
        options=_options_record(plan, options),
    )
    clock = time.perf_counter()
    make_private_dir(plan.work_dir)
    partial_quarantine = plan.quarantine_path.with_name(plan.quarantine_path.name + ".partial")
    backup: Path | None = None
    watch = SourceWatch(plan.source, options.source_busy_timeout)
    try:
        backup = take_backup(plan, report, watch)
        options.observer.event("backup-done")
        if watch.changed():
            raise SourceChangedError(f"{plan.source} changed while it was copied: {STILL_WRITING}")
        _load(plan, options, report, backup, partial_quarantine, watch)
    except BaseException as exc:
        report.status = "failed"
        report.error = str(exc) if str(exc) else type(exc).__name__
        listed: BadDataError | None = None
        if isinstance(exc, BadDataError):
            report.problems = exc.problems
            report.problems_total = exc.total
            listed = _list_problems(plan, exc)
        if isinstance(exc, VerificationError):
            report.differences = exc.differences
        partial_quarantine.unlink(missing_ok=True)
        if backup is not None and not options.keep_backup:
            remove_database_file(backup)
            report.backup = None
        _finish(plan, report, clock)
        if listed is not None:
            raise listed from exc
        raise
    finally:
        watch.close()
    if report.quarantine_file:
        partial_quarantine.replace(plan.quarantine_path)
    if options.dry_run and not options.keep_backup:
        remove_database_file(backup)
        report.backup = None
    else:
        remove_side_files(backup)  # a reader of the copy may have left some
    _finish(plan, report, clock)
    return report


def _list_problems(plan: MigrationPlan, exc: BadDataError) -> BadDataError | None:
    """Write every problem, one a line, to ``problems.txt`` in the run's directory; the
    error again, naming that file (None if it could not be written: the report has them)."""
    path = plan.work_dir / "problems.txt"
    try:
        with path.open("w", encoding="utf-8") as out:
            for problem in exc.problems:
                out.write(" ".join(problem.describe().split()) + "\n")
            if exc.total > len(exc.problems):
                out.write(f"... and {exc.total - len(exc.problems)} more, counted only\n")
    except OSError as error:
        log.warning("the list of problems could not be written to %s (%s)", path, error)
        return None
    return exc.listed_in(path)


def _options_record(plan: MigrationPlan, options: MigrateOptions) -> dict[str, Any]:
    return {
        **plan.lineage_options.to_dict(),
        "on_error": options.on_error,
        "run_start_ms": plan.run.run_start_ms,
    }


def _finish(plan: MigrationPlan, report: MigrationReport, clock: float) -> None:
    with suppress(OSError):
        report.source_sha256_after = file_sha256(plan.source)
    report.finished_at = now().isoformat()
    report.seconds = round(time.perf_counter() - clock, 3)
    try:
        report.write(plan.report_path)
    except OSError as exc:
        reason = f"{exc.strerror or exc}: {exc.filename or plan.report_path}"
        if report.status != "committed":
            log.warning("the report of run %s could not be written (%s)", plan.run_id, reason)
            return
        raise ReportNotWrittenError(
            f"run {plan.run_id} COMMITTED: the data is in {plan.target.label}, verified, and "
            f"recorded in its ledger (`rms db runs`); do not run it again. Only its report "
            f"could not be written to {plan.report_path} ({reason}); the report follows on "
            "stderr",
            report,
        ) from exc


def _load(
    plan: MigrationPlan,
    options: MigrateOptions,
    report: MigrationReport,
    backup: Path,
    quarantine_path: Path,
    watch: SourceWatch,
) -> None:
    pool = _converter_pool(plan, options, report, backup)  # forked before any thread starts
    try:
        source = open_source(backup, options.source_busy_timeout)
        quarantine = (
            QuarantineWriter(quarantine_path, plan.run_id)
            if options.on_error == "quarantine"
            else None
        )
        ctx = ScanContext(
            quarantine=options.on_error == "quarantine",
            unique_indexes_checked=options.integrity == "full",
        )
        _load_with(plan, options, report, backup, watch, source, quarantine, ctx, pool)
    finally:
        if pool is not None:
            pool.close()


def _converter_pool(
    plan: MigrationPlan, options: MigrateOptions, report: MigrationReport, backup: Path
) -> ConverterPool | None:
    big = any(
        m.source is not None and m.source.rows >= options.parallel_min_rows
        for m in plan.lineage.mappings
    )
    workers = options.worker_count() if big else 0
    report.options["workers"] = workers
    if workers < 2:
        return None
    from rms.migrate.parallel import ConverterPool

    return ConverterPool(backup, workers)


def _to_drop(
    defs: Sequence[ConstraintDef], lineage: Lineage, options: MigrateOptions
) -> list[ConstraintDef]:
    """What to drop for the copy: every foreign key; with ``rebuild="all"`` also the keys
    and indexes of the tables with at least ``options.rebuild_min_rows`` source rows (a
    smaller table keeps them, maintained row by row: the same keys and indexes at the end,
    and the same uniqueness enforced by PostgreSQL, only during COPY instead of after it)."""
    rows = {m.spec.name: m.source.rows if m.source is not None else 0 for m in lineage.mappings}
    return [
        d
        for d in defs
        if d.kind == "f"
        or (options.rebuild == "all" and rows.get(d.table, 0) >= options.rebuild_min_rows)
    ]


def _load_with(
    plan: MigrationPlan,
    options: MigrateOptions,
    report: MigrationReport,
    backup: Path,
    watch: SourceWatch,
    source: sqlite3.Connection,
    quarantine: QuarantineWriter | None,
    ctx: ScanContext,
    pool: ConverterPool | None,
) -> None:
    specs = table_specs()
    observer = options.observer
    checks = BackgroundChecks(backup, options)
    expected: dict[str, TableDigest] = {}
    bad_rowids: dict[str, set[int]] = {}
    try:
        lineage = backup_lineage(plan, source, backup)
        with plan.target.connect() as conn:
            with target_errors(plan.target.label, "the load failed and was rolled back"):
                trans = conn.begin()
                cur = raw(conn).cursor()
                lock_target(cur, plan, options, report, conn)
                observer.event("locked")
                defs = secondary_definitions(cur, [s.name for s in specs])
                dropped = _to_drop(defs, lineage, options)
                drop_secondary(cur, dropped)
                started = time.perf_counter()
                for mapping in lineage.mappings:
                    table_report = TableReport(
                        name=mapping.spec.name,
                        present_in_source=mapping.source is not None,
                        replaced_rows=plan.target_counts.get(mapping.spec.name, 0),
                        defaulted_columns=dict(mapping.defaulted),
                        filled_columns=dict(mapping.filled),
                        derived_columns=dict(mapping.derived),
                    )
                    report.tables[mapping.spec.name] = table_report
                    result = copy_table(
                        cur, source, mapping, ctx, quarantine, observer, options, pool
                    )
                    table_report.read = result.read
                    table_report.loaded = (
                        result.good if ctx.quarantine else result.read - result.bad
                    )
                    table_report.quarantined = result.bad if ctx.quarantine else 0
                    table_report.source_checksum = result.digest.checksum
                    table_report.seconds = round(result.seconds, 3)
                    expected[mapping.spec.name] = result.digest
                    bad_rowids[mapping.spec.name] = result.bad_rowids
                report.timings["copy"] = round(time.perf_counter() - started, 3)
                if quarantine is not None:
                    quarantine.close()
                    if ctx.problems_total:
                        report.quarantine_file = str(plan.quarantine_path)
                report.problems = list(ctx.problems)
                report.problems_total = ctx.problems_total
                if ctx.problems_total and not ctx.quarantine:
                    for t in report.tables.values():
                        t.loaded = 0
                    raise BadDataError(ctx.problems, ctx.problems_total)
                checks.after_load()
                observer.event("restore-indexes")
                started = time.perf_counter()
                rebuild_keys(cur, plan.target.label, specs, dropped, defs)
                report.timings["indexes"] = round(time.perf_counter() - started, 3)
                observer.event("verify")
                started = time.perf_counter()
                # The foreign keys just recreated were validated over every loaded row:
                # their orphan counts are zero without a second pass (issue 31, step 5).
                validated = validated_references(cur, dropped)
                verify_loaded(cur, conn, source, lineage, report, expected, bad_rowids, validated)
                report.timings["verify"] = round(time.perf_counter() - started, 3)
                observer.event("ledger")
                write_ledger(cur, plan, report, options)
                checks.wait(report)
                observer.event("before-commit")
                with watch.held() as changed:
                    if changed:
                        raise SourceChangedError(
                            f"{plan.source} was written to during the run (after the backup "
                            f"this run loaded): {STILL_WRITING}"
                        )
                    if options.dry_run:
                        trans.rollback()
                        report.status = "dry-run"
                        return
                    commit(trans, plan.target, plan.run_id)
            report.status = "committed"
            if watch.changed():
                report.warnings.append(
                    f"{plan.source} was written to right after the COMMIT: the application is "
                    "running; what it writes from now on is not in the target"
                )
            observer.event("committed")
    finally:
        if quarantine is not None:
            quarantine.close()
        source.close()
        checks.wait(None)
