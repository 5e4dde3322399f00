"""Who is signed in, and the signed, expiring session cookie that remembers it.

A session cookie is a small JSON payload signed with the session key (itsdangerous,
HMAC-SHA256, with a timestamp checked against ``RMS_SESSION_MAX_AGE_SECONDS``): the
principal and a random session id. The signature proves the service made the cookie; the
session id's row in the database (:mod:`rms.auth.store`) says the session has not ended,
so sign-out can take a cookie back. A local-token session carries a keyed
fingerprint of the token: a new token (``RMS_API_TOKEN`` changed, or the token file
replaced) ends every session made with the old one. An OIDC session names its issuer, and
ends when that issuer is no longer configured. A new session key ends them all.

The same signing, with another salt and a ten-minute age, carries the browser sign-in's
state, nonce and PKCE verifier across the round trip to the issuer (:class:`FlowCodec`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from itsdangerous import BadData, URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner

__all__ = ["FlowCodec", "Principal", "SessionCodec"]

Method = Literal["token", "oidc", "off"]

#: The session cookie's name.
SESSION_COOKIE = "rms_session"
#: The short-lived cookie of a browser sign-in in progress (state, nonce, PKCE verifier).
FLOW_COOKIE = "rms_signin"
FLOW_MAX_AGE_SECONDS = 600


@dataclass(frozen=True)
class Principal:
    """The one who made a request: how they signed in and what carried the credential."""

    subject: str
    method: Method
    #: ``bearer`` (Authorization header), ``cookie`` (the session) or ``none`` (sign-in off).
    via: Literal["bearer", "cookie", "none"]
    issuer: str | None = None


def _serializer(key: bytes, salt: str, clock: Callable[[], float]) -> URLSafeTimedSerializer:
    class _Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock())

    return URLSafeTimedSerializer(key, salt=salt, signer=_Signer)


class SessionCodec:
    """Issues and checks session cookies; ``clock`` is injectable for expiry tests."""

    def __init__(
        self,
        key: bytes,
        max_age_seconds: int,
        *,
        token_fingerprint: str | None,
        oidc_issuer: str | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._serializer = _serializer(key, "rms.session", clock)
        self._max_age = max_age_seconds
        self._fingerprint = token_fingerprint
        self._issuer = oidc_issuer
        self.max_age_seconds = max_age_seconds

    def issue(self, principal: Principal, session_id: str) -> str:
        """The cookie of session ``session_id`` (its row: :meth:`SessionStore.create`)."""
        payload: dict[str, Any] = {"id": session_id, "s": principal.subject, "m": principal.method}
        if principal.method == "token":
            payload["f"] = self._fingerprint
        elif principal.method == "oidc":
            payload["i"] = principal.issuer
        return self._serializer.dumps(payload)

    def session_id(self, cookie: str) -> str | None:
        """The session id of a cookie this service signed (expired or not), else None: what
        sign-out ends, even when the session no longer signs anyone in."""
        try:
            payload = self._serializer.loads(cookie)
        except BadData:
            return None
        found = payload.get("id") if isinstance(payload, dict) else None
        return found if isinstance(found, str) and found else None

    def check(self, cookie: str) -> tuple[Principal, str] | None:
        """The session's principal and id, or None for a forged, expired or outdated cookie.

        Whether the session has ended (signed out) is the store's to say, not the cookie's.
        """
        try:
            payload = self._serializer.loads(cookie, max_age=self._max_age)
        except BadData:
            return None
        if not isinstance(payload, dict) or not isinstance(payload.get("s"), str):
            return None
        session_id = payload.get("id")
        if not isinstance(session_id, str) or not session_id:
            return None  # a cookie of the stateless sessions before revision 0003
        method = payload.get("m")
        if method == "token" and self._fingerprint is not None:
            if payload.get("f") == self._fingerprint:
                return Principal(payload["s"], "token", "cookie"), session_id
        elif method == "oidc" and self._issuer is not None and payload.get("i") == self._issuer:
            return Principal(payload["s"], "oidc", "cookie", issuer=self._issuer), session_id
        return None


class FlowCodec:
    """The signed cookie that holds a browser sign-in's state until the callback."""

    def __init__(self, key: bytes, *, clock: Callable[[], float] = time.time) -> None:
        self._serializer = _serializer(key, "rms.signin-flow", clock)

    def issue(self, state: str, nonce: str, verifier: str, next_path: str) -> str:
        return self._serializer.dumps({"st": state, "n": nonce, "v": verifier, "next": next_path})

    def check(self, cookie: str) -> dict[str, str] | None:
        try:
            payload = self._serializer.loads(cookie, max_age=FLOW_MAX_AGE_SECONDS)
        except BadData:
            return None
        if not isinstance(payload, dict) or not all(
            isinstance(payload.get(k), str) for k in ("st", "n", "v", "next")
        ):
            return None
        return {k: str(payload[k]) for k in ("st", "n", "v", "next")}
