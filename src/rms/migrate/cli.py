"""``rms db migrate | verify | rollback``: thin commands over :mod:`rms.migrate`.

Progress bars (per table, with rows/s) only when stdout is a terminal; otherwise only the
warnings (stderr) and the final summary (stdout), never wrapped. Failures are
:class:`rms.errors.RmsError` subclasses, printed once by ``rms.cli.main``. URLs are always
shown without their password. A run's report, backup and quarantine file go to
``<state dir>/migrate/<run id>/`` unless ``--report`` / ``--quarantine-file`` say otherwise.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

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
from rms.migrate.errors import VerificationError
from rms.migrate.load import MigrateOptions, preflight, run_migration
from rms.migrate.observe import MigrationObserver
from rms.migrate.report import MigrationReport
from rms.migrate.rollback import rollback
from rms.migrate.target import hidden
from rms.migrate.verify import VerifyOptions, verify

__all__ = ["register"]


class OnError(StrEnum):
    abort = "abort"
    quarantine = "quarantine"


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


def _summary(report: MigrationReport, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("table", no_wrap=True, min_width=14)  # never truncate a table name
    for name in ("read", "loaded", "quarantined", "in target"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("checksum", overflow="ellipsis", max_width=16)
    table.add_column("verified", justify="right")
    for t in report.tables.values():
        table.add_row(
            t.name,
            str(t.read),
            str(t.loaded),
            str(t.quarantined),
            "" if t.target_rows is None else str(t.target_rows),
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
    )
    return table


def register(db_app: typer.Typer) -> None:
    """Add ``migrate``, ``verify`` and ``rollback`` to the ``rms db`` command group."""

    @db_app.command("migrate", short_help="Copy a SQLite file into PostgreSQL, verified.")
    def migrate_cmd(
        ctx: typer.Context,
        source: Annotated[
            Path,
            typer.Option("--from", metavar="FILE", help="The RMS SQLite file (opened read-only)."),
        ],
        to: Annotated[str, typer.Option("--to", metavar="URL", help="Target PostgreSQL URL.")],
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
        strict: Annotated[
            bool,
            typer.Option("--strict", help="Unknown source tables or columns abort the run."),
        ] = False,
    ) -> None:
        """Copy a SQLite file into PostgreSQL: exact, atomic, verified before COMMIT."""
        out, err = stdout_console(), stderr_console()
        settings = command_settings(ctx)
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
            strict=strict,
            confirm=(lambda q: typer.confirm(q, default=False)) if sys.stdin.isatty() else None,
            observer=observer,
        )
        plan = preflight(source, to, options)
        for warning in plan.warnings:
            err.print(f"warning: {warning}", markup=False, highlight=False)
        if show:
            out.print(
                f"run {plan.run_id}: {plan.source} -> {hidden(to)}"
                + (" (dry run)" if dry_run else ""),
                markup=False,
                highlight=False,
            )
        observer.event("preflight-done")
        with observer:
            report = run_migration(plan, options)
        title = "dry run (rolled back)" if dry_run else f"migrated, run {report.run_id}"
        out.print(_summary(report, title))
        if report.rows_quarantined:
            out.print(
                f"{report.rows_quarantined} row(s) quarantined to {report.quarantine_file}",
                markup=False,
                highlight=False,
            )
        verb = "would be loaded (dry run, nothing committed)" if dry_run else "loaded and verified"
        out.print(
            f"{report.rows_loaded} rows {verb}; report {report.report_path}; "
            f"backup {report.backup}",
            markup=False,
            highlight=False,
        )

    @db_app.command("verify", short_help="Compare a SQLite file with its PostgreSQL copy.")
    def verify_cmd(
        source: Annotated[
            Path, typer.Option("--from", metavar="FILE", help="The RMS SQLite file.")
        ],
        to: Annotated[str, typer.Option("--to", metavar="URL", help="Target PostgreSQL URL.")],
    ) -> None:
        """Compare a SQLite file with the PostgreSQL database it was migrated to."""
        out = stdout_console()
        observer = _RichObserver(out, out.is_terminal)
        with observer:
            report = verify(source, to, VerifyOptions(observer=observer))
        out.print(_summary(report, f"verify {hidden(to)}"))
        if report.status != "verified":
            orphaned = {k: v for k, v in report.orphans.items() if v}
            raise VerificationError(
                "the target differs from the source"
                + (f"; unresolved references: {orphaned}" if orphaned else ""),
                report.differences,
            )
        out.print("source and target agree", markup=False)

    @db_app.command("rollback")
    def rollback_cmd(
        run_id: Annotated[
            str, typer.Argument(metavar="RUN_ID", help="The run id printed by migrate.")
        ],
        to: Annotated[str, typer.Option("--to", metavar="URL", help="Target PostgreSQL URL.")],
        force: Annotated[
            bool, typer.Option("--force", help="Delete even if rows were changed since.")
        ] = False,
    ) -> None:
        """Remove exactly the rows one migration run loaded."""
        out = stdout_console()
        result = rollback(to, run_id, force=force)
        deleted = ", ".join(f"{t} {n}" for t, n in result.deleted.items() if n) or "nothing"
        out.print(f"run {run_id} rolled back: deleted {deleted}", markup=False, highlight=False)
