"""The clean-up guard: removes an export's temporary files if the export process dies.

An export writes its file under a temporary name next to the target and renames it only
when verified. Errors, Ctrl-C and a lost connection are cleaned up by the export itself; a
SIGKILL (or the OOM killer, or a power-cut of the terminal) gives it no chance to. So the
export starts this small process first (this file, run by the same interpreter with ``-I``,
importing nothing of rms), in its own session
so a Ctrl-C meant for the export does not reach it, and sends it the temporary paths on its
stdin, one per line, before creating any of them. When the export ends it writes
``release``; if the pipe closes without that line, the export died, and the guard deletes
those paths (never the target) and exits.

Written by hand because what it needs (react to the death of an arbitrary parent, on any
POSIX system, without a daemon) is a pipe and a dozen lines; no library does just that.
"""

from __future__ import annotations

import os
import signal
import sys

__all__ = ["RELEASE", "main"]

RELEASE = "release"


def main() -> int:
    # The export's terminal may still send SIGINT/SIGHUP to the session it came from.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    paths: list[str] = []
    for line in sys.stdin:
        entry = line.rstrip("\n")
        if entry == RELEASE:
            return 0
        if entry:
            paths.append(entry)
    for path in paths:  # the pipe closed without "release": the export died
        try:
            os.unlink(path)
        except FileNotFoundError:
            continue
        except OSError:  # pragma: no cover - nothing left to report to
            continue
    return 0


if __name__ == "__main__":
    sys.exit(main())
