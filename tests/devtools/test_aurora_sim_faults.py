"""The emulator's network faults: black hole, heal, failover, delay, cut and reset.

Upstreams are small TCP servers of the test's own (one echoes, one sends a tagged stream),
so each fault is seen byte for byte; PostgreSQL behind the faults is covered by
``tests/faults``.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from rms.devtools.aurora_sim import AuroraSim, aurora_sim
from rms.errors import InvalidInputError
from tests.devtools.test_aurora_sim import http

Address = tuple[str, int]


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        tag = self.server.tag  # type: ignore[attr-defined]
        while data := self.request.recv(65536):
            self.request.sendall(tag + data)


@pytest.fixture
def echo_servers() -> Iterator[tuple[Address, Address]]:
    """Two echo servers that prefix their answers with A: and B:."""
    servers = []
    for tag in (b"A:", b"B:"):
        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
        server.daemon_threads = True
        server.tag = tag  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    try:
        yield (servers[0].server_address[:2], servers[1].server_address[:2])  # type: ignore[return-value]
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@pytest.fixture
def proxy(echo_servers: tuple[Address, Address]) -> Iterator[AuroraSim]:
    first, second = echo_servers
    with aurora_sim(first, pause_after=None, failover_upstream=second) as sim:
        yield sim


def _client(sim: AuroraSim, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", sim.port), timeout=timeout)


def _ask(sock: socket.socket, data: bytes, expected: int) -> bytes:
    sock.sendall(data)
    got = b""
    while len(got) < expected:
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


def test_never_pauses_without_a_pause_delay(proxy: AuroraSim) -> None:
    state = proxy.state()
    assert state.pause_after is None and state.state == "running"
    with _client(proxy) as sock:
        assert _ask(sock, b"hi", 4) == b"A:hi"


def test_black_hole_swallows_both_ways_without_reset_then_heals(proxy: AuroraSim) -> None:
    held = _client(proxy)
    assert _ask(held, b"one", 5) == b"A:one"
    assert proxy.blackhole() == 1
    held.settimeout(0.5)
    held.sendall(b"lost")
    with pytest.raises(TimeoutError):  # no answer, and neither EOF nor RST
        held.recv(100)
    newcomer = _client(proxy)  # accepted by the kernel, then silence
    newcomer.settimeout(0.5)
    newcomer.sendall(b"also lost")
    with pytest.raises(TimeoutError):
        newcomer.recv(100)
    state = proxy.wait_for(lambda s: s.bytes_swallowed >= len(b"lost" + b"also lost"), 5)
    assert state.blackhole and state.open_connections == 2 and state.connections_reset == 0
    proxy.heal()
    with _client(proxy) as sock:
        assert _ask(sock, b"back", 6) == b"A:back"
    held.settimeout(0.5)
    with pytest.raises(TimeoutError):  # the old ones stay black-holed: their bytes are gone
        held.recv(100)
    held.close()
    newcomer.close()


def test_failover_drops_everything_and_points_at_the_other_upstream(proxy: AuroraSim) -> None:
    old = _client(proxy)
    assert _ask(old, b"x", 3) == b"A:x"
    proxy.blackhole()
    target = proxy.failover()
    assert old.recv(100) == b""  # dropped
    old.close()
    state = proxy.state()
    assert (state.failovers, state.blackhole, state.upstream) == (
        1,
        False,
        f"{target[0]}:{target[1]}",
    )
    with _client(proxy) as sock:
        assert _ask(sock, b"y", 3) == b"B:y"
    proxy.failover()  # and back
    with _client(proxy) as sock:
        assert _ask(sock, b"z", 3) == b"A:z"


def test_delay_keeps_every_byte_in_order(proxy: AuroraSim) -> None:
    proxy.set_delay(0.05)
    assert proxy.state().delay_ms == 50
    with _client(proxy) as sock:
        for n in range(5):
            message = f"message {n}".encode()
            assert _ask(sock, message, len(message) + 2) == b"A:" + message
    proxy.set_delay(0)
    with pytest.raises(InvalidInputError):
        proxy.set_delay(61)


def test_cut_closes_mid_answer_and_reset_resets(proxy: AuroraSim) -> None:
    cut = _client(proxy)
    assert _ask(cut, b"warm", 6) == b"A:warm"
    assert proxy.cut_all(after_bytes=3) == 1
    assert _ask(cut, b"0123456789", 12) == b"A:0"  # three bytes of twelve, then EOF
    cut.close()
    reset = _client(proxy)
    assert _ask(reset, b"warm", 6) == b"A:warm"
    assert proxy.reset_all() == 1
    with pytest.raises(ConnectionResetError):
        reset.recv(100)
    reset.close()
    assert proxy.state().connections_reset == 1


def test_fault_endpoints_of_the_control_interface(proxy: AuroraSim) -> None:
    status, body = http(proxy, "POST", "/blackhole")
    assert (status, body["state"]["blackhole"]) == (200, True)
    status, body = http(proxy, "POST", "/heal")
    assert (status, body["state"]["blackhole"]) == (200, False)
    status, body = http(proxy, "POST", "/delay?ms=20")
    assert (status, body["state"]["delay_ms"]) == (200, 20)
    assert http(proxy, "POST", "/delay?ms=fast")[0] == 400
    status, body = http(proxy, "POST", "/failover")
    assert status == 200 and body["state"]["failovers"] == 1
    assert http(proxy, "POST", "/failover?upstream=nowhere")[0] == 400
    assert http(proxy, "POST", "/cut?after=10")[0] == 200
    status, body = http(proxy, "POST", "/reset")
    assert (status, body["reset"]) == (200, 0)
    assert http(proxy, "GET", "/blackhole")[0] == 405
    endpoints = http(proxy, "GET", "/")[1]["endpoints"]
    assert {"/blackhole", "/heal", "/failover", "/delay", "/cut", "/reset"} <= set(endpoints)


def test_failover_without_a_second_upstream_is_refused(
    echo_servers: tuple[Address, Address],
) -> None:
    with aurora_sim(echo_servers[0], pause_after=None) as sim, pytest.raises(InvalidInputError):
        sim.failover()
