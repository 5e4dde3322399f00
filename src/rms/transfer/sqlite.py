"""A SQLite file, as both directions read it: opened read-only, hashed, tidied away.

The file is opened through a ``file:...?mode=ro`` URI, never ``immutable=1``: another
process may still be writing, and ``immutable`` would let SQLite skip locking and read a
half-written page. Errors are SQLite's own (:class:`sqlite3.Error`): each direction says what
they mean for it (a migration's unusable source, an export's unwritable target).
"""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import suppress
from pathlib import Path

__all__ = [
    "SIDE_FILES",
    "SQLITE_HEADER",
    "file_sha256",
    "open_readonly",
    "quote_ident",
    "remove_database_file",
    "remove_side_files",
]

#: The first 16 bytes of every SQLite database file.
SQLITE_HEADER = b"SQLite format 3\x00"
#: The files SQLite may keep next to a database: its WAL, the WAL index, a rollback journal.
SIDE_FILES = ("-wal", "-shm", "-journal")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def open_readonly(
    path: Path, busy_timeout: float = 2.0, *, cache_kib: int | None = None
) -> sqlite3.Connection:
    """A read-only connection (mode=ro: SQLite refuses any write through it), in autocommit
    mode (the caller BEGINs a read transaction when it wants one snapshot), with a page
    cache of ``cache_kib`` KiB when given. The file is read once here, so a file SQLite
    cannot use fails now rather than at the first query."""
    uri = path.resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout, isolation_level=None)
    try:
        if cache_kib is not None:
            conn.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


def remove_side_files(path: Path) -> None:
    """Remove the files SQLite keeps beside ``path`` (see :data:`SIDE_FILES`), if any; a
    tidy-up at the end of a run, so a folder that went away is not an error."""
    for suffix in SIDE_FILES:
        with suppress(OSError):
            path.with_name(path.name + suffix).unlink(missing_ok=True)


def remove_database_file(path: Path) -> None:
    """Remove a SQLite file and whatever SQLite kept beside it."""
    path.unlink(missing_ok=True)
    remove_side_files(path)
