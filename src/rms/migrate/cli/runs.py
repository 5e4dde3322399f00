"""``rms db runs`` and ``rms db rollback``: the runs the ledger records, listed and undone."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from rms.clikit import stdout_console
from rms.migrate.cli.common import Format, ToOption, say, target_of
from rms.migrate.cli.output import runs_table

if TYPE_CHECKING:
    from rms.migrate.unload import RollbackPlan

__all__ = ["rollback_cmd", "runs_cmd"]


def rollback_cmd(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(metavar="RUN_ID", help="The run id printed by migrate.")],
    to: ToOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Delete even if rows were changed since.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before deleting.")] = False,
) -> None:
    """Remove exactly the rows one migration run loaded (asks first unless --yes)."""
    from rms.migrate.unload import plan_rollback, rollback

    out = stdout_console()
    _settings, target = target_of(ctx, to)
    try:
        plan = plan_rollback(target, run_id, force=force)
        say(
            out,
            f"run {plan.run_id} (from {plan.source_path}, committed {plan.finished_at}): "
            f"would delete {plan.describe()} from {target.label}",
        )
        for table, why in plan.changed.items():
            say(out, f"changed since the run (--force): {table}: {why}")

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
    say(out, f"run {run_id} rolled back: deleted {deleted}")


def runs_cmd(
    ctx: typer.Context,
    to: ToOption = None,
    output: Annotated[
        Format, typer.Option("--format", help="table, or json (every field).")
    ] = Format.table,
) -> None:
    """The ledger: run id, time, source and its checksum, per-table counts, status."""
    from rms.migrate.unload import recorded_runs

    out = stdout_console()
    _settings, target = target_of(ctx, to)
    try:
        runs = recorded_runs(target)
    finally:
        target.dispose()
    if output is Format.json:
        out.print_json(json.dumps([r.to_dict() for r in runs], default=str))
        return
    if not runs:
        say(out, f"no migration runs recorded in {target.label}")
        return
    out.print(runs_table(runs, target.label))
