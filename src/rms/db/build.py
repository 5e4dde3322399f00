""":func:`build_database`: how every part of the package gets its database.

The service, the CLI commands and the migration all build their database here, so each
gets the same engine, cold-start connector, credentials, retry policy and observer (whose
INFO lines say what a connection is waiting for) from the same settings.
"""

from __future__ import annotations

from rms.aws import SessionFactory
from rms.db.credentials import credentials_from_settings
from rms.db.database import Database
from rms.db.engine import create_db_engine, retry_policy
from rms.db.observe import DbObserver
from rms.settings import Settings

__all__ = ["build_database"]


def build_database(
    settings: Settings,
    *,
    observer: DbObserver | None = None,
    session_factory: SessionFactory | None = None,
    create: bool | None = None,
    serving: bool = False,
) -> Database:
    """The database the settings describe: engine, observer and retry policy.

    ``session_factory`` makes the boto3 sessions of AWS credential sources (tests pass one
    bound to moto). Nothing connects until the first unit of work. ``create``: may a
    SQLite file that does not exist be made? By default only the embedded one may; a
    configured path that does not exist is a typo, refused at the first connect.
    ``serving``: for a long-running service, which waits (within the budget) for a server
    on this machine that refuses connections, as one does while it restarts; a command
    fails at once there (see :mod:`rms.db.connect`), and its observer's Prometheus
    metrics are made at once (see :mod:`rms.db.observe`).
    """
    observer = observer or DbObserver(
        cold_start_threshold_seconds=settings.db_cold_start_threshold_seconds,
        emf=settings.metrics_emf_enabled,
        namespace=settings.metrics_namespace,
        environment=settings.environment,
    )
    if serving:  # a service exposes its metrics: made now, a command's only if asked for
        observer.metrics()
    policy = retry_policy(settings, serving=serving)
    credentials = credentials_from_settings(settings, session_factory=session_factory)
    engine = create_db_engine(
        settings,
        observer=observer,
        policy=policy,
        credentials=credentials,
        create=settings.is_embedded if create is None else create,
    )
    return Database(engine, observer=observer, policy=policy)
