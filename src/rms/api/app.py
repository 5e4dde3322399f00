"""The application factory. Nothing is created at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from rms import __version__
from rms.api.problems import install_problem_handlers
from rms.api.routes.resources import resource_routers
from rms.api.routes.summary import summary_router
from rms.db.database import Database
from rms.db.engine import create_db_engine
from rms.settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings, *, db: Database | None = None) -> FastAPI:
    """Build the app. Pass ``db`` to reuse an existing database (tests, embedding)."""
    owns_db = db is None
    database = db if db is not None else Database(create_db_engine(settings))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
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
    install_problem_handlers(app)
    for router in resource_routers():
        app.include_router(router)
    app.include_router(summary_router())
    return app
