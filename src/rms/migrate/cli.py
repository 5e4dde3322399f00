"""``rms db migrate | verify | rollback | runs``: thin commands over :mod:`rms.migrate`.

The target is the database the settings name (``DATABASE_URL``, or the ``DB_*`` variables
with ``DB_SECRET_ARN`` / ``DB_SSM_PARAMETER`` / ``DB_IAM_AUTH``), reached through
:mod:`rms.db` like the service's; ``--to URL`` names another one. A ``--to`` URL holding a
password works but is warned about: it is in the shell history and visible in ``ps``.

Progress bars (per table, with rows/s) only when stdout is a terminal; otherwise only the
warnings (stderr) and the final summary (stdout), never wrapped. While the target wakes
from a pause, each connection attempt is a line on stderr (from :mod:`rms.db`). Failures
are :class:`rms.errors.RmsError` subclasses, printed once by ``rms.cli.main``. URLs are
always shown without their password. A run's report, backup and quarantine file go to
``<state dir>/migrate/<run id>/`` unless ``--report`` / ``--quarantine-file`` say otherwise.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from rms.clikit import command_settings, hooks_of, stderr_console, stdout_console
from rms.errors import InvalidInputError
from rms.migrate.errors import ReportNotWrittenError, VerificationError
from rms.migrate.observe import MigrationObserver
from rms.migrate.report import MigrationReport

if TYPE_CHECKING:
    from rms.migrate.target import Target
    from rms.settings import Settings

__all__ = ["register"]

#: The most ``--workers`` a run accepts.
MAX_WORKERS = 64
#: How many stand-ins the summary lists, one a line (the report has them all).
STAND_INS_SHOWN = 20


class OnError(StrEnum):
    abort = "abort"
    quarantine = "quarantine"


class Format(StrEnum):
    table = "table"
    json = "json"


class _RowsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} rows/s" if speed else "", style="progress.data.speed")


class _RichObserver(MigrationObserver):
    """A progress bar per table (terminal only); named points go to ``events`` if given."""

    def __init__(
        self, console: Console, show: bool, events: Callable[[str], None] | None = None
    ) -> None:
        self.events = events
        self.progress: Progress | None = None
        self.tasks: dict[str, int] = {}
        if show:
            self.progress = Progress(
                TextColumn("{task.description:<16}"),
                BarColumn(),
                MofNCompleteColumn(),
                _RowsPerSecond(),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            )

    def __enter__(self) -> _RichObserver:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def event(self, name: str) -> None:
        if self.events is not None:
            self.events(name)

    def table_started(self, table: str, total: int) -> None:
        if self.progress is not None:
            self.tasks[table] = self.progress.add_task(table, total=max(total, 1))

    def table_advanced(self, table: str, rows: int) -> None:
        if self.progress is not None and table in self.tasks:
            self.progress.advance(self.tasks[table], rows)  # type: ignore[arg-type]

    def table_finished(self, table: str) -> None:
        if self.progress is not None and table in self.tasks:
            task = self.tasks[table]
            total = self.progress.tasks[task].total or 0
            self.progress.update(task, completed=total)  # type: ignore[arg-type]


def _print(console: Console, text: str) -> None:
    console.print(text, markup=False, highlight=False)


def _summary(report: MigrationReport, title: str) -> Table:
    """Both sides' figures per table: read, loaded, quarantined, in target, checksums."""
    table = Table(title=title, title_justify="left")
    table.add_column("table", no_wrap=True, min_width=14)  # never truncate a table name
    for name in ("read", "loaded", "quarantined", "in target"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("source checksum", overflow="ellipsis", max_width=16)
    table.add_column("target checksum", overflow="ellipsis", max_width=16)
    table.add_column("verified", justify="right")
    for t in report.tables.values():
        table.add_row(
            t.name,
            str(t.read),
            str(t.loaded),
            str(t.quarantined),
            "" if t.target_rows is None else str(t.target_rows),
            t.source_checksum or "",
            t.target_checksum or "",
            {True: "yes", False: "NO", None: ""}[t.verified],
        )
    table.add_row(
        "total",
        str(report.rows_read),
        str(report.rows_loaded),
        str(report.rows_quarantined),
        str(sum(t.target_rows or 0 for t in report.tables.values())),
        "",
        "",
        "",
    )
    return table


def _accounting_lines(report: MigrationReport) -> list[str]:
    """Where the source went, beyond the per-table figures: the history point, what was
    archived, created, defaulted, filled, derived and left behind."""
    acc = report.accounting
    lines = []
    point = acc.get("history_point", {}).get("description")
    if point:
        lines.append(f"source schema: {point}")
    archived = acc.get("archived", {})
    if archived:
        origin = f"migrate:{report.compared_run or report.run_id}"
        items = ", ".join(
            f"{key} {n} {'value(s)' if '.' in key else 'row(s)'}" for key, n in archived.items()
        )
        lines.append(f"archived into rms_archive (origin {origin}): {items}")
    for group in acc.get("risk_groups", []):
        verb = "created" if group["created"] else "used"
        lines.append(
            f"risk group {group['name']!r} ({verb}, id {group['id']}) for the "
            f"{group['universe_rows']} universe row(s) whose old risk_group was "
            f"{group['old_value']}"
        )
    for table, columns in acc.get("derived", {}).items():
        for column, how in columns.items():
            if column != "*":
                lines.append(f"{table}.{column}: derived {how}")
    stand_ins = acc.get("stand_ins", [])
    for stand_in in stand_ins[:STAND_INS_SHOWN]:
        table = stand_in["table"]
        naming = next(k for k in stand_in if k not in ("table", "id", "referenced_by"))
        refs = ", ".join(f"{k} {n}" for k, n in stand_in["referenced_by"].items())
        lines.append(
            f"stand-in {table} id {stand_in['id']!r} ({naming} {stand_in[naming]!r}), "
            f"referenced by {refs}"
        )
    if len(stand_ins) > STAND_INS_SHOWN:
        lines.append(
            f"... and {len(stand_ins) - STAND_INS_SHOWN} more stand-ins (the report lists "
            "them all: accounting.stand_ins)"
        )
    lines += report.notes
    left = acc.get("left_behind", {})
    if left:
        items = ", ".join(
            f"{key} ({n} {'value(s)' if '.' in key else 'row(s)'})" for key, n in left.items()
        )
        lines.append(f"left behind in the SQLite file (--leave-behind): {items}")
    return lines


def _warn_password(to: str | None) -> None:
    if not to:
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        password = make_url(to).password
    except (ArgumentError, ValueError):
        return
    if password:
        _print(
            stderr_console(),
            "warning: the --to URL holds a password: it is now in your shell history and "
            "visible to other users (ps); name the database in the environment instead "
            "(DATABASE_URL, or DB_HOST and DB_NAME with DB_SECRET_ARN, DB_SSM_PARAMETER or "
            "DB_IAM_AUTH) and leave --to out",
        )


def _target(ctx: typer.Context, to: str | None) -> tuple[Settings, Target]:
    """The target: ``--to``, or the database the settings name (never the embedded one)."""
    from rms.migrate.target import open_target

    _warn_password(to)
    settings = command_settings(ctx, to, flag="--to")
    if not to and settings.is_embedded:
        raise InvalidInputError(
            "no target database: give --to URL, or name it in the environment (DATABASE_URL, "
            "or DB_HOST, DB_NAME and a password source such as DB_SECRET_ARN); the settings "
            "name only the embedded SQLite database",
            field="--to",
        )
    return settings, open_target(settings, session_factory=hooks_of(ctx).session_factory)


def _pairs(values: Sequence[str], flag: str, example: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"{flag} {value}: expected {example}", field=flag)
        out[key.strip()] = rest
    return out


def _workers(value: str) -> int | None:
    """``--workers``: ``auto`` (None) or a count from 0 to 64."""
    text = value.strip().lower()
    if text == "auto":
        return None
    if text.isdecimal() and int(text) <= MAX_WORKERS:
        return int(text)
    raise InvalidInputError(
        f"--workers {value}: expected auto or a whole number from 0 to {MAX_WORKERS}",
        field="--workers",
    )


ToOption = Annotated[
    str | None,
    typer.Option(
        "--to",
        metavar="URL",
        help="Target PostgreSQL URL (default: DATABASE_URL or the DB_* variables; a password "
        "here is visible to others: prefer the environment).",
    ),
]


def register(db_app: typer.Typer) -> None:
    """Add ``migrate``, ``load-quarantine``, ``verify``, ``rollback`` and ``runs`` to the
    ``rms db`` group."""

    @db_app.command("migrate", short_help="Copy a SQLite file into PostgreSQL, verified.")
    def migrate_cmd(
        ctx: typer.Context,
        source: Annotated[
            Path,
            typer.Option("--from", metavar="FILE", help="The RMS SQLite file (opened read-only)."),
        ],
        to: ToOption = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Do everything, verify, then roll back.")
        ] = False,
        on_error: Annotated[
            OnError, typer.Option("--on-error", help="abort, or quarantine bad rows.")
        ] = OnError.abort,
        quarantine_file: Annotated[
            Path | None,
            typer.Option(
                "--quarantine-file",
                metavar="FILE",
                help="JSONL of set-aside rows (default: next to the report).",
            ),
        ] = None,
        report_path: Annotated[
            Path | None,
            typer.Option(
                "--report",
                metavar="FILE",
                help="JSON report (default: <state dir>/migrate/<run id>/report.json).",
            ),
        ] = None,
        replace: Annotated[
            bool, typer.Option("--replace", help="Replace the rows a non-empty target holds.")
        ] = False,
        yes: Annotated[bool, typer.Option("--yes", help="Do not ask before replacing.")] = False,
        leave_behind: Annotated[
            list[str] | None,
            typer.Option(
                "--leave-behind",
                metavar="TABLE[.COLUMN]",
                help="A source table or column the target has no place for, which may stay "
                "behind (repeatable; recorded in the report and the ledger).",
            ),
        ] = None,
        map_risk_group: Annotated[
            list[str] | None,
            typer.Option(
                "--map-risk-group",
                metavar="OLD=GROUP",
                help="An init-era INTEGER universe.risk_group value becomes this risk group "
                "(name or id) instead of a new group named 'risk group OLD' (repeatable).",
            ),
        ] = None,
        fill: Annotated[
            list[str] | None,
            typer.Option(
                "--fill",
                metavar="TABLE.COLUMN=VALUE",
                help="A value for a required column the source lacks (e.g. trades.quantity "
                "before the application's migration 05); repeatable; recorded.",
            ),
        ] = None,
        stand_in: Annotated[
            list[str] | None,
            typer.Option(
                "--stand-in",
                metavar="TABLE",
                help="For each id the source references but does not hold, make a stand-in "
                "row in TABLE (universe, accounts, divDepositType, risk_group), named so it "
                "can be found and corrected: symbol 'STAND-IN <id>', 'stand-in account "
                "<id>', ... (repeatable; listed in the report, recorded in the ledger).",
            ),
        ] = None,
        keep_backup: Annotated[
            bool,
            typer.Option(
                "--keep-backup",
                help="Keep the backup copy of the source after a dry run or a failed run.",
            ),
        ] = False,
        workers: Annotated[
            str,
            typer.Option(
                "--workers",
                metavar="N|auto",
                help="Processes converting tables of 100,000 rows or more: 0 (this process "
                "only) to 64, or auto: one per idle CPU when at least two are idle, else 0 "
                "(see docs/benchmarks.md).",
            ),
        ] = "auto",
    ) -> None:
        """Copy a SQLite file into PostgreSQL: exact, atomic, verified before COMMIT."""
        from rms.migrate.load import run_migration
        from rms.migrate.plan import MigrateOptions, preflight

        out, err = stdout_console(), stderr_console()
        fills = _pairs(fill or [], "--fill", "TABLE.COLUMN=VALUE")
        risk_map = _pairs(map_risk_group or [], "--map-risk-group", "OLD=GROUP")
        settings, target = _target(ctx, to)
        show = out.is_terminal
        observer = _RichObserver(out, show, hooks_of(ctx).migration_events)
        options = MigrateOptions(
            work_root=None if report_path else settings.state_path("migrate"),
            dry_run=dry_run,
            on_error="quarantine" if on_error is OnError.quarantine else "abort",
            quarantine_file=quarantine_file,
            report_path=report_path,
            replace=replace,
            yes=yes,
            leave_behind=tuple(leave_behind or ()),
            risk_group_map=risk_map,
            fills=fills,
            stand_ins=tuple(stand_in or ()),
            keep_backup=keep_backup,
            workers=_workers(workers),
            confirm=(lambda q: typer.confirm(q, default=False)) if sys.stdin.isatty() else None,
            observer=observer,
        )
        try:
            plan = preflight(source, target, options)
            for warning in plan.warnings:
                _print(err, f"warning: {warning}")
            if show:
                _print(
                    out,
                    f"run {plan.run_id}: {plan.source} -> {target.label}"
                    + (" (dry run)" if dry_run else ""),
                )
            observer.event("preflight-done")
            try:
                with observer:
                    report = run_migration(plan, options)
            except ReportNotWrittenError as exc:
                out.print(_summary(exc.report, f"migrated, run {exc.report.run_id}"))
                sys.stderr.write(json.dumps(exc.report.to_dict(), indent=2, default=str) + "\n")
                raise
        finally:
            target.dispose()
        title = "dry run (rolled back)" if dry_run else f"migrated, run {report.run_id}"
        out.print(_summary(report, title))
        for line in _accounting_lines(report):
            _print(out, line)
        for warning in report.warnings[len(plan.warnings) :]:
            _print(err, f"warning: {warning}")
        if report.rows_quarantined:
            _print(
                out,
                f"{report.rows_quarantined} row(s) quarantined to {report.quarantine_file}; "
                "correct that file, then load it with: rms db load-quarantine "
                f"{report.quarantine_file}",
            )
        verb = "would be loaded (dry run, nothing committed)" if dry_run else "loaded and verified"
        _print(
            out,
            f"{report.rows_loaded} rows {verb}; report {report.report_path}; "
            + (f"backup {report.backup}" if report.backup else "no backup kept (--keep-backup)"),
        )

    @db_app.command(
        "load-quarantine",
        short_help="Load a corrected quarantine file as a run of its own, verified.",
    )
    def load_quarantine_cmd(
        ctx: typer.Context,
        file: Annotated[
            Path,
            typer.Argument(
                metavar="FILE",
                help="The quarantine file a run wrote (quarantine.jsonl), corrected: one "
                '{"table": ..., "row": {...}} per line.',
            ),
        ],
        to: ToOption = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Do everything, verify, then roll back.")
        ] = False,
        report_path: Annotated[
            Path | None,
            typer.Option(
                "--report",
                metavar="FILE",
                help="JSON report (default: <state dir>/migrate/<run id>/report.json).",
            ),
        ] = None,
    ) -> None:
        """Load the rows of a corrected quarantine file on top of what the target holds: all
        of them, verified, recorded in the ledger (rms db runs, rms db rollback), or none."""
        from rms.migrate.reload import ReloadOptions, load_quarantine

        out = stdout_console()
        settings, target = _target(ctx, to)
        observer = _RichObserver(out, False, hooks_of(ctx).migration_events)
        options = ReloadOptions(
            dry_run=dry_run,
            report_path=report_path,
            work_root=None if report_path else settings.state_path("migrate"),
            observer=observer,
        )
        try:
            report = load_quarantine(file, target, options)
        finally:
            target.dispose()
        title = "dry run (rolled back)" if dry_run else f"loaded, run {report.run_id}"
        out.print(_summary(report, title))
        for line in report.notes:
            _print(out, line)
        verb = "would be loaded (dry run, nothing committed)" if dry_run else "loaded and verified"
        _print(
            out,
            f"{report.rows_loaded} rows of {file} {verb}; report {report.report_path}"
            + ("" if dry_run else f"; undo with: rms db rollback {report.run_id}"),
        )

    @db_app.command("verify", short_help="Compare a SQLite file with its PostgreSQL copy.")
    def verify_cmd(
        ctx: typer.Context,
        source: Annotated[
            Path, typer.Option("--from", metavar="FILE", help="The RMS SQLite file.")
        ],
        to: ToOption = None,
        run_id: Annotated[
            str | None,
            typer.Option(
                "--run",
                metavar="RUN_ID",
                help="The run to compare with (default: the one whose rows the target holds).",
            ),
        ] = None,
    ) -> None:
        """Compare a SQLite file (or a loaded quarantine file) with the PostgreSQL database it
        was migrated (loaded) to."""
        from rms.migrate.reload import is_quarantine_file, verify_quarantine
        from rms.migrate.verification import VerifyOptions, verify

        out = stdout_console()
        _settings, target = _target(ctx, to)
        observer = _RichObserver(out, out.is_terminal)
        try:
            if is_quarantine_file(source):
                report = verify_quarantine(source, target, run_id)
            else:
                with observer:
                    report = verify(source, target, VerifyOptions(observer=observer, run_id=run_id))
        finally:
            target.dispose()
        for warning in report.warnings:
            _print(stderr_console(), f"warning: {warning}")
        out.print(_summary(report, f"verify {target.label} against run {report.compared_run}"))
        for line in _accounting_lines(report):
            _print(out, line)
        if report.status != "verified":
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
            raise VerificationError(
                "the target differs from the source: " + "; ".join(problems), report.differences
            )
        _print(out, "source and target agree")

    @db_app.command("rollback", short_help="Remove exactly the rows one run loaded.")
    def rollback_cmd(
        ctx: typer.Context,
        run_id: Annotated[
            str, typer.Argument(metavar="RUN_ID", help="The run id printed by migrate.")
        ],
        to: ToOption = None,
        force: Annotated[
            bool, typer.Option("--force", help="Delete even if rows were changed since.")
        ] = False,
        yes: Annotated[bool, typer.Option("--yes", help="Do not ask before deleting.")] = False,
    ) -> None:
        """Remove exactly the rows one migration run loaded (asks first unless --yes)."""
        from rms.migrate.unload import RollbackPlan, plan_rollback, rollback

        out = stdout_console()
        _settings, target = _target(ctx, to)
        try:
            plan = plan_rollback(target, run_id, force=force)
            _print(
                out,
                f"run {plan.run_id} (from {plan.source_path}, committed {plan.finished_at}): "
                f"would delete {plan.describe()} from {target.label}",
            )
            for table, why in plan.changed.items():
                _print(out, f"changed since the run (--force): {table}: {why}")

            def ask(shown: RollbackPlan) -> bool:
                return typer.confirm(f"Delete {shown.describe()}?", default=False)

            result = rollback(
                target,
                run_id,
                force=force,
                yes=yes,
                confirm=ask if sys.stdin.isatty() else None,
                expected=plan,
            )
        finally:
            target.dispose()
        deleted = ", ".join(f"{t} {n}" for t, n in result.deleted.items() if n) or "nothing"
        _print(out, f"run {run_id} rolled back: deleted {deleted}")

    @db_app.command("runs", short_help="List the migration runs recorded in the target.")
    def runs_cmd(
        ctx: typer.Context,
        to: ToOption = None,
        output: Annotated[
            Format, typer.Option("--format", help="table, or json (every field).")
        ] = Format.table,
    ) -> None:
        """The ledger: run id, time, source and its checksum, per-table counts, status."""
        from rms.migrate.ledger import list_runs
        from rms.migrate.target import no_statement_timeout, raw, target_errors

        out = stdout_console()
        _settings, target = _target(ctx, to)
        try:
            with (
                target.connect() as conn,
                target_errors(target.label, "cannot read the ledger"),
            ):
                cur = raw(conn).cursor()
                no_statement_timeout(cur)
                runs = list_runs(cur)
                conn.rollback()
        finally:
            target.dispose()
        if output is Format.json:
            out.print_json(json.dumps([r.to_dict() for r in runs], default=str))
            return
        if not runs:
            _print(out, f"no migration runs recorded in {target.label}")
            return
        table = Table(title=f"migration runs in {target.label}", title_justify="left")
        for name in ("run id", "finished (UTC)", "kind", "status", "source", "sha256", "rows"):
            table.add_column(name, no_wrap=name != "source", overflow="fold")
        table.add_column("per table", overflow="fold")
        for r in runs:
            status = r.status
            if r.superseded_by:
                status += f" by {r.superseded_by}"
            elif r.rolled_back_at is not None:
                status += f" {r.rolled_back_at.astimezone(UTC):%Y-%m-%d %H:%M}"
            per_table = ", ".join(
                f"{name} {t.get('loaded', 0)}" for name, t in r.tables.items() if t.get("loaded")
            )
            table.add_row(
                r.run_id,
                f"{r.finished_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
                r.kind,
                status,
                r.source_path,
                r.source_sha256[:12],
                str(r.rows_loaded),
                per_table,
            )
        out.print(table)
