"""What every command group shares: output that never wraps off a terminal, injected hooks."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

from rich.table import Table

from rms.clikit import PIPE_WIDTH, stdout_console
from tests.rms_cli import run_rms


def test_piped_output_is_never_wrapped() -> None:
    long_line = "word " * 60
    table = Table("variable", "value")
    table.add_row("DATABASE_URL", "postgresql://rms@" + "a" * 150 + ".example.com/rms")
    out = io.StringIO()
    with redirect_stdout(out):
        console = stdout_console()
        console.print(long_line.strip())
        console.print(table)
    assert console.width == PIPE_WIDTH
    lines = out.getvalue().splitlines()
    assert lines[0] == long_line.strip()
    assert any("a" * 150 + ".example.com/rms" in line for line in lines)


def test_a_command_piped_keeps_each_row_on_one_line() -> None:
    result = run_rms(
        "cost", "estimate", "--active-hours-per-day", "2", "--acu-when-active", "1",
        "--storage-gb", "20",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (caption,) = [line for line in result.stdout.splitlines() if "Profile:" in line]
    assert len(caption) > 100  # wider than any terminal default, and still one line
    assert caption.startswith("* cheapest. Profile: 2 active h/day")
    assert "730 h/month" in caption
    assert caption.endswith("RDS priced as db.t4g.small (2 GiB for the 2 GiB of the ACU load)")
