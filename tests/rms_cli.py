"""Run ``rms`` in-process through its real entry point, :func:`rms.cli.main`.

Everything the commands print goes to ``sys.stdout``/``sys.stderr`` at the moment of
printing (rich consoles, ``typer.echo`` and the log handler all look the stream up), so
redirecting both captures exactly what a user would see, and the exit status is what the
shell would get.
"""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

from rms.cli import main
from rms.clikit import Hooks


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def run_rms(*args: str, hooks: Hooks | None = None) -> CliResult:
    """``rms ARGS...``: the exit status and everything written to stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args), hooks=hooks)
    return CliResult(code, out.getvalue(), err.getvalue())
