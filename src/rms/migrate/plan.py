"""Step 1 of a run, the preflight: what a run can be told, and the plan it starts from.

:func:`preflight` reads only. The source opens read-only and passes ``quick_check`` (the
full ``integrity_check`` runs on the backup copy in a background thread after the load, and
must pass before COMMIT: it alone takes longer than the whole load). Every source table and
column is accounted for (:mod:`rms.migrate.lineage`): carried, archived, or left behind by
name; anything else stops the run here. The target, reached through :mod:`rms.db` (cold
starts waited for, credentials from the settings), is UTF-8, at the schema head (or empty:
then the run creates the schema itself, in its own transaction) and empty unless ``replace``
was asked. The run itself is :mod:`rms.migrate.load`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from rms.migrate.errors import (
    ReplaceNotConfirmedError,
    SchemaMismatchError,
    SourceError,
    TargetError,
    TargetNotEmptyError,
)
from rms.migrate.lineage import Lineage, LineageOptions, RunIdentity, build_lineage
from rms.migrate.observe import MigrationObserver
from rms.migrate.scan import PARALLEL_MIN_ROWS, TableMapping
from rms.migrate.sqlite import SourceSchema, integrity_check, open_source, read_schema
from rms.migrate.target import (
    Target,
    as_target,
    no_statement_timeout,
    raw,
    table_counts,
    target_errors,
)
from rms.schema.head import HEAD_REVISION, stored_revision
from rms.transfer.spec import table_specs
from rms.transfer.sqlite import file_sha256

if TYPE_CHECKING:
    from rms.settings import Settings

__all__ = [
    "MigrateOptions",
    "MigrationPlan",
    "accounting_of",
    "confirm_replace",
    "now",
    "preflight",
]


#: Tables with fewer source rows keep their keys and indexes during COPY (see
#: :attr:`MigrateOptions.rebuild_min_rows`).
REBUILD_MIN_ROWS = 1_000


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
    #: With ``rebuild="all"``: a table whose source holds fewer rows than this keeps its
    #: keys and indexes during COPY (only its foreign keys are dropped and recreated):
    #: the same keys and indexes in the end, maintained row by row, which at that size is
    #: cheaper than dropping and recreating them (docs/benchmarks.md, issue 31 step 4).
    rebuild_min_rows: int = REBUILD_MIN_ROWS
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


def now() -> datetime:
    return datetime.now(UTC)


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
    started = now()
    run = RunIdentity(run_id, int(started.timestamp() * 1000))
    conn = open_source(source, options.source_busy_timeout)
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
    revision, head, counts, needs_upgrade = inspect_target(target)
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


def inspect_target(target: Target) -> tuple[str | None, str, dict[str, int], bool]:
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
