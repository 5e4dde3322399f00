"""HTTP request latency by route template, method and status (Prometheus histogram).

Every label comes from a closed set, so no request can add a series: the route is the
matched route's template (``/api/accounts/{key}``) or ``unmatched``, never the raw path;
the method is one of :data:`METHODS` or ``other`` (anyone may send ``FOO /health/live``);
the status is a number from 100 to 599 (what the server itself answers).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Histogram

__all__ = ["METHODS", "install_http_metrics", "method_label", "route_label"]

#: The HTTP methods with a label of their own; any other is counted as ``other``.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


def route_label(route: object) -> str:
    """The template of the matched route (one per route of the app), or ``unmatched``."""
    template = getattr(route, "path", None)
    return template if isinstance(template, str) else "unmatched"


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
            latency.labels(
                route_label(request.scope.get("route")),
                method_label(request.method),
                str(status if 100 <= status <= 599 else 500),
            ).observe(time.perf_counter() - started)
