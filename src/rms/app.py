"""The application factory: the one place that builds the service. Nothing is created at
import time.

It mounts the HTTP API (:mod:`rms.api`) and the owner's pages (:mod:`rms.web`) side by side
on one FastAPI app, over the pieces they share (:mod:`rms.http`: the middleware, the problem
documents, the reference cache, the resources' models, the session cookie; and the database
and the authenticator). Neither imports the other (the import contracts in
``pyproject.toml`` keep it so): what one needs of the other is handed over here, explicitly.
The sign-in routes (API) get the pages' sign-in page, the sign-in gate the pages' waking
page and their wait for the database.

The request path, outermost first: security headers, the Host check and the early body
limit (:mod:`rms.http.middleware`, wrapped around FastAPI's whole stack, see
:class:`_RmsApp`), FastAPI's error handling and streaming body limit, the page views'
wake-ahead (:mod:`rms.http.wake`: a page served while the database may be paused starts
waking it), the sign-in gate (:class:`~rms.http.middleware.AuthGate`), then the routes.
Only ``/health/live``, ``/health/ready`` and the sign-in routes answer without a credential.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp

from rms import __version__
from rms.api.routes.auth import auth_router, sessions_router
from rms.api.routes.health import health_router
from rms.api.routes.resources import resource_routers
from rms.api.routes.summary import summary_router
from rms.api.routes.trades import trade_router
from rms.auth import Authenticator
from rms.auth.store import SessionStore
from rms.db.build import build_database
from rms.db.database import Database
from rms.db.engine import is_sqlite
from rms.db.pool import IdleReleaser
from rms.db.wake import WakeAhead, wake_ahead_for
from rms.errors import AuthenticationError
from rms.http.cache import ReferenceCache
from rms.http.deadline import install_request_deadline
from rms.http.metrics import install_http_metrics
from rms.http.middleware import (
    AuthGate,
    BodyLimit,
    HostCheck,
    SecurityHeaders,
    authentication_error_handler,
)
from rms.http.problems import install_problem_handlers
from rms.http.wake import WakeOnPageView
from rms.settings import Settings
from rms.web.app import install_web
from rms.web.pages import login_page
from rms.web.routing import page_wait, waking_page

__all__ = ["create_app"]


class _RmsApp(FastAPI):
    """FastAPI with the headers, Host check and body limit outside its whole stack.

    Outside, so that FastAPI's own 500 answers carry the security headers, and so that the
    body limit's early 413 problem is not rewritten by Starlette's body limiter (which
    replaces any response to an over-long declared body with its plain-text 413).
    """

    public_url: str | None = None
    allowed_hosts: frozenset[str] = frozenset()

    def build_middleware_stack(self) -> ASGIApp:
        inner = BodyLimit(super().build_middleware_stack(), max_bytes=self.max_body_size or 0)
        return SecurityHeaders(
            HostCheck(inner, allowed=self.allowed_hosts), public_url=self.public_url
        )


def create_app(
    settings: Settings,
    *,
    db: Database | None = None,
    bind_host: str | None = None,
    authenticator: Authenticator | None = None,
    wake_ahead: WakeAhead | None = None,
    wake_handoff_seconds: float = 0.0,
) -> FastAPI:
    """Build the app. Pass ``db`` to reuse an existing database (tests, embedding).

    ``bind_host`` is the address the server listens on (``rms serve --host``); only a
    loopback one admits ``RMS_AUTH=off``. ``authenticator`` replaces the one built from the
    settings (tests that inject an OIDC provider).
    """
    auth = authenticator or Authenticator(settings, bind_host=bind_host)
    owns_db = db is None
    database = db if db is not None else build_database(settings, serving=True)
    auth.use_store(SessionStore(database, clock=auth.clock))
    releaser = (
        None
        if is_sqlite(database.engine)
        else IdleReleaser(database.engine, settings.db_idle_release_seconds)
    )

    waker = wake_ahead if wake_ahead is not None else wake_ahead_for(database.engine, settings)

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
        auth.close()
        if owns_db:
            database.dispose()

    app = _RmsApp(
        title="RMS",
        version=__version__,
        description="Closed-end-fund income portfolio: accounts, universe, trades, deposits.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        max_body_size=settings.api_max_body_bytes,
    )
    app.public_url = settings.rms_public_url
    app.allowed_hosts = settings.allowed_hosts()
    app.state.settings = settings
    app.state.db = database
    app.state.releaser = releaser
    app.state.wake_ahead = waker
    app.state.auth = auth
    app.state.cache = ReferenceCache(
        settings.reference_cache_ttl_seconds,
        max_entries=settings.reference_cache_max_entries,
        max_bytes=settings.reference_cache_max_bytes,
    )
    install_problem_handlers(app)
    app.add_exception_handler(AuthenticationError, authentication_error_handler)
    install_http_metrics(app, database.observer.registry)
    app.add_middleware(AuthGate, authenticator=auth, page_wait=page_wait, waking_page=waking_page)
    if waker is not None:  # outside the gate: the anonymous first page counts
        app.add_middleware(WakeOnPageView, waker=waker, handoff_seconds=wake_handoff_seconds)
    install_request_deadline(app, settings)
    for router in _api_routers():
        app.include_router(router)
    install_web(app)  # the owner's pages, /docs and /redoc
    return app


@cache
def _api_routers() -> tuple[APIRouter, ...]:
    """The API's routers, built once per process and included in every app built in it.

    A route depends on nothing of one app (the settings, database and authenticator are
    read from ``request.app.state``), and building the routes is most of building an app
    (FastAPI analyses each endpoint's signature and makes its validators); including a
    built router is cheap. Built per app, they cost a cold start nothing more, but the test
    suite, which builds an app per test, about a quarter of a second each.
    """
    return (
        health_router(),
        auth_router(login_page),  # the pages own the sign-in page
        sessions_router(),
        trade_router(),  # before /api/trades/{key}
        *resource_routers(),
        summary_router(),
    )
