"""Waking the database ahead of the data: which requests start a wake, and how often.

The first tests inject the waker (a clock the test moves, and a wake that only counts), so
they run on SQLite without sleeping. The last ones put the service in front of the Aurora
emulator on PostgreSQL, with its pause delay scaled down to a second: a page view after a
pause starts exactly one resume, holds nothing afterwards, and the database pauses again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rms.app import create_app
from rms.db.engine import create_db_engine
from rms.db.wake import WakeAhead
from rms.devtools.aurora_sim import AuroraSim, aurora_sim
from rms.schema.migrations import upgrade
from rms.settings import Settings, load_settings
from tests.live_server import live_server

TOKEN = "wake-ahead-test-token-0123456789"
PAUSE = 300.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Wakes:
    """A wake that only counts; ``gate`` holds it running until set."""

    def __init__(self) -> None:
        self.calls = 0
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self) -> None:
        self.calls += 1
        assert self.gate.wait(10)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def wakes() -> Wakes:
    return Wakes()


@pytest.fixture
def waker(clock: Clock, wakes: Wakes) -> WakeAhead:
    return WakeAhead(wakes, pause_seconds=PAUSE, clock=clock)


@pytest.fixture
def web(tmp_path: Path, waker: WakeAhead) -> Iterator[TestClient]:
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'rms.db'}", rms_api_token=TOKEN, rms_state_dir=tmp_path
    )
    engine = create_db_engine(settings)
    upgrade(engine)
    engine.dispose()
    app: FastAPI = create_app(settings, wake_ahead=waker)
    with TestClient(app, base_url="http://localhost", follow_redirects=False) as client:
        yield client


def _settled(waker: WakeAhead) -> None:
    assert waker.wait(10), "the wake did not finish"


def test_a_page_view_after_a_pause_starts_exactly_one_wake(
    web: TestClient, waker: WakeAhead, wakes: Wakes
) -> None:
    assert web.get("/auth/login").status_code == 200  # the sign-in page
    _settled(waker)
    assert (waker.wakes, wakes.calls) == (1, 1)


def test_probes_the_api_and_static_files_never_wake(
    web: TestClient, waker: WakeAhead, wakes: Wakes
) -> None:
    for path in ("/health/live", "/health/ready", "/metrics", "/static/app.css"):
        web.get(path)
    web.get("/api/accounts", headers={"Authorization": f"Bearer {TOKEN}"})
    web.post("/auth/login", data={"token": "wrong"})
    _settled(waker)
    assert (waker.wakes, wakes.calls) == (0, 0)


def test_a_second_page_view_within_the_interval_does_not_wake_again(
    web: TestClient, waker: WakeAhead, wakes: Wakes, clock: Clock
) -> None:
    browser = {"Accept": "text/html"}
    assert web.get("/", headers=browser).status_code == 303  # to the sign-in page; wakes
    _settled(waker)
    clock.now += 10
    assert web.get("/auth/login").status_code == 200
    clock.now += PAUSE - 11
    assert web.get("/auth/login").status_code == 200
    _settled(waker)
    assert wakes.calls == 1
    clock.now += 2  # a whole pause delay after the wake, and nothing seen since
    assert web.get("/auth/login").status_code == 200
    _settled(waker)
    assert wakes.calls == 2


def test_a_database_seen_recently_is_not_woken(
    web: TestClient, waker: WakeAhead, wakes: Wakes, clock: Clock
) -> None:
    waker.seen()  # a pool event: a request used the database
    clock.now += PAUSE - 1
    web.get("/auth/login")
    assert wakes.calls == 0
    clock.now += 2
    web.get("/auth/login")
    _settled(waker)
    assert wakes.calls == 1


def test_one_wake_at_a_time(clock: Clock, wakes: Wakes) -> None:
    waker = WakeAhead(wakes, pause_seconds=PAUSE, clock=clock)
    wakes.gate.clear()
    assert waker.page_view()
    clock.now += 10 * PAUSE  # even past the interval, not while one is running
    assert not waker.page_view()
    assert waker.running
    wakes.gate.set()
    _settled(waker)
    assert waker.page_view()
    _settled(waker)
    assert wakes.calls == 2


def test_an_open_connection_means_awake(clock: Clock, wakes: Wakes) -> None:
    waker = WakeAhead(wakes, pause_seconds=PAUSE, clock=clock, open_connections=lambda: 1)
    assert not waker.page_view()
    assert wakes.calls == 0


def test_a_failed_wake_is_counted_and_not_raised(clock: Clock) -> None:
    def fail() -> None:
        raise OSError("no route to host")

    waker = WakeAhead(fail, pause_seconds=PAUSE, clock=clock)
    assert waker.page_view()
    _settled(waker)
    assert waker.failures == 1


# In front of the Aurora emulator ----------------------------------------------------------

PAUSE_AFTER, RESUME_DELAY = 1.0, 1.5


@pytest.fixture
def sim(pg_migrated: str) -> Iterator[AuroraSim]:
    with aurora_sim(pg_migrated, pause_after=PAUSE_AFTER, resume_delay=RESUME_DELAY) as proxy:
        yield proxy


def _aurora_settings(url: str) -> Settings:
    return load_settings(
        database_url=url,
        db_auto_pause_seconds=PAUSE_AFTER,
        db_idle_release_seconds=0.5,
        db_cold_start_budget_seconds=15,
        db_retry_initial_backoff_seconds=0.05,
        db_retry_max_backoff_seconds=0.3,
        reference_cache_ttl_seconds=0,
        rms_api_token=TOKEN,
    )


def test_a_page_view_wakes_the_paused_database_once_and_lets_it_pause_again(
    sim: AuroraSim, pg_migrated: str
) -> None:
    app = create_app(_aurora_settings(sim.proxied_url(pg_migrated)))
    waker: WakeAhead = app.state.wake_ahead
    with live_server(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        sim.wait_for_state("paused", timeout=10)
        before = sim.state()
        for path in ("/health/live", "/health/ready"):
            assert http.get(path).status_code == 200
        assert sim.state().resumes == before.resumes  # probes never wake it
        assert waker.wakes == 0

        assert http.get("/auth/login").status_code == 200  # answered without the database
        assert http.get("/auth/login").status_code == 200  # a second view: no second wake
        assert waker.wait(15)
        assert (waker.wakes, waker.failures) == (1, 0)
        woken = sim.state()
        assert woken.resumes == before.resumes + 1
        assert woken.state.value == "running"
        # Nothing held: the wake's connection was closed, not pooled (the emulator counts
        # the TCP connections it carries).
        sim.wait_for(lambda s: s.open_connections == 0 and s.upstream_connections == 0, 5)

        # Nobody looks any more: the database pauses again, and stays paused.
        again = sim.wait_for(lambda s: s.pauses > woken.pauses, timeout=10)
        assert again.state.value == "paused"
        assert http.get("/health/ready").status_code == 200
        assert sim.state().resumes == woken.resumes
