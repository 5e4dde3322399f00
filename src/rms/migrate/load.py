"""Preflight and the migration itself: one PostgreSQL transaction, verified before COMMIT.

The order of a run, and why:

1. :func:`preflight` reads only. The source opens read-only and passes ``quick_check``
   (the full ``integrity_check`` runs on the backup copy in a background thread during the
   load, and must pass before COMMIT: it alone takes longer than the whole load);
   the target is reachable, UTF-8, at the schema head (or empty: then the run creates the
   schema itself, in its own transaction) and empty unless ``replace`` was asked.
2. :func:`run_migration` takes a consistent backup of the source (online backup API) next to
   the report (in a private directory: by default ``<state dir>/migrate/<run id>/``) and
   reads only from that copy from then on.
3. In **one** transaction on the target: an advisory lock (one migration at a time), the
   Alembic upgrade if the database was empty, ``ACCESS EXCLUSIVE`` locks on the tables
   (the application cannot write half-way), emptiness checked again under the lock, then
   ``TRUNCATE`` (which also lets ``COPY FREEZE`` skip later vacuum work), keys/indexes/foreign
   keys dropped, binary ``COPY`` of each table in foreign-key order, keys/indexes/foreign keys
   recreated (PostgreSQL validates every reference here), checksums compared, the ledger
   written, and only then COMMIT. DDL is transactional in PostgreSQL, so a rollback at any
   point (an error, Ctrl-C, a kill, a lost connection: the server aborts a transaction whose
   client vanished) restores the dropped indexes and leaves the target as it was.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

import psycopg
from psycopg import sql
from sqlalchemy import Connection

from rms.db.errors import DRIVER_ERRORS
from rms.migrate.digest import TableDigest, python_renderers
from rms.migrate.errors import (
    BadDataError,
    CommitUnknownError,
    ConcurrentMigrationError,
    ReplaceNotConfirmedError,
    SchemaMismatchError,
    SourceError,
    TargetError,
    TargetNotEmptyError,
    VerificationError,
)
from rms.migrate.fastpath import COPY_HEADER
from rms.migrate.observe import MigrationObserver
from rms.migrate.report import Difference, MigrationReport, Problem, TableReport, jsonable
from rms.migrate.scan import ScanContext, TableMapping, map_table, scan_table
from rms.migrate.source import (
    SourceSchema,
    backup_to,
    file_sha256,
    integrity_check,
    iter_rows,
    open_readonly,
    quote_ident,
    read_schema,
)
from rms.migrate.spec import TableSpec, table_specs
from rms.migrate.target import (
    ADVISORY_KEY,
    LEDGER_SCHEMA,
    drop_secondary,
    ensure_ledger,
    hidden,
    orphan_counts,
    raw,
    restore_secondary,
    secondary_definitions,
    stream_rendered,
    table_counts,
    target_connection,
    target_digest,
    target_error,
)
from rms.settings.state import make_private_dir

__all__ = ["MigrateOptions", "MigrationPlan", "preflight", "run_migration"]

#: Tables written by Prisma itself, not application data: reported, never migrated.
PRISMA_BOOKKEEPING = {"_prisma_migrations"}
#: Our own tables that an application file never has (only a file of ours): no warning.
OWN_TABLES = {"rms_archive"}
#: Rows per write to the COPY stream (about 0.5 MB for trades): memory stays flat.
COPY_BATCH_ROWS = 4000
#: Differences listed when a verification fails.
MAX_DIFFERENCES = 10


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
    #: Unknown source tables or columns abort the run instead of being reported as warnings.
    strict: bool = False
    #: Asks the user a yes/no question; None means nobody can be asked (not a terminal).
    confirm: Callable[[str], bool] | None = None
    observer: MigrationObserver = field(default_factory=MigrationObserver)
    connect_timeout: float = 10.0
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


@dataclass
class MigrationPlan:
    """What preflight found: the facts a run starts from (nothing written yet)."""

    run_id: str
    started_at: datetime
    source: Path
    source_sha256: str
    schema: SourceSchema
    mappings: list[TableMapping]
    unknown_tables: dict[str, int]
    warnings: list[str]
    target: str
    target_revision: str | None
    head_revision: str
    needs_upgrade: bool
    target_counts: dict[str, int]
    work_dir: Path
    report_path: Path
    quarantine_path: Path

    @property
    def rows_to_replace(self) -> int:
        return sum(self.target_counts.values())

    @property
    def run_start_ms(self) -> int:
        return int(self.started_at.timestamp() * 1000)


def _now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------- preflight


def preflight(source: Path, target_url: str, options: MigrateOptions) -> MigrationPlan:
    """Check the source and the target and plan the run; writes nothing anywhere."""
    run_id = str(uuid.uuid4())
    started = _now()
    source = Path(source)
    conn = open_readonly(source, options.source_busy_timeout)
    try:
        sha = file_sha256(source)
        integrity_check(conn, source, quick=True)
        schema = read_schema(conn, source)
        mappings, unknown, warnings = _map_source(conn, schema, started, options)
    finally:
        conn.close()
    revision, head, counts, needs_upgrade = _inspect_target(target_url, options)
    if counts and sum(counts.values()) and not options.replace:
        listed = ", ".join(f"{t} {n}" for t, n in counts.items() if n)
        raise TargetNotEmptyError(
            f"target {hidden(target_url)} is not empty ({listed} rows); use --replace to "
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
        mappings=mappings,
        unknown_tables=unknown,
        warnings=warnings,
        target=target_url,
        target_revision=revision,
        head_revision=head,
        needs_upgrade=needs_upgrade,
        target_counts=counts,
        work_dir=work_dir,
        report_path=report_path,
        quarantine_path=quarantine,
    )


def _map_source(
    conn: sqlite3.Connection, schema: SourceSchema, started: datetime, options: MigrateOptions
) -> tuple[list[TableMapping], dict[str, int], list[str]]:
    specs = table_specs()
    run_start_ms = int(started.timestamp() * 1000)
    mappings = []
    warnings: list[str] = []
    matched: set[str] = set()
    for spec in specs:
        found = schema.find(spec.name)
        mapping = map_table(spec, found, run_start_ms)
        mappings.append(mapping)
        if found is None:
            if spec.name not in OWN_TABLES:
                warnings.append(f"table {spec.name} is absent from the source: nothing to load")
            continue
        matched.add(found.name)
        for column, default in mapping.defaulted.items():
            warnings.append(
                f"column {spec.name}.{column} is absent from the source: "
                f"filled with the default {default!r} for all {found.rows} rows"
            )
        for column in mapping.extra_columns:
            (nonnull,) = conn.execute(
                f"SELECT count({quote_ident(column)}) FROM {quote_ident(found.name)}"  # noqa: S608
            ).fetchone()
            warnings.append(
                f"column {found.name}.{column} is not in the target schema: NOT migrated "
                f"({nonnull} non-null values)"
            )
    if not matched:
        raise SourceError(
            "the source holds none of the RMS tables ("
            + ", ".join(s.name for s in specs)
            + "): is this an RMS database?"
        )
    unknown = {n: t.rows for n, t in schema.tables.items() if n not in matched}
    for name, rows in unknown.items():
        why = "Prisma bookkeeping" if name in PRISMA_BOOKKEEPING else "not in the target schema"
        warnings.append(f"table {name} ({rows} rows) is NOT migrated: {why}")
    strict_hits = [m.spec.name for m in mappings if m.extra_columns] + [
        n for n in unknown if n not in PRISMA_BOOKKEEPING
    ]
    if options.strict and strict_hits:
        raise SchemaMismatchError(
            "--strict: the source has tables or columns the target does not: "
            + "; ".join(w for w in warnings if "NOT migrated" in w)
        )
    return mappings, unknown, warnings


def _inspect_target(
    target_url: str, options: MigrateOptions
) -> tuple[str | None, str, dict[str, int], bool]:
    from rms.schema.migrations import current_revision, head_revision

    head = head_revision()
    with target_connection(target_url, options.connect_timeout) as conn:
        try:
            cur = raw(conn).cursor()
            cur.execute("SHOW server_encoding")
            row = cur.fetchone()
            encoding = str(row[0]) if row else "?"
            revision = current_revision(conn)
            counts = table_counts(cur, table_specs())
            conn.rollback()
        except DRIVER_ERRORS as exc:
            raise target_error(target_url, exc, "cannot inspect the database") from exc
    if encoding.upper() not in ("UTF8", "UTF-8"):
        raise TargetError(
            f"target {hidden(target_url)} uses the {encoding} encoding; it must be UTF8 to hold "
            "every character of the source"
        )
    if revision is None:
        if counts:
            raise TargetError(
                f"target {hidden(target_url)} has RMS tables ({', '.join(counts)}) but no "
                "Alembic revision: it was not created by rms; refusing to guess its schema"
            )
        return None, head, {}, True
    if revision != head:
        raise TargetError(
            f"target {hidden(target_url)} is at schema revision {revision}, the head is {head}: "
            "run `rms db upgrade` on it first"
        )
    return revision, head, counts, False


# --------------------------------------------------------------------------- the run


def confirm_replace(plan: MigrationPlan, options: MigrateOptions) -> None:
    """Replacing rows needs a yes: ``--yes``, or an answer from someone at a terminal."""
    if not plan.rows_to_replace or options.yes:
        return
    question = (
        f"Replace {plan.rows_to_replace} rows in {hidden(plan.target)} ("
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
    the preflight, so the problems are on disk in full.
    """
    from rms import __version__

    confirm_replace(plan, options)
    report = MigrationReport(
        run_id=plan.run_id,
        source=str(plan.source),
        source_sha256_before=plan.source_sha256,
        target=hidden(plan.target),
        tool_version=__version__,
        on_error=options.on_error,
        dry_run=options.dry_run,
        started_at=plan.started_at.isoformat(),
        warnings=list(plan.warnings),
    )
    clock = time.perf_counter()
    make_private_dir(plan.work_dir)
    partial_quarantine = plan.quarantine_path.with_name(plan.quarantine_path.name + ".partial")
    backup: Path | None = None
    try:
        backup = _take_backup(plan, report, options)
        options.observer.event("backup-done")
        _load(plan, options, report, backup, partial_quarantine)
    except BaseException as exc:
        report.status = "failed"
        report.error = str(exc) if str(exc) else type(exc).__name__
        if isinstance(exc, BadDataError):
            report.problems = exc.problems
            report.problems_total = exc.total
        if isinstance(exc, VerificationError):
            report.differences = exc.differences
        partial_quarantine.unlink(missing_ok=True)
        if backup is not None:
            backup.unlink(missing_ok=True)
            report.backup = None
        _finish(plan, report, clock)
        raise
    if report.quarantine_file:
        partial_quarantine.replace(plan.quarantine_path)
    _finish(plan, report, clock)
    return report


def _finish(plan: MigrationPlan, report: MigrationReport, clock: float) -> None:
    with suppress(OSError):
        report.source_sha256_after = file_sha256(plan.source)
    report.finished_at = _now().isoformat()
    report.seconds = round(time.perf_counter() - clock, 3)
    with suppress(OSError):
        report.write(plan.report_path)


def _take_backup(plan: MigrationPlan, report: MigrationReport, options: MigrateOptions) -> Path:
    started = time.perf_counter()
    conn = open_readonly(plan.source, options.source_busy_timeout)
    tmp = plan.work_dir / f"source-{plan.run_id}.db.partial"
    try:
        backup_to(conn, tmp, plan.source)
    finally:
        conn.close()
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


def _load(
    plan: MigrationPlan,
    options: MigrateOptions,
    report: MigrationReport,
    backup: Path,
    quarantine_path: Path,
) -> None:
    specs = table_specs()
    observer = options.observer
    source = open_readonly(backup, options.source_busy_timeout)
    quarantine = (
        _Quarantine(quarantine_path, plan.run_id) if options.on_error == "quarantine" else None
    )
    ctx = ScanContext(quarantine=options.on_error == "quarantine")
    checks = _BackgroundChecks(backup, options)
    expected: dict[str, TableDigest] = {}
    bad_rowids: dict[str, set[int]] = {}
    try:
        with target_connection(plan.target, options.connect_timeout) as conn:
            try:
                trans = conn.begin()
                cur = raw(conn).cursor()
                _lock(cur, plan, options, report, conn)
                observer.event("locked")
                defs = secondary_definitions(cur, [s.name for s in specs])
                dropped = [d for d in defs if options.rebuild == "all" or d.kind == "f"]
                drop_secondary(cur, dropped)
                started = time.perf_counter()
                for mapping in plan.mappings:
                    table_report = TableReport(
                        name=mapping.spec.name,
                        present_in_source=mapping.source is not None,
                        replaced_rows=plan.target_counts.get(mapping.spec.name, 0),
                        defaulted_columns=dict(mapping.defaulted),
                    )
                    report.tables[mapping.spec.name] = table_report
                    result = _copy_table(cur, source, mapping, ctx, quarantine, observer, options)
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
                observer.event("restore-indexes")
                started = time.perf_counter()
                if dropped:
                    try:
                        restore_secondary(cur, dropped)
                    except DRIVER_ERRORS as exc:
                        raise VerificationError(
                            f"a key, index or foreign key could not be rebuilt over the loaded "
                            f"rows: {target_error(plan.target, exc, 'rebuild')}"
                        ) from exc
                    if secondary_definitions(cur, [s.name for s in specs]) != defs:
                        raise VerificationError("the target's keys and indexes did not come back")
                report.timings["indexes"] = round(time.perf_counter() - started, 3)
                observer.event("verify")
                started = time.perf_counter()
                _verify_loaded(cur, conn, source, plan, report, expected, bad_rowids)
                report.timings["verify"] = round(time.perf_counter() - started, 3)
                observer.event("ledger")
                _write_ledger(cur, plan, report, options)
                checks.wait(report)
                observer.event("before-commit")
                if options.dry_run:
                    trans.rollback()
                    report.status = "dry-run"
                    return
            except DRIVER_ERRORS as exc:
                raise target_error(plan.target, exc, "the load failed and was rolled back") from exc
            _commit(trans, plan, options)
            report.status = "committed"
            observer.event("committed")
    finally:
        if quarantine is not None:
            quarantine.close()
        source.close()
        checks.wait(None)


class _BackgroundChecks:
    """Checks of the backup copy that run while the load runs (SQLite and hashlib release
    the GIL), joined before COMMIT: the full integrity_check and the backup's SHA-256."""

    def __init__(self, backup: Path, options: MigrateOptions) -> None:
        self.backup = backup
        self.sha: str | None = None
        self.error: BaseException | None = None
        self.threads = [threading.Thread(target=self._sha, daemon=True)]
        if options.integrity == "full":
            self.threads.append(threading.Thread(target=self._integrity, daemon=True))
        for thread in self.threads:
            thread.start()

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


def _lock(
    cur: psycopg.Cursor[Any],
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
            f"another rms migration or rollback is running on {hidden(plan.target)}; "
            "wait for it to finish"
        )
    cur.execute("SET LOCAL statement_timeout = 0")
    cur.execute(
        sql.SQL("SET LOCAL lock_timeout = {}").format(
            sql.Literal(f"{int(options.lock_timeout_seconds * 1000)}ms")
        )
    )
    cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
    if plan.needs_upgrade:
        from alembic import command

        from rms.schema.migrations import alembic_config, current_revision

        if table_counts(cur, specs):
            raise TargetError("the target gained RMS tables since the preflight; run again")
        command.upgrade(alembic_config(conn), "head")
        report.schema_upgraded = True
        report.schema_revision = current_revision(conn)
    else:
        report.schema_revision = plan.target_revision
    names = sql.SQL(", ").join(sql.Identifier(s.name) for s in specs)
    try:
        cur.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(names))
    except psycopg.errors.LockNotAvailable as exc:
        raise TargetError(
            f"the RMS tables on {hidden(plan.target)} are in use by another session "
            f"(waited {options.lock_timeout_seconds:g} s for the lock); stop the service and retry"
        ) from exc
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
    cur: psycopg.Cursor[Any],
    source: sqlite3.Connection,
    mapping: TableMapping,
    ctx: ScanContext,
    quarantine: _Quarantine | None,
    observer: MigrationObserver,
    options: MigrateOptions,
) -> _CopyResult:
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
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY, FREEZE)").format(
            sql.Identifier(spec.name),
            sql.SQL(", ").join(sql.Identifier(c) for c in spec.column_names),
        )
        with cur.copy(statement) as copy:
            buffer: list[bytes] = [COPY_HEADER]
            append = buffer.append

            def write(row: bytes) -> None:
                append(row)
                if len(buffer) >= COPY_BATCH_ROWS:
                    copy.write(b"".join(buffer))
                    buffer.clear()

            result = scan_table(source, mapping, ctx, write, quarantine, progress)
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
    cur: psycopg.Cursor[Any],
    conn: Connection,
    source: sqlite3.Connection,
    plan: MigrationPlan,
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
        mapping_by_name = {m.spec.name: m for m in plan.mappings}
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
    pg: psycopg.Connection[Any],
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
    cur: psycopg.Cursor[Any], plan: MigrationPlan, report: MigrationReport, options: MigrateOptions
) -> None:
    tables = {}
    for name, t in report.tables.items():
        tables[name] = {
            "read": t.read,
            "loaded": t.loaded,
            "quarantined": t.quarantined,
            "checksum": t.target_checksum,
        }
    cur.execute(
        f"INSERT INTO {LEDGER_SCHEMA}.runs (run_id, started_at, finished_at, source_path, "  # noqa: S608
        "source_sha256, backup_path, tool_version, schema_revision, on_error, tables) "
        "VALUES (%s, %s, now(), %s, %s, %s, %s, %s, %s, %s::jsonb)",
        (
            plan.run_id,
            plan.started_at,
            str(plan.source.resolve()),
            plan.source_sha256,
            report.backup,
            report.tool_version,
            report.schema_revision,
            options.on_error,
            json.dumps(tables),
        ),
    )
    for spec in table_specs():
        cur.execute(
            sql.SQL(
                "INSERT INTO {schema}.run_rows (run_id, table_name, ids) "
                "SELECT %s, %s, coalesce(array_agg({pk}), '{{}}') FROM {t}"
            ).format(
                schema=sql.Identifier(LEDGER_SCHEMA),
                pk=sql.Identifier(spec.pk),
                t=sql.Identifier(spec.name),
            ),
            (plan.run_id, spec.name),
        )


def _commit(trans: Any, plan: MigrationPlan, options: MigrateOptions) -> None:
    """COMMIT; if it fails, ask the ledger (on a new connection) whether it happened.

    A connection lost while COMMIT is in flight leaves the outcome unknown to the client;
    the ledger row is written in the same transaction, so its presence decides.
    """
    try:
        trans.commit()
    except DRIVER_ERRORS as exc:
        if _run_committed(plan, options):
            return
        raise target_error(
            plan.target, exc, "COMMIT failed; the run did not commit, the target is unchanged"
        ) from exc


def _run_committed(plan: MigrationPlan, options: MigrateOptions) -> bool:
    try:
        with target_connection(plan.target, options.connect_timeout) as conn:
            cur = raw(conn).cursor()
            cur.execute("SELECT to_regclass(%s)", (f"{LEDGER_SCHEMA}.runs",))
            row = cur.fetchone()
            if not row or row[0] is None:
                return False
            cur.execute(
                f"SELECT 1 FROM {LEDGER_SCHEMA}.runs WHERE run_id = %s",  # noqa: S608
                (plan.run_id,),
            )
            return cur.fetchone() is not None
    except (TargetError, *DRIVER_ERRORS) as exc:  # type: ignore[misc]
        raise CommitUnknownError(
            f"the connection to {hidden(plan.target)} was lost during COMMIT of run "
            f"{plan.run_id} and the ledger cannot be read: check rms_migrate.runs for it"
        ) from exc
