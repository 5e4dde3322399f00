"""Driver errors are classified and translated in one place, from real failures."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy import exc as sa_exc

from rms.db.errors import Failure, classify, translate_db_error
from rms.devtools.pgcluster import free_port
from rms.errors import (
    DatabaseAuthError,
    DatabaseError,
    DatabaseUnavailableError,
    InvalidInputError,
    ReferenceViolationError,
    UniqueViolationError,
)
from tests.pg import libpq


def _connect_error(dsn: str) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as info:
        psycopg.connect(dsn, connect_timeout=2)
    return info.value


def test_refused_connection_is_retryable() -> None:
    exc = _connect_error(f"host=127.0.0.1 port={free_port()} user=x dbname=x")
    assert classify(exc) is Failure.RETRY_CONNECT
    assert isinstance(translate_db_error(exc), DatabaseUnavailableError)


@contextmanager
def _peer_that_drops_the_tls_handshake(clean_close: bool) -> Iterator[int]:
    """A port whose peer agrees to TLS (answers PostgreSQL's SSLRequest with ``S``), then
    goes away during the handshake, as a server restarting or failing over does."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)  # so the loop sees ``stop``
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(5)
            with conn:
                conn.recv(8)  # the SSLRequest
                conn.sendall(b"S")
                # The whole ClientHello read, then closed: an orderly end of the stream
                # ("unexpected eof"); only part of it read: the close resets the connection
                # ("SSL SYSCALL error: Connection reset by peer").
                conn.recv(65536 if clean_close else 10)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        server.close()
        thread.join(5)


@pytest.mark.parametrize("clean_close", [False, True], ids=["reset", "closed"])
def test_a_connection_dropped_during_the_tls_handshake_is_retryable(clean_close: bool) -> None:
    """Not TLS set up wrongly (which is not retried): the network failing."""
    with _peer_that_drops_the_tls_handshake(clean_close) as port:
        exc = _connect_error(f"host=127.0.0.1 port={port} user=x dbname=x sslmode=require")
    assert "ssl" in str(exc).lower()
    assert classify(exc) is Failure.RETRY_CONNECT
    assert isinstance(translate_db_error(exc), DatabaseUnavailableError)


@pytest.mark.parametrize(
    ("message", "temporary"),
    [
        # libpq's wording, and psycopg's (which resolves names itself before libpq connects)
        ('could not translate host name "db" to address: Name or service not known', False),
        ("failed to resolve host 'db': [Errno -2] Name or service not known", None),
        ("failed to resolve host 'db': [Errno -3] Temporary failure in name resolution", True),
        (
            'could not translate host name "db" to address: Temporary failure in name resolution',
            True,
        ),
    ],
)
def test_a_name_that_does_not_resolve_is_unreachable_and_retried_only_if_temporary(
    message: str, temporary: bool
) -> None:
    exc = psycopg.OperationalError(message)
    assert classify(exc) is (Failure.RETRY_CONNECT if temporary else Failure.FATAL)
    translated = translate_db_error(exc)
    assert isinstance(translated, DatabaseUnavailableError)  # a 503, never a 500
    assert "db" in str(translated)


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.OutOfMemory("out of memory"),
        psycopg.errors.DiskFull('could not extend file "base/16384/16385"'),
        psycopg.errors.ConfigurationLimitExceeded("too many range table entries"),
    ],
    ids=["out-of-memory", "disk-full", "limit"],
)
def test_a_database_out_of_resources_is_unavailable_and_not_retried(
    error: psycopg.Error,
) -> None:
    assert classify(error) is Failure.FATAL  # more load now would not help
    translated = translate_db_error(error)
    assert isinstance(translated, DatabaseUnavailableError)  # a 503, never a 500
    assert translated.retry_after_seconds == 30
    assert str(error) in str(translated)


def test_unknown_role_is_an_auth_failure(pg_url: str) -> None:
    dsn = libpq(pg_url).replace("postgres@", "nobody_here@")
    exc = _connect_error(dsn)
    assert classify(exc) is Failure.AUTH
    assert isinstance(translate_db_error(exc), DatabaseAuthError)


def test_missing_database_is_fatal(pg_url: str) -> None:
    dsn = libpq(pg_url).rsplit("/", 1)[0] + "/no_such_database"
    exc = _connect_error(dsn)
    assert classify(exc) is Failure.FATAL
    assert "does not exist" in str(translate_db_error(exc))


def test_serialization_failure_is_a_transaction_retry(pg_url: str) -> None:
    engine = create_engine(pg_url, isolation_level="SERIALIZABLE")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id int primary key, n int)"))
        conn.execute(text("INSERT INTO t VALUES (1, 0)"))
    with engine.connect() as one, engine.connect() as two:
        one.execute(text("SELECT n FROM t WHERE id = 1"))
        two.execute(text("SELECT n FROM t WHERE id = 1"))
        one.execute(text("UPDATE t SET n = 1 WHERE id = 1"))
        one.commit()
        with pytest.raises(sa_exc.OperationalError) as info:
            two.execute(text("UPDATE t SET n = 2 WHERE id = 1"))
    assert classify(info.value) is Failure.RETRY_TRANSACTION
    engine.dispose()


def test_deadlock_is_a_transaction_retry(pg_url: str) -> None:
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE d (id int primary key)"))
        conn.execute(text("INSERT INTO d VALUES (1), (2)"))
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def lock(first: int, second: int) -> None:
        try:
            with engine.begin() as conn:
                conn.execute(text("SELECT * FROM d WHERE id = :i FOR UPDATE"), {"i": first})
                barrier.wait()
                conn.execute(text("SELECT * FROM d WHERE id = :i FOR UPDATE"), {"i": second})
        except sa_exc.DBAPIError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=lock, args=a) for a in ((1, 2), (2, 1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(errors) == 1
    assert classify(errors[0]) is Failure.RETRY_TRANSACTION
    engine.dispose()


def test_terminated_backend_is_retryable(pg_url: str) -> None:
    engine = create_engine(pg_url)
    with engine.connect() as victim:
        pid = victim.execute(text("SELECT pg_backend_pid()")).scalar()
        with engine.connect() as killer:
            killer.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        with pytest.raises(sa_exc.DBAPIError) as info:
            victim.execute(text("SELECT 1"))
    assert classify(info.value) is Failure.RETRY_CONNECT
    assert isinstance(translate_db_error(info.value), DatabaseUnavailableError)
    engine.dispose()


def test_syntax_errors_are_fatal_and_never_echo_parameters(pg_url: str) -> None:
    engine = create_engine(pg_url)
    with engine.connect() as conn, pytest.raises(sa_exc.DBAPIError) as info:
        conn.execute(text("SELEC :secret"), {"secret": "hunter2"})
    assert classify(info.value) is Failure.FATAL
    translated = translate_db_error(info.value)
    assert isinstance(translated, DatabaseError) and "hunter2" not in str(translated)
    engine.dispose()


@pytest.mark.parametrize(
    ("statement", "expected", "field"),
    [
        (
            'INSERT INTO accounts (id, name, "createdAt", "updatedAt") '
            "VALUES ('a2', 'dup', :now, :now)",
            UniqueViolationError,
            "name",
        ),
        (
            'INSERT INTO risk_group (id, name, "createdAt", "updatedAt") '
            "VALUES ('r1', NULL, :now, :now)",
            InvalidInputError,
            "name",
        ),
        (
            'INSERT INTO trades (id, "universeId", "accountId", buy, sell, buy_date, quantity, '
            "\"createdAt\", \"updatedAt\") VALUES ('t1', 'nope', 'a1', 1, 1, :now, 1, :now, :now)",
            ReferenceViolationError,
            None,
        ),
    ],
    ids=["unique", "not-null", "foreign-key"],
)
def test_constraint_errors_name_the_column(
    engine: Engine, backend: str, statement: str, expected: type, field: str | None
) -> None:
    now = "2024-01-01 00:00:00"
    with engine.connect() as conn:
        outer = conn.begin()
        conn.execute(
            text(
                'INSERT INTO accounts (id, name, "createdAt", "updatedAt") '
                "VALUES ('a1', 'dup', :now, :now)"
            ),
            {"now": now},
        )
        with pytest.raises(sa_exc.IntegrityError) as info:
            conn.execute(text(statement), {"now": now})
        outer.rollback()
    translated = translate_db_error(info.value)
    assert isinstance(translated, expected)
    if field is not None:
        assert translated.field == field
    if backend == "postgresql" and expected is ReferenceViolationError:
        assert translated.field == "universeId"


def test_a_value_outside_the_cusip_source_enum_names_the_column(
    engine: Engine, backend: str
) -> None:
    """SQLite's CHECK and PostgreSQL's enum type refuse it; both errors say where."""
    statement = text(
        'INSERT INTO cusip_cache (id, cusip, symbol, source, "updatedAt") '
        "VALUES ('c1', '037833100', 'AAPL', 'OPENFIGI', :now)"
    )
    with engine.connect() as conn:
        outer = conn.begin()
        with pytest.raises(sa_exc.DBAPIError) as info:
            conn.execute(statement, {"now": "2024-01-01 00:00:00"})
        outer.rollback()
    translated = translate_db_error(info.value)
    assert isinstance(translated, InvalidInputError)
    if backend == "sqlite":
        assert translated.field == "source" and "cusip_cache.source" in str(translated)
    else:
        assert "CusipCacheSource" in str(translated) and "OPENFIGI" in str(translated)
