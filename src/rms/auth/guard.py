"""One check for every request: who is it, and what a refused request is told.

:class:`Authenticator` holds what the configured sign-in needs (the local token, the OIDC
issuer, the session codec, the failure limiter) and answers :meth:`Authenticator.identify`
for a request. :mod:`rms.http.middleware` calls it for every request, so a new route is
covered without anyone remembering to, and renders the refusals; :func:`require_user` is
the dependency for a page or route that wants the principal (typed), and refuses like the
middleware when there is none. This package knows nothing of the API's routes (the
sign-in routes are :mod:`rms.api.routes.auth`), so ``rms.api`` depends on it, never back.

Which credential is accepted:

- ``Authorization: Bearer <the local token>``, compared in constant time;
- ``Authorization: Bearer <a JWT of the OIDC issuer>`` (ID or Cognito access token);
- the session cookie made by a sign-in (local token URL or the OIDC browser flow), while
  its row in the database says it has not ended (:mod:`rms.auth.store`: one primary-key
  lookup per cookie-carried request, no cache, so a sign-out holds on every instance).

A refused request learns only that sign-in is required: 401 with ``WWW-Authenticate`` and
a problem body for the API, a redirect to ``/auth/login`` for a browser asking for a page.
The reason (expired, wrong audience, unknown key...) is logged at INFO, never the token.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import anyio.to_thread
from fastapi import Request

from rms.auth.keys import LocalToken, load_local_token, load_session_key
from rms.auth.ratelimit import FailureLimiter
from rms.auth.sessions import SESSION_COOKIE, FlowCodec, Principal, SessionCodec
from rms.errors import AuthenticationError, ConfigError
from rms.settings import Settings

if TYPE_CHECKING:
    from rms.auth.oidc import OidcProvider
    from rms.auth.store import SessionStore

__all__ = [
    "OPEN_PATHS",
    "OPEN_PREFIXES",
    "SIGN_IN_PATHS",
    "Authenticator",
    "Refusal",
    "check_bind",
    "client_address",
    "is_loopback_bind",
    "is_open_path",
    "require_user",
]

log = logging.getLogger("rms.auth")

#: What anyone may reach: the two probes and the sign-in itself.
PROBE_PATHS = frozenset({"/health/live", "/health/ready"})
SIGN_IN_PATHS = frozenset({"/auth/token", "/auth/login", "/auth/callback", "/auth/logout"})
OPEN_PATHS = PROBE_PATHS | SIGN_IN_PATHS
#: The pages' own stylesheet and script (nothing secret), which the sign-in page needs.
OPEN_PREFIXES = ("/static/",)


def is_open_path(path: str) -> bool:
    """True for what anyone may reach without a credential."""
    return path in OPEN_PATHS or (path.startswith(OPEN_PREFIXES) and ".." not in path)


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: 401 (no valid credential) or 429 (too many failures)."""

    status: Literal[401, 429]
    reason: str
    retry_after: int | None = None


def is_loopback_bind(host: str | None) -> bool:
    """True only for an explicit loopback interface: ``localhost`` or a loopback address.

    Not :func:`rms.settings.is_local_host`, whose libpq notion ("no host is a local
    socket") would call an empty bind address local, while a server bound to ``""``
    listens on every interface.
    """
    if not host or host != host.strip():
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings, host: str | None) -> None:
    """Refuse ``RMS_AUTH=off`` unless the service listens on an explicit loopback address."""
    if settings.rms_auth == "off" and not is_loopback_bind(host):
        if host is None:
            where = "without a loopback bind (e.g. on Lambda)"
        elif not host.strip():
            where = "on an empty host (which listens on every interface)"
        else:
            where = f"on {host}"
        raise ConfigError(
            f"RMS_AUTH=off is refused {where}: sign-in may be turned off only for a service "
            "listening on 127.0.0.1, ::1 or localhost",
            field="RMS_AUTH",
        )


class Authenticator:
    """The configured sign-in: local token and/or OIDC, sessions, failure limit."""

    def __init__(
        self,
        settings: Settings,
        *,
        bind_host: str | None = None,
        oidc: OidcProvider | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        check_bind(settings, bind_host)
        self.clock = clock
        #: The sessions' rows (set by the app factory, :meth:`use_store`); without a store
        #: no session cookie is accepted (nothing could say it has not ended).
        self.store: SessionStore | None = None
        self.enabled = settings.rms_auth == "on"
        self.public_url = settings.rms_public_url
        self.oidc = oidc
        if self.oidc is None and self.enabled and settings.auth_oidc_issuer:
            from rms.auth.oidc import OidcProvider  # httpx, PyJWT, cryptography: only for OIDC

            self.oidc = OidcProvider(settings)
        # The local token: set explicitly, or made when there is no issuer (embedded use).
        self.local: LocalToken | None = None
        if self.enabled and (settings.rms_api_token is not None or self.oidc is None):
            self.local = load_local_token(settings)
        key = load_session_key(settings) if self.enabled else b"sign-in is off"
        self.sessions = SessionCodec(
            key,
            settings.rms_session_max_age_seconds,
            token_fingerprint=self.local.fingerprint(key) if self.local else None,
            oidc_issuer=self.oidc.issuer if self.oidc else None,
            clock=clock,
        )
        self.flows = FlowCodec(key)
        self.limiter = FailureLimiter(
            settings.auth_failure_limit, settings.auth_failure_window_seconds
        )

    def use_store(self, store: SessionStore) -> None:
        self.store = store

    def start_session(self, principal: Principal) -> str:
        """A new session for a principal that just signed in: its row, and its cookie."""
        if self.store is None:
            raise AuthenticationError("sessions need the database, and this service has none")
        session_id = self.store.create(principal, self.sessions.max_age_seconds)
        return self.sessions.issue(principal, session_id)

    def end_session(self, cookie: str) -> bool:
        """Sign-out: end the cookie's session (its row goes); True if it was there."""
        session_id = self.sessions.session_id(cookie)
        if session_id is None or self.store is None:
            return False
        return self.store.end(session_id)

    def close(self) -> None:
        if self.oidc is not None:
            self.oidc.close()

    async def identify(self, request: Request) -> Principal | Refusal | None:
        """The request's principal; a :class:`Refusal` for a refused credential; None if none.

        A request that presents a bearer credential is judged by it alone (a valid cookie
        does not rescue a wrong token); without one, the session cookie decides.
        """
        authorization = request.headers.get("authorization")
        if not self.enabled:
            # A browser cannot add an Authorization header to a cross-site request (that
            # needs CORS, which is off), so only a request without one is CSRF-checked.
            return Principal("owner", "off", "bearer" if authorization else "none")
        if authorization is not None and authorization.strip():
            # The credential is always checked: a right one passes even when others at this
            # address failed too often; only a wrong one counts, and is told 429 meanwhile.
            client = client_address(request)
            try:
                return await self.check_bearer(authorization)
            except AuthenticationError as exc:
                wait = self.limiter.retry_after(client)
                if wait is not None:
                    return Refusal(429, f"{client} failed to sign in too often", wait)
                self.limiter.failed(client)
                return Refusal(401, exc.message)
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            found = self.sessions.check(cookie)
            if found is None:
                log.debug("session cookie refused (forged, expired or outdated)")
                return None
            principal, session_id = found
            store = self.store
            if store is None or not await anyio.to_thread.run_sync(
                store.alive, session_id, principal
            ):
                log.info("session cookie refused: the session has ended (signed out)")
                return None
            return principal
        return None

    async def check_bearer(self, authorization: str) -> Principal:
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value:
            # Never the header itself: without a space, its "scheme" is the credential.
            raise AuthenticationError("the Authorization header is not 'Bearer <token>'")
        if self.local is not None and self.local.matches(value):
            return Principal("owner", "token", "bearer")
        if self.oidc is not None and value.count(".") == 2:
            claims = await anyio.to_thread.run_sync(self.oidc.verify, value)
            return oidc_principal(claims, self.oidc.issuer, "bearer")
        raise AuthenticationError("the bearer token matches no configured credential")

    def check_local_token(self, presented: str) -> Principal:
        """The principal for a correct local token (the sign-in URL and form)."""
        if self.local is None:
            raise AuthenticationError("no local token is configured (OIDC sign-in only)")
        if not self.local.matches(presented):
            raise AuthenticationError("wrong token on the sign-in URL")
        return Principal("owner", "token", "cookie")


def oidc_principal(
    claims: dict[str, object], issuer: str, via: Literal["bearer", "cookie"]
) -> Principal:
    subject = claims.get("sub") or claims.get("username") or "unknown"
    return Principal(str(subject), "oidc", via, issuer=issuer)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def require_user(request: Request) -> Principal:
    """Dependency: the signed-in principal; refuses (401, or a redirect for pages) if none.

    The middleware already refuses anonymous requests outside :data:`OPEN_PATHS`; use this
    where a handler needs the principal itself, or on a route under an open path.
    """
    principal = getattr(request.state, "principal", None)
    if isinstance(principal, Principal):
        return principal
    raise AuthenticationError("no credential")
