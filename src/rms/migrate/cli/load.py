"""``rms db migrate`` and ``rms db load-quarantine``: rows into the target, verified."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from rms.clikit import hooks_of, stderr_console, stdout_console
from rms.migrate.cli.common import OnError, ToOption, pairs, parse_workers, say, target_of
from rms.migrate.cli.output import RichObserver, accounting_lines, summary
from rms.migrate.errors import ReportNotWrittenError

__all__ = ["load_quarantine_cmd", "migrate_cmd"]


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
    fills = pairs(fill or [], "--fill", "TABLE.COLUMN=VALUE")
    risk_map = pairs(map_risk_group or [], "--map-risk-group", "OLD=GROUP")
    settings, target = target_of(ctx, to)
    show = out.is_terminal
    observer = RichObserver(out, show, hooks_of(ctx).migration_events)
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
        workers=parse_workers(workers),
        confirm=(lambda q: typer.confirm(q, default=False)) if sys.stdin.isatty() else None,
        observer=observer,
    )
    try:
        plan = preflight(source, target, options)
        for warning in plan.warnings:
            say(err, f"warning: {warning}")
        if show:
            say(
                out,
                f"run {plan.run_id}: {plan.source} -> {target.label}"
                + (" (dry run)" if dry_run else ""),
            )
        observer.event("preflight-done")
        try:
            with observer:
                report = run_migration(plan, options)
        except ReportNotWrittenError as exc:
            out.print(summary(exc.report, f"migrated, run {exc.report.run_id}"))
            sys.stderr.write(json.dumps(exc.report.to_dict(), indent=2, default=str) + "\n")
            raise
    finally:
        target.dispose()
    title = "dry run (rolled back)" if dry_run else f"migrated, run {report.run_id}"
    out.print(summary(report, title))
    for line in accounting_lines(report):
        say(out, line)
    for warning in report.warnings[len(plan.warnings) :]:
        say(err, f"warning: {warning}")
    if report.rows_quarantined:
        say(
            out,
            f"{report.rows_quarantined} row(s) quarantined to {report.quarantine_file}; "
            "correct that file, then load it with: rms db load-quarantine "
            f"{report.quarantine_file}",
        )
    verb = "would be loaded (dry run, nothing committed)" if dry_run else "loaded and verified"
    say(
        out,
        f"{report.rows_loaded} rows {verb}; report {report.report_path}; "
        + (f"backup {report.backup}" if report.backup else "no backup kept (--keep-backup)"),
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
    settings, target = target_of(ctx, to)
    observer = RichObserver(out, False, hooks_of(ctx).migration_events)
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
    out.print(summary(report, title))
    for line in report.notes:
        say(out, line)
    verb = "would be loaded (dry run, nothing committed)" if dry_run else "loaded and verified"
    say(
        out,
        f"{report.rows_loaded} rows of {file} {verb}; report {report.report_path}"
        + ("" if dry_run else f"; undo with: rms db rollback {report.run_id}"),
    )
