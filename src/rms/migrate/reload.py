"""``rms db load-quarantine``: a corrected quarantine file loaded as a run of its own.

A run with ``--on-error quarantine`` writes each row it set aside whole, one JSON object a
line (``{"table": ..., "id": ..., "rowid": ..., "problems": [...], "row": {column: raw
value}}``, see ``QuarantineWriter`` in :mod:`rms.migrate.copy`). The owner corrects that file
(adds the missing symbol as a ``universe`` line, changes a reference, fixes a value) and
loads it here, on top of what the target holds:

* each line needs ``table`` (a target table) and ``row`` (its target columns; a column left
  out gets its default, the run's start for an instant, as in a migration); ``problems``,
  ``id``, ``rowid`` and ``run_id`` are the quarantine's notes and are ignored;
* the rows are judged by the migration's own rules (:func:`rms.migrate.scan.scan_table`:
  exact conversion, NOT NULL, duplicates within the file, references), a reference may name
  a row of the target or of the file, and an id or unique value the target already holds is
  a problem too. Any problem, and nothing is written: every one is listed (table, row id,
  column, value, reason, the line of the file), like a migration's;
* the load is one transaction under the migration's advisory lock: binary COPY into the
  tables (keys and foreign keys stay in place: PostgreSQL checks each row), then the ledger
  row with exactly the ids loaded, then the verification (count and checksum of those ids
  computed by PostgreSQL against the file's, and no orphan anywhere), then COMMIT;
* the run is in ``rms db runs`` (kind ``quarantine-load``), ``rms db verify --from FILE``
  compares the file with it again, and ``rms db rollback RUN_ID`` removes exactly its rows.
  A migration run with a quarantine load on top of it is not rolled back before that load
  is (:mod:`rms.migrate.unload`).
"""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rms.db.errors import DRIVER_ERRORS, LOCK_NOT_AVAILABLE, on_sqlstate
from rms.db.pg import PgCursor, sql
from rms.errors import InvalidInputError
from rms.migrate.commit import commit
from rms.migrate.copy import copy_table
from rms.migrate.errors import (
    BadDataError,
    ConcurrentMigrationError,
    SourceError,
    TargetError,
    VerificationError,
)
from rms.migrate.ledger import (
    ADVISORY_KEY,
    KIND_QUARANTINE,
    ensure_ledger,
    find_run,
    has_ledger,
    list_runs,
    write_run,
)
from rms.migrate.observe import MigrationObserver
from rms.migrate.plan import MigrateOptions
from rms.migrate.report import MigrationReport, Problem, TableReport
from rms.migrate.scan import ScanContext, TableMapping, map_table, scan_table
from rms.migrate.sqlite import read_schema
from rms.migrate.target import (
    Target,
    as_target,
    no_statement_timeout,
    orphan_counts,
    raw,
    target_digest,
    target_error,
    target_errors,
)
from rms.schema.head import HEAD_REVISION, stored_revision
from rms.settings.state import make_private_dir
from rms.transfer.spec import RUN_START, TableSpec, table_specs
from rms.transfer.sqlite import SQLITE_HEADER, file_sha256, quote_ident

if TYPE_CHECKING:
    from rms.settings import Settings


__all__ = [
    "QuarantineFile",
    "ReloadOptions",
    "is_quarantine_file",
    "load_quarantine",
    "read_quarantine",
    "verify_quarantine",
]

#: How a reference that resolves nowhere is explained in a quarantine file's load.
MISSING_HERE = "which is neither in the target nor in this file"


@dataclass
class ReloadOptions:
    dry_run: bool = False
    #: The report's path; by default ``<work_root>/<run id>/report.json``.
    report_path: Path | None = None
    work_root: Path | None = None
    observer: MigrationObserver = field(default_factory=MigrationObserver)
    #: How long to wait for the service to release the tables.
    lock_timeout_seconds: float = 10.0


@dataclass
class QuarantineFile:
    """The file read into a private in-memory SQLite database: one table per target table,
    the target's columns, the line number as rowid, so the migration's scan reads it."""

    path: Path
    sha256: str
    conn: sqlite3.Connection
    mappings: dict[str, TableMapping]
    #: Lines that are not a row of a target table (bad JSON, unknown table or column).
    problems: list[Problem]
    #: ``table.column`` -> how many rows got the column's default (it was left out).
    defaulted: dict[str, int]
    lines: int

    def close(self) -> None:
        self.conn.close()

    def ids(self, table: str) -> list[Any]:
        spec = self.mappings[table].spec
        query = f"SELECT {quote_ident(spec.pk)} FROM {quote_ident(table)} ORDER BY rowid"  # noqa: S608
        return [r[0] for r in self.conn.execute(query)]


def is_quarantine_file(path: Path) -> bool:
    """A readable file that is not SQLite (verify takes either)."""
    try:
        with Path(path).open("rb") as fh:
            return fh.read(len(SQLITE_HEADER)) != SQLITE_HEADER
    except OSError:
        return False


def _decode(value: Any) -> Any:
    """The inverse of :func:`rms.migrate.report.jsonable` (tagged bytes and odd floats)."""
    if isinstance(value, dict) and len(value) == 1:
        ((tag, text),) = value.items()
        if tag in ("$blob_hex", "$invalid_utf8_hex") and isinstance(text, str):
            with suppress(ValueError):
                return bytes.fromhex(text)
        if tag == "$float" and isinstance(text, str):
            with suppress(ValueError):
                number = float(text)
                if not math.isfinite(number):
                    return number
    if isinstance(value, dict | list):
        # A JSON document where a scalar belongs: kept as its text, refused by conversion
        # unless the column holds JSON (settings.value).
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return int(value)
    return value


def _line_problem(number: int, table: str, column: str, value: Any, why: str) -> Problem:
    return Problem(table or "?", None, column, value, f"{why} (line {number})", number)


def read_quarantine(path: Path, run_start_ms: int) -> QuarantineFile:
    """Read a (corrected) quarantine file; unusable lines become problems, not errors."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{path} does not exist or is not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read {path}: {exc}") from exc
    specs = {s.name: s for s in table_specs()}
    by_lower = {name.lower(): name for name in specs}
    conn = sqlite3.connect(":memory:", isolation_level=None)
    problems: list[Problem] = []
    defaulted: dict[str, int] = {}
    created: set[str] = set()
    lines = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        lines += 1
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(
                _line_problem(number, "", "*", line[:60], f"not a JSON object: {exc.msg}")
            )
            continue
        if not isinstance(record, dict) or not isinstance(record.get("row"), dict):
            problems.append(
                _line_problem(number, "", "*", line[:60], 'expected {"table": "...", "row": {...}}')
            )
            continue
        name = by_lower.get(str(record.get("table", "")).lower())
        if name is None:
            problems.append(
                _line_problem(
                    number,
                    str(record.get("table", "")),
                    "table",
                    record.get("table"),
                    "not a table of the target (" + ", ".join(specs) + ")",
                )
            )
            continue
        spec = specs[name]
        columns = {c.lower(): c for c in spec.column_names}
        row: dict[str, Any] = {}
        unknown = False
        for key, value in record["row"].items():
            column = columns.get(str(key).lower())
            if column is None:
                problems.append(
                    _line_problem(
                        number, name, str(key), value, f"{name} has no such column in the target"
                    )
                )
                unknown = True
                continue
            row[column] = _decode(value)
        if unknown:
            continue
        for col in spec.columns:
            if col.name in row:
                continue
            if col.has_default:
                default = col.default
                row[col.name] = run_start_ms if default == RUN_START else _decode(default)
                if default is not None:
                    key = f"{name}.{col.name}"
                    defaulted[key] = defaulted.get(key, 0) + 1
            else:
                row[col.name] = None  # a required value left out: the scan names it
        if name not in created:
            cols = ", ".join(quote_ident(c) for c in spec.column_names)
            conn.execute(f"CREATE TABLE {quote_ident(name)} ({cols})")
            created.add(name)
        cols = ", ".join(quote_ident(c) for c in ["rowid", *spec.column_names])
        marks = ", ".join("?" for _ in range(len(spec.column_names) + 1))
        conn.execute(
            f"INSERT INTO {quote_ident(name)} ({cols}) VALUES ({marks})",  # noqa: S608
            [number, *(row[c] for c in spec.column_names)],
        )
    schema = read_schema(conn, path)
    mappings = {}
    for name in created:
        found = schema.find(name)
        assert found is not None
        mappings[name] = map_table(specs[name], found, run_start_ms)
    return QuarantineFile(path, file_sha256(path), conn, mappings, problems, defaulted, lines)


def _with_line(problem: Problem) -> Problem:
    if problem.rowid is not None and "(line " not in problem.reason:
        problem.reason = f"{problem.reason} (line {problem.rowid})"
    return problem


def _target_ids(cur: PgCursor, spec: TableSpec) -> set[Any]:
    cur.execute(
        sql.SQL("SELECT {} FROM {}").format(sql.Identifier(spec.pk), sql.Identifier(spec.name))
    )
    return {r[0] for r in cur.fetchall()}


def _clashes(cur: PgCursor, qfile: QuarantineFile, mapping: TableMapping) -> list[Problem]:
    """Ids and unique text values of the file that the target holds already."""
    spec = mapping.spec
    out: list[Problem] = []
    for col in spec.columns:
        if not col.unique or col.kind != "text":
            continue
        query = (
            f"SELECT rowid, {quote_ident(spec.pk)}, {quote_ident(col.name)} "  # noqa: S608
            f"FROM {quote_ident(spec.name)} WHERE typeof({quote_ident(col.name)}) = 'text'"
        )
        rows = qfile.conn.execute(query).fetchall()
        if not rows:
            continue
        cur.execute(
            sql.SQL("SELECT {c} FROM {t} WHERE {c} = ANY(%s)").format(
                c=sql.Identifier(col.name), t=sql.Identifier(spec.name)
            ),
            ([r[2] for r in rows],),
        )
        held = {r[0] for r in cur.fetchall()}
        what = "a row with this id" if col.name == spec.pk else f"a row with this {col.name}"
        for rowid, row_id, value in rows:
            if value in held:
                out.append(
                    Problem(
                        spec.name,
                        row_id,
                        col.name,
                        value,
                        f"{what} is in the target already (loaded by an earlier run, or "
                        f"added since): leave the line out, or change the value (line {rowid})",
                        rowid,
                    )
                )
    return out


@dataclass
class _Scan:
    report: MigrationReport
    problems: list[Problem]
    total: int
    digests: dict[str, Any]


def _scan(
    cur: PgCursor,
    qfile: QuarantineFile,
    report: MigrationReport,
    *,
    write: bool,
    clash_check: bool,
    observer: MigrationObserver,
) -> _Scan:
    """Judge (and with ``write``, COPY) the file's rows, parents first; references may name
    the target's rows or the file's."""
    ctx = ScanContext(quarantine=False, missing_reference=MISSING_HERE)
    problems = list(qfile.problems)
    if clash_check:
        for each in qfile.mappings.values():
            problems += _clashes(cur, qfile, each)
    total = len(problems)
    digests: dict[str, Any] = {}
    options = MigrateOptions()
    for spec in table_specs():
        held = _target_ids(cur, spec) if spec.referenced else set()
        mapping = qfile.mappings.get(spec.name)
        if mapping is None:
            ctx.loaded_ids[spec.name] = held
            continue
        table = TableReport(name=spec.name)
        report.tables[spec.name] = table
        before = ctx.problems_total
        if write and not total and not ctx.problems_total:
            result = copy_table(
                cur, qfile.conn, mapping, ctx, None, observer, options, freeze=False
            )
            read, bad, digest = result.read, result.bad, result.digest
        else:
            scanned = scan_table(qfile.conn, mapping, ctx, None)
            read, bad, digest = scanned.read, scanned.bad, scanned.digest
        if spec.referenced:
            ctx.loaded_ids[spec.name] |= held
        table.read = read
        table.loaded = read - bad if ctx.problems_total == before else 0
        table.source_checksum = digest.checksum
        digests[spec.name] = digest
    problems += [_with_line(p) for p in ctx.problems]
    return _Scan(report, problems, total + ctx.problems_total, digests)


def _lock(cur: PgCursor, target: Target, options: ReloadOptions) -> None:
    cur.execute("SELECT pg_try_advisory_xact_lock(%s)", (ADVISORY_KEY,))
    row = cur.fetchone()
    if not row or not row[0]:
        raise ConcurrentMigrationError(
            f"another rms migration or rollback is running on {target.label}; wait for it to finish"
        )
    no_statement_timeout(cur)
    revision = stored_revision(cur)
    if revision != HEAD_REVISION:
        raise TargetError(
            f"target {target.label} is "
            + (
                "not an RMS database (no schema revision)"
                if revision is None
                else f"at schema revision {revision}, the head is {HEAD_REVISION}"
            )
            + ": a quarantine file is loaded into a database a migration filled "
            "(rms db migrate, or rms db upgrade)"
        )
    cur.execute(
        sql.SQL("SET LOCAL lock_timeout = {}").format(
            sql.Literal(f"{int(options.lock_timeout_seconds * 1000)}ms")
        )
    )
    names = sql.SQL(", ").join(sql.Identifier(s.name) for s in table_specs())
    in_use = TargetError(
        f"the RMS tables on {target.label} are in use by another session (waited "
        f"{options.lock_timeout_seconds:g} s for the lock); stop the service and retry"
    )
    with on_sqlstate({LOCK_NOT_AVAILABLE: lambda _translated, _exc: in_use}):
        # Readers go on; writers (the service) wait until the load commits or rolls back.
        cur.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(names))


def _advice(path: Path, total: int) -> str:
    return (
        f"{total} problem(s) in the quarantine file {path}, nothing was written: correct "
        "those lines (or leave them out) and load the file again"
    )


def load_quarantine(
    path: Path,
    target: Target | str,
    options: ReloadOptions | None = None,
    *,
    settings: Settings | None = None,
) -> MigrationReport:
    """Load a corrected quarantine file as one run: all its rows, verified, or nothing.

    Raises :class:`BadDataError` listing every problem (the target unchanged), or another
    :class:`rms.errors.MigrationError` subclass.
    """
    options = options or ReloadOptions()
    target = as_target(target, settings)
    try:
        return _load(Path(path), target, options)
    finally:
        if target.owned:
            target.dispose()


def _load(path: Path, target: Target, options: ReloadOptions) -> MigrationReport:
    from rms import __version__

    run_id = str(uuid.uuid4())
    started = datetime.now(UTC)
    run_start_ms = int(started.timestamp() * 1000)
    clock = time.perf_counter()
    if options.report_path is not None:
        report_path = Path(options.report_path)
    elif options.work_root is not None:
        report_path = Path(options.work_root) / run_id / "report.json"
    else:
        raise ValueError("ReloadOptions needs report_path or work_root: where the run's files go")
    qfile = read_quarantine(path, run_start_ms)
    report = MigrationReport(
        run_id=run_id,
        source=str(path),
        source_sha256_before=qfile.sha256,
        target=target.label,
        tool_version=__version__,
        on_error="abort",
        dry_run=options.dry_run,
        started_at=started.isoformat(),
        options={"kind": KIND_QUARANTINE, "run_start_ms": run_start_ms},
        accounting={"kind": KIND_QUARANTINE, "lines": qfile.lines, "defaulted": qfile.defaulted},
        notes=[
            f"{key}: left out of {n} line(s), given its default"
            for key, n in qfile.defaulted.items()
        ],
    )
    try:
        if not qfile.lines:
            raise InvalidInputError(f"{path} holds no rows: nothing to load", field="FILE")
        make_private_dir(report_path.parent)
        try:
            _load_with(qfile, target, options, report, report_path)
        except BaseException as exc:
            report.status = "failed"
            report.error = str(exc) or type(exc).__name__
            listed: BadDataError | None = None
            if isinstance(exc, BadDataError):
                report.problems = exc.problems
                report.problems_total = exc.total
                listing = report_path.parent / "problems.txt"
                with suppress(OSError):
                    listing.write_text(
                        "".join(" ".join(p.describe().split()) + "\n" for p in exc.problems),
                        encoding="utf-8",
                    )
                    listed = exc.listed_in(listing)
            _finish(report, report_path, clock)
            if listed is not None:
                raise listed from exc
            raise
    finally:
        qfile.close()
    _finish(report, report_path, clock)
    return report


def _finish(report: MigrationReport, report_path: Path, clock: float) -> None:
    report.finished_at = datetime.now(UTC).isoformat()
    report.seconds = round(time.perf_counter() - clock, 3)
    try:
        report.write(report_path)
    except OSError as exc:
        if report.status == "committed":
            report.warnings.append(f"the report could not be written to {report_path}: {exc}")


def _load_with(
    qfile: QuarantineFile,
    target: Target,
    options: ReloadOptions,
    report: MigrationReport,
    report_path: Path,
) -> None:
    observer = options.observer
    with target.connect() as conn:
        try:
            trans = conn.begin()
            cur = raw(conn).cursor()
            _lock(cur, target, options)
            report.schema_revision = HEAD_REVISION
            observer.event("locked")
            below = [r.run_id for r in list_runs(cur) if r.active] if has_ledger(cur) else []
            report.options["loaded_onto"] = below
            scan = _scan(cur, qfile, report, write=True, clash_check=True, observer=observer)
            if scan.total:
                raise BadDataError(
                    scan.problems, scan.total, advice=_advice(qfile.path, scan.total)
                )
            observer.event("ledger")
            backup = report_path.parent / f"quarantine-{report.run_id}-{qfile.sha256[:12]}.jsonl"
            if not options.dry_run:
                shutil.copyfile(qfile.path, backup)
                with suppress(OSError):
                    backup.chmod(0o444)
                report.backup = str(backup)
            ensure_ledger(cur)
            ids = {name: qfile.ids(name) for name in report.tables}
            write_run(
                cur,
                {
                    "run_id": report.run_id,
                    "started_at": datetime.fromisoformat(report.started_at),
                    "source_path": str(qfile.path.resolve()),
                    "source_sha256": qfile.sha256,
                    "backup_path": report.backup,
                    "tool_version": report.tool_version,
                    "schema_revision": report.schema_revision,
                    "on_error": "abort",
                    "tables": {
                        name: {
                            "read": t.read,
                            "loaded": t.loaded,
                            "quarantined": 0,
                            "checksum": scan.digests[name].checksum,
                        }
                        for name, t in report.tables.items()
                    },
                    "options": report.options,
                    "accounting": report.accounting,
                },
                {},
                ids,
            )
            observer.event("verify")
            _check(cur, report, scan.digests)
            observer.event("before-commit")
            if options.dry_run:
                trans.rollback()
                report.status = "dry-run"
                return
            commit(trans, target, report.run_id)
        except DRIVER_ERRORS as exc:
            if report.backup:
                Path(report.backup).unlink(missing_ok=True)
                report.backup = None
            raise target_error(target.label, exc, "the load failed and was rolled back") from exc
        except BaseException:
            if report.backup:
                Path(report.backup).unlink(missing_ok=True)
                report.backup = None
            raise
    report.status = "committed"
    observer.event("committed")


def _check(cur: PgCursor, report: MigrationReport, digests: dict[str, Any]) -> None:
    """The run's rows as PostgreSQL holds them (by the ledger's ids) against the file's."""
    specs = {s.name: s for s in table_specs()}
    differing = []
    for name, table in report.tables.items():
        actual = target_digest(cur, specs[name], ids_from=(report.run_id, name))
        table.target_rows = actual.count
        table.target_checksum = actual.checksum
        table.verified = actual == digests[name] and table.balanced
        if not table.verified:
            differing.append(name)
    report.orphans = orphan_counts(cur, table_specs())
    orphaned = {k: v for k, v in report.orphans.items() if v}
    if differing:
        raise VerificationError(
            "the target does not hold exactly the file's rows in "
            + ", ".join(differing)
            + "; rolled back"
        )
    if orphaned:
        raise VerificationError(f"rows whose references do not resolve: {orphaned}; rolled back")


def verify_quarantine(
    path: Path, target: Target | str, run_id: str | None = None, *, settings: Settings | None = None
) -> MigrationReport:
    """Compare a quarantine file with the run that loaded it (default: the newest such run
    whose rows the target holds); ``status`` is ``verified`` or ``mismatch``."""
    from rms import __version__

    target = as_target(target, settings)
    started = datetime.now(UTC)
    clock = time.perf_counter()
    try:
        with target.connect() as pg, target_errors(target.label, "cannot read the target"):
            cur = raw(pg).cursor()
            no_statement_timeout(cur)
            record = find_run(cur, run_id, target.label, kind=KIND_QUARANTINE)
            if record.kind != KIND_QUARANTINE:
                raise InvalidInputError(
                    f"run {record.run_id} migrated a SQLite file ({record.source_path}), "
                    "not a quarantine file: verify it with --from that file",
                    field="--run",
                )
            start = int(record.options.get("run_start_ms", 0))
            report = MigrationReport(
                run_id=str(uuid.uuid4()),
                source=str(path),
                target=target.label,
                tool_version=__version__,
                on_error="abort",
                started_at=started.isoformat(),
                compared_run=record.run_id,
                options=dict(record.options),
                accounting=dict(record.accounting),
            )
            qfile = read_quarantine(Path(path), start)
            try:
                report.source_sha256_before = qfile.sha256
                scan = _scan(
                    cur,
                    qfile,
                    report,
                    write=False,
                    clash_check=False,
                    observer=MigrationObserver(),
                )
            finally:
                qfile.close()
            report.problems = scan.problems
            report.problems_total = scan.total
            specs = {s.name: s for s in table_specs()}
            for name in sorted(set(record.tables) | set(report.tables)):
                table = report.tables.setdefault(name, TableReport(name=name))
                actual = target_digest(cur, specs[name], ids_from=(record.run_id, name))
                table.target_rows = actual.count
                table.target_checksum = actual.checksum
                table.verified = actual == scan.digests.get(name) and not scan.total
            report.orphans = orphan_counts(cur, table_specs())
            pg.rollback()
    finally:
        if target.owned:
            target.dispose()
    ok = all(t.verified for t in report.tables.values()) and not any(report.orphans.values())
    report.status = "verified" if ok else "mismatch"
    report.source_sha256_after = report.source_sha256_before
    report.finished_at = datetime.now(UTC).isoformat()
    report.seconds = round(time.perf_counter() - clock, 3)
    return report
