"""The one check of every request: what it logs, and what it counts as a failed sign-in."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI

from rms.app import create_app
from rms.settings import load_settings
from tests.auth.conftest import client_of, head_sqlite_url
from tests.auth.issuer import Issuer


def _app(tmp_path: Path, **overrides: object) -> FastAPI:
    return create_app(load_settings(database_url=head_sqlite_url(tmp_path / "g.db"), **overrides))


def test_no_credential_material_reaches_a_log_line_whatever_the_header_shape(
    issuer: Issuer,
    make_oidc_app: Callable[..., FastAPI],
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_oidc_app(rms_api_token="the-local-token-0123456789", auth_failure_limit=100)
    jwt = issuer.mint()
    foreign = issuer.mint(aud="someone-else")
    basic = base64.b64encode(b"owner:hunter2-password").decode()
    secrets = {
        jwt: [jwt, f"bearer{jwt}", f"Bearer  {jwt}x", f"JWT {jwt}"],
        foreign: [f"Bearer {foreign}", foreign],
        basic: [f"Basic {basic}", basic],
        "the-local-token-0123456789": ["the-local-token-0123456789x", "Token the-local-token"],
        "made-up-credential-987": ["made-up-credential-987", "Bearer made-up-credential-987"],
    }
    caplog.set_level(logging.DEBUG)
    with client_of(app) as client:
        for headers in secrets.values():
            for header in headers:
                response = client.get("/metrics", headers={"Authorization": header})
                assert response.status_code == 401, header
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "refused GET /metrics" in logged  # the refusals are logged, with their reason
    for secret in secrets:
        for part in {secret, *secret.split(".")}:
            assert part not in logged


def test_requests_without_a_credential_never_count_and_the_right_one_always_passes(
    tmp_path: Path,
) -> None:
    app = _app(tmp_path, auth_failure_limit=3, auth_failure_window_seconds=300)
    token = app.state.auth.local.value
    with client_of(app) as client:
        # Issue 27 item 5: bare sign-in URLs, empty forms and empty headers are no guesses.
        for _ in range(10):
            assert client.get("/auth/token").status_code == 401
            assert client.post("/auth/token", data={"token": ""}).status_code == 401
            assert client.get("/metrics", headers={"Authorization": " "}).status_code == 401
            assert client.get("/auth/callback").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        # Others at this address guess until they are limited ...
        for _ in range(5):
            client.get("/metrics", headers={"Authorization": "Bearer wrong"})
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 429
        # ... and the owner's token still signs in, as a bearer and on the sign-in URL.
        owner = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert owner.status_code == 200
        url = client.get("/auth/token", params={"token": token}, follow_redirects=False)
        assert url.status_code == 303


def test_forwarded_headers_are_trusted_only_from_configured_proxies(tmp_path: Path) -> None:
    from rms.auth.serving import proxy_options

    none = load_settings(database_url=f"sqlite:///{tmp_path / 'p.db'}")
    assert proxy_options(none) == {"proxy_headers": False, "forwarded_allow_ips": []}
    some = none.model_copy(update={"rms_forwarded_allow_ips": "10.0.0.1, 10.1.0.0/16"})
    assert proxy_options(some) == {
        "proxy_headers": True,
        "forwarded_allow_ips": ["10.0.0.1", "10.1.0.0/16"],
    }
