"""Health and metrics endpoints.

``/health/live`` and ``/health/ready`` never open a database connection, so a load
balancer polling them every few seconds cannot keep an Aurora cluster awake. ``/health``
is the deep check: it runs ``SELECT 1`` and so wakes a paused database on purpose.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from rms.api.deps import database
from rms.api.schemas import problem_responses
from rms.db.database import Database
from rms.db.health import deep_check, readiness

__all__ = ["health_router"]


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    # live and ready do no I/O: async, so they never wait for a worker thread.
    @router.get("/health/live")
    async def live(db: Annotated[Database, Depends(database)]) -> dict[str, Any]:
        return {"status": "alive", "uptime_seconds": round(time.time() - db.observer.started_at, 3)}

    @router.get("/health/ready", responses={503: {"description": "misconfigured database"}})
    async def ready(db: Annotated[Database, Depends(database)]) -> JSONResponse:
        ok, body = readiness(db)
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
