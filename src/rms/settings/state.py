"""The state directory: the one place the tool writes files of its own.

The embedded SQLite database, migration reports, backups and quarantine files (and later
the sign-in token and exports) all live under ``RMS_STATE_DIR``, by default the per-user
state directory of the platform (``~/.local/state/rms`` on Linux, via ``platformdirs``), so
what a command writes never depends on the directory it was started in. Everything in it
is the owner's alone: directories 0700, files 0600 (reports, backups, the database and the
sign-in token hold the owner's portfolio and credentials). An existing state directory or
file with a looser mode (a directory made by hand under a 022 umask) is tightened, and a
warning says so once per path and process: not silently kept, not silently changed.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from pathlib import Path

__all__ = [
    "EMBEDDED_DATABASE",
    "default_state_dir",
    "make_private_dir",
    "make_private_file",
    "tighten",
]

log = logging.getLogger("rms.settings")

_warned: set[Path] = set()
_warned_lock = threading.Lock()

#: The embedded SQLite database's file name inside the state directory.
EMBEDDED_DATABASE = "rms.db"


def default_state_dir() -> Path:
    """The per-user state directory of the platform (not created here)."""
    from platformdirs import user_state_path

    return user_state_path("rms", appauthor=False)


def tighten(path: Path, mode: int) -> None:
    """Make an existing ``path`` the owner's alone (``mode``), warning once if it was not."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if current & 0o077 == 0:
        return
    os.chmod(path, mode)
    with _warned_lock:
        first = path not in _warned
        _warned.add(path)
    if first:
        log.warning(
            "%s was readable by other users (mode %04o); made it the owner's alone (%04o)",
            path,
            current,
            mode,
        )


def make_private_dir(path: Path, *, private_existing: bool = False) -> Path:
    """Create ``path`` (and its missing parents) readable by the owner only; return it.

    Directories created here get mode 0700. An existing ``path`` keeps its mode unless
    ``private_existing`` (the state directory and what is in it): then a looser mode is
    tightened to 0700, with a warning (:func:`tighten`). A work directory named on a
    command line is left as it is.
    """
    path = Path(path).expanduser()
    if private_existing:
        tighten(path, 0o700)
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


def make_private_file(path: Path) -> Path:
    """Create an empty ``path`` with mode 0600 if missing (never a looser one, whatever
    the umask), or tighten an existing one (:func:`tighten`); return it."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        tighten(path, 0o600)
    return path
