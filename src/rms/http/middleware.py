"""What every request passes through before a route sees it, as plain ASGI middleware.

From the outside in (see :func:`rms.app.create_app`):

1. :class:`SecurityHeaders`: on every response, errors included, unless the response set
   its own: a CSP without inline script (``default-src 'self'``, ``frame-ancestors
   'none'``), ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` (which
   keeps the ``Origin`` header on same-origin POSTs, which the CSRF check needs;
   ``no-referrer`` would turn it into ``null``), ``X-Frame-Options: DENY``,
   ``Cache-Control: no-store``, and HSTS when the request came over HTTPS.
2. :class:`HostCheck`: a Host not in :meth:`Settings.allowed_hosts` is a 400 (a page on
   another site that resolves its own name to 127.0.0.1, DNS rebinding, gets nothing).
3. :class:`BodyLimit`: a declared ``Content-Length`` over ``API_MAX_BODY_BYTES`` is a 413
   before anything is read; a body without one (chunked) is counted while it streams by
   FastAPI's own ``max_body_size``, which stops reading at the limit (also a 413).
4. :class:`AuthGate`: asks :class:`rms.auth.Authenticator` who is calling, refuses
   anonymous requests outside :data:`rms.auth.OPEN_PATHS` (401 problem with
   ``WWW-Authenticate``; a browser asking for a page is sent to ``/auth/login``), answers
   429 to a client with too many failed sign-ins, and refuses (403) an unsafe request
   carried by the session cookie, or made with sign-in off, whose ``Origin`` is not this
   service (CSRF; bearer requests carry no ambient credential and are exempt).

Starlette's ``TrustedHostMiddleware`` answers plain text; these answer RFC 9457 problems
like the rest of the API, so they are written here (each a few lines over Starlette's
``Headers``/``Request``).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rms.auth import Authenticator, Principal
from rms.auth.guard import Refusal, client_address, is_open_path
from rms.db.deadline import Deadline, deadline_scope
from rms.errors import AuthenticationError, DatabaseAuthError, DatabaseUnavailableError, RmsError
from rms.http.problems import problem_response, problem_type_of

__all__ = [
    "DEFAULT_CSP",
    "AuthGate",
    "BodyLimit",
    "HostCheck",
    "SecurityHeaders",
    "WakingPage",
    "csp_allowing_inline",
    "refusal_response",
]

log = logging.getLogger("rms.api")

DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_HSTS = "max-age=31536000"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Paths a browser never gets a sign-in redirect for: tools read them.
_TOOL_PREFIXES = ("/api/", "/api", "/metrics", "/openapi.json", "/health")
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)

#: What a page answers while the database is waking (:func:`rms.web.routing.waking_page`).
WakingPage = Callable[[Request, DatabaseUnavailableError], Response]


def csp_allowing_inline(html: str, *, scripts: Iterable[str], extra: str = "") -> str:
    """A CSP for a third-party page (the API docs) that allows exactly its inline scripts.

    Each inline script is allowed by its SHA-256 hash, not by ``'unsafe-inline'``, so an
    injected script still does not run; ``scripts`` are the hosts its files come from.
    """
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    )
    sources = " ".join(scripts)
    return (
        f"default-src 'self'; script-src 'self' {sources} {hashes}; object-src 'none'; "
        f"base-uri 'none'; form-action 'self'; frame-ancestors 'none'; {extra}"
    ).strip()


def _is_https(scope: Scope, public_url: str | None) -> bool:
    return scope.get("scheme") == "https" or bool(public_url and public_url.startswith("https:"))


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, public_url: str | None) -> None:
        self.app = app
        self.public_url = public_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = _is_https(scope, self.public_url)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Cache-Control", "no-store")
                if https:
                    headers.setdefault("Strict-Transport-Security", _HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def host_name(host_header: str) -> str:
    """``example.com`` of ``example.com:8000``, ``::1`` of ``[::1]:8000``; lower case."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class HostCheck:
    def __init__(self, app: ASGIApp, *, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "")
        if host_name(host) in self.allowed:
            await self.app(scope, receive, send)
            return
        log.info("refused Host %r (allowed: %s)", host[:100], ", ".join(sorted(self.allowed)))
        response = problem_response(
            400,
            "Host not allowed",
            "this service does not answer for that host name (see RMS_ALLOWED_HOSTS)",
            Request(scope),
            field="Host",
        )
        await response(scope, receive, send)


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            declared = Headers(scope=scope).get("content-length", "")
            if declared.isascii() and declared.isdigit() and int(declared) > self.max_bytes:
                await too_large(Request(scope), self.max_bytes)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def too_large(request: Request, max_bytes: int) -> Response:
    return problem_response(
        413,
        "Request body too large",
        f"the request body is larger than {max_bytes} bytes (API_MAX_BODY_BYTES)",
        request,
    )


def wants_page(request: Request) -> bool:
    """A browser navigating to a page (not a tool calling the API): redirect, do not 401."""
    return (
        request.method in ("GET", "HEAD")
        and not request.url.path.startswith(_TOOL_PREFIXES)
        and "text/html" in request.headers.get("accept", "")
    )


def refusal_response(request: Request, refusal: Refusal) -> Response:
    """What a refused request gets; the reason goes to the log only, never the token."""
    log.info(
        "refused %s %s from %s: %s",
        request.method,
        request.url.path,
        client_address(request),
        refusal.reason,
    )
    if refusal.status == 429:
        return problem_response(
            429,
            "Too many failed sign-ins",
            "too many failed sign-ins from this address; try again later",
            request,
            headers={"Retry-After": str(refusal.retry_after or 1)},
        )
    if wants_page(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/auth/login?next={quote(target, safe='')}", status_code=303)
    return problem_response(
        401,
        "Sign-in required",
        "this resource needs a valid credential: a bearer token or a sign-in session",
        request,
        headers={"WWW-Authenticate": 'Bearer realm="rms"'},
    )


async def authentication_error_handler(request: Request, exc: Exception) -> Response:
    """:func:`rms.auth.require_user` refusing: the same answer as the middleware's."""
    assert isinstance(exc, AuthenticationError)
    return refusal_response(request, Refusal(401, exc.message))


def origin_allowed(request: Request, public_url: str | None) -> bool:
    """True when an unsafe cookie-carried request comes from this service's own pages."""
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if referer is None:
            return request.headers.get("sec-fetch-site") == "same-origin"
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    own = {f"{request.url.scheme}://{request.headers.get('host', '')}".lower()}
    if public_url:
        parts = urlsplit(public_url)
        own.add(f"{parts.scheme}://{parts.netloc}".lower())
    return origin.lower() in own


def _is_page_request(request: Request) -> bool:
    return wants_page(request) or "text/html" in request.headers.get("accept", "")


def unavailable_response(
    request: Request, exc: RmsError, waking_page: WakingPage | None = None
) -> Response:
    """A session could not be checked: the database's error, as a problem (503 with
    ``Retry-After`` while it is unavailable), or for a page the pages' waking page."""
    if (
        waking_page is not None
        and isinstance(exc, DatabaseUnavailableError)
        and _is_page_request(request)
    ):
        return waking_page(request, exc)
    headers = None
    if isinstance(exc, DatabaseUnavailableError | DatabaseAuthError):
        headers = {"Retry-After": str(exc.retry_after_seconds)}
    status = problem_type_of(exc).status
    if status == 500:
        log.error("checking a session failed: %s", exc, exc_info=exc)
    return problem_response(status, exc.title, exc.message, request, headers=headers)


class AuthGate:
    """The sign-in gate. ``page_wait`` and ``waking_page`` are the pages' (given by
    :func:`rms.app.create_app`): how long a page's session check waits for the database, and
    what a page answers while it cannot be checked because the database is waking."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticator: Authenticator,
        page_wait: Callable[[], Deadline] | None = None,
        waking_page: WakingPage | None = None,
    ) -> None:
        self.app = app
        self.auth = authenticator
        self.page_wait = page_wait
        self.waking_page = waking_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        # A page's session check waits for the database no longer than the page itself would
        # (``page_wait``), so a resuming database gives the waking page now.
        page_wait = self.page_wait
        wait = page_wait() if page_wait is not None and _is_page_request(request) else None
        try:
            with deadline_scope(wait) if wait is not None else nullcontext():
                found = await self.auth.identify(request)
        except RmsError as exc:  # a session's row could not be read (the database is away)
            await unavailable_response(request, exc, self.waking_page)(scope, receive, send)
            return
        principal = found if isinstance(found, Principal) else None
        scope.setdefault("state", {})["principal"] = principal
        response: Response | None = None
        if isinstance(found, Refusal) and (found.status == 429 or not is_open_path(scope["path"])):
            response = refusal_response(request, found)
        elif principal is None and not is_open_path(scope["path"]):
            response = refusal_response(request, Refusal(401, "no credential"))
        elif (
            principal is not None
            and principal.via != "bearer"  # the cookie, or sign-in off: an ambient credential
            and request.method not in _SAFE_METHODS
            and not origin_allowed(request, self.auth.public_url)
        ):
            log.info(
                "refused %s %s: cookie request from origin %r",
                request.method,
                request.url.path,
                request.headers.get("origin"),
            )
            response = problem_response(
                403,
                "Cross-site request refused",
                "a request carried by the session cookie must come from this service's own "
                "pages (Origin); API clients send a bearer token instead",
                request,
                field="Origin",
            )
        if response is not None:
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
