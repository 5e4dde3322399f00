"""Health and metrics endpoints.

``/health/live`` and ``/health/ready`` never open a database connection, so a load
balancer polling them every few seconds cannot keep an Aurora cluster awake. ``/health``
is the deep check: it runs ``SELECT 1`` and so wakes a paused database on purpose.
"""

from __future__ import annotations

import contextlib
import time
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from rms.api.deps import database
from rms.db.database import Database
from rms.db.health import check_schema, deep_check, readiness
from rms.errors import RmsError
from rms.http.problems import problem_responses

__all__ = ["health_router"]


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    # live and ready do no I/O: async, so they never wait for a worker thread.
    @router.get("/health/live")
    async def live(db: Annotated[Database, Depends(database)]) -> dict[str, Any]:
        return {"status": "alive", "uptime_seconds": round(time.time() - db.observer.started_at, 3)}

    @router.get(
        "/health/ready",
        responses={503: {"description": "misconfigured database, or its schema is behind"}},
    )
    async def ready(request: Request, db: Annotated[Database, Depends(database)]) -> JSONResponse:
        if db.observer.snapshot().schema_behind:
            # Seen behind: look again (once upgraded, ready turns green without a restart).
            # A healthy service never gets here, so an idle database is not woken.
            # Unreachable now: the last known state stands.
            with contextlib.suppress(RmsError):
                await anyio.to_thread.run_sync(check_schema, db)
        # Anonymous callers (load balancers) get the status only; details need sign-in.
        signed_in = getattr(request.state, "principal", None) is not None
        ok, body = readiness(db, detailed=signed_in)
        return JSONResponse(body, status_code=200 if ok else 503)

    @router.get("/health", responses=problem_responses(503))
    def deep(db: Annotated[Database, Depends(database)]) -> dict[str, Any]:
        return deep_check(db)

    @router.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        db: Database = request.app.state.db
        body = generate_latest(db.observer.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
