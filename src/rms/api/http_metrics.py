"""HTTP request latency by route template, method and status (Prometheus histogram)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Histogram

__all__ = ["install_http_metrics"]


def install_http_metrics(app: FastAPI, registry: CollectorRegistry) -> None:
    latency = Histogram(
        "rms_http_request_seconds",
        "HTTP request latency.",
        ["route", "method", "status"],
        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 45),
        registry=registry,
    )

    @app.middleware("http")
    async def _measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            template = getattr(route, "path", "unmatched")
            latency.labels(template, request.method, str(status)).observe(
                time.perf_counter() - started
            )
