"""``rms serve`` against slow and piling-up connections (issue 27 item 9), for real.

One ``rms serve`` subprocess with a 2 s request-head deadline and a cap of 3 connections.
A connection that sends nothing, or one header line now and then, is closed by the server
(the client's own timeouts are far longer, so a hang fails the test instead of passing it);
a connection over the cap is closed without an answer, and the server serves again once
the others are gone.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from rms.devtools.pgcluster import free_port
from rms.http.serving import uvicorn_limits
from rms.settings import load_settings

HEADER_TIMEOUT = 2
MAX_CONNECTIONS = 3
#: Far longer than the deadline: reaching it means the server kept the socket.
CLIENT_PATIENCE = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    env = {
        **os.environ,
        "RMS_STATE_DIR": str(tmp_path_factory.mktemp("serve-state")),
        "SERVE_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "SERVE_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-c", "from rms.cli import run; run()", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(300):  # until it listens
            if process.poll() is not None:
                raise AssertionError(process.stderr.read() if process.stderr else "exited")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.communicate(timeout=30)


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=CLIENT_PATIENCE)


def _closed_by_server(sock: socket.socket) -> bool:
    """True when the server closed the connection (EOF or reset) before the patience ran out."""
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def _get(port: int, sock: socket.socket | None = None) -> bytes:
    sock = sock or _connect(port)
    with sock:
        head = f"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
        sock.sendall(head.encode() + b"\r\n")
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass  # closed by the server without an answer (over the cap)
        return answer


def test_a_connection_that_sends_nothing_is_closed(server: int) -> None:
    with _connect(server) as idle:
        assert _closed_by_server(idle)
    assert _get(server).startswith(b"HTTP/1.1 200")


def test_a_header_line_now_and_then_does_not_keep_the_connection(server: int) -> None:
    with _connect(server) as slow:
        slow.sendall(f"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1:{server}\r\n".encode())
        slow.settimeout(0.5)
        closed = False
        for n in range(CLIENT_PATIENCE * 2):  # a line every half second, at most 20 s
            try:
                slow.sendall(f"X-Slow-{n}: a\r\n".encode())
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            try:
                if slow.recv(65536) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except ConnectionResetError:
                closed = True
                break
        assert closed


def test_connections_over_the_cap_are_closed_at_once(server: int) -> None:
    held = [_connect(server) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.2)  # let the server accept them
        answer = _get(server)
        assert not answer.startswith(b"HTTP/1.1 200"), answer
    finally:
        for sock in held:
            sock.close()
    for _ in range(50):  # the server notices the closed sockets, then serves again
        if _get(server).startswith(b"HTTP/1.1 200"):
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the server did not serve again after the connections closed")


def test_the_limits_come_from_the_settings() -> None:
    settings = load_settings(
        serve_header_timeout_seconds=3,
        serve_keep_alive_seconds=4,
        serve_max_connections=7,
        serve_max_header_bytes=4096,
    )
    limits = uvicorn_limits(settings)
    assert limits["timeout_keep_alive"] == 4
    assert limits["limit_concurrency"] == 7
    assert limits["h11_max_incomplete_event_size"] == 4096
    assert isinstance(limits["http"], type)
