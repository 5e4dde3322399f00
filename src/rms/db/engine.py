"""Engine construction for SQLite (embedded default) and PostgreSQL (psycopg 3).

PostgreSQL connections are opened by a :class:`~rms.db.connect.ColdStartConnector` (via
SQLAlchemy's ``do_connect`` hook), so every new connection, including the ones the pool
makes after an idle release or a dropped connection, rides through cold starts and asks the
credential source for fresh credentials.

Every PostgreSQL connection also carries what it takes to notice a peer that vanished
(:func:`connection_params`): TCP keepalives and ``tcp_user_timeout``, so the kernel gives
up on a dead server in seconds rather than the ~15 minutes of Linux's retransmission
defaults, and ``statement_timeout``, the server's own backstop. On top of that the pool is
watched (:func:`_watch_pool`): a pooled connection is checked before use with a ping that
may take at most ``DB_PING_TIMEOUT_SECONDS`` (a silent one is replaced by a new
connection, SQLAlchemy's documented pessimistic-disconnect pattern), and while a
connection is checked out under a deadline (:mod:`rms.db.deadline`), the watchdog
abandons it when that deadline passes. The pool's wait for a free connection ends with the
deadline too (:class:`DeadlinePool`).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.request import pathname2url

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

from rms.db.connect import ColdStartConnector, CredentialSource, RetryPolicy
from rms.db.credentials import credentials_from_settings
from rms.db.deadline import Deadline, current_deadline
from rms.db.errors import DRIVER_ERRORS, READ_ONLY_SQL_TRANSACTION, sqlstate_of
from rms.db.observe import DbObserver
from rms.db.watchdog import Guard, Watchdog, abandon_connection
from rms.errors import DatabaseMissingError
from rms.settings import Settings, make_private_dir
from rms.settings.state import make_private_file, tighten

__all__ = [
    "SQLITE_WRITE_OPTION",
    "DeadlinePool",
    "connection_params",
    "create_db_engine",
    "is_sqlite",
    "retry_policy",
    "watchdog_of",
]

#: Execution option of a connection whose transaction writes: on SQLite it begins with
#: ``BEGIN IMMEDIATE`` (see rms.db.database.Database.run).
SQLITE_WRITE_OPTION = "rms_sqlite_write"

_FRESH, _GUARD = "rms_fresh", "rms_guard"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def retry_policy(settings: Settings, *, serving: bool = False) -> RetryPolicy:
    """The settings' retry policy; ``serving`` (a long-running service) also waits for a
    server on this machine that refuses connections (it may be restarting)."""
    return RetryPolicy(
        wait_for_local=serving,
        budget_seconds=settings.db_cold_start_budget_seconds,
        attempt_timeout_seconds=settings.db_connect_timeout_seconds,
        initial_backoff_seconds=settings.db_retry_initial_backoff_seconds,
        max_backoff_seconds=settings.db_retry_max_backoff_seconds,
    )


def connection_params(settings: Settings) -> dict[str, Any]:
    """libpq parameters every PostgreSQL connection of the project carries.

    Keepalives find a dead peer on an idle connection (first probe after
    ``keepalives_idle``, then every ``keepalives_interval``); ``tcp_user_timeout`` ends a
    connection whose sent data (a query, a probe) stays unacknowledged that long. On Linux
    the second also bounds the first: a connection whose probes go unanswered is closed
    once ``tcp_user_timeout`` has passed. Neither notices a peer whose kernel still
    acknowledges but whose server never answers (a hung proxy): that is the deadline's job.
    """
    params: dict[str, Any] = {
        "application_name": "rms",
        "options": f"-c statement_timeout={settings.db_statement_timeout_ms}",
        "keepalives": 1 if settings.db_keepalives else 0,
    }
    if settings.db_keepalives:
        params.update(
            keepalives_idle=settings.db_keepalives_idle_seconds,
            keepalives_interval=settings.db_keepalives_interval_seconds,
            keepalives_count=settings.db_keepalives_count,
        )
    if settings.db_tcp_user_timeout_ms:
        params["tcp_user_timeout"] = settings.db_tcp_user_timeout_ms
    return params


class DeadlinePool(QueuePool):
    """A :class:`QueuePool` whose wait for a free connection ends with the deadline.

    SQLAlchemy takes one ``pool_timeout`` for every checkout; under a request's deadline
    the wait must be shorter when less is left. ``QueuePool`` reads ``self._timeout`` at
    each checkout, so a property gives each caller its own bound without copying any of
    the pool's code. ``watchdog`` is the engine's (see :func:`watchdog_of`).
    """

    watchdog: Watchdog | None = None
    # SQLAlchemy names a pool's logger after its class; keep it under "sqlalchemy", not
    # under "rms", whose INFO lines reach the user.
    _sqla_logger_namespace = "sqlalchemy.pool.impl.QueuePool"

    @property
    def _timeout(self) -> float:
        deadline = current_deadline()
        if deadline is None:
            return self._configured_timeout
        return max(0.0, min(self._configured_timeout, deadline.remaining()))

    @_timeout.setter
    def _timeout(self, value: float) -> None:
        self._configured_timeout = value

    def recreate(self) -> QueuePool:
        # The new pool (engine.dispose) must get the configured timeout, not the rest of
        # the deadline of whoever disposed.
        new = super().recreate()
        new._timeout = self._configured_timeout
        if isinstance(new, DeadlinePool):
            new.watchdog = self.watchdog
        return new


def watchdog_of(engine: Engine) -> Watchdog | None:
    """The watchdog that abandons the engine's late connections (None on SQLite)."""
    pool = engine.pool
    return pool.watchdog if isinstance(pool, DeadlinePool) else None


def create_db_engine(
    settings: Settings,
    url: str | None = None,
    *,
    observer: DbObserver | None = None,
    credentials: CredentialSource | None = None,
    policy: RetryPolicy | None = None,
    create: bool = True,
) -> Engine:
    """Build the engine for ``url`` (default: the settings' effective URL).

    ``create=False``: a SQLite file that does not exist is refused at every connect
    (:class:`~rms.errors.DatabaseMissingError`) instead of being made empty; only the
    embedded database and an explicit ``rms db upgrade --create`` make one (see
    :func:`rms.db.build.build_database`).
    """
    target = make_url(url or settings.effective_database_url())
    if target.get_backend_name() == "sqlite":
        return _sqlite_engine(str(target), settings, create=create)
    engine = create_engine(
        target,
        poolclass=DeadlinePool,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_recycle=settings.db_pool_recycle_seconds,
        # Checked before use by _watch_pool instead: SQLAlchemy's own pre-ping has no bound.
        pool_pre_ping=False,
        connect_args=connection_params(settings),
    )
    observer = observer or DbObserver(
        cold_start_threshold_seconds=settings.db_cold_start_threshold_seconds
    )
    connector = ColdStartConnector(
        policy or retry_policy(settings),
        observer,
        # An explicit ``url`` names another database: the settings' credentials are not its.
        credentials if credentials is not None or url else credentials_from_settings(settings),
    )

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> Any:
        return connector.connect(cparams)

    _watch_pool(engine, observer, ping_timeout_seconds=settings.db_ping_timeout_seconds)
    _leave_servers_that_do_not_write(engine)
    return engine


def _leave_servers_that_do_not_write(engine: Engine) -> None:
    """A statement refused because the server does not accept writes (SQLSTATE 25006) means
    the connection is to a reader or a standby: after a failover, the old writer comes back
    as a reader while a stale DNS answer still leads there. The service never writes in a
    read-only transaction of its own, so such a connection is treated as lost: it and every
    connection pooled before it are replaced (each new one resolves the name again), and the
    unit of work is retried within its budget (nothing was written).
    """

    @event.listens_for(engine, "handle_error")
    def _not_the_writer(context: ExceptionContext) -> None:
        if sqlstate_of(context.original_exception) == READ_ONLY_SQL_TRANSACTION:
            context.is_disconnect = True


def _lenient_text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _watch_pool(engine: Engine, observer: DbObserver, *, ping_timeout_seconds: float) -> None:
    """Check pooled connections before use, and abandon the ones a deadline ran out on."""
    watchdog = Watchdog()
    assert isinstance(engine.pool, DeadlinePool)
    engine.pool.watchdog = watchdog
    dialect = engine.dialect

    def abandon(dbapi_conn: Any, reason: str, deadline: Deadline | None, doing: str) -> None:
        if deadline is not None and deadline.expired() and deadline.expired_in is None:
            deadline.expired_in = doing
        observer.abandoned(reason)
        abandon_connection(dbapi_conn)

    def release(record: ConnectionPoolEntry) -> bool:
        guard: Guard | None = record.info.pop(_GUARD, None)
        return guard is not None and watchdog.disarm(guard)

    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        record.info[_FRESH] = True  # just made: no need to check it before its first use

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        deadline = current_deadline()
        if not record.info.pop(_FRESH, False):
            at = time.monotonic() + ping_timeout_seconds
            if deadline is not None:
                at = min(at, deadline.at)
            guard = watchdog.arm(
                at,
                lambda: abandon(dbapi_conn, "ping", deadline, "the check of a pooled connection"),
                "ping",
            )
            try:
                dialect.do_ping(dbapi_conn)
            except DRIVER_ERRORS as exc:
                watchdog.disarm(guard)
                # The pool replaces the connection with a new one and checks out again.
                raise sa_exc.DisconnectionError(
                    f"pooled connection failed its check: {exc}"
                ) from exc
            if watchdog.disarm(guard):
                raise sa_exc.DisconnectionError("pooled connection did not answer its check")
        if deadline is not None:
            record.info[_GUARD] = watchdog.arm(
                deadline.at,
                lambda: abandon(dbapi_conn, "deadline", deadline, "a statement or COMMIT"),
            )

    @event.listens_for(engine, "invalidate")
    def _invalidated(_dbapi_conn: Any, record: ConnectionPoolEntry, _exc: Any) -> None:
        release(record)  # before SQLAlchemy closes the connection: never during an abandon

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        if release(record) and record.dbapi_connection is not None:
            record.invalidate()  # abandoned: its socket is shut; never hand it out again


def _private_database_file(path: Path, settings: Settings) -> None:
    """Make the SQLite file the owner's alone: 0600 when made here, in a 0700 directory.

    SQLite gives its -wal and -shm files the mode of the database file, so a file made
    0600 before SQLite opens it keeps all three private. The embedded database lives in the
    state directory, which is the owner's alone: a looser existing mode there is tightened
    (with a warning). A database elsewhere that exists is left as its owner set it.
    """
    embedded = path.absolute() == settings.embedded_database_path()
    make_private_dir(path.parent, private_existing=embedded)
    if embedded or not path.exists():
        make_private_file(path)
    if embedded:
        for suffix in ("-wal", "-shm", "-journal"):
            tighten(path.with_name(path.name + suffix), 0o600)


def missing_database_message(path: str) -> str:
    return (
        f"no SQLite database at {path}: check DATABASE_URL (or --url) for a typo; "
        f"`rms db upgrade --create --url sqlite:///{path}` makes a new one"
    )


def _sqlite_engine(url: str, settings: Settings, *, create: bool) -> Engine:
    database = make_url(url).database
    on_disk = bool(database) and database != ":memory:" and not make_url(url).query.get("uri")
    if on_disk and create:
        _private_database_file(Path(str(database)), settings)
    engine = create_engine(url, connect_args={"check_same_thread": False})
    busy_ms = settings.sqlite_busy_timeout_ms

    if on_disk and not create:

        @event.listens_for(engine, "do_connect")
        def _existing_only(
            _dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]
        ) -> Any:
            # mode=rw: SQLite opens the file only if it exists, never makes an empty one
            # (an existence check before connecting would leave a window for that).
            path = str(database)
            uri = "file:" + pathname2url(str(Path(path).absolute())) + "?mode=rw"
            try:
                return sqlite3.connect(uri, uri=True, **cparams)
            except sqlite3.OperationalError:
                if Path(path).exists():
                    raise  # there, but unreadable: the driver's own error says why
                raise DatabaseMissingError(
                    missing_database_message(path), field="DATABASE_URL"
                ) from None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin, so
        # SAVEPOINTs and rollbacks behave as on PostgreSQL.
        dbapi_conn.isolation_level = None
        # TEXT that is not UTF-8 (a lone surrogate's bytes, as some writers store it) reads
        # as lone surrogates instead of failing the whole query: nothing is lost, and the
        # API shows them as U+FFFD (rms.http.values.displayable).
        dbapi_conn.text_factory = _lenient_text
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        if database and database != ":memory:":
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(SQLITE_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
