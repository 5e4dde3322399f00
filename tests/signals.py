"""Start child processes with Ctrl-C working, whatever the test runner inherited.

A job started in the background by a non-interactive shell (`cmd &`) inherits SIGINT as
*ignored*, and Python then never installs its KeyboardInterrupt handler; tests that send
SIGINT to a child would hang. Children of these tests get the default disposition back.
"""

from __future__ import annotations

import signal


def default_sigint() -> None:
    """``preexec_fn`` for subprocess: SIGINT back to its default disposition."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
