"""The pausing-Aurora emulator in front of the suite's real PostgreSQL, with times in seconds.

Bounds on elapsed times are the emulator's own behaviour (it holds a connection for exactly
the resume delay), so they are asserted with a generous upper margin for slow machines.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from rms.devtools.aurora_sim import (
    AuroraSim,
    Phase,
    SimMode,
    aurora_sim,
    parse_host_port,
    parse_upstream_url,
)
from rms.devtools.pgcluster import free_port
from rms.errors import InvalidInputError
from tests.rms_cli import run_rms
from tests.signals import default_sigint

PAUSE = 1.0
RESUME = 1.5


@pytest.fixture(scope="module")
def upstream(pg_server_url: str) -> tuple[str, int]:
    url = make_url(pg_server_url)
    return str(url.host), int(url.port or 5432)


@pytest.fixture
def sim(upstream: tuple[str, int]) -> Iterator[AuroraSim]:
    """An emulator in hold mode with the scaled-down delays."""
    with aurora_sim(upstream, pause_after=PAUSE, resume_delay=RESUME) as running:
        yield running


def dsn(port: int, *, timeout: int = 10, app_name: str = "aurora-sim-test") -> str:
    return (
        f"host=127.0.0.1 port={port} user=postgres dbname=postgres "
        f"connect_timeout={timeout} application_name={app_name}"
    )


def select_one(port: int, **kwargs: Any) -> None:
    with psycopg.connect(dsn(port, **kwargs)) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def http(sim: AuroraSim, method: str, path: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(f"http://127.0.0.1:{sim.control_port}{path}", method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


# Pass-through and pausing ---------------------------------------------------------------


def test_queries_pass_through_and_connections_are_counted(sim: AuroraSim) -> None:
    with psycopg.connect(dsn(sim.port)) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        big = conn.execute("SELECT repeat('x', 1000000)").fetchone()
        assert big is not None and len(big[0]) == 1_000_000
        state = sim.state()
        assert state.state == "running"
        assert (state.open_connections, state.upstream_connections) == (1, 1)
    state = sim.wait_for(lambda s: s.open_connections == 0, timeout=2)
    assert state.upstream_connections == 0
    assert state.connections_accepted == 1


def test_proxied_url_keeps_everything_but_the_address(sim: AuroraSim, pg_server_url: str) -> None:
    proxied = make_url(sim.proxied_url(pg_server_url))
    original = make_url(pg_server_url)
    assert (proxied.host, proxied.port) == ("127.0.0.1", sim.port)
    assert (proxied.drivername, proxied.username, proxied.database) == (
        original.drivername,
        original.username,
        original.database,
    )
    libpq = make_url(proxied.render_as_string(False)).set(drivername="postgresql")
    with psycopg.connect(libpq.render_as_string(False)) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert sim.state().connections_accepted == 1


def test_pauses_after_pause_after_with_no_client(sim: AuroraSim) -> None:
    # How close to pause_after the pause comes is measured in bench/bench_aurora_sim.py.
    select_one(sim.port)
    state = sim.wait_for_state("paused", timeout=PAUSE + 3)
    assert state.pauses == 1
    assert state.open_connections == 0
    assert state.upstream_connections == 0
    assert state.last_pause_at is not None


def test_never_pauses_while_an_idle_connection_is_open(sim: AuroraSim) -> None:
    with psycopg.connect(dsn(sim.port)) as conn:
        time.sleep(PAUSE * 3)
        state = sim.state()
        assert (state.state, state.pauses) == (Phase.RUNNING, 0)
        assert conn.execute("SELECT 1").fetchone() == (1,)  # the idle connection still works
    state = sim.wait_for_state("paused", timeout=PAUSE + 3)
    assert state.pauses == 1


# Resuming ---------------------------------------------------------------------------------


def test_hold_mode_holds_a_connection_until_resumed(sim: AuroraSim) -> None:
    sim.wait_for_state("paused", timeout=PAUSE + 3)
    outcome: dict[str, Any] = {}

    def connect() -> None:
        try:
            select_one(sim.port)
        except psycopg.Error as exc:  # pragma: no cover - reported by the assertion below
            outcome["error"] = exc
        outcome["done"] = True

    client = threading.Thread(target=connect)
    client.start()
    during = sim.wait_for(lambda s: s.state == "resuming", timeout=2)
    assert during.held_connections == 1
    assert during.open_connections == 1
    assert during.upstream_connections == 0  # nothing forwarded while resuming
    client.join(timeout=RESUME + 10)

    assert outcome == {"done": True}
    state = sim.state()
    assert state.state == "running"
    assert (state.pauses, state.resumes) == (1, 1)
    assert state.last_resume_at is not None and state.last_pause_at is not None
    assert state.last_resume_at > state.last_pause_at
    # The sim's own clock: the resume took the whole resume delay (how long a held client
    # really waits is measured in bench/bench_aurora_sim.py).
    assert (state.last_resume_at - during.state_since).total_seconds() >= RESUME


def test_any_tcp_connection_wakes_it_even_without_authenticating(sim: AuroraSim) -> None:
    sim.wait_for_state("paused", timeout=PAUSE + 3)
    with socket.create_connection(("127.0.0.1", sim.port), timeout=5):
        pass
    state = sim.wait_for(lambda s: s.resumes == 1, timeout=2)
    assert state.state in ("resuming", "running")
    sim.wait_for_state("running", timeout=RESUME + 2)
    # Nobody stayed, so it goes back to sleep after pause_after.
    state = sim.wait_for_state("paused", timeout=PAUSE + 3)
    assert state.pauses == 2


def test_refuse_mode_refuses_until_resumed(upstream: tuple[str, int]) -> None:
    with aurora_sim(upstream, pause_after=PAUSE, resume_delay=RESUME, mode=SimMode.REFUSE) as sim:
        sim.wait_for_state("paused", timeout=PAUSE + 3)
        with pytest.raises(psycopg.OperationalError):
            select_one(sim.port)
        with pytest.raises(psycopg.OperationalError):
            select_one(sim.port)  # still resuming: refused again, no second resume
        state = sim.state()
        assert state.state == "resuming"
        assert (state.resumes, state.connections_refused, state.open_connections) == (1, 2, 0)

        sim.wait_for_state("running", timeout=RESUME + 3)
        select_one(sim.port)
        state = sim.state()
        assert state.state == "running"
        assert (state.pauses, state.resumes, state.connections_refused) == (1, 1, 2)


# Drops and forced pauses -----------------------------------------------------------------


def _backends(upstream: tuple[str, int], app_name: str) -> int:
    direct = f"host={upstream[0]} port={upstream[1]} user=postgres dbname=postgres"
    with psycopg.connect(direct) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (app_name,)
        ).fetchone()
        assert row is not None
        return int(row[0])


def _wait_backends(upstream: tuple[str, int], app_name: str, expected: int) -> None:
    deadline = time.monotonic() + 5
    while _backends(upstream, app_name) != expected:
        assert time.monotonic() < deadline, f"{app_name}: backends never reached {expected}"
        time.sleep(0.05)


def test_drop_all_closes_both_sides_and_keeps_serving(
    sim: AuroraSim, upstream: tuple[str, int]
) -> None:
    first = psycopg.connect(dsn(sim.port, app_name="sim-drop"))
    second = psycopg.connect(dsn(sim.port, app_name="sim-drop"))
    try:
        _wait_backends(upstream, "sim-drop", 2)
        assert sim.drop_all() == 2
        state = sim.state()
        assert (state.open_connections, state.connections_dropped) == (0, 2)
        for conn in (first, second):
            with pytest.raises(psycopg.OperationalError):
                conn.execute("SELECT 1")
        _wait_backends(upstream, "sim-drop", 0)  # the server side is gone too
    finally:
        first.close()
        second.close()
    select_one(sim.port)
    assert sim.state().state == "running"


def test_pause_now_drops_connections_and_pauses(sim: AuroraSim) -> None:
    with psycopg.connect(dsn(sim.port)) as conn:
        assert sim.pause_now() is True
        state = sim.state()
        assert (state.state, state.pauses, state.open_connections) == ("paused", 1, 0)
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1")
    assert sim.pause_now() is False
    assert sim.state().pauses == 1


# The HTTP control interface ---------------------------------------------------------------


def test_http_control_interface(sim: AuroraSim) -> None:
    status, body = http(sim, "GET", "/state")
    assert status == 200
    assert body["state"] == "running"
    assert body["mode"] == "hold"
    assert body["pause_after"] == PAUSE
    for key in ("open_connections", "pauses", "resumes", "connections_accepted"):
        assert body[key] == 0
    assert body["last_pause_at"] is None
    assert body["state_since"].endswith("Z")

    with psycopg.connect(dsn(sim.port)) as conn:
        status, body = http(sim, "POST", "/drop")
        assert (status, body["dropped"], body["state"]["open_connections"]) == (200, 1, 0)
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1")

    status, body = http(sim, "POST", "/pause")
    assert (status, body["paused"], body["state"]["state"]) == (200, True, "paused")
    status, body = http(sim, "GET", "/state")
    assert body["pauses"] == 1
    assert body["last_pause_at"].endswith("Z")
    assert http(sim, "GET", "/drop")[0] == 405
    assert http(sim, "GET", "/nowhere")[0] == 404


# Parsing and the CLI ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://127.0.0.1:5432", ("127.0.0.1", 5432)),
        ("postgresql://db.example", ("db.example", 5432)),
        ("postgres://u:pw@h:7/rms", ("h", 7)),
        ("postgresql+psycopg://u@[::1]:6000/rms", ("::1", 6000)),
    ],
)
def test_parse_upstream_url(url: str, expected: tuple[str, int]) -> None:
    assert parse_upstream_url(url) == expected


@pytest.mark.parametrize(
    "url", ["http://h:5432", "postgresql://h:notaport", "postgresql://:5432", "127.0.0.1"]
)
def test_parse_upstream_url_rejects(url: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_upstream_url(url)


def test_parse_host_port() -> None:
    assert parse_host_port("127.0.0.1:6432", what="--listen") == ("127.0.0.1", 6432)
    assert parse_host_port("[::1]:0", what="--listen") == ("::1", 0)
    for bad in ("6432", "host:", "::1:6432", "h:70000", "h:x"):
        with pytest.raises(InvalidInputError):
            parse_host_port(bad, what="--listen")


def _invoke(*args: str) -> tuple[int, str]:
    result = run_rms("dev", "aurora-sim", *args)
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--upstream", "http://127.0.0.1:5432"], "--upstream must be a postgresql://"),
        (["--upstream", "postgresql://h:port"], "--upstream is not a valid URL"),
        (["--upstream", "postgresql://h", "--listen", "6432"], "--listen must be HOST:PORT"),
        (["--upstream", "postgresql://h", "--control", "x:y"], "--control has an invalid port"),
    ],
)
def test_cli_rejects_bad_addresses_in_one_line(args: list[str], message: str) -> None:
    code, stderr = _invoke(*args)
    assert code == 2
    assert stderr.strip().splitlines() == [stderr.strip()]
    assert stderr.startswith(f"error: {message}")


@pytest.mark.parametrize("which", ["listen", "control"])
def test_cli_reports_a_port_in_use_in_one_line(which: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        listen = f"127.0.0.1:{port if which == 'listen' else free_port()}"
        control = f"127.0.0.1:{port if which == 'control' else free_port()}"
        code, stderr = _invoke(
            "--upstream", "postgresql://127.0.0.1:1", "--listen", listen, "--control", control
        )
    assert code == 2
    assert len(stderr.strip().splitlines()) == 1
    assert stderr.startswith(f"error: cannot listen on 127.0.0.1:{port} (--{which})")


def test_cli_runs_logs_state_changes_and_stops_cleanly_on_ctrl_c(
    upstream: tuple[str, int],
) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from rms.devtools.cli import app; app()",
            "aurora-sim",
            "--upstream",
            f"postgresql://{upstream[0]}:{upstream[1]}",
            "--listen",
            f"127.0.0.1:{port}",
            "--pause-after",
            "0.5",
            "--resume-delay",
            "0.3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=default_sigint,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert f"running, listening on 127.0.0.1:{port}" in first
        assert f"control http://127.0.0.1:{port + 1}" in first
        assert "-> paused" in proc.stdout.readline()
        with urllib.request.urlopen(f"http://127.0.0.1:{port + 1}/state", timeout=5) as resp:
            assert json.loads(resp.read())["state"] == "paused"
        select_one(port)  # wakes it through the real command
        assert "paused -> resuming" in proc.stdout.readline()
        assert "resuming -> running" in proc.stdout.readline()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "Traceback" not in err
    assert out.strip().splitlines()[-1].endswith("aurora-sim: stopped")
