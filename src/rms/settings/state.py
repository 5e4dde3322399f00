"""The state directory: the one place the tool writes files of its own.

The embedded SQLite database, migration reports, backups and quarantine files (and later
the sign-in token and exports) all live under ``RMS_STATE_DIR``, by default the per-user
state directory of the platform (``~/.local/state/rms`` on Linux, via ``platformdirs``), so
what a command writes never depends on the directory it was started in. Directories made
here are private (0700): reports and backups hold the owner's portfolio.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["EMBEDDED_DATABASE", "default_state_dir", "make_private_dir"]

#: The embedded SQLite database's file name inside the state directory.
EMBEDDED_DATABASE = "rms.db"


def default_state_dir() -> Path:
    """The per-user state directory of the platform (not created here)."""
    from platformdirs import user_state_path

    return user_state_path("rms", appauthor=False)


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and its missing parents) readable by the owner only; return it.

    Only directories created here get mode 0700; an existing directory keeps its mode (a
    state directory someone pointed at ``/srv/rms`` is theirs to manage).
    """
    path = Path(path).expanduser()
    missing: list[Path] = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:  # made by a concurrent process meanwhile
            continue
        os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask
    return path
