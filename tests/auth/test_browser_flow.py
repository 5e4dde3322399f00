"""The browser's sign-in through the issuer: authorization code with PKCE, state and nonce."""

from __future__ import annotations

import html
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.auth.conftest import client_of
from tests.auth.issuer import CLIENT_ID, Issuer


def _start(client: TestClient, next_path: str = "/api/risk-groups") -> tuple[str, dict[str, str]]:
    """GET /auth/login: the redirect to the issuer, and its query."""
    response = client.get("/auth/login", params={"next": next_path}, follow_redirects=False)
    assert response.status_code == 303, response.text
    location = response.headers["Location"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    cookie = response.headers["set-cookie"]
    assert "rms_signin=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/auth/callback" in cookie
    return location, query


def _issuer_redirect(location: str) -> str:
    """The browser follows the authorization URL; the test issuer signs in at once."""
    response = httpx.get(location, follow_redirects=False)
    assert response.status_code == 302
    return response.headers["Location"]


def test_code_flow_with_pkce_gives_a_session_that_works_for_the_api(
    issuer: Issuer, make_oidc_app: Callable[..., FastAPI]
) -> None:
    app = make_oidc_app()
    with client_of(app) as client:
        location, query = _start(client)
        assert location.startswith(f"{issuer.url}/authorize?")
        assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
        assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
        assert query["redirect_uri"] == "http://localhost/auth/callback"
        assert query["state"] and query["nonce"] and query["scope"] == "openid email"

        callback = _issuer_redirect(location)
        response = client.get(callback, follow_redirects=False)
        assert response.status_code == 200, response.text
        # A page that moves on by itself (a Strict cookie is not sent after a cross-site
        # redirect chain), to where the sign-in started.
        assert 'http-equiv="refresh" content="0; url=/api/risk-groups"' in response.text
        session = [c for c in response.headers.get_list("set-cookie") if "rms_session=" in c]
        assert session and "HttpOnly" in session[0] and "SameSite=strict" in session[0]
        # The token endpoint got the verifier (checked against the challenge there).
        assert issuer.token_requests[-1]["code_verifier"]

        # The cookie now signs the API in (metrics: protected, no rows needed).
        client.headers.pop("Authorization", None)
        assert client.get("/metrics").status_code == 200
        # A cookie request that changes state needs this service's Origin.
        assert (
            client.post("/auth/logout", headers={"Origin": "https://evil.example"}).status_code
            == 403
        )
        out = client.post(
            "/auth/logout", headers={"Origin": "http://localhost"}, follow_redirects=False
        )
        assert out.status_code == 303
        # Sent on to the issuer's sign-out, and back to the service's root.
        logout = urlsplit(out.headers["Location"])
        assert f"{logout.scheme}://{logout.netloc}{logout.path}" == f"{issuer.url}/logout"
        assert parse_qs(logout.query)["post_logout_redirect_uri"] == ["http://localhost/"]
        assert client.get("/metrics").status_code == 401


def test_a_forged_state_fails_and_no_session_is_made(
    issuer: Issuer, make_oidc_app: Callable[..., FastAPI]
) -> None:
    app = make_oidc_app()
    with client_of(app) as client:
        location, _ = _start(client)
        callback = _issuer_redirect(location)
        parts = urlsplit(callback)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        forged = client.get(
            "/auth/callback",
            params={"code": query["code"], "state": "forged"},
            follow_redirects=False,
        )
        assert forged.status_code == 401
        assert "rms_session=" not in forged.headers.get("set-cookie", "")
        assert issuer.token_requests == []  # the code was never even exchanged
        assert client.get("/metrics").status_code == 401


def test_a_callback_without_the_sign_in_cookie_fails(
    issuer: Issuer, make_oidc_app: Callable[..., FastAPI]
) -> None:
    app = make_oidc_app()
    with client_of(app) as starter:
        location, _ = _start(starter)
    callback = _issuer_redirect(location)
    with client_of(app) as other_browser:  # has no rms_signin cookie
        response = other_browser.get(callback, follow_redirects=False)
        assert response.status_code == 401
        assert other_browser.get("/metrics").status_code == 401


def test_a_replayed_code_and_a_wrong_nonce_fail(
    issuer: Issuer, make_oidc_app: Callable[..., FastAPI]
) -> None:
    app = make_oidc_app()
    with client_of(app) as client:
        location, _ = _start(client)
        callback = _issuer_redirect(location)
        assert client.get(callback, follow_redirects=False).status_code == 200
        client.cookies.clear()
    with client_of(app) as client:
        location, _ = _start(client)
        callback = _issuer_redirect(location)
        code = parse_qs(urlsplit(callback).query)["code"][0]
        issuer.codes[code]["nonce"] = "not-the-nonce-we-sent"  # the issuer echoes another
        assert client.get(callback, follow_redirects=False).status_code == 401
        assert client.get("/metrics").status_code == 401


def test_a_browser_asking_for_a_page_is_sent_to_sign_in(
    make_oidc_app: Callable[..., FastAPI],
) -> None:
    app = make_oidc_app()
    with client_of(app) as client:
        page = client.get("/docs", headers={"Accept": "text/html"}, follow_redirects=False)
        assert page.status_code == 303 and page.headers["Location"] == "/auth/login?next=%2Fdocs"
        api = client.get("/api/risk-groups", headers={"Accept": "text/html"})
        assert api.status_code == 401  # the API never redirects


def test_behind_an_https_proxy_the_cookies_are_secure_and_hsts_is_sent(
    issuer: Issuer, make_oidc_app: Callable[..., FastAPI]
) -> None:
    app = make_oidc_app(
        rms_public_url="https://rms.example.com", rms_allowed_hosts="rms.example.com"
    )
    with client_of(app, base_url="https://rms.example.com") as client:
        _, query = _start(client)
        assert query["redirect_uri"] == "https://rms.example.com/auth/callback"
        response = client.get("/auth/login", follow_redirects=False)
        assert "Secure" in response.headers["set-cookie"]
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


@pytest.mark.parametrize(
    ("asked", "lands"),
    [
        ("/\t/evil.example", "/"),  # /%09/evil.example: a browser drops the tab
        ("/\n/evil.example", "/"),
        ("/%09/evil.example", "/"),
        ("/ /evil.example", "/"),
        ("/\\evil.example", "/"),
        ("//evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/\u200b/evil.example", "/"),
        ("/x/../../evil.example", "/evil.example"),
        ('/accounts?month=2024-06&q="><script>', "/accounts?month=2024-06&q=%22%3E%3Cscript%3E"),
    ],
)
def test_after_a_real_oidc_sign_in_the_target_is_a_same_site_path_encoded(
    asked: str, lands: str, issuer: Issuer, make_oidc_app: Callable[..., FastAPI]
) -> None:
    app = make_oidc_app()
    with client_of(app) as client:
        location, _ = _start(client, asked)
        response = client.get(_issuer_redirect(location), follow_redirects=False)
        assert response.status_code == 200, response.text
        escaped = html.escape(lands)
        assert f'<meta http-equiv="refresh" content="0; url={escaped}">' in response.text
        assert f'<a href="{escaped}">' in response.text
        if lands == "/":
            assert "evil" not in response.text
        assert not any(c in response.text for c in "\t\n\u200b")
