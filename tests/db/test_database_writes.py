"""SQLite write transactions wait for each other (rms.db.database.Database.run(write=True)).

Real SQLite files and real threads. A write transaction takes SQLite's write lock when it
begins (``BEGIN IMMEDIATE``), so it can read and then write without failing on another
writer's commit; writers of one process queue on the Database's lock, within the budget.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from rms.db.connect import RetryPolicy
from rms.db.database import Database
from rms.db.engine import create_db_engine
from rms.errors import DatabaseUnavailableError
from rms.settings import load_settings


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    return tmp_path / "writes.db"


@pytest.fixture
def file_engine(sqlite_file: Path) -> Iterator[Engine]:
    engine = create_db_engine(load_settings(database_url=f"sqlite:///{sqlite_file}"))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE ledger (n INTEGER NOT NULL)"))
    yield engine
    engine.dispose()


def _other_writer_is_locked_out(path: Path) -> bool:
    """Whether another connection, not waiting at all, is refused SQLite's write lock."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return True
    finally:
        other.close()


@pytest.mark.parametrize("write", [True, False])
def test_a_write_transaction_holds_the_write_lock_from_its_start(
    file_engine: Engine, sqlite_file: Path, write: bool
) -> None:
    db = Database(file_engine)

    def look(session: Session) -> bool:
        session.execute(text("SELECT count(*) FROM ledger"))  # a read, nothing written yet
        return _other_writer_is_locked_out(sqlite_file)

    assert db.run(look, write=write) is write
    assert not _other_writer_is_locked_out(sqlite_file)  # released at COMMIT


def test_writers_that_read_first_all_succeed(file_engine: Engine) -> None:
    """Read the highest number, then write the next: serialised, no gap and no duplicate."""
    db = Database(file_engine)
    writers = 30
    barrier = threading.Barrier(writers)

    def append_next(session: Session) -> int:
        top = session.scalar(text("SELECT coalesce(max(n), 0) FROM ledger"))
        session.execute(text("INSERT INTO ledger (n) VALUES (:n)"), {"n": int(top or 0) + 1})
        return int(top or 0) + 1

    def writer(_: int) -> int:
        barrier.wait()
        return db.run(append_next, write=True)

    with ThreadPoolExecutor(max_workers=writers) as pool:
        written = sorted(pool.map(writer, range(writers)))
    assert written == list(range(1, writers + 1))
    numbers = db.run(lambda s: list(s.scalars(text("SELECT n FROM ledger ORDER BY n"))))
    assert numbers == written


def test_a_writer_waits_within_the_budget_then_gives_up(file_engine: Engine) -> None:
    db = Database(file_engine, policy=RetryPolicy(budget_seconds=0.2))
    inside, release = threading.Event(), threading.Event()

    def hold(session: Session) -> None:
        session.execute(text("INSERT INTO ledger (n) VALUES (1)"))
        inside.set()
        assert release.wait(30)

    with ThreadPoolExecutor(max_workers=1) as pool:
        holder = pool.submit(db.run, hold, write=True)
        assert inside.wait(30)
        try:
            with pytest.raises(DatabaseUnavailableError, match="another write") as info:
                db.run(lambda s: s.execute(text("INSERT INTO ledger (n) VALUES (2)")), write=True)
            assert info.value.retry_after_seconds == 1
            # Readers never wait for writers.
            assert db.run(lambda s: s.scalar(text("SELECT count(*) FROM ledger"))) == 0
        finally:
            release.set()
        holder.result(30)
    assert db.run(lambda s: s.scalar(text("SELECT count(*) FROM ledger")), write=True) == 1
