"""The application factory. Nothing is created at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from rms import __version__
from rms.api.cache import TTLCache
from rms.api.deadline import install_request_deadline
from rms.api.http_metrics import install_http_metrics
from rms.api.problems import install_problem_handlers
from rms.api.routes.health import health_router
from rms.api.routes.resources import resource_routers
from rms.api.routes.summary import summary_router
from rms.db.build import build_database
from rms.db.database import Database
from rms.db.engine import is_sqlite
from rms.db.pool import IdleReleaser
from rms.settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings, *, db: Database | None = None) -> FastAPI:
    """Build the app. Pass ``db`` to reuse an existing database (tests, embedding)."""
    owns_db = db is None
    database = db if db is not None else build_database(settings)
    releaser = (
        None
        if is_sqlite(database.engine)
        else IdleReleaser(database.engine, settings.db_idle_release_seconds)
    )

    threads = settings.api_worker_threads or (settings.db_pool_size + settings.db_max_overflow)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Sync endpoints run in anyio's thread pool (40 threads by default). More threads
        # than pooled connections only adds threads that wait for a connection (and time
        # out under load) while contending for the GIL; extra requests queue here instead.
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        if releaser is not None:
            releaser.start()
        yield
        if releaser is not None:
            releaser.stop()
        if owns_db:
            database.dispose()

    app = FastAPI(
        title="RMS",
        version=__version__,
        description="Closed-end-fund income portfolio: accounts, universe, trades, deposits.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.releaser = releaser
    app.state.cache = TTLCache(settings.reference_cache_ttl_seconds)
    install_problem_handlers(app)
    install_http_metrics(app, database.observer.registry)
    install_request_deadline(app, settings)
    app.include_router(health_router())
    for router in resource_routers():
        app.include_router(router)
    app.include_router(summary_router())
    return app
