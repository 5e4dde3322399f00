"""What the ``rms db`` migration commands show: a progress bar per table, the per-table
summary, the accounting lines under it, and the ledger's runs as a table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from rms.migrate.observe import MigrationObserver
from rms.migrate.report import MigrationReport

if TYPE_CHECKING:  # rich.progress is imported only when the bars are shown (a terminal)
    from rich.progress import Progress

    from rms.migrate.ledger import RunRecord

__all__ = ["STAND_INS_SHOWN", "RichObserver", "accounting_lines", "runs_table", "summary"]

#: How many stand-ins the summary lists, one a line (the report has them all).
STAND_INS_SHOWN = 20


def _progress(console: Console) -> Progress:
    """The bars: a line per table with its rows, rows/s and elapsed time."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
    )

    class RowsPerSecond(ProgressColumn):
        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f} rows/s" if speed else "", style="progress.data.speed")

    return Progress(
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        RowsPerSecond(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


class RichObserver(MigrationObserver):
    """A progress bar per table (terminal only); named points go to ``events`` if given."""

    def __init__(
        self, console: Console, show: bool, events: Callable[[str], None] | None = None
    ) -> None:
        self.events = events
        self.progress: Progress | None = None
        self.tasks: dict[str, int] = {}
        if show:
            self.progress = _progress(console)

    def __enter__(self) -> RichObserver:
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


def summary(report: MigrationReport, title: str) -> Table:
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


def accounting_lines(report: MigrationReport) -> list[str]:
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


def runs_table(runs: Sequence[RunRecord], label: str) -> Table:
    """The ledger's runs: id, time, kind, status, source and its checksum, rows per table."""
    table = Table(title=f"migration runs in {label}", title_justify="left")
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
    return table
