"""The session cookie of a browser: set when it signs in, cleared when it signs out.

The sign-in routes (:mod:`rms.api.routes.auth`) set it; they and the pages' "sign out
everywhere" button (:mod:`rms.web.pages`) clear it through :func:`signed_out`.

Cookies: the session is ``HttpOnly``, ``SameSite=Strict``, ``Path=/``, ``Secure`` under
HTTPS (the request's scheme as the server or proxy reports it, or an https
``RMS_PUBLIC_URL``).
"""

from __future__ import annotations

import anyio.to_thread
from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from rms.auth import Authenticator, Principal
from rms.auth.sessions import SESSION_COOKIE

__all__ = ["base_url", "is_secure", "signed_out", "start_session"]


def _auth(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.auth
    return authenticator


def base_url(request: Request, authenticator: Authenticator) -> str:
    """The service's public base URL: RMS_PUBLIC_URL, else as this request reached it."""
    if authenticator.public_url:
        return authenticator.public_url
    return f"{request.url.scheme}://{request.headers.get('host', 'localhost')}"


def is_secure(request: Request, authenticator: Authenticator) -> bool:
    """Whether the browser reached the service over HTTPS (so its cookies are ``Secure``)."""
    return request.url.scheme == "https" or bool(
        authenticator.public_url and authenticator.public_url.startswith("https:")
    )


def start_session(
    response: Response, request: Request, authenticator: Authenticator, principal: Principal
) -> Response:
    """Set the cookie of a new session (its row is written here: call from a thread)."""
    response.set_cookie(
        SESSION_COOKIE,
        authenticator.start_session(principal),
        max_age=authenticator.sessions.max_age_seconds,
        path="/",
        httponly=True,
        samesite="strict",
        secure=is_secure(request, authenticator),
    )
    return response


async def signed_out(request: Request) -> Response:
    """Where a signed-out browser goes, without its cookie: an OIDC session on to the
    issuer's sign-out (and back to ``<public URL>/``), a local one to ``/auth/login``."""
    authenticator = _auth(request)
    principal = getattr(request.state, "principal", None)
    target = "/auth/login"
    if isinstance(principal, Principal) and principal.method == "oidc" and authenticator.oidc:
        to_issuer = await anyio.to_thread.run_sync(
            authenticator.oidc.logout_url, f"{base_url(request, authenticator)}/"
        )
        target = to_issuer or "/"
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=is_secure(request, authenticator),
    )
    return response
