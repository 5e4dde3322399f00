"""``rms`` whose migration stops at one named point, for the fault tests to kill it there.

Run as ``python tests/migrate/pausing_cli.py POINT db migrate ...``: when the migration
reaches POINT it prints ``PAUSED POINT`` on stderr and sleeps, so the test can send SIGKILL
or SIGINT at a known moment. The pause is injected through :class:`rms.clikit.Hooks`, the
way any caller gives the CLI what it needs; product code reads no test switch.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from rms.cli import main
from rms.clikit import Hooks


def pause_at(point: str) -> Callable[[str], None]:
    def event(name: str) -> None:
        if name == point:
            print(f"PAUSED {name}", file=sys.stderr, flush=True)
            time.sleep(600)

    return event


if __name__ == "__main__":
    point, *argv = sys.argv[1:]
    sys.exit(main(argv, hooks=Hooks(migration_events=pause_at(point))))
