"""Engine construction for SQLite (embedded default) and PostgreSQL (psycopg 3).

PostgreSQL connections are opened by a :class:`~rms.db.connect.ColdStartConnector` (via
SQLAlchemy's ``do_connect`` hook), so every new connection, including the ones the pool
makes after an idle release or a dropped connection, rides through cold starts and asks the
credential source for fresh credentials.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from rms.db.connect import ColdStartConnector, CredentialSource, RetryPolicy
from rms.db.credentials import credentials_from_settings
from rms.db.observe import DbObserver
from rms.settings import Settings, make_private_dir

__all__ = ["SQLITE_WRITE_OPTION", "create_db_engine", "is_sqlite", "retry_policy"]

#: Execution option of a connection whose transaction writes: on SQLite it begins with
#: ``BEGIN IMMEDIATE`` (see rms.db.database.Database.run).
SQLITE_WRITE_OPTION = "rms_sqlite_write"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        budget_seconds=settings.db_cold_start_budget_seconds,
        attempt_timeout_seconds=settings.db_connect_timeout_seconds,
        initial_backoff_seconds=settings.db_retry_initial_backoff_seconds,
        max_backoff_seconds=settings.db_retry_max_backoff_seconds,
    )


def create_db_engine(
    settings: Settings,
    url: str | None = None,
    *,
    observer: DbObserver | None = None,
    credentials: CredentialSource | None = None,
    policy: RetryPolicy | None = None,
) -> Engine:
    """Build the engine for ``url`` (default: the settings' effective URL)."""
    target = make_url(url or settings.effective_database_url())
    if target.get_backend_name() == "sqlite":
        return _sqlite_engine(str(target), settings)
    engine = create_engine(
        target,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_recycle=settings.db_pool_recycle_seconds,
        pool_pre_ping=True,
        connect_args={
            "application_name": "rms",
            "options": f"-c statement_timeout={settings.db_statement_timeout_ms}",
        },
    )
    connector = ColdStartConnector(
        policy or retry_policy(settings),
        observer
        or DbObserver(cold_start_threshold_seconds=settings.db_cold_start_threshold_seconds),
        # An explicit ``url`` names another database: the settings' credentials are not its.
        credentials if credentials is not None or url else credentials_from_settings(settings),
    )

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> Any:
        return connector.connect(cparams)

    return engine


def _lenient_text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _sqlite_engine(url: str, settings: Settings) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        make_private_dir(Path(database).parent)  # the state directory, for the embedded one
    engine = create_engine(url, connect_args={"check_same_thread": False})
    busy_ms = settings.sqlite_busy_timeout_ms

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin, so
        # SAVEPOINTs and rollbacks behave as on PostgreSQL.
        dbapi_conn.isolation_level = None
        # TEXT that is not UTF-8 (a lone surrogate's bytes, as some writers store it) reads
        # as lone surrogates instead of failing the whole query: nothing is lost, and the
        # API shows them as U+FFFD (rms.api.schemas.displayable).
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
