"""Noticing a dead peer: keepalives on every connection, deadlines, the watchdog.

Real PostgreSQL and real SQLite; the clock is only ever a safety net (each wait has a
generous timeout), never the assertion.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy import exc as sa_exc

from rms.db import build_database
from rms.db.connect import ColdStartConnector, RetryPolicy
from rms.db.database import Database
from rms.db.deadline import (
    Deadline,
    command_budget,
    current_deadline,
    deadline_scope,
    within_budget,
)
from rms.db.engine import connection_params, create_db_engine, watchdog_of
from rms.db.errors import Failure, classify, translate_db_error
from rms.db.observe import DbObserver
from rms.db.watchdog import Watchdog, abandon_connection
from rms.devtools.pgcluster import free_port
from rms.errors import DatabaseUnavailableError
from rms.settings import load_settings
from tests.pg import libpq


def _socket_options(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        raw: Any = conn.connection.dbapi_connection
        sock = socket.socket(fileno=os.dup(raw.pgconn.socket))
        try:
            return {
                "keepalive": sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                "idle": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
                "interval": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
                "count": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
                "user_timeout": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT),
            }
        finally:
            sock.close()


def test_every_connection_carries_keepalives_and_tcp_user_timeout(pg_url: str) -> None:
    settings = load_settings(
        database_url=pg_url,
        db_keepalives_idle_seconds=7,
        db_keepalives_interval_seconds=3,
        db_keepalives_count=4,
        db_tcp_user_timeout_ms=9000,
    )
    engine = build_database(settings).engine
    try:
        options = _socket_options(engine)
    finally:
        engine.dispose()
    assert options == {"keepalive": 1, "idle": 7, "interval": 3, "count": 4, "user_timeout": 9000}


def test_defaults_detect_in_seconds_and_keepalives_can_be_turned_off(pg_url: str) -> None:
    defaults = connection_params(load_settings(database_url=pg_url))
    assert defaults["keepalives"] == 1 and defaults["tcp_user_timeout"] <= 15_000
    assert (
        defaults["keepalives_idle"] + defaults["keepalives_interval"] * defaults["keepalives_count"]
        <= 15
    )
    engine = create_db_engine(
        load_settings(database_url=pg_url, db_keepalives=False, db_tcp_user_timeout_ms=0)
    )
    try:
        options = _socket_options(engine)
    finally:
        engine.dispose()
    assert options["keepalive"] == 0 and options["user_timeout"] == 0


def _active_sleeps(pg_url: str) -> int:
    with psycopg.connect(libpq(pg_url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE state = 'active' AND query LIKE 'SELECT pg_sleep%'"
        ).fetchone()
    assert row is not None
    return int(row[0])


def _eventually(condition: Any, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_a_statement_past_the_deadline_is_abandoned_and_cancelled(pg_url: str) -> None:
    db = build_database(load_settings(database_url=pg_url, db_statement_timeout_ms=0))
    try:
        with deadline_scope(Deadline.after(1.0)), pytest.raises(DatabaseUnavailableError) as info:
            db.run(lambda s: s.execute(text("SELECT pg_sleep(60)")))
        assert "budget" in info.value.message and info.value.retry_after_seconds >= 1
        assert "a statement or COMMIT" in info.value.message
        figures = db.observer.pool_figures()
        assert figures is not None and figures.in_use == 0
        assert db.observer.abandoned_connections.labels(reason="deadline")._value.get() == 1
        _eventually(lambda: _active_sleeps(pg_url) == 0, "the server kept running the query")
        assert db.run(lambda s: s.execute(text("SELECT 1")).scalar()) == 1  # a new connection
    finally:
        db.dispose()


def test_the_wait_for_a_pooled_connection_ends_with_the_deadline(pg_url: str) -> None:
    settings = load_settings(
        database_url=pg_url, db_pool_size=1, db_max_overflow=0, db_pool_timeout_seconds=300
    )
    db = build_database(settings)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with db.engine.connect():
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        with deadline_scope(Deadline.after(0.5)), pytest.raises(DatabaseUnavailableError) as info:
            db.run(lambda s: s.execute(text("SELECT 1")))
        assert "a free pooled connection" in info.value.message
    finally:
        release.set()
        holder.join()
        db.dispose()


@contextmanager
def _listening_but_silent() -> Iterator[int]:
    """A port whose kernel accepts connections that are then never answered."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield int(server.getsockname()[1])
    finally:
        server.close()


def test_connect_retries_only_while_the_deadline_leaves_time() -> None:
    observer = DbObserver()
    connector = ColdStartConnector(RetryPolicy(budget_seconds=60), observer)
    params = {"host": "127.0.0.1", "port": free_port(), "dbname": "x", "user": "x"}
    with (
        deadline_scope(Deadline(time.monotonic() - 1, 1.0)),
        pytest.raises(DatabaseUnavailableError) as info,
    ):
        connector.connect(params)
    assert observer.connect_attempts._value.get() == 0  # nothing left: no attempt started
    assert "0 attempt(s)" in info.value.message
    with deadline_scope(Deadline.after(1.0)), pytest.raises(DatabaseUnavailableError) as info:
        connector.connect(params)  # refused at once; a retry would need 2 s
    assert observer.connect_attempts._value.get() == 1
    assert "1 attempt(s)" in info.value.message and "refused" in info.value.message
    with _listening_but_silent() as port:
        params["port"] = port
        with deadline_scope(Deadline.after(3.5)), pytest.raises(DatabaseUnavailableError) as info:
            connector.connect(params)
    assert observer.connect_attempts._value.get() == 2
    assert "timeout expired" in info.value.message


def test_command_budget_reports_the_abandoned_connection_as_the_spent_budget(
    pg_url: str,
) -> None:
    settings = load_settings(database_url=pg_url, db_command_budget_seconds=1)
    engine = create_db_engine(settings)
    try:
        with (
            pytest.raises(DatabaseUnavailableError) as info,
            command_budget(settings),
            engine.connect() as conn,
        ):
            conn.execute(text("SELECT pg_sleep(60)"))
        assert "DB_COMMAND_BUDGET_SECONDS" in info.value.message
        with within_budget(5, what="a test budget"), engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


def test_a_spent_deadline_stops_a_unit_of_work_on_both_backends(db: Database) -> None:
    ran = []
    expired = Deadline(time.monotonic() - 1, 1.0)
    with deadline_scope(expired), pytest.raises(DatabaseUnavailableError):
        db.run(lambda s: ran.append(1))
    assert ran == []
    with deadline_scope(Deadline.after(30)):
        assert db.run(lambda s: s.execute(text("SELECT 1")).scalar()) == 1


def test_an_inner_scope_cannot_extend_the_outer_deadline() -> None:
    outer = Deadline.after(1)
    with deadline_scope(outer), deadline_scope(Deadline.after(100)) as inner:
        assert inner is outer and current_deadline() is outer
        with deadline_scope(Deadline.after(0.5)) as shorter:
            assert shorter is not outer
    assert current_deadline() is None


def test_statement_timeout_is_a_timeout_not_a_bug(pg_url: str) -> None:
    engine = create_db_engine(load_settings(database_url=pg_url, db_statement_timeout_ms=100))
    try:
        with pytest.raises(sa_exc.OperationalError) as info, engine.connect() as conn:
            conn.execute(text("SELECT pg_sleep(5)"))
        assert classify(info.value) is Failure.TIMEOUT
        translated = translate_db_error(info.value)
        assert isinstance(translated, DatabaseUnavailableError) and "too long" in str(translated)
    finally:
        engine.dispose()


def test_watchdog_fires_in_order_skips_disarmed_and_stops_when_idle() -> None:
    watchdog = Watchdog(linger_seconds=0.1)
    fired: list[str] = []
    done = threading.Event()
    now = time.monotonic()
    cancelled = watchdog.arm(now + 0.05, lambda: fired.append("cancelled"))
    watchdog.arm(now + 0.2, lambda: (fired.append("second"), done.set()))
    watchdog.arm(now + 0.1, lambda: fired.append("first"))
    assert watchdog.disarm(cancelled) is False
    assert done.wait(10)
    assert fired == ["first", "second"] and watchdog.fired == 2
    _eventually(lambda: not watchdog.running, "the idle watchdog thread never ended")
    # Many armed and disarmed guards (a busy service) leave a small heap behind.
    guards = [watchdog.arm(time.monotonic() + 60, lambda: None) for _ in range(500)]
    for guard in guards:
        watchdog.disarm(guard)
    assert len(watchdog._heap) <= 64


def test_a_failing_action_does_not_stop_the_watchdog() -> None:
    watchdog = Watchdog(linger_seconds=0.1)
    done = threading.Event()

    def broken() -> None:
        raise RuntimeError("boom")

    watchdog.arm(time.monotonic(), broken)
    watchdog.arm(time.monotonic() + 0.05, done.set)
    assert done.wait(10)


def test_abandon_connection_shuts_the_socket_of_a_live_connection(pg_url: str) -> None:
    conn = psycopg.connect(libpq(pg_url))
    try:
        abandon_connection(conn)
        with pytest.raises(psycopg.OperationalError) as info:
            conn.execute("SELECT 1")
        assert classify(info.value) is Failure.RETRY_CONNECT
    finally:
        conn.close()
    abandon_connection(conn)  # closed already: nothing to do
    abandon_connection(object())  # not a psycopg connection (SQLite): nothing to do


def test_sqlite_engines_have_no_watchdog(tmp_path: Any) -> None:
    engine = create_db_engine(load_settings(database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    assert watchdog_of(engine) is None
    engine.dispose()
