"""``rms serve``: it prints the sign-in URL once, the URL signs in, and sign-in off is guarded."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from rms.auth.serving import mask_access_log, sign_in_lines
from rms.devtools.pgcluster import free_port
from tests.rms_cli import run_rms


def _rms() -> list[str]:
    return [sys.executable, "-c", "from rms.cli import run; run()"]


def test_serve_prints_a_sign_in_url_that_signs_in(state_dir: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "RMS_STATE_DIR": str(state_dir),
        "LOG_LEVEL": "INFO",
        "AUTH_FAILURE_LIMIT": "3",
    }
    env.pop("FORWARDED_ALLOW_IPS", None)
    env.pop("RMS_FORWARDED_ALLOW_IPS", None)
    assert subprocess.run([*_rms(), "db", "upgrade"], env=env, capture_output=True).returncode == 0
    process = subprocess.Popen(
        [*_rms(), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = None
        deadline = time.monotonic() + 30
        assert process.stdout is not None
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if line.startswith("sign in: "):
                url = line.removeprefix("sign in: ").strip()
        assert url is not None and url.startswith(f"http://127.0.0.1:{port}/auth/token?token=")
        token = (state_dir / "auth" / "token").read_text().strip()
        assert url.endswith(token)
        with httpx.Client(timeout=10) as http:
            for _ in range(100):  # until the server listens
                try:
                    http.get(f"http://127.0.0.1:{port}/health/live")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            assert http.get(f"http://127.0.0.1:{port}/api/accounts").status_code == 401
            signed_in = http.get(url, follow_redirects=False)
            assert signed_in.status_code == 303 and "token" not in signed_in.headers["Location"]
            assert http.get(f"http://127.0.0.1:{port}/metrics").status_code == 200
            # Issue 27 item 5: X-Forwarded-For from a local client is not trusted, so it
            # cannot choose the address its failed guesses count against.
            guesses = [
                http.get(
                    f"http://127.0.0.1:{port}/api/accounts",
                    headers={"Authorization": "Bearer wrong", "X-Forwarded-For": f"192.0.2.{n}"},
                ).status_code
                for n in range(4)
            ]
            assert guesses == [401, 401, 401, 429]
    finally:
        process.terminate()
        stdout, stderr = process.communicate(timeout=30)
    # The access log line of the sign-in URL (uvicorn writes it to stdout) hides the token.
    assert "GET /auth/token?token=******** HTTP/1.1" in stdout
    assert token not in stdout + stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1"])
def test_sign_in_off_is_refused_off_loopback(host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RMS_AUTH", "off")
    result = run_rms("serve", "--host", host, "--port", str(free_port()))
    assert result.exit_code == 2
    assert result.error_lines == [
        f"error: RMS_AUTH=off is refused on {host}: sign-in may be turned off only for a "
        "service listening on 127.0.0.1, ::1 or localhost"
    ]


@pytest.mark.parametrize("auth", ["off", "on"])
@pytest.mark.parametrize("argv", [("--host", ""), ("--host=",), ("--host", " ")])
def test_an_empty_host_is_a_usage_error(
    argv: tuple[str, ...], auth: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # uvicorn binds "" to every interface: with sign-in off, the whole network would be in.
    monkeypatch.setenv("RMS_AUTH", auth)
    result = run_rms("serve", *argv, "--port", str(free_port()))
    assert result.exit_code == 2
    assert result.error_lines == [
        "error: --host is empty: name the interface to listen on (e.g. 127.0.0.1)"
    ]


def test_the_sign_in_lines_for_each_configuration(tmp_path: Path) -> None:
    from rms.auth import Authenticator
    from rms.settings import load_settings

    db = f"sqlite:///{tmp_path / 'lines.db'}"
    made = load_settings(database_url=db)
    auth = Authenticator(made)
    assert auth.local is not None
    lines = sign_in_lines(made, auth, "0.0.0.0", 8000)
    assert lines[0] == f"sign in: http://127.0.0.1:8000/auth/token?token={auth.local.value}"
    given = load_settings(database_url=db, rms_api_token="given-token-0123456789")
    lines = sign_in_lines(given, Authenticator(given), "::1", 8001)
    assert lines == [
        "sign in with the token in RMS_API_TOKEN: http://[::1]:8001/auth/login "
        "(or send it as Authorization: Bearer)"
    ]
    oidc = load_settings(
        database_url=db,
        auth_oidc_issuer="https://issuer.example.com",
        auth_oidc_audience="client",
        rms_public_url="https://rms.example.com",
    )
    assert sign_in_lines(oidc, Authenticator(oidc), "127.0.0.1", 8000) == [
        "sign in with https://issuer.example.com: https://rms.example.com/auth/login?via=oidc"
    ]
    off = load_settings(database_url=db, rms_auth="off")
    line = sign_in_lines(off, Authenticator(off, bind_host="127.0.0.1"), "127.0.0.1", 8000)
    assert line[0].startswith("sign-in is OFF (RMS_AUTH=off)")


def test_the_access_log_filter_masks_the_token_in_uvicorns_arguments() -> None:
    import logging

    from rms.secrets import default_secret_registry

    default_secret_registry().add("registered-secret-value")
    mask_access_log()
    mask_access_log()  # idempotent
    logger = logging.getLogger("uvicorn.access")
    assert sum(type(f).__name__ == "_AccessLogFilter" for f in logger.filters) == 1
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (
            "127.0.0.1:5",
            "GET",
            "/auth/token?token=abc&next=/x&k=registered-secret-value",
            "1.1",
            303,
        ),
        None,
    )
    for f in logger.filters:
        f.filter(record)
    assert record.getMessage() == (
        '127.0.0.1:5 - "GET /auth/token?token=********&next=/x&k=******** HTTP/1.1" 303'
    )


def test_require_user_refuses_without_a_principal() -> None:
    from starlette.requests import Request

    from rms.auth import Principal, require_user
    from rms.errors import AuthenticationError

    anonymous = Request({"type": "http", "state": {"principal": None}, "headers": []})
    with pytest.raises(AuthenticationError):
        require_user(anonymous)
    owner = Principal("owner", "token", "bearer")
    assert require_user(Request({"type": "http", "state": {"principal": owner}})) == owner
