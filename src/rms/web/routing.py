"""Registration of the pages, and what a page answers when the database is not there.

:class:`PageRoute` is the route class of every page: a page waits at most
:data:`PAGE_WAIT_SECONDS` for the database (a shorter deadline inside the request's own),
and when the database is resuming (Aurora waking from a pause, 15-30 s) or unreachable it
answers the waking page rather than an error: it says so, shows how long it has been
waking, and reloads itself (``<meta http-equiv="refresh">``, so it works without
JavaScript; the script only counts the seconds) until the page asked for can be shown.
The start of the wait travels in the reload URL (``waking_since``), so it needs no server
state (several Lambda instances may answer the reloads). A form posted while the database
is waking is not resent by itself: the page says nothing was saved and links back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute

from rms.auth.redirects import safe_target
from rms.db.deadline import Deadline, deadline_scope
from rms.errors import DatabaseUnavailableError, NotFoundError, RmsError
from rms.http.problems import status_for
from rms.web.render import render

__all__ = ["PAGE_WAIT_SECONDS", "PageRoute", "waking_page"]

#: How long a page waits for the database before it shows the waking page instead.
PAGE_WAIT_SECONDS = 8.0
#: How often the waking page reloads itself.
RETRY_SECONDS = 3


def _back(request: Request) -> str:
    """The page a form was posted from, as a path on this site (never another site)."""
    referer = urlsplit(request.headers.get("referer", ""))
    path = referer.path + (f"?{referer.query}" if referer.query else "")
    return safe_target(path)


def page_wait() -> Deadline:
    """A page's short wait for the database (:data:`PAGE_WAIT_SECONDS` from now): the page
    itself, and the check of its session cookie before it (the sign-in gate takes it from
    ``app.state.page_wait``), so a resuming database shows the waking page at once."""
    return Deadline(
        time.monotonic() + PAGE_WAIT_SECONDS,
        PAGE_WAIT_SECONDS,
        what="a page's wait for the database",
        retry_after_seconds=RETRY_SECONDS,
    )


def waking_page(request: Request, exc: DatabaseUnavailableError) -> HTMLResponse:
    now = int(time.time())
    try:
        since = int(request.query_params.get("waking_since", now))
        attempt = int(request.query_params.get("attempt", "1"))
    except ValueError:
        since, attempt = now, 1
    since = min(since, now)
    query = {k: v for k, v in request.query_params.items() if k not in ("waking_since", "attempt")}
    query |= {"waking_since": str(since), "attempt": str(attempt + 1)}
    retry_url = safe_target(f"{request.url.path}?{urlencode(query)}")
    response = render(
        request,
        "waking.html",
        503,
        title="The database is waking up",
        elapsed=now - since,
        attempt=attempt,
        retry_url=retry_url if request.method == "GET" else None,
        retry_seconds=RETRY_SECONDS,
        back=_back(request) if request.method != "GET" else None,
        reason=exc.message,
    )
    response.headers["Retry-After"] = str(RETRY_SECONDS)
    return response


class PageRoute(APIRoute):
    """A page: a short wait for the database, the waking page, HTML for a missing row."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                with deadline_scope(page_wait()):
                    return await handler(request)
            except DatabaseUnavailableError as exc:
                return waking_page(request, exc)
            except NotFoundError as exc:
                return render(request, "error.html", 404, title="Not found", message=exc.message)
            except RmsError as exc:  # a stale version, a row still in use...
                return render(
                    request, "error.html", status_for(exc), title=exc.title, message=exc.message
                )

        return page
