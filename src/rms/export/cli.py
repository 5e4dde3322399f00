"""``rms db export``: a thin command over :func:`rms.export.export_database`.

The source is the database the service would use (``DATABASE_URL``, or the ``DB_*``
variables with Secrets Manager, SSM or IAM), never a URL typed on the command line, so no
password reaches the shell history. On a terminal a progress bar per table and a line per
phase are shown; the waits of a cold start are logged by :mod:`rms.db` as for every command.
Piped, only warnings (stderr) and the summary (stdout) are printed. The report goes to
``<state dir>/export/<run id>/report.json`` unless ``--report`` names a file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from rms.clikit import command_settings, hooks_of, stderr_console, stdout_console
from rms.export.observe import ExportObserver
from rms.export.report import ExportReport

__all__ = ["export_cmd"]


class _Progress(ExportObserver):
    """Bars per table and phase lines on a terminal; named points go to ``events``."""

    def __init__(self, console: Console, show: bool, events: Callable[[str], None] | None) -> None:
        self.events = events
        self.bars: Progress | None = None
        self.tasks: dict[str, TaskID] = {}
        if show:
            self.bars = Progress(
                TextColumn("{task.description:<20}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            )

    def __enter__(self) -> _Progress:
        if self.bars is not None:
            self.bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bars is not None:
            self.bars.stop()

    def event(self, name: str) -> None:
        if self.events is not None:
            self.events(name)

    def phase(self, text: str) -> None:
        if self.bars is not None:
            self.bars.console.print(text, markup=False, highlight=False)

    def table_started(self, table: str, total: int) -> None:
        if self.bars is not None:
            self.tasks[table] = self.bars.add_task(table, total=max(total, 1))

    def table_advanced(self, table: str, rows: int) -> None:
        if self.bars is not None and table in self.tasks:
            self.bars.advance(self.tasks[table], rows)

    def table_finished(self, table: str) -> None:
        if self.bars is not None and table in self.tasks:
            task = self.tasks[table]
            self.bars.update(task, completed=self.bars.tasks[task].total or 0)


def _summary(report: ExportReport) -> Table:
    table = Table(title=f"exported, run {report.run_id}", title_justify="left")
    table.add_column("table", no_wrap=True, min_width=14)
    for name in ("rows", "PostgreSQL checksum", "SQLite checksum"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("verified", justify="right")
    for t in report.tables.values():
        table.add_row(
            t.name,
            str(t.rows),
            t.pg_checksum or "",
            t.sqlite_checksum or "",
            {True: "yes", False: "NO", None: ""}[t.verified],
        )
    table.add_row("total", str(report.rows), "", "", "")
    return table


def export_cmd(
    ctx: typer.Context,
    to: Annotated[Path, typer.Option("--to", metavar="FILE", help="The SQLite file to create.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace FILE if it exists (atomically).")
    ] = False,
    report_path: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="FILE",
            help="JSON report (default: <state dir>/export/<run id>/report.json).",
        ),
    ] = None,
    prisma_migrations: Annotated[
        Path | None,
        typer.Option(
            "--prisma-migrations",
            metavar="DIR",
            help="The application's prisma/migrations directory: record the real "
            "checksums of its migrations in the file.",
        ),
    ] = None,
) -> None:
    """Copy the configured PostgreSQL database (DATABASE_URL or DB_*) into a new SQLite
    file that our service and the application both open: one snapshot, verified before
    it is put in place."""
    from rms.db import build_database
    from rms.export.run import ExportOptions, export_database

    out, err = stdout_console(), stderr_console()
    settings = command_settings(ctx)
    hooks = hooks_of(ctx)
    progress = _Progress(out, out.is_terminal, hooks.migration_events)
    options = ExportOptions(
        replace=replace,
        report_path=report_path,
        work_root=None if report_path else settings.state_path("export"),
        prisma_migrations=prisma_migrations,
        observer=progress,
    )
    db = build_database(settings, session_factory=hooks.session_factory)
    try:
        with progress:
            report = export_database(db, to, options)
    finally:
        db.dispose()
    for warning in report.warnings:
        err.print(f"warning: {warning}", markup=False, highlight=False)
    out.print(_summary(report))
    out.print(
        f"{report.rows} rows exported from {report.source} to {report.target} and verified "
        "(counts and checksums on both sides, foreign keys, integrity); "
        f"report {report.report_path}",
        markup=False,
        highlight=False,
    )
