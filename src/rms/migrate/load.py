"""Preflight and the migration itself: one PostgreSQL transaction, verified before COMMIT.

The order of a run, and why:

1. :func:`preflight` reads only. The source opens read-only and passes ``quick_check``
   (the full ``integrity_check`` runs on the backup copy in a background thread after the
   load, and must pass before COMMIT: it alone takes longer than the whole load). Every
   source table and column is accounted for (:mod:`rms.migrate.lineage`): carried,
   archived, or left behind by name; anything else stops the run here. The target, reached
   through :mod:`rms.db` (cold starts waited for, credentials from the settings), is
   UTF-8, at the schema head (or empty: then the run creates the schema itself, in its own
   transaction) and empty unless ``replace`` was asked.
2. :func:`run_migration` opens a :class:`~rms.migrate.source.SourceWatch` on the live file,
   takes a consistent backup of it through that connection (online backup API) into the
   run's private directory (by default ``<state dir>/migrate/<run id>/``), checks that the
   backup is what the preflight planned for, and reads only from that copy from then on.
3. In **one** transaction on the target: an advisory lock (one migration at a time), the
   Alembic upgrade if the database was empty, ``ACCESS EXCLUSIVE`` locks on the tables
   (the application cannot write half-way), emptiness checked again under the lock, then
   ``TRUNCATE`` (which also lets ``COPY FREEZE`` skip later vacuum work), keys/indexes/foreign
   keys dropped, binary ``COPY`` of each table in foreign-key order (archived values into
   ``rms_archive``, created risk groups into ``risk_group``), keys/indexes/foreign keys
   recreated (PostgreSQL validates every reference here), checksums compared, the ledger
   written, the source checked once more for writes by anyone else since the backup, and
   only then COMMIT. DDL is transactional in PostgreSQL, so a rollback at any point (an
   error, Ctrl-C, a kill, a lost connection: the server aborts a transaction whose client
   vanished) restores the dropped indexes and leaves the target as it was.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection

from rms.db.errors import DRIVER_ERRORS, LOCK_NOT_AVAILABLE, driver_errors, on_sqlstate
from rms.db.pg import PgConnection, PgCursor, sql
from rms.errors import RmsError
from rms.migrate.digest import TableDigest, python_renderers
from rms.migrate.errors import (
    BadDataError,
    CommitUnknownError,
    ConcurrentMigrationError,
    ReplaceNotConfirmedError,
    ReportNotWrittenError,
    SchemaMismatchError,
    SourceChangedError,
    SourceError,
    TargetError,
    TargetNotEmptyError,
    VerificationError,
)
from rms.migrate.fastpath import COPY_HEADER
from rms.migrate.ledger import ADVISORY_KEY, LEDGER_SCHEMA, ensure_ledger, has_ledger, write_run
from rms.migrate.lineage import Lineage, LineageOptions, RunIdentity, build_lineage, materialize
from rms.migrate.observe import MigrationObserver
from rms.migrate.report import Difference, MigrationReport, Problem, TableReport, jsonable
from rms.migrate.scan import PARALLEL_MIN_ROWS, ScanContext, TableMapping, scan_table
from rms.migrate.source import (
    SourceSchema,
    SourceWatch,
    file_sha256,
    integrity_check,
    iter_rows,
    open_readonly,
    read_schema,
    remove_database_file,
    remove_side_files,
)
from rms.migrate.spec import TableSpec, table_specs
from rms.migrate.target import (
    Target,
    as_target,
    drop_secondary,
    no_statement_timeout,
    orphan_counts,
    raw,
    restore_secondary,
    secondary_definitions,
    stream_rendered,
    table_counts,
    target_digest,
    target_error,
    target_errors,
)
from rms.schema.head import HEAD_REVISION, create_head_schema, stored_revision
from rms.settings.state import make_private_dir

if TYPE_CHECKING:
    from rms.migrate.parallel import ConverterPool
    from rms.settings import Settings

__all__ = ["MigrateOptions", "MigrationPlan", "accounting_of", "preflight", "run_migration"]

log = logging.getLogger("rms.migrate")

#: Rows per write to the COPY stream (about 0.5 MB for trades): memory stays flat.
COPY_BATCH_ROWS = 4000
#: A write this big (a chunk converted by a worker) goes to the COPY stream at once.
CHUNK_BYTES = 1 << 16
#: Differences listed when a verification fails.
MAX_DIFFERENCES = 10

STILL_WRITING = (
    "the application is still writing to it: stop the application (rms serve, or the "
    "original RMS app) and run the migration again; nothing was written to the target"
)


@dataclass
class MigrateOptions:
    """Everything a run can be told; the CLI maps its flags onto this one object."""

    dry_run: bool = False
    on_error: Literal["abort", "quarantine"] = "abort"
    quarantine_file: Path | None = None
    report_path: Path | None = None
    #: Where a run without ``report_path`` gets its own directory ``<run id>/`` (report,
    #: backup, quarantine); the CLI passes ``<state dir>/migrate``.
    work_root: Path | None = None
    replace: bool = False
    yes: bool = False
    #: ``table`` or ``table.column`` of the source that may stay behind (recorded).
    leave_behind: tuple[str, ...] = ()
    #: Init-era ``universe.risk_group`` value -> risk group name or id (``--map-risk-group``).
    risk_group_map: dict[str, str] = field(default_factory=dict)
    #: ``table.column`` -> value for a required column the source lacks (``--fill``).
    fills: dict[str, str] = field(default_factory=dict)
    #: Tables that get a stand-in row for each id the source references but does not hold
    #: (``--stand-in``: universe, accounts, divDepositType, risk_group).
    stand_ins: tuple[str, ...] = ()
    #: Keep the backup of a dry run or a failed run (a full copy of the data).
    keep_backup: bool = False
    #: Asks the user a yes/no question; None means nobody can be asked (not a terminal).
    confirm: Callable[[str], bool] | None = None
    observer: MigrationObserver = field(default_factory=MigrationObserver)
    #: How long to wait for the application to release the target tables.
    lock_timeout_seconds: float = 10.0
    #: "full": PRAGMA integrity_check of the backup (in the background, before COMMIT);
    #: "quick": only the preflight's quick_check.
    integrity: Literal["full", "quick"] = "full"
    #: How long to wait for a writer holding the SQLite file's lock.
    source_busy_timeout: float = 2.0
    #: What to drop during COPY and recreate after: "all" keys, indexes and foreign keys,
    #: or "fks" only (keys and indexes are then maintained row by row, in parallel with
    #: the Python side). See docs/benchmarks.md for the measurements behind the default.
    rebuild: Literal["all", "fks"] = "all"
    #: Worker processes converting big tables (:mod:`rms.migrate.parallel`); 0 or 1:
    #: convert in the loading process only; None (the default, ``--workers auto``): one
    #: per idle CPU when at least two are idle at the start of the load, else none (on
    #: busy cores workers made the copy phase slower, on idle ones they cut it by about a
    #: quarter: docs/benchmarks.md). Chosen only when a table is big enough for them.
    workers: int | None = None
    #: Tables with at least this many rows are converted by the workers.
    parallel_min_rows: int = PARALLEL_MIN_ROWS

    def worker_count(self) -> int:
        if self.workers is not None:
            return self.workers
        from rms.migrate.parallel import auto_workers

        return auto_workers()

    def lineage_options(self) -> LineageOptions:
        return LineageOptions(
            leave_behind=tuple(self.leave_behind),
            risk_group_map=dict(self.risk_group_map),
            fills=dict(self.fills),
            quarantine=self.on_error == "quarantine",
            stand_ins=tuple(self.stand_ins),
        )


@dataclass
class MigrationPlan:
    """What preflight found: the facts a run starts from (nothing written yet)."""

    run_id: str
    started_at: datetime
    source: Path
    source_sha256: str
    schema: SourceSchema
    lineage: Lineage
    #: The decisions the lineage was built with (the backup's is built with the same).
    lineage_options: LineageOptions
    target: Target
    target_revision: str | None
    head_revision: str
    needs_upgrade: bool
    target_counts: dict[str, int]
    work_dir: Path
    report_path: Path
    quarantine_path: Path

    @property
    def mappings(self) -> list[TableMapping]:
        return self.lineage.mappings

    @property
    def warnings(self) -> list[str]:
        return self.lineage.warnings + self.lineage.advice

    @property
    def rows_to_replace(self) -> int:
        return sum(self.target_counts.values())

    @property
    def run(self) -> RunIdentity:
        return RunIdentity(self.run_id, int(self.started_at.timestamp() * 1000))


def _now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------- preflight


def preflight(
    source: Path, target: Target | str, options: MigrateOptions, *, settings: Settings | None = None
) -> MigrationPlan:
    """Check the source and the target and plan the run; writes nothing anywhere.

    ``target`` is a :class:`~rms.migrate.target.Target` (``open_target(settings)``) or a
    PostgreSQL URL; a target made here from a URL is disposed of by :func:`run_migration`
    (or here, if the preflight fails).
    """
    target = as_target(target, settings)
    try:
        return _preflight(Path(source), target, options)
    except BaseException:
        if target.owned:
            target.dispose()
        raise


def _preflight(source: Path, target: Target, options: MigrateOptions) -> MigrationPlan:
    run_id = str(uuid.uuid4())
    started = _now()
    run = RunIdentity(run_id, int(started.timestamp() * 1000))
    conn = open_readonly(source, options.source_busy_timeout)
    # The file's SHA-256 is computed in a thread while SQLite checks and reads the file
    # (both release the GIL): on the 1.2M-row file each takes about 0.6 s.
    with ThreadPoolExecutor(1, thread_name_prefix="rms-sha") as hasher:
        sha_of = hasher.submit(file_sha256, source)
        try:
            integrity_check(conn, source, quick=True)
            schema = read_schema(conn, source)
            lineage = build_lineage(conn, schema, options.lineage_options(), run)
        finally:
            conn.close()
        sha = sha_of.result()
    if not any(a.fate == "carried" for a in lineage.accounts.values()):
        raise SourceError(
            "the source holds none of the RMS tables ("
            + ", ".join(s.name for s in table_specs())
            + "): is this an RMS database?"
        )
    if lineage.unknown:
        raise SchemaMismatchError(lineage.unaccounted_message())
    revision, head, counts, needs_upgrade = _inspect_target(target)
    if counts and sum(counts.values()) and not options.replace:
        listed = ", ".join(f"{t} {n}" for t, n in counts.items() if n)
        raise TargetNotEmptyError(
            f"target {target.label} is not empty ({listed} rows); use --replace to "
            "replace its contents",
            counts,
        )
    if options.report_path is not None:
        report_path = Path(options.report_path)
        work_dir = report_path.parent
    elif options.work_root is not None:
        work_dir = Path(options.work_root) / run_id
        report_path = work_dir / "report.json"
    else:
        raise ValueError("MigrateOptions needs report_path or work_root: where the run's files go")
    quarantine = (
        Path(options.quarantine_file) if options.quarantine_file else work_dir / "quarantine.jsonl"
    )
    return MigrationPlan(
        run_id=run_id,
        started_at=started,
        source=source,
        source_sha256=sha,
        schema=schema,
        lineage=lineage,
        lineage_options=options.lineage_options(),
        target=target,
        target_revision=revision,
        head_revision=head,
        needs_upgrade=needs_upgrade,
        target_counts=counts,
        work_dir=work_dir,
        report_path=report_path,
        quarantine_path=quarantine,
    )


def _inspect_target(target: Target) -> tuple[str | None, str, dict[str, int], bool]:
    head = HEAD_REVISION
    with target.connect() as conn, target_errors(target.label, "cannot inspect the database"):
        cur = raw(conn).cursor()
        no_statement_timeout(cur)
        cur.execute("SHOW server_encoding")
        row = cur.fetchone()
        encoding = str(row[0]) if row else "?"
        revision = stored_revision(cur)
        counts = table_counts(cur, table_specs())
        conn.rollback()
    if encoding.upper() not in ("UTF8", "UTF-8"):
        raise TargetError(
            f"target {target.label} uses the {encoding} encoding; it must be UTF8 to hold "
            "every character of the source"
        )
    if revision is None:
        if counts:
            raise TargetError(
                f"target {target.label} has RMS tables ({', '.join(counts)}) but no "
                "Alembic revision: it was not created by rms; refusing to guess its schema"
            )
        return None, head, {}, True
    if revision != head:
        raise TargetError(
            f"target {target.label} is at schema revision {revision}, the head is {head}: "
            "run `rms db upgrade` on it first"
        )
    return revision, head, counts, False


def accounting_of(lineage: Lineage) -> dict[str, Any]:
    """The lineage as the report and the ledger keep it."""

    def per_table(attr: str) -> dict[str, dict[str, Any]]:
        return {m.spec.name: dict(getattr(m, attr)) for m in lineage.mappings if getattr(m, attr)}

    return {
        "history_point": lineage.point.to_dict(),
        "source_tables": {name: a.to_dict() for name, a in lineage.accounts.items()},
        "archived": {item.key: item.count for item in lineage.archive},
        "archive_reasons": {item.key: item.why for item in lineage.archive},
        "risk_groups": [g.to_dict() for g in lineage.risk_groups],
        "left_behind": dict(lineage.left_behind),
        "defaulted": per_table("defaulted"),
        "filled": per_table("filled"),
        "derived": per_table("derived"),
        "missing": dict(lineage.missing),
        "stand_ins": [s.to_dict() for s in lineage.stand_ins],
    }


# --------------------------------------------------------------------------- the run


def confirm_replace(plan: MigrationPlan, options: MigrateOptions) -> None:
    """Replacing rows needs a yes: ``--yes``, or an answer from someone at a terminal."""
    if not plan.rows_to_replace or options.yes:
        return
    question = (
        f"Replace {plan.rows_to_replace} rows in {plan.target.label} ("
        + ", ".join(f"{t} {n}" for t, n in plan.target_counts.items() if n)
        + ")?"
    )
    if options.confirm is None:
        raise ReplaceNotConfirmedError(
            f"refusing to replace {plan.rows_to_replace} rows without --yes "
            "(cannot ask: not a terminal)"
        )
    if not options.confirm(question):
        raise ReplaceNotConfirmedError("replace not confirmed; nothing was changed")


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
        backup = _take_backup(plan, report, watch)
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
    report.finished_at = _now().isoformat()
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


def _take_backup(plan: MigrationPlan, report: MigrationReport, watch: SourceWatch) -> Path:
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


class _Quarantine:
    """Writes each set-aside row whole, with every reason, one JSON object per line."""

    def __init__(self, path: Path, run_id: str) -> None:
        self.path = path
        self.run_id = run_id
        self._fh: IO[str] | None = None

    def __call__(self, mapping: TableMapping, raw_row: tuple[Any, ...], problems: list[Problem]):  # type: ignore[no-untyped-def]
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("w", encoding="utf-8")
        spec = mapping.spec
        row = {
            col.name: jsonable(raw_row[i + 1])
            for i, col in enumerate(spec.columns)
            if col.name not in mapping.defaulted
        }
        record = {
            "run_id": self.run_id,
            "table": spec.name,
            "id": jsonable(raw_row[spec.column_names.index(spec.pk) + 1]),
            "rowid": raw_row[0],
            "problems": [
                {"column": p.column, "value": jsonable(p.value), "reason": p.reason}
                for p in problems
            ],
            "row": row,
        }
        self._fh.write(json.dumps(record, ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


def _backup_lineage(plan: MigrationPlan, source: sqlite3.Connection, backup: Path) -> Lineage:
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
        source = open_readonly(backup, options.source_busy_timeout)
        quarantine = (
            _Quarantine(quarantine_path, plan.run_id) if options.on_error == "quarantine" else None
        )
        ctx = ScanContext(quarantine=options.on_error == "quarantine")
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


def _load_with(
    plan: MigrationPlan,
    options: MigrateOptions,
    report: MigrationReport,
    backup: Path,
    watch: SourceWatch,
    source: sqlite3.Connection,
    quarantine: _Quarantine | None,
    ctx: ScanContext,
    pool: ConverterPool | None,
) -> None:
    specs = table_specs()
    observer = options.observer
    checks = _BackgroundChecks(backup, options)
    expected: dict[str, TableDigest] = {}
    bad_rowids: dict[str, set[int]] = {}
    try:
        lineage = _backup_lineage(plan, source, backup)
        with plan.target.connect() as conn:
            with target_errors(plan.target.label, "the load failed and was rolled back"):
                trans = conn.begin()
                cur = raw(conn).cursor()
                _lock(cur, plan, options, report, conn)
                observer.event("locked")
                defs = secondary_definitions(cur, [s.name for s in specs])
                dropped = [d for d in defs if options.rebuild == "all" or d.kind == "f"]
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
                    result = _copy_table(
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
                if dropped:
                    with driver_errors(
                        "rebuild", where=f"target {plan.target.label}", into=_not_rebuilt
                    ):
                        restore_secondary(cur, dropped)
                    if secondary_definitions(cur, [s.name for s in specs]) != defs:
                        raise VerificationError("the target's keys and indexes did not come back")
                report.timings["indexes"] = round(time.perf_counter() - started, 3)
                observer.event("verify")
                started = time.perf_counter()
                _verify_loaded(cur, conn, source, lineage, report, expected, bad_rowids)
                report.timings["verify"] = round(time.perf_counter() - started, 3)
                observer.event("ledger")
                _write_ledger(cur, plan, report, options)
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


class _BackgroundChecks:
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
            conn = open_readonly(self.backup)
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


def _not_rebuilt(translated: RmsError, _exc: BaseException) -> VerificationError:
    return VerificationError(
        f"a key, index or foreign key could not be rebuilt over the loaded rows: {translated}"
    )


def _lock(
    cur: PgCursor,
    plan: MigrationPlan,
    options: MigrateOptions,
    report: MigrationReport,
    conn: Connection,
) -> None:
    specs = table_specs()
    cur.execute("SELECT pg_try_advisory_xact_lock(%s)", (ADVISORY_KEY,))
    row = cur.fetchone()
    if not row or not row[0]:
        raise ConcurrentMigrationError(
            f"another rms migration or rollback is running on {plan.target.label}; "
            "wait for it to finish"
        )
    no_statement_timeout(cur)
    cur.execute(
        sql.SQL("SET LOCAL lock_timeout = {}").format(
            sql.Literal(f"{int(options.lock_timeout_seconds * 1000)}ms")
        )
    )
    cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
    if plan.needs_upgrade:
        if table_counts(cur, specs) or stored_revision(cur) is not None:
            raise TargetError("the target gained RMS tables since the preflight; run again")
        create_head_schema(conn)
        report.schema_upgraded = True
        report.schema_revision = stored_revision(cur)
    else:
        report.schema_revision = plan.target_revision
    names = sql.SQL(", ").join(sql.Identifier(s.name) for s in specs)
    in_use = TargetError(
        f"the RMS tables on {plan.target.label} are in use by another session "
        f"(waited {options.lock_timeout_seconds:g} s for the lock); stop the service and retry"
    )
    with on_sqlstate({LOCK_NOT_AVAILABLE: lambda _translated, _exc: in_use}):
        cur.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(names))
    counts = table_counts(cur, specs)
    if sum(counts.values()) and not options.replace:
        raise TargetNotEmptyError(
            "the target gained rows since the preflight; nothing written", counts
        )
    if options.replace and plan.target_counts and counts != plan.target_counts:
        raise TargetError(
            "the target's row counts changed since you confirmed the replace; nothing written"
        )
    cur.execute(sql.SQL("TRUNCATE {}").format(names))
    ensure_ledger(cur)
    if sum(counts.values()):
        cur.execute(
            f"UPDATE {LEDGER_SCHEMA}.runs SET superseded_by = %s "  # noqa: S608
            "WHERE superseded_by IS NULL AND rolled_back_at IS NULL",
            (plan.run_id,),
        )


@dataclass
class _CopyResult:
    read: int
    good: int
    bad: int
    digest: TableDigest
    bad_rowids: set[int]
    seconds: float


def _copy_table(
    cur: PgCursor,
    source: sqlite3.Connection,
    mapping: TableMapping,
    ctx: ScanContext,
    quarantine: _Quarantine | None,
    observer: MigrationObserver,
    options: MigrateOptions,
    pool: ConverterPool | None = None,
    *,
    freeze: bool = True,
) -> _CopyResult:
    """Stream one table into COPY. ``freeze`` (the migration's tables were truncated in
    its transaction) writes frozen rows; a load into a table holding rows cannot."""
    spec = mapping.spec
    started = time.perf_counter()
    total = mapping.source.rows if mapping.source else 0
    observer.table_started(spec.name, total)
    observer.event(f"table-start:{spec.name}")

    def progress(rows: int) -> None:
        observer.table_advanced(spec.name, rows)
        observer.event(f"rows:{spec.name}")

    if mapping.source is None or total == 0:
        result = scan_table(source, mapping, ctx, None, quarantine, progress)
    else:
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY{})").format(
            sql.Identifier(spec.name),
            sql.SQL(", ").join(sql.Identifier(c) for c in spec.column_names),
            sql.SQL(", FREEZE" if freeze else ""),
        )
        with cur.copy(statement) as copy:
            buffer: list[bytes] = [COPY_HEADER]
            append = buffer.append

            def write(row: bytes) -> None:
                append(row)
                if len(buffer) >= COPY_BATCH_ROWS or len(row) > CHUNK_BYTES:
                    copy.write(b"".join(buffer))
                    buffer.clear()

            result = scan_table(
                source,
                mapping,
                ctx,
                write,
                quarantine,
                progress,
                pool=pool,
                parallel_min_rows=options.parallel_min_rows,
            )
            copy.write(b"".join(buffer))
    observer.table_finished(spec.name)
    return _CopyResult(
        result.read,
        result.good,
        result.bad,
        result.digest,
        result.bad_rowids,
        time.perf_counter() - started,
    )


def _verify_loaded(
    cur: PgCursor,
    conn: Connection,
    source: sqlite3.Connection,
    lineage: Lineage,
    report: MigrationReport,
    expected: dict[str, TableDigest],
    bad_rowids: dict[str, set[int]],
) -> None:
    specs = table_specs()
    mismatched: list[TableSpec] = []
    for spec in specs:
        actual = target_digest(cur, spec)
        table_report = report.tables[spec.name]
        table_report.target_rows = actual.count
        table_report.target_checksum = actual.checksum
        table_report.verified = actual == expected[spec.name] and table_report.balanced
        if not table_report.verified:
            mismatched.append(spec)
    report.orphans = orphan_counts(cur, specs)
    orphaned = {k: v for k, v in report.orphans.items() if v}
    if mismatched:
        mapping_by_name = {m.spec.name: m for m in lineage.mappings}
        differences: list[Difference] = []
        for spec in mismatched:
            differences += first_differences(
                raw(conn), source, mapping_by_name[spec.name], bad_rowids[spec.name]
            )
        raise VerificationError(
            "the target does not hold exactly the converted source rows in "
            + ", ".join(s.name for s in mismatched)
            + "; rolled back",
            differences,
        )
    if orphaned:
        raise VerificationError(f"rows whose references do not resolve: {orphaned}; rolled back")


def first_differences(
    pg: PgConnection,
    source: sqlite3.Connection,
    mapping: TableMapping,
    skip_rowids: set[int],
    limit: int = MAX_DIFFERENCES,
) -> list[Difference]:
    """Merge both sides in primary-key byte order and name the first differing values."""
    spec = mapping.spec
    renderers = python_renderers(spec)
    from rms.migrate.convert import BadValue, converter

    converters = [converter(c) for c in spec.columns]
    pk_index = spec.column_names.index(spec.pk)

    def source_rows() -> Iterator[tuple[Any, list[str]]]:
        if mapping.source is None:
            return
        for raw_row in iter_rows(source, mapping.source, mapping.select, order_by_pk=spec.pk):
            if raw_row[0] in skip_rowids:
                continue
            try:
                values = [conv(v) for conv, v in zip(converters, raw_row[1:], strict=True)]
            except BadValue:
                continue
            yield values[pk_index], [r(v) for r, v in zip(renderers, values, strict=True)]

    diffs: list[Difference] = []
    with pg.cursor(name=f"rms_diff_{uuid.uuid4().hex[:8]}") as named:
        target_rows = stream_rendered(named, spec)
        src_iter = source_rows()
        s = next(src_iter, None)
        t = next(target_rows, None)
        while (s is not None or t is not None) and len(diffs) < limit:
            if t is None or (s is not None and s[0] < t[0]):
                assert s is not None
                diffs.append(Difference(spec.name, s[0], "*", "row present", "row missing"))
                s = next(src_iter, None)
            elif s is None or t[0] < s[0]:
                diffs.append(Difference(spec.name, t[0], "*", "row absent", "row present"))
                t = next(target_rows, None)
            else:
                for col, a, b in zip(spec.column_names, s[1], t[1], strict=True):
                    if a != b:
                        diffs.append(Difference(spec.name, s[0], col, a, b))
                s = next(src_iter, None)
                t = next(target_rows, None)
    return diffs[:limit]


def _write_ledger(
    cur: PgCursor, plan: MigrationPlan, report: MigrationReport, options: MigrateOptions
) -> None:
    tables = {
        name: {
            "read": t.read,
            "loaded": t.loaded,
            "quarantined": t.quarantined,
            "checksum": t.target_checksum,
        }
        for name, t in report.tables.items()
    }
    write_run(
        cur,
        {
            "run_id": plan.run_id,
            "started_at": plan.started_at,
            "source_path": str(plan.source.resolve()),
            "source_sha256": plan.source_sha256,
            "backup_path": None if options.dry_run and not options.keep_backup else report.backup,
            "tool_version": report.tool_version,
            "schema_revision": report.schema_revision,
            "on_error": options.on_error,
            "tables": tables,
            "options": report.options,
            "accounting": report.accounting,
        },
        {spec.name: spec.pk for spec in table_specs()},
    )


def commit(trans: Any, target: Target, run_id: str) -> None:
    """COMMIT; if it fails, ask the ledger (on a new connection) whether it happened.

    A connection lost while COMMIT is in flight leaves the outcome unknown to the client;
    the ledger row is written in the same transaction, so its presence decides.
    """
    try:
        trans.commit()
    except DRIVER_ERRORS as exc:  # caught to decide (did it commit?), then translated
        if _run_committed(target, run_id):
            return
        raise target_error(
            target.label, exc, "COMMIT failed; the run did not commit, the target is unchanged"
        ) from exc


def _run_committed(target: Target, run_id: str) -> bool:
    try:
        with target.connect() as conn:
            cur = raw(conn).cursor()
            if not has_ledger(cur):
                return False
            cur.execute(
                f"SELECT 1 FROM {LEDGER_SCHEMA}.runs WHERE run_id = %s",  # noqa: S608
                (run_id,),
            )
            return cur.fetchone() is not None
    except (TargetError, *DRIVER_ERRORS) as exc:  # type: ignore[misc]
        raise CommitUnknownError(
            f"the connection to {target.label} was lost during COMMIT of run "
            f"{run_id} and the ledger cannot be read: check rms_migrate.runs for it"
        ) from exc
