"""OIDC: verify an issuer's tokens, and the browser's authorization-code sign-in with PKCE.

Verification is PyJWT's: the keys come from the issuer's JWKS (:class:`jwt.PyJWKClient`,
which caches the set), found through the discovery document. What is checked, and why:

- the algorithm is asymmetric (RS*, PS*, ES*, EdDSA) and fits the key's type: ``none`` and
  HMAC are refused outright, so a token "signed" with the public key as an HMAC secret
  cannot pass;
- the key id is in the JWKS; an unknown id refreshes the JWKS at most once per
  ``AUTH_OIDC_JWKS_REFRESH_SECONDS`` (a key rotation is picked up; a flood of made-up key
  ids cannot make the service hammer the issuer);
- ``exp`` and ``iss`` are required, ``iss`` must be the issuer, with a small leeway;
- the audience: an ID token's ``aud`` holds it, or a Cognito access token (no ``aud``)
  has ``client_id`` equal to it and ``token_use`` "access"; a ``token_use`` other than
  "id" or "access" is refused; in the browser flow the ID token's ``nonce`` must match.

Every call to the issuer (discovery, JWKS, token exchange) has a short timeout
(``AUTH_OIDC_TIMEOUT_SECONDS``): on Lambda the issuer is reached over IPv6 egress, and an
unreachable issuer must fail one sign-in quickly rather than hold a request for 30 s.
These calls block, so the async callers run them in a worker thread.

PKCE's S256 challenge (RFC 7636) is one SHA-256 and a base64url encoding, written here
rather than pulling in an OAuth client library for two lines; the random values come from
:mod:`secrets`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import jwt
from jwt import PyJWK, PyJWKClient

from rms.errors import AuthenticationError
from rms.settings import Settings, is_local_host

__all__ = ["Discovery", "OidcProvider", "pkce_pair"]

log = logging.getLogger("rms.auth")

#: Algorithm prefix -> the JWK key type that can verify it.
_KEY_TYPE = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (RFC 7636, section 4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Discovery:
    """The parts of the issuer's discovery document the service uses."""

    issuer: str
    jwks_uri: str
    authorization_endpoint: str | None
    token_endpoint: str | None
    end_session_endpoint: str | None


class OidcProvider:
    """One configured issuer: discovery, JWKS, token checks, and the code exchange."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.monotonic,
        http: httpx.Client | None = None,
    ) -> None:
        assert settings.auth_oidc_issuer and settings.auth_oidc_audience
        self.issuer = settings.auth_oidc_issuer
        self.audience = settings.auth_oidc_audience
        self.client_id = settings.auth_oidc_client_id or settings.auth_oidc_audience
        self.scopes = settings.auth_oidc_scopes
        self._leeway = settings.auth_oidc_leeway_seconds
        self._timeout = settings.auth_oidc_timeout_seconds
        self._refresh_every = settings.auth_oidc_jwks_refresh_seconds
        self._clock = clock
        self._given_http = http
        self._http_client: httpx.Client | None = http
        # Re-entrant: discovery (under the lock) asks for the HTTP client (also under it).
        self._lock = threading.RLock()
        self._discovery: Discovery | None = None
        self._jwks: PyJWKClient | None = None
        self._last_refresh: float | None = None
        #: JWKS downloads so far (the first one included): for tests and the log.
        self.jwks_fetches = 0

    @property
    def _http(self) -> httpx.Client:
        """The HTTP client, made when first needed (and again after :meth:`close`)."""
        with self._lock:
            if self._http_client is None:
                self._http_client = httpx.Client(timeout=self._timeout, follow_redirects=False)
            return self._http_client

    def close(self) -> None:
        """Close the HTTP client (the app's shutdown); a later call makes a new one."""
        with self._lock:
            client, self._http_client = self._http_client, self._given_http
        if client is not None and client is not self._given_http:
            client.close()

    # -- discovery and keys --------------------------------------------------------------

    def discovery(self) -> Discovery:
        """The discovery document, read once (and again only after a failed read)."""
        with self._lock:
            if self._discovery is None:
                self._discovery = self._discover()
            return self._discovery

    def _discover(self) -> Discovery:
        url = f"{self.issuer}/.well-known/openid-configuration"
        document = self._get_json(url, "the discovery document")
        if document.get("issuer") != self.issuer:
            raise AuthenticationError(
                f"the discovery document at {url} names issuer {document.get('issuer')!r}, "
                f"not {self.issuer!r}"
            )
        endpoints = {
            name: self._endpoint(document, name)
            for name in (
                "jwks_uri",
                "authorization_endpoint",
                "token_endpoint",
                "end_session_endpoint",
            )
        }
        jwks_uri = endpoints.pop("jwks_uri")
        if jwks_uri is None:
            raise AuthenticationError(f"the discovery document at {url} has no jwks_uri")
        return Discovery(issuer=self.issuer, jwks_uri=jwks_uri, **endpoints)

    def _endpoint(self, document: Mapping[str, Any], name: str) -> str | None:
        value = document.get(name)
        if not isinstance(value, str) or not value:
            return None
        parts = urlsplit(value)
        local = parts.scheme == "http" and is_local_host(parts.hostname)
        if parts.scheme != "https" and not local:
            raise AuthenticationError(f"the issuer's {name} {value!r} is not an https:// URL")
        return value

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, timeout=self._timeout)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise AuthenticationError(f"cannot read {what} at {url}: {exc}") from None
        if not isinstance(document, dict):
            raise AuthenticationError(f"{what} at {url} is not a JSON object")
        return document

    def _client(self) -> PyJWKClient:
        discovery = self.discovery()
        with self._lock:
            if self._jwks is None:
                # The cooldown is ours (``_signing_key``), with an injectable clock.
                self._jwks = _CountingJWKClient(
                    self, discovery.jwks_uri, lifespan=3600, timeout=self._timeout
                )
            return self._jwks

    def _signing_key(self, kid: str) -> PyJWK:
        client = self._client()
        try:
            key = PyJWKClient.match_kid(client.get_signing_keys(), kid)
            if key is None and self._may_refresh():
                log.info("unknown key id %r: reading the issuer's JWKS again", kid)
                key = PyJWKClient.match_kid(client.get_signing_keys(refresh=True), kid)
        except jwt.PyJWKClientError as exc:
            raise AuthenticationError(f"cannot read the issuer's JWKS: {exc}") from None
        if key is None:
            raise AuthenticationError(f"key id {kid!r} is not in the issuer's JWKS")
        return key

    def _may_refresh(self) -> bool:
        with self._lock:
            now = self._clock()
            if self._last_refresh is not None and now - self._last_refresh < self._refresh_every:
                return False
            self._last_refresh = now
            return True

    # -- tokens --------------------------------------------------------------------------

    def verify(self, token: str, *, nonce: str | None = None) -> dict[str, Any]:
        """The claims of a valid token of this issuer; AuthenticationError says why not."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError(f"not a JWT ({type(exc).__name__})") from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise AuthenticationError(f"algorithm {algorithm!r} is not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthenticationError("the token names no key id (kid)")
        key = self._signing_key(kid)
        if key.key_type != _KEY_TYPE[algorithm[:2]]:
            raise AuthenticationError(f"algorithm {algorithm} does not fit a {key.key_type} key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                issuer=self.issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iss"], "verify_aud": False},
            )
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError(f"token refused: {exc}") from None
        self._check_audience(claims)
        if nonce is not None and not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
            raise AuthenticationError("the ID token's nonce is not the one this sign-in sent")
        return claims

    def _check_audience(self, claims: Mapping[str, Any]) -> None:
        token_use = claims.get("token_use")
        if token_use not in (None, "id", "access"):
            raise AuthenticationError(f"token_use {token_use!r} is not accepted")
        audience = claims.get("aud")
        if audience is not None:
            audiences = audience if isinstance(audience, list) else [audience]
            if self.audience in audiences:
                return
            raise AuthenticationError(f"audience {audience!r} is not {self.audience!r}")
        if token_use == "access" and claims.get("client_id") == self.audience:  # noqa: S105
            return
        raise AuthenticationError("the token has neither the audience nor the client id")

    # -- the browser's sign-in -----------------------------------------------------------

    def authorization_url(self, redirect_uri: str, state: str, nonce: str, challenge: str) -> str:
        endpoint = self.discovery().authorization_endpoint
        if endpoint is None:
            raise AuthenticationError("the issuer has no authorization_endpoint")
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": self.scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    def exchange(self, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        """Trade the authorization code (and the PKCE verifier) for the issuer's tokens."""
        endpoint = self.discovery().token_endpoint
        if endpoint is None:
            raise AuthenticationError("the issuer has no token_endpoint")
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.client_id,
            "code_verifier": verifier,
        }
        try:
            response = self._http.post(endpoint, data=form, timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise AuthenticationError(f"the token endpoint {endpoint} failed: {exc}") from None
        if response.status_code != 200:
            raise AuthenticationError(
                f"the token endpoint answered {response.status_code}: {response.text[:200]}"
            )
        try:
            tokens = response.json()
        except ValueError:
            raise AuthenticationError("the token endpoint's answer is not JSON") from None
        if not isinstance(tokens, dict) or not isinstance(tokens.get("id_token"), str):
            raise AuthenticationError("the token endpoint's answer has no id_token")
        return tokens

    def logout_url(self, return_to: str) -> str | None:
        """Where to send the browser to end the issuer's own session, if it has a place."""
        try:
            discovery = self.discovery()
        except AuthenticationError as exc:
            log.info("no issuer sign-out: %s", exc)
            return None
        endpoint = discovery.end_session_endpoint
        authorize = discovery.authorization_endpoint
        cognito_host = urlsplit(endpoint or authorize or "").hostname or ""
        if cognito_host.endswith(".amazoncognito.com"):
            # Cognito's /logout takes client_id and logout_uri (one of the client's sign-out
            # URLs); its discovery document does not list it.
            base = endpoint or f"https://{cognito_host}/logout"
            return f"{base}?{urlencode({'client_id': self.client_id, 'logout_uri': return_to})}"
        if endpoint is None:
            return None
        query = urlencode({"client_id": self.client_id, "post_logout_redirect_uri": return_to})
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


class _CountingJWKClient(PyJWKClient):
    """PyJWT's JWKS client (its own urllib fetch, with our timeout), counting downloads."""

    def __init__(self, owner: OidcProvider, uri: str, *, lifespan: float, timeout: float) -> None:
        super().__init__(uri, cache_jwk_set=True, lifespan=lifespan, timeout=timeout)
        self._owner = owner

    def fetch_data(self) -> Any:
        self._owner.jwks_fetches += 1
        return super().fetch_data()
