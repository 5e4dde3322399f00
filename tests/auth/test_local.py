"""The local token: made once and kept private, the sign-in URL, sessions, the limits."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from fastapi import FastAPI

from rms.app import create_app
from rms.auth import Authenticator, Principal, check_bind
from rms.auth.keys import load_local_token
from rms.auth.sessions import SessionCodec
from rms.errors import ConfigError
from rms.settings import Settings, load_settings
from tests.auth.conftest import Clock, client_of, head_sqlite_url


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return load_settings(database_url=head_sqlite_url(tmp_path / "local.db"), **overrides)


def _app(tmp_path: Path, **overrides: object) -> FastAPI:
    return create_app(_settings(tmp_path, **overrides))


def test_the_token_is_made_once_with_mode_0600_and_reused(tmp_path: Path, state_dir: Path) -> None:
    first = load_local_token(_settings(tmp_path))
    assert first.created and first.path == state_dir / "auth" / "token"
    assert stat.S_IMODE(os.stat(first.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(first.path.parent).st_mode) == 0o700
    again = load_local_token(_settings(tmp_path))
    assert not again.created and again.value == first.value and len(first.value) >= 40


def test_a_token_file_others_can_read_is_refused(tmp_path: Path) -> None:
    token = load_local_token(_settings(tmp_path))
    assert token.path is not None
    token.path.chmod(0o644)
    with pytest.raises(ConfigError, match="can be read by other users"):
        load_local_token(_settings(tmp_path))


def test_rms_api_token_replaces_the_file_and_is_masked(tmp_path: Path, state_dir: Path) -> None:
    from rms.secrets import default_secret_registry

    settings = _settings(tmp_path, rms_api_token="given-token-0123456789")
    token = load_local_token(settings)
    assert token.value == "given-token-0123456789" and token.path is None
    assert not (state_dir / "auth" / "token").exists()
    assert "given-token-0123456789" not in default_secret_registry().redact(
        "the token given-token-0123456789"
    )


def test_the_sign_in_url_sets_a_strict_httponly_cookie_and_drops_the_token(tmp_path: Path) -> None:
    app = _app(tmp_path)
    token = app.state.auth.local.value
    with client_of(app) as client:
        assert client.get("/metrics").status_code == 401
        response = client.get(
            "/auth/token", params={"token": token, "next": "/metrics"}, follow_redirects=False
        )
        assert response.status_code == 303 and response.headers["Location"] == "/metrics"
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("rms_session=") and token not in cookie
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie  # plain http on loopback
        assert client.get("/metrics").status_code == 200


def test_the_next_parameter_cannot_send_the_browser_elsewhere(tmp_path: Path) -> None:
    app = _app(tmp_path)
    token = app.state.auth.local.value
    with client_of(app) as client:
        for target in ("https://evil.example", "//evil.example", "/\\evil.example"):
            response = client.get(
                "/auth/token", params={"token": token, "next": target}, follow_redirects=False
            )
            assert response.headers["Location"] == "/"


def test_the_sign_in_form_works_and_a_wrong_token_does_not(tmp_path: Path) -> None:
    app = _app(tmp_path)
    token = app.state.auth.local.value
    with client_of(app) as client:
        page = client.get("/auth/login")
        assert page.status_code == 200 and 'action="/auth/token"' in page.text
        assert "<script" not in page.text
        wrong = client.post("/auth/token", data={"token": "wrong"}, follow_redirects=False)
        assert wrong.status_code == 401 and "rms_session" not in wrong.headers.get("set-cookie", "")
        right = client.post(
            "/auth/token", data={"token": token, "next": "/metrics"}, follow_redirects=False
        )
        assert right.status_code == 303 and right.headers["Location"] == "/metrics"
        assert client.get("/metrics").status_code == 200


def test_a_new_token_ends_the_sessions_of_the_old_one(tmp_path: Path) -> None:
    old = _app(tmp_path, rms_api_token="old-token-0123456789")
    with client_of(old) as client:
        client.get("/auth/token", params={"token": "old-token-0123456789"})
        cookie = client.cookies["rms_session"]
    same = _app(tmp_path, rms_api_token="old-token-0123456789")
    new = _app(tmp_path, rms_api_token="new-token-0123456789")
    with client_of(same, cookies={"rms_session": cookie}) as client:
        assert client.get("/metrics").status_code == 200  # survives a restart
    with client_of(new, cookies={"rms_session": cookie}) as client:
        assert client.get("/metrics").status_code == 401


def test_sessions_expire_and_forged_ones_are_refused() -> None:
    clock = Clock()
    codec = SessionCodec(b"k" * 32, 3600, token_fingerprint="f", oidc_issuer=None, clock=clock)
    cookie = codec.issue(Principal("owner", "token", "cookie"), "sid-1")
    assert codec.check(cookie) == (Principal("owner", "token", "cookie"), "sid-1")
    clock.now += 3601
    assert codec.check(cookie) is None
    assert codec.session_id(cookie) == "sid-1"  # sign-out still ends an expired one's row
    assert codec.check(cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")) is None
    other_key = SessionCodec(b"x" * 32, 3600, token_fingerprint="f", oidc_issuer=None)
    assert other_key.check(other_key.issue(Principal("o", "token", "cookie"), "s")) is not None
    assert codec.check(other_key.issue(Principal("o", "token", "cookie"), "s")) is None
    assert codec.session_id(other_key.issue(Principal("o", "token", "cookie"), "s")) is None


def test_failed_sign_ins_are_limited_per_client(tmp_path: Path) -> None:
    app = _app(tmp_path, auth_failure_limit=3, auth_failure_window_seconds=60)
    token = app.state.auth.local.value
    with client_of(app) as client:
        for _ in range(3):
            bad = client.get("/metrics", headers={"Authorization": "Bearer wrong-guess"})
            assert bad.status_code == 401
        limited = client.get("/metrics", headers={"Authorization": "Bearer wrong-again"})
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert limited.json()["status"] == 429
        wrong_url = client.get("/auth/token", params={"token": "wrong"})
        assert wrong_url.status_code == 429
        # Issue 27 item 5: the right token is never refused because others failed.
        right = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert right.status_code == 200
        assert client.get("/health/live").status_code == 200


def test_sign_in_off_only_on_loopback(tmp_path: Path) -> None:
    off = _settings(tmp_path, rms_auth="off")
    for host in ("127.0.0.1", "::1", "localhost"):
        check_bind(off, host)
    for host in ("0.0.0.0", "192.0.2.10", None, "", " ", "::", "127.0.0.1 ", "/tmp/sock"):
        with pytest.raises(ConfigError, match="RMS_AUTH=off is refused"):
            check_bind(off, host)
    with pytest.raises(ConfigError):
        create_app(off)
    app = create_app(off, bind_host="127.0.0.1")
    with client_of(app) as client:
        assert client.get("/metrics").status_code == 200
        # The Host check stays on: a rebinding page still gets nothing.
        assert client.get("/metrics", headers={"Host": "evil.example"}).status_code == 400


def test_with_oidc_configured_no_token_is_made_unless_given(
    tmp_path: Path, state_dir: Path
) -> None:
    oidc = {"auth_oidc_issuer": "https://issuer.example.com", "auth_oidc_audience": "client"}
    auth = Authenticator(_settings(tmp_path, **oidc))
    assert auth.local is None and auth.oidc is not None
    assert not (state_dir / "auth" / "token").exists()
    both = Authenticator(_settings(tmp_path, rms_api_token="both-token-0123456789", **oidc))
    assert both.local is not None and both.oidc is not None
