"""A SQLite file as both directions open it: read-only, SQLite's own errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rms.transfer.sqlite import file_sha256, open_readonly, remove_database_file


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "a.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.close()
    return path


def test_the_connection_reads_and_refuses_writes(tmp_path: Path) -> None:
    path = _file(tmp_path)
    before = file_sha256(path)
    conn = open_readonly(path, cache_kib=1024)
    try:
        assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
        assert conn.execute("PRAGMA cache_size").fetchone() == (-1024,)
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("INSERT INTO t VALUES (2)")
    finally:
        conn.close()
    assert file_sha256(path) == before


def test_a_file_that_is_not_sqlite_fails_at_open(tmp_path: Path) -> None:
    path = tmp_path / "text.db"
    path.write_text("not a database, but long enough to have a header of sorts\n" * 20)
    with pytest.raises(sqlite3.DatabaseError):
        open_readonly(path)


def test_removing_a_file_removes_what_sqlite_kept_beside_it(tmp_path: Path) -> None:
    path = _file(tmp_path)
    journal = path.with_name(path.name + "-journal")
    journal.write_bytes(b"")
    remove_database_file(path)
    assert not path.exists() and not journal.exists()
