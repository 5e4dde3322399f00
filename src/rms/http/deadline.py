"""Every HTTP request carries a deadline: ``DB_REQUEST_BUDGET_SECONDS`` from its arrival.

A pure ASGI middleware (no ``BaseHTTPMiddleware``: it would run the app in another task)
sets the request's :class:`~rms.db.deadline.Deadline`; the endpoint's worker thread
inherits it (anyio copies the context into the thread), and the database layer bounds
every wait by it, abandons a connection that outlives it, and raises
:class:`~rms.errors.DatabaseUnavailableError`, which the problem handlers answer with 503
and ``Retry-After``.

One wait is outside the database layer: a request queued for a worker thread (their number
is capped at the pool's size). If a request has not started answering shortly after its
deadline (``GRACE_SECONDS``: the database layer answers by the deadline itself), the
middleware stops waiting and answers 503 with ``Retry-After`` itself. A response that has
started is never cut.
"""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rms.db.deadline import Deadline, deadline_error, deadline_scope, retry_after_for
from rms.http.problems import problem_response
from rms.settings import Settings

__all__ = ["GRACE_SECONDS", "RequestDeadlineMiddleware", "install_request_deadline"]

#: How long past its deadline a request that has not started answering may still take.
GRACE_SECONDS = 0.5

#: What the budget is called in messages, so the owner knows which setting to look at.
BUDGET_NAME = "the request budget (DB_REQUEST_BUDGET_SECONDS)"


class RequestDeadlineMiddleware:
    """Sets each HTTP request's deadline; answers 503 for a request stuck past it."""

    def __init__(self, app: ASGIApp, *, budget_seconds: float, retry_after_seconds: int) -> None:
        self.app = app
        self.budget_seconds = budget_seconds
        self.retry_after_seconds = retry_after_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        deadline = Deadline.after(
            self.budget_seconds, what=BUDGET_NAME, retry_after_seconds=self.retry_after_seconds
        )
        with deadline_scope(deadline):
            with anyio.move_on_after(self.budget_seconds + GRACE_SECONDS) as cancel:
                await self.app(scope, receive, send_tracked)
        if cancel.cancelled_caught and not started:
            error = deadline_error(deadline, deadline.expired_in or "a worker thread")
            response = problem_response(
                503,
                error.title,
                error.message,
                Request(scope),
                headers={"Retry-After": str(error.retry_after_seconds)},
            )
            await response(scope, receive, send)


def install_request_deadline(app: FastAPI, settings: Settings) -> None:
    """Give every request of ``app`` the deadline ``settings.db_request_budget_seconds``."""
    options: dict[str, Any] = {
        "budget_seconds": settings.db_request_budget_seconds,
        "retry_after_seconds": retry_after_for(settings),
    }
    app.add_middleware(RequestDeadlineMiddleware, **options)
