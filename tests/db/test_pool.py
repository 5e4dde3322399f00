"""The pool drains to zero when idle, so a cluster that scales to zero can pause."""

from __future__ import annotations

import time

from sqlalchemy import create_engine, text

from rms.db.database import Database
from rms.db.engine import create_db_engine
from rms.db.pool import IdleReleaser, pool_figures
from rms.settings import Settings


def _server_side_connections(admin_url: str, dbname: str) -> int:
    engine = create_engine(admin_url)
    with engine.connect() as conn:
        count = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = :d AND application_name = 'rms' AND pid <> pg_backend_pid()"
            ),
            {"d": dbname},
        ).scalar_one()
    engine.dispose()
    return int(count)


def test_idle_release_closes_every_connection(pg_settings: Settings, pg_url: str) -> None:
    engine = create_db_engine(pg_settings)
    db = Database(engine)
    releaser = IdleReleaser(engine, idle_seconds=0.3)
    dbname = engine.url.database or ""
    for _ in range(3):
        db.run(lambda s: s.execute(text("SELECT 1")))
    assert _server_side_connections(pg_url, dbname) >= 1
    assert releaser.release_if_idle() is False  # not idle long enough yet
    time.sleep(0.4)
    assert releaser.release_if_idle() is True
    assert _server_side_connections(pg_url, dbname) == 0
    figures = pool_figures(engine)
    assert figures is not None and figures.idle == 0 and figures.in_use == 0
    # The next unit of work simply opens a new connection.
    assert db.run(lambda s: s.execute(text("SELECT 41 + 1")).scalar()) == 42
    engine.dispose()


def test_never_releases_a_connection_in_use(pg_settings: Settings) -> None:
    engine = create_db_engine(pg_settings)
    releaser = IdleReleaser(engine, idle_seconds=0.1)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        time.sleep(0.2)
        assert releaser.release_if_idle() is False
        assert conn.execute(text("SELECT 2")).scalar() == 2
    engine.dispose()


def test_background_thread_releases_on_its_own(pg_settings: Settings, pg_url: str) -> None:
    engine = create_db_engine(pg_settings)
    releaser = IdleReleaser(engine, idle_seconds=0.4).start()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        deadline = time.monotonic() + 5
        while releaser.releases == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert releaser.releases >= 1
        assert _server_side_connections(pg_url, engine.url.database or "") == 0
    finally:
        releaser.stop()
        engine.dispose()
