"""OIDC bearer tokens against a real issuer on loopback: good ones pass, forged ones get 401.

``/metrics`` is the protected route used: it needs a credential and no database rows, so
each case is about the token alone.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import jwt
import pytest
from fastapi import FastAPI

from tests.auth.conftest import Clock, client_of
from tests.auth.issuer import CLIENT_ID, Issuer, ec_key, rsa_key

PROTECTED = "/metrics"


def _status(app: FastAPI, token: str) -> int:
    with client_of(app) as client:
        response = client.get(PROTECTED, headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 401:
        # Never a hint of which check failed.
        assert response.json()["detail"] == (
            "this resource needs a valid credential: a bearer token or a sign-in session"
        )
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="rms"'
        assert response.headers["Content-Type"] == "application/problem+json"
    return response.status_code


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(issuer: Issuer) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": issuer.keys[0].kid}).encode())
    return f"{header}.{_b64(json.dumps(issuer.claims()).encode())}."


def _hs256_with_public_key(issuer: Issuer) -> str:
    # The classic confusion attack: HMAC keyed with the RSA public key's PEM. PyJWT itself
    # refuses to sign with a PEM as an HMAC secret, so the signature is made by hand.
    import hashlib
    import hmac

    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": issuer.keys[0].kid}).encode())
    payload = _b64(json.dumps(issuer.claims()).encode())
    signing_input = f"{header}.{payload}".encode()
    mac = hmac.new(issuer.keys[0].public_pem(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(mac)}"


def _tampered(issuer: Issuer) -> str:
    header, _, signature = issuer.mint().split(".")
    payload = _b64(json.dumps(issuer.claims(sub="someone-else")).encode())
    return f"{header}.{payload}.{signature}"


def _foreign_key(issuer: Issuer) -> str:
    # A key id the JWKS has, a key it does not: the signature cannot verify.
    impostor = rsa_key(issuer.keys[0].kid)
    return issuer.mint(key=impostor)


FORGED: dict[str, Callable[[Issuer], str]] = {
    "expired": lambda i: i.mint(exp=1_600_000_000, iat=1_599_999_000),
    "no exp": lambda i: i.mint(exp=None),
    "wrong audience": lambda i: i.mint(aud="someone-else"),
    "wrong issuer": lambda i: i.mint(iss="https://evil.example.com"),
    "alg none": _unsigned,
    "HS256 signed with the public key": _hs256_with_public_key,
    "a key not in the JWKS": _foreign_key,
    "tampered payload": _tampered,
    "unknown key id": lambda i: i.mint(key=rsa_key("nobody-has-this")),
    "no key id": lambda i: jwt.encode(i.claims(), i.keys[0].private, algorithm="RS256"),
    "access token for another client": lambda i: i.mint(
        aud=None, client_id="other", token_use="access"
    ),
    "refresh-like token_use": lambda i: i.mint(token_use="refresh"),
    "not a JWT": lambda i: "a.b.c",
}


@pytest.mark.parametrize("kind", list(FORGED), ids=list(FORGED))
def test_forged_tokens_get_401(
    kind: str, issuer: Issuer, make_oidc_app: Callable[..., FastAPI]
) -> None:
    app = make_oidc_app()
    assert _status(app, issuer.mint()) == 200  # the issuer and the app work
    assert _status(app, FORGED[kind](issuer)) == 401


def test_rs256_and_es256_id_tokens_and_cognito_access_tokens_pass(
    issuer: Issuer, make_oidc_app: Callable[..., FastAPI]
) -> None:
    app = make_oidc_app()
    rsa, ec = issuer.keys
    assert _status(app, issuer.mint(key=rsa)) == 200
    assert _status(app, issuer.mint(key=ec)) == 200
    access = issuer.mint(aud=None, client_id=CLIENT_ID, token_use="access")
    assert _status(app, access) == 200
    # An ID token for several audiences, ours among them.
    assert _status(app, issuer.mint(aud=["other", CLIENT_ID])) == 200
    # Within the leeway an expired token still passes; beyond it, not.
    import time

    now = int(time.time())
    assert _status(app, issuer.mint(exp=now - 10)) == 200
    assert _status(app, issuer.mint(exp=now - 120)) == 401


def test_unknown_kid_refreshes_the_jwks_once_per_interval_and_a_rotated_key_then_works(
    issuer: Issuer, make_oidc_app: Callable[..., FastAPI], clock: Clock
) -> None:
    app = make_oidc_app(auth_oidc_jwks_refresh_seconds=60)
    assert _status(app, issuer.mint()) == 200
    assert issuer.jwks_served == 1 and issuer.discovery_served == 1

    # The issuer rotates: a new key appears in its JWKS.
    rotated = ec_key("ec-2")
    issuer.keys.append(rotated)
    clock.now += 1
    assert _status(app, issuer.mint(key=rsa_key("made-up-1"))) == 401
    assert issuer.jwks_served == 2  # one refresh for the unknown key id
    for n in range(5):  # a flood of made-up key ids: no more refreshes in the interval
        assert _status(app, issuer.mint(key=rsa_key(f"made-up-{n + 2}"))) == 401
    assert issuer.jwks_served == 2

    # The refresh already brought the rotated key: it works with no further download.
    assert _status(app, issuer.mint(key=rotated)) == 200
    assert issuer.jwks_served == 2

    # A second rotation within the interval: refused until the interval has passed ...
    later = rsa_key("rsa-3")
    issuer.keys.append(later)
    assert _status(app, issuer.mint(key=later)) == 401
    assert issuer.jwks_served == 2
    clock.now += 61
    # ... then one refresh picks it up.
    assert _status(app, issuer.mint(key=later)) == 200
    assert issuer.jwks_served == 3
    assert issuer.discovery_served == 1


def test_a_session_cookie_needs_no_call_to_the_issuer(
    issuer: Issuer, make_oidc_app: Callable[..., FastAPI]
) -> None:
    from rms.auth import Principal

    app = make_oidc_app()
    cookie = app.state.auth.start_session(Principal("owner-123", "oidc", "cookie", issuer.url))
    with client_of(app, cookies={"rms_session": cookie}) as client:
        assert client.get(PROTECTED).status_code == 200
    assert issuer.discovery_served == 0 and issuer.jwks_served == 0


def test_an_unreachable_issuer_fails_the_request_with_401_quickly(
    make_oidc_app: Callable[..., FastAPI], issuer: Issuer
) -> None:
    token = issuer.mint()
    app = make_oidc_app(auth_oidc_issuer="http://127.0.0.1:9", auth_oidc_timeout_seconds=1)
    assert _status(app, token) == 401
