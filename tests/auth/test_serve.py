"""``rms serve``: it prints the sign-in URL once, the URL signs in, and sign-in off is guarded."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from rms.devtools.pgcluster import free_port
from tests.rms_cli import run_rms


def _rms() -> list[str]:
    return [sys.executable, "-c", "from rms.cli import run; run()"]


def test_serve_prints_a_sign_in_url_that_signs_in(state_dir: Path) -> None:
    port = free_port()
    env = {**os.environ, "RMS_STATE_DIR": str(state_dir), "LOG_LEVEL": "INFO"}
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
