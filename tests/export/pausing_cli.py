"""``rms`` whose export stops at one named point, for the fault tests to kill it there.

Run as ``python tests/export/pausing_cli.py POINT db export --to FILE``: when the export
reaches POINT it prints ``PAUSED POINT`` on stderr and sleeps, so a test can send SIGKILL or
SIGINT at a known moment. The pause goes in through :class:`rms.clikit.Hooks`, as any caller
gives the CLI what it needs; product code reads no test switch.
"""

from __future__ import annotations

import sys
import time

from rms.cli import main
from rms.clikit import Hooks


def _pause_at(point: str) -> Hooks:
    def event(name: str) -> None:
        if name == point:
            print(f"PAUSED {name}", file=sys.stderr, flush=True)
            time.sleep(600)

    return Hooks(migration_events=event)


if __name__ == "__main__":
    point, *argv = sys.argv[1:]
    sys.exit(main(argv, hooks=_pause_at(point)))
