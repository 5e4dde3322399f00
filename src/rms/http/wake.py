"""A page view wakes the database ahead of the data (see :mod:`rms.db.wake`).

:class:`WakeOnPageView` sits just outside the sign-in gate, so the anonymous first steps
count too: the redirect to the sign-in page, the sign-in page itself, the waking page and
any other page. What counts as a page view is a ``GET`` or ``HEAD`` outside the API, the
health probes, the metrics and the static files (:func:`is_page_view`): ``/health/live`` and
``/health/ready`` must never wake the database, or a load balancer would keep it awake.

``handoff_seconds`` is for Lambda, where the environment is frozen as soon as the response
is returned and a background thread stops with it: after serving the page, the request
waits at most that long for the wake it started (on a warm database it ends at once), so the
connection attempt has left before the freeze. Aurora resumes on the attempt; the frozen
thread carries on with the next invocation (docs/lambda.md).
"""

from __future__ import annotations

import time

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from rms.db.wake import WakeAhead

__all__ = ["NOT_PAGES", "WakeOnPageView", "is_page_view"]

#: Path prefixes that are never page views: the API, probes, metrics and static files.
NOT_PAGES = ("/api/", "/health", "/metrics", "/static/", "/openapi.json", "/favicon.ico")

_POLL_SECONDS = 0.01


def is_page_view(scope: Scope) -> bool:
    """True for a request that shows a page (and so may wake the database)."""
    if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
        return False
    path: str = scope["path"]
    return not any(path == p.rstrip("/") or path.startswith(p) for p in NOT_PAGES)


class WakeOnPageView:
    def __init__(self, app: ASGIApp, *, waker: WakeAhead, handoff_seconds: float = 0.0) -> None:
        self.app = app
        self.waker = waker
        self.handoff_seconds = handoff_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = is_page_view(scope) and self.waker.page_view()
        await self.app(scope, receive, send)
        if started and self.handoff_seconds > 0:
            until = time.monotonic() + self.handoff_seconds
            while self.waker.running and time.monotonic() < until:
                await anyio.sleep(_POLL_SECONDS)
