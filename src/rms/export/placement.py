"""Where the file is written, how it is put in place, and how nothing is left on failure.

* The file is built under a temporary name in the target's directory
  (``.<name>.rms-export-<pid>-<run>``), so the final rename stays on one file system and is
  atomic: a reader of the target path sees the old file (or none) or the complete, verified
  new one, never a part.
* It is fsynced before the rename and the directory after it, so a power cut cannot
  leave a renamed but empty file.
* Without ``--replace`` the file is put in place with ``link()``, which fails if the target
  appeared meanwhile (nothing is ever overwritten by accident); with ``--replace``,
  ``rename()`` replaces the old file in one step.
* A SQLite journal (``-wal``, ``-journal``) next to the target belongs to the file there (or
  to one that was there): SQLite would replay it onto the new file. Its presence stops the
  export before anything is written.
* The temporary file and SQLite's companions are removed on any error or Ctrl-C by the
  export, and by the :mod:`rms.export.guard` process if the export is killed; temporary
  files of exports whose process no longer exists are swept before a new export starts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import IO

from rms.export import guard
from rms.export.errors import ExportTargetError
from rms.export.guard import RELEASE

__all__ = [
    "SQLITE_COMPANIONS",
    "CleanupGuard",
    "check_target",
    "companions",
    "fsync_path",
    "place",
    "remove_all",
    "sweep_stale",
    "temporary_path",
]

#: Files SQLite may keep next to a database.
SQLITE_COMPANIONS = ("-journal", "-wal", "-shm")
_MARK = ".rms-export-"


def companions(path: Path) -> list[Path]:
    """``path`` and the files SQLite may create next to it."""
    return [path, *(path.with_name(path.name + suffix) for suffix in SQLITE_COMPANIONS)]


def temporary_path(target: Path, run_id: str) -> Path:
    return target.with_name(f".{target.name}{_MARK}{os.getpid()}-{run_id[:8]}")


def check_target(target: Path, *, replace: bool) -> Path:
    """The absolute target path, or an error saying why nothing can be written there."""
    target = Path(target).expanduser().absolute()
    directory = target.parent
    if not directory.is_dir():
        raise ExportTargetError(f"cannot write {target}: the directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ExportTargetError(f"cannot write {target}: the directory {directory} is not writable")
    if target.is_dir():
        raise ExportTargetError(f"{target} is a directory; give the path of the file to write")
    if target.exists() and not replace:
        raise ExportTargetError(
            f"{target} exists; nothing was changed (pass --replace to replace it with the export)"
        )
    for journal in companions(target)[1:3]:
        if journal.exists() and journal.stat().st_size:
            raise ExportTargetError(
                f"{journal} exists: a SQLite journal of the file at {target.name} (in use, or "
                "not closed cleanly), which SQLite would replay onto the new file; stop what "
                "uses it (or open and close it once with sqlite3), then export again"
            )
    return target


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def sweep_stale(target: Path) -> list[Path]:
    """Remove temporary files of earlier exports to ``target`` whose process is gone."""
    removed: list[Path] = []
    prefix = f".{target.name}{_MARK}"
    for entry in target.parent.glob(f"{prefix}*"):
        pid_text = entry.name[len(prefix) :].split("-", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        with suppress(FileNotFoundError):
            entry.unlink()
            removed.append(entry)
    return removed


def remove_all(paths: Iterable[Path]) -> None:
    for path in paths:
        with suppress(FileNotFoundError):
            path.unlink()


def fsync_path(path: Path) -> None:
    """fsync a file or a directory (a directory's entry changes are made durable so)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def place(temporary: Path, target: Path, *, replace: bool) -> None:
    """Put the finished file at ``target`` in one step; never overwrite unless ``replace``."""
    try:
        if replace:
            os.replace(temporary, target)
        else:
            os.link(temporary, target)  # fails with EEXIST if a file appeared meanwhile
            temporary.unlink()
    except FileExistsError:
        raise ExportTargetError(
            f"{target} appeared while the export ran; nothing was changed (pass --replace "
            "to replace it)"
        ) from None
    except OSError as exc:
        raise ExportTargetError(
            f"cannot put the file at {target}: {exc.strerror or exc}; nothing was changed"
        ) from exc
    fsync_path(target.parent)


class CleanupGuard:
    """Starts the guard process and tells it which files to remove should this one die.

    Use as a context manager around everything that creates the temporary files; on a clean
    exit (success, or after the export removed its files itself) the guard is released.
    """

    def __init__(self, paths: Iterable[Path]) -> None:
        self.paths = list(paths)
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> CleanupGuard:
        # The module's file run on its own (-I: no site, no environment), not ``-m``: that
        # would import the whole package first. No shell, no user input.
        self._proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-I", str(Path(guard.__file__))],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            close_fds=True,
        )
        stdin: IO[str] | None = self._proc.stdin
        assert stdin is not None
        stdin.write("".join(f"{p}\n" for p in self.paths))
        stdin.flush()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        """The export is over and its files are handled: the guard exits, deleting nothing."""
        proc, self._proc = self._proc, None
        if proc is None or proc.stdin is None:
            return
        with suppress(BrokenPipeError, OSError):
            proc.stdin.write(f"{RELEASE}\n")
            proc.stdin.close()
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
