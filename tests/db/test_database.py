"""Whole transactions are retried when that is safe, on a real PostgreSQL."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from rms.db.connect import RetryPolicy
from rms.db.database import Database
from rms.db.engine import create_db_engine
from rms.errors import DatabaseError, DatabaseUnavailableError
from rms.repo import crud
from rms.repo.resources import RESOURCES
from rms.schema.migrations import upgrade
from rms.schema.tables import Account
from rms.settings import Settings

FAST = RetryPolicy(budget_seconds=5, initial_backoff_seconds=0.01, max_backoff_seconds=0.02)


def _kill_own_backend(session: Session, admin_url: str) -> None:
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = create_engine(admin_url)
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    admin.dispose()


def test_disconnect_before_commit_is_retried_without_duplicates(
    pg_settings: Settings, pg_url: str
) -> None:
    engine = create_db_engine(pg_settings)
    upgrade(engine)
    db = Database(engine, policy=FAST)
    attempts = []
    values = {"id": "acct-retry", "name": "Retried"}

    def work(session: Session) -> str:
        attempts.append(1)
        row = crud.create_row(session, RESOURCES["accounts"], values)
        if len(attempts) == 1:
            _kill_own_backend(session, pg_url)
            session.flush()
            session.execute(text("SELECT 1"))  # fails: the connection is gone
        return str(row.id)

    assert db.run(work) == "acct-retry"
    assert len(attempts) == 2
    assert db.run(lambda s: s.scalar(select(func.count()).select_from(Account))) == 1
    assert db.observer.retries.labels(reason="transaction_connect")._value.get() == 1
    engine.dispose()


def test_replayed_create_after_commit_returns_the_same_row(pg_settings: Settings) -> None:
    """A create whose COMMIT landed but whose answer was lost, run again: no second row."""
    engine = create_db_engine(pg_settings)
    upgrade(engine)
    db = Database(engine, policy=FAST)
    values = {"id": "acct-replay", "name": "Once"}
    first = db.run(lambda s: crud.create_row(s, RESOURCES["accounts"], values).createdAt)
    second = db.run(lambda s: crud.create_row(s, RESOURCES["accounts"], values).createdAt)
    assert first == second
    # An update replayed after its COMMIT landed also succeeds instead of a stale 409.
    change = {"name": "Twice"}
    v2 = db.run(lambda s: crud.update_row(s, RESOURCES["accounts"], "acct-replay", 1, change))
    again = db.run(lambda s: crud.update_row(s, RESOURCES["accounts"], "acct-replay", 1, change))
    assert v2.version == again.version == 2
    engine.dispose()


def test_serialization_failures_are_retried(pg_settings: Settings, pg_url: str) -> None:
    engine = create_db_engine(pg_settings).execution_options(isolation_level="SERIALIZABLE")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (id int primary key, n int)"))
        conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
    db = Database(engine, policy=FAST)
    barrier = threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []

    def increment(session: Session) -> None:
        n = session.execute(text("SELECT n FROM counter WHERE id = 1")).scalar_one()
        with contextlib.suppress(threading.BrokenBarrierError):  # the retry runs alone
            barrier.wait()
        session.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n + 1})

    def worker() -> None:
        try:
            db.run(increment)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    barrier.abort()
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar() == 2  # no lost update
    assert db.observer.retries.labels(reason="transaction_transaction")._value.get() >= 1
    engine.dispose()


def _set_read_only(url: str, on: bool) -> None:
    """Make the database refuse writes in new sessions (SQLSTATE 25006 on a write), as an
    Aurora reader or a standby does; sessions already open keep what they had."""
    target = make_url(url)
    name = target.database
    # From another database: a session in this one would be read-only itself.
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = {on}'))
    admin.dispose()


def _create_account(account_id: str) -> Callable[[Session], str]:
    def work(session: Session) -> str:
        return str(
            crud.create_row(
                session, RESOURCES["accounts"], {"id": account_id, "name": account_id}
            ).id
        )

    return work


def test_a_write_on_a_server_that_does_not_take_writes_moves_to_a_new_connection(
    pg_settings: Settings, pg_url: str
) -> None:
    """After a failover the old writer comes back as a reader while a stale DNS answer still
    leads there: the write is refused (25006), the connection is replaced and the write is
    retried; the pooled connection to the reader is never used again."""
    engine = create_db_engine(pg_settings)
    upgrade(engine)
    _set_read_only(pg_url, True)
    engine.dispose()  # upgrade's pooled connection predates it
    moved: list[float] = []

    def name_moves(seconds: float) -> None:  # the first back-off: the failover completes
        if not moved:
            _set_read_only(pg_url, False)
        moved.append(seconds)

    db = Database(engine, policy=dataclasses.replace(FAST, sleep=name_moves))
    assert db.run(lambda s: s.scalar(text("SHOW transaction_read_only"))) == "on"  # pooled
    assert db.run(_create_account("acct-after-failover"), write=True) == "acct-after-failover"
    assert len(moved) == 1  # one retry, on a new connection (the pooled one stayed read-only)
    assert db.observer.retries.labels(reason="transaction_connect")._value.get() == 1
    assert db.run(lambda s: s.scalar(text("SHOW transaction_read_only"))) == "off"
    engine.dispose()


def test_a_server_that_never_takes_writes_is_unavailable_not_an_error(
    pg_settings: Settings, pg_url: str
) -> None:
    engine = create_db_engine(pg_settings)
    upgrade(engine)
    _set_read_only(pg_url, True)
    engine.dispose()  # upgrade's pooled connection predates it
    policy = RetryPolicy(budget_seconds=0.3, initial_backoff_seconds=0.01, max_backoff_seconds=0.02)
    db = Database(engine, policy=policy)
    with pytest.raises(DatabaseUnavailableError) as info:
        db.run(_create_account("acct-never"), write=True)
    assert "does not accept writes" in str(info.value)
    assert "read-only transaction" in str(info.value)  # the server's own words
    engine.dispose()


def test_no_retry_when_asked_and_fatal_errors_are_not_retried(pg_settings: Settings) -> None:
    engine = create_db_engine(pg_settings)
    db = Database(engine, policy=FAST)
    calls = []

    def broken(session: Session) -> None:
        calls.append(1)
        session.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(DatabaseError):
        db.run(broken)
    assert len(calls) == 1
    engine.dispose()


def test_budget_exhausted_is_unavailable(pg_settings: Settings) -> None:
    from rms.devtools.pgcluster import free_port

    dead = pg_settings.model_copy(
        update={
            "database_url": f"postgresql://x@127.0.0.1:{free_port()}/x",
            "db_cold_start_budget_seconds": 0.5,
        }
    )
    engine = create_db_engine(
        dead,
        policy=RetryPolicy(  # a service's: it waits for a local server too
            wait_for_local=True,
            budget_seconds=0.5,
            initial_backoff_seconds=0.05,
            max_backoff_seconds=0.1,
        ),
    )
    db = Database(engine, policy=FAST)
    with pytest.raises(DatabaseUnavailableError) as info:
        db.run(lambda s: s.execute(text("SELECT 1")))
    assert "did not accept a connection" in str(info.value)
    assert info.value.retry_after_seconds >= 1
    engine.dispose()


def test_pool_exhaustion_is_unavailable_not_an_error(pg_settings: Settings) -> None:
    tight = pg_settings.model_copy(
        update={"db_pool_size": 1, "db_max_overflow": 0, "db_pool_timeout_seconds": 0.2}
    )
    engine = create_db_engine(tight)
    db = Database(engine, policy=FAST)
    with engine.connect() as held:  # the only connection the pool may open
        held.execute(text("SELECT 1"))
        with pytest.raises(DatabaseUnavailableError, match="pool exhausted") as info:
            db.run(lambda s: s.execute(text("SELECT 1")))
    assert info.value.retry_after_seconds == 1
    assert db.run(lambda s: s.execute(text("SELECT 7")).scalar()) == 7  # and it recovers
    engine.dispose()
