"""Sign-in and sign-out: the local token URL, the OIDC browser flow, and the cookie.

Routes (left out of the OpenAPI schema; they are for browsers):

- ``GET /auth/token?token=...&next=/path``: the sign-in URL ``rms serve`` prints. A right
  token sets the session cookie and redirects (303) to ``next`` (default ``/``), a URL
  without the token, so it leaves the address bar and the history. ``POST /auth/token``
  takes the same from the sign-in form (``application/x-www-form-urlencoded``).
- ``GET /auth/login?next=/path``: with an OIDC issuer, starts its authorization-code flow
  with PKCE (state, nonce and the verifier go in a signed ten-minute cookie); without one,
  the sign-in page with the token form. Both configured: a page offering both. The page is
  the pages' (:func:`rms.web.pages.login_page`), handed to :func:`auth_router` by
  :func:`rms.app.create_app`.
- ``GET /auth/callback?code=...&state=...``: checks the state against that cookie,
  exchanges the code (with the verifier) at the issuer's token endpoint, checks the ID
  token (and its nonce), and sets the session cookie.
- ``GET|POST /auth/logout``: ends the cookie's session on the server (its ``rms_session``
  row goes, so a copy of the cookie stops working on every instance) and clears the
  cookie; an OIDC session is sent on to the issuer's sign-out (Cognito's ``/logout``) and
  back to ``<public URL>/``, a local one to ``/auth/login``.
- ``DELETE /api/sessions`` (in the OpenAPI schema): "sign out everywhere", ends every
  session (``{"ended": n}``); the pages' button posts ``/auth/logout-everywhere``
  (:mod:`rms.web.pages`). Bearer tokens are not sessions and keep working.

Cookies: the session (:mod:`rms.http.cookies`) is ``HttpOnly``, ``SameSite=Strict``,
``Path=/``, ``Secure`` under HTTPS (the request's scheme as the server or proxy reports it,
or an https ``RMS_PUBLIC_URL``). The flow cookie is ``SameSite=Lax``, because the issuer's
redirect back to the callback is a cross-site navigation that must carry it. For the same reason the
callback answers with a small page that moves on by itself (``<meta http-equiv=refresh>``)
rather than a redirect: a browser does not send a ``Strict`` cookie on a navigation that
a cross-site redirect chain started, and the first page after sign-in would not see it.
"""

from __future__ import annotations

import html
import logging
import secrets
from typing import Annotated, Protocol
from urllib.parse import parse_qs

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from rms.auth import Authenticator
from rms.auth.guard import client_address, oidc_principal
from rms.auth.redirects import safe_target
from rms.auth.sessions import FLOW_COOKIE, FLOW_MAX_AGE_SECONDS, SESSION_COOKIE
from rms.errors import AuthenticationError
from rms.http.cookies import base_url, is_secure, signed_out, start_session
from rms.http.middleware import too_large
from rms.http.problems import ICON_LINK, problem_response

__all__ = ["LoginPage", "auth_router", "sessions_router"]

log = logging.getLogger("rms.auth")

_FORM_LIMIT = 4096


class LoginPage(Protocol):
    """What renders the sign-in page (the pages' :func:`rms.web.pages.login_page`, passed to
    :func:`auth_router` by :func:`rms.app.create_app`): the token form, the identity
    provider's link, or both, for ``target``; ``error`` says why the last try failed."""

    def __call__(self, request: Request, target: str, *, error: str | None = None) -> Response:
        raise NotImplementedError


def _auth(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.auth
    return authenticator


def _page(title: str, body: str, *, refresh_to: str | None = None) -> HTMLResponse:
    refresh = (
        f'<meta http-equiv="refresh" content="0; url={html.escape(refresh_to)}">'
        if refresh_to
        else ""
    )
    return HTMLResponse(
        f'<!DOCTYPE html><html><head><meta charset="utf-8">{ICON_LINK}'
        f"<title>{html.escape(title)}</title>{refresh}</head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _refused(
    request: Request, login_page: LoginPage, reason: str, *, count: bool = True
) -> Response:
    """A failed sign-in: counted against the client, logged with its reason, told nothing.

    A client over the failure limit is told 429 instead (and not counted again). Only a
    presented credential that was wrong counts (``count``); a request without one does not.
    """
    limited = _rate_limited(request)
    if limited is not None:
        log.info("sign-in failed from %s: %s (over the limit)", client_address(request), reason)
        return limited
    if count:
        _auth(request).limiter.failed(client_address(request))
    return _login_failed(request, login_page, reason)


def _login_failed(request: Request, login_page: LoginPage, reason: str) -> Response:
    log.info("sign-in failed from %s: %s", client_address(request), reason)
    if "text/html" in request.headers.get("accept", ""):
        # A person at the sign-in form: the form again, saying it did not work (same 401).
        response = login_page(request, "/", error="That sign-in did not work.")
        response.status_code = 401
        return response
    return problem_response(
        401,
        "Sign-in failed",
        "the sign-in did not succeed; start again from /auth/login",
        request,
        headers={"WWW-Authenticate": 'Bearer realm="rms"'},
    )


def _rate_limited(request: Request) -> Response | None:
    wait = _auth(request).limiter.retry_after(client_address(request))
    if wait is None:
        return None
    return problem_response(
        429,
        "Too many failed sign-ins",
        "too many failed sign-ins from this address; try again later",
        request,
        headers={"Retry-After": str(wait)},
    )


def _token_sign_in(
    request: Request, login_page: LoginPage, token: str, next_path: str | None
) -> Response:
    authenticator = _auth(request)
    if not token:  # no credential at all: refused, never counted against the address
        return _login_failed(request, login_page, "no token on the sign-in URL or form")
    try:
        principal = authenticator.check_local_token(token)
    except AuthenticationError as exc:
        return _refused(request, login_page, exc.message)
    response = RedirectResponse(safe_target(next_path), status_code=303)
    return start_session(response, request, authenticator, principal)


def auth_router(login_page: LoginPage) -> APIRouter:
    """The sign-in routes; ``login_page`` renders the sign-in page (the pages own it)."""
    router = APIRouter(prefix="/auth", include_in_schema=False)

    @router.get("/token")
    def token_url(
        request: Request,
        token: Annotated[str, Query(max_length=512)] = "",
        next_path: Annotated[str | None, Query(alias="next", max_length=2048)] = None,
    ) -> Response:
        return _token_sign_in(request, login_page, token, next_path)

    @router.post("/token")
    async def token_form(request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > _FORM_LIMIT:
                return too_large(request, _FORM_LIMIT)
        try:
            form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=4)
        except ValueError:
            return _login_failed(request, login_page, "the sign-in form has too many fields")
        token = (form.get("token") or [""])[0].strip()
        next_path = (form.get("next") or ["/"])[0]
        return await anyio.to_thread.run_sync(_token_sign_in, request, login_page, token, next_path)

    @router.get("/login")
    async def login(
        request: Request,
        next_path: Annotated[str | None, Query(alias="next", max_length=2048)] = None,
        via: Annotated[str | None, Query(max_length=10)] = None,
    ) -> Response:
        authenticator = _auth(request)
        target = safe_target(next_path)
        if authenticator.oidc is not None and (authenticator.local is None or via == "oidc"):
            return await _start_oidc(request, login_page, authenticator, target)
        return login_page(request, target)

    @router.get("/callback")
    async def callback(
        request: Request,
        code: Annotated[str, Query(max_length=4096)] = "",
        state: Annotated[str, Query(max_length=512)] = "",
        error: Annotated[str | None, Query(max_length=200)] = None,
    ) -> Response:
        authenticator = _auth(request)
        if authenticator.oidc is None:
            return _refused(
                request, login_page, "a callback, but no OIDC issuer is configured", count=False
            )
        if error is not None:
            return _refused(
                request, login_page, f"the issuer answered error={error!r}", count=False
            )
        flow = authenticator.flows.check(request.cookies.get(FLOW_COOKIE, ""))
        if flow is None:
            return _refused(
                request, login_page, "no (or an expired or forged) sign-in cookie", count=False
            )
        if not code:
            return _refused(request, login_page, "a callback without a code", count=False)
        if not secrets.compare_digest(flow["st"].encode(), state.encode()):
            return _refused(request, login_page, "the state does not match this browser's sign-in")
        oidc = authenticator.oidc
        redirect_uri = f"{base_url(request, authenticator)}/auth/callback"
        try:
            tokens = await anyio.to_thread.run_sync(oidc.exchange, code, flow["v"], redirect_uri)
            claims = await anyio.to_thread.run_sync(
                lambda: oidc.verify(tokens["id_token"], nonce=flow["n"])
            )
        except AuthenticationError as exc:
            return _refused(request, login_page, exc.message)
        principal = oidc_principal(claims, oidc.issuer, "cookie")
        target = safe_target(flow["next"])  # decided at /auth/login, and again here
        response = _page(
            "Signed in",
            f'<p><a href="{html.escape(target)}">Continue</a></p>',
            refresh_to=target,
        )
        response.delete_cookie(FLOW_COOKIE, path="/auth/callback")
        return await anyio.to_thread.run_sync(
            start_session, response, request, authenticator, principal
        )

    @router.api_route("/logout", methods=["GET", "POST"])
    async def logout(request: Request) -> Response:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            # Its row goes first: should that fail (the database is away), the error says
            # so, and the browser keeps a cookie that still works rather than a false "done".
            ended = await anyio.to_thread.run_sync(_auth(request).end_session, cookie)
            log.info("signed out (%s)", "session ended" if ended else "no live session")
        return await signed_out(request)

    return router


class SessionsEnded(BaseModel):
    """What "sign out everywhere" did."""

    ended: int


def sessions_router() -> APIRouter:
    router = APIRouter(prefix="/api", tags=["sign-in"])

    @router.delete("/sessions", response_model=SessionsEnded)
    def end_every_session(request: Request) -> SessionsEnded:
        """Sign out everywhere: end every browser session (each cookie then answers 401).

        Bearer credentials (the local token, OIDC tokens) are not sessions and keep
        working; a browser signs in again. ``ended`` counts the sessions there were.
        """
        store = _auth(request).store
        ended = store.end_all() if store is not None else 0
        log.info("signed out everywhere: %d sessions ended", ended)
        return SessionsEnded(ended=ended)

    return router


async def _start_oidc(
    request: Request, login_page: LoginPage, authenticator: Authenticator, target: str
) -> Response:
    assert authenticator.oidc is not None
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    from rms.auth.oidc import pkce_pair  # httpx, PyJWT, cryptography: only for OIDC

    verifier, challenge = pkce_pair()
    redirect_uri = f"{base_url(request, authenticator)}/auth/callback"
    try:
        url = await anyio.to_thread.run_sync(
            authenticator.oidc.authorization_url, redirect_uri, state, nonce, challenge
        )
    except AuthenticationError as exc:
        return _login_failed(request, login_page, exc.message)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        FLOW_COOKIE,
        authenticator.flows.issue(state, nonce, verifier, target),
        max_age=FLOW_MAX_AGE_SECONDS,
        path="/auth/callback",
        httponly=True,
        samesite="lax",
        secure=is_secure(request, authenticator),
    )
    return response
