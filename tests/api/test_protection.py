"""What an anonymous or hostile caller gets: nothing but the two probes, on both engines."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from rms.auth.guard import is_open_path
from tests.api.conftest import bearer
from tests.live_server import live_server

PROBES = {"/health/live", "/health/ready"}


def _routes(app: FastAPI) -> Iterator[tuple[str, set[str]]]:
    """(path, methods) of every route in ``app.routes``, included routers' routes too.

    FastAPI 0.16x keeps an included router as one entry of ``app.routes`` and lists its
    routes, prefixes applied, through ``effective_route_contexts()``.
    """
    for route in app.routes:
        if isinstance(route, Route):
            yield route.path, set(route.methods or ())
        elif isinstance(route, Mount):  # static files (the pages' own, the docs' assets)
            yield f"{route.path}/x", {"GET"}
        else:
            contexts = route.effective_route_contexts()  # type: ignore[attr-defined]
            for context in contexts:
                yield context.path, set(context.methods or ())


def _calls(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, concrete path) of the app."""
    calls = []
    for template, methods in _routes(app):
        path = re.sub(r"\{[^}]+\}", "x", template)
        calls += [(method, path) for method in sorted(methods) if method != "HEAD"]
    return calls


def test_anonymous_requests_are_refused_everywhere_but_the_probes(
    app: FastAPI, anon_client: TestClient, client: TestClient
) -> None:
    calls = _calls(app)
    assert len(calls) > 40  # every resource route, docs, schema, metrics, deep health
    refused = []
    for method, path in calls:
        response = anon_client.request(method, path, json={} if method != "GET" else None)
        if is_open_path(path):
            assert response.status_code != 401 or path.startswith("/auth/"), (method, path)
            continue
        assert response.status_code == 401, (method, path, response.status_code, response.text)
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="rms"'
        assert response.json()["type"] == "/problems/unauthorized"
        refused.append(path)
    assert {"/docs", "/redoc", "/openapi.json", "/metrics", "/health", "/"} <= set(refused)
    for probe in PROBES:
        assert anon_client.get(probe).status_code == 200
        assert client.get(probe).status_code == 200
    # Signed in, the same routes answer (no 401 anywhere).
    for method, path in calls:
        if not is_open_path(path):
            response = client.request(method, path, json={} if method != "GET" else None)
            assert response.status_code != 401, (method, path)


def test_a_5_mb_body_answers_413_without_being_read(client: TestClient) -> None:
    body = b'{"name": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    response = client.post(
        "/api/accounts", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/content-too-large"


def test_a_streamed_body_without_length_stops_at_the_limit(app: FastAPI) -> None:
    """A chunked 100 MB upload to a real server: the app reads no more than the limit.

    (The server may go on reading and discarding the rest of the request from the socket;
    what matters is that nothing past the limit is handed to the application.)
    """
    read = 0

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        async def counted() -> Any:
            nonlocal read
            message = await receive()
            read += len(message.get("body", b""))
            return message

        await app(scope, counted, send)

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(100):
            yield b"x" * (1024 * 1024)
        yield b'"}'

    limit = app.state.settings.api_max_body_bytes
    with (
        live_server(counting) as base_url,
        httpx.Client(base_url=base_url, headers=bearer(app)) as http,
    ):
        response = http.post(
            "/api/accounts", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 413, response.text
    assert response.json()["type"] == "/problems/content-too-large"
    assert 0 < read <= limit + 1024 * 1024


def test_a_foreign_host_answers_400(client: TestClient) -> None:
    for host in ("evil.example", "rebind.attacker.test:8000", "127.0.0.1.nip.io"):
        response = client.get("/health/live", headers={"Host": host})
        assert response.status_code == 400, host
        assert response.json()["field"] == "Host"
    for host in ("localhost:8000", "127.0.0.1", "[::1]:8000"):
        assert client.get("/health/live", headers={"Host": host}).status_code == 200, host


def _signed_in_by_cookie(app: FastAPI) -> TestClient:
    client = TestClient(app, base_url="http://localhost", raise_server_exceptions=False)
    token = app.state.auth.local.value
    assert client.get("/auth/token", params={"token": token}).status_code in (200, 404)
    assert "rms_session" in client.cookies
    return client


def test_cross_site_origin_with_the_cookie_is_refused(app: FastAPI, client: TestClient) -> None:
    with _signed_in_by_cookie(app) as browser:
        body = {"name": "csrf"}
        hostile = browser.post(
            "/api/accounts", json=body, headers={"Origin": "https://evil.example"}
        )
        assert hostile.status_code == 403 and hostile.json()["field"] == "Origin"
        assert browser.post("/api/accounts", json=body).status_code == 403  # no Origin at all
        null = browser.post("/api/accounts", json=body, headers={"Origin": "null"})
        assert null.status_code == 403
        same = browser.post("/api/accounts", json=body, headers={"Origin": "http://localhost"})
        assert same.status_code == 201, same.text
        # Reading with the cookie needs no Origin.
        assert browser.get("/api/accounts").status_code == 200
    # A bearer request carries no ambient credential: no Origin needed.
    other = client.post(
        "/api/accounts", json={"name": "bearer"}, headers={"Origin": "https://evil.example"}
    )
    assert other.status_code == 201


@pytest.mark.parametrize("path", ["/health/live", "/api/accounts", "/api/nothing-here"])
def test_security_headers_on_every_response(
    client: TestClient, anon_client: TestClient, path: str
) -> None:
    for response in (client.get(path), anon_client.get(path)):
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert "script-src 'self'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in response.headers  # plain http


def test_the_docs_allow_exactly_their_own_inline_script(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "'sha256-" in csp and "'unsafe-inline'" not in csp.split("style-src")[0]
    assert "frame-ancestors 'none'" in csp


def test_a_setting_value_has_a_size_limit(client: TestClient) -> None:
    response = client.post(
        "/api/settings", json={"key": "big", "value": {"blob": "x" * (70 * 1024)}}
    )
    assert response.status_code == 422 and response.json()["field"] == "value"
    assert "API_MAX_SETTING_VALUE_BYTES" in response.json()["detail"]
    assert client.post("/api/settings", json={"key": "ok", "value": {"n": 1}}).status_code == 201
