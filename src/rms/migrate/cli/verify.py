"""``rms db verify``: a SQLite file (or a loaded quarantine file) against its copy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rms.clikit import stderr_console, stdout_console
from rms.migrate.cli.common import ToOption, say, target_of
from rms.migrate.cli.output import RichObserver, accounting_lines, summary

__all__ = ["verify_cmd"]


def verify_cmd(
    ctx: typer.Context,
    source: Annotated[Path, typer.Option("--from", metavar="FILE", help="The RMS SQLite file.")],
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
    from rms.migrate.verification import VerifyOptions, mismatch_error, verify

    out = stdout_console()
    _settings, target = target_of(ctx, to)
    observer = RichObserver(out, out.is_terminal)
    try:
        if is_quarantine_file(source):
            report = verify_quarantine(source, target, run_id)
        else:
            with observer:
                report = verify(source, target, VerifyOptions(observer=observer, run_id=run_id))
    finally:
        target.dispose()
    for warning in report.warnings:
        say(stderr_console(), f"warning: {warning}")
    out.print(summary(report, f"verify {target.label} against run {report.compared_run}"))
    for line in accounting_lines(report):
        say(out, line)
    error = mismatch_error(report)
    if error is not None:
        raise error
    say(out, "source and target agree")
