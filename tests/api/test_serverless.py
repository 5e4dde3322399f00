"""The service in front of a pausing database (the Aurora emulator), on PostgreSQL.

Times are scaled to seconds: the emulator pauses after 2 s without clients and takes 3 s
to resume; the service releases idle connections after 1 s. Tests assert behaviour
(status codes, counts, states); the timing figures are measured by bench/ instead.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from rms.app import create_app
from rms.db.engine import create_db_engine
from rms.devtools.aurora_sim import AuroraSim, aurora_sim
from rms.devtools.pgcluster import PgCluster
from rms.schema.migrations import upgrade
from rms.settings import Settings, load_settings
from tests.live_server import live_server

# A pausing, restarting database: fault injection (make test-fast leaves it out).
pytestmark = pytest.mark.faults

PAUSE_AFTER, RESUME_DELAY, IDLE_RELEASE = 2.0, 3.0, 1.0


#: The services here sign in with a fixed local token (sign-in is not what they test).
TOKEN = "serverless-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _http(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=30, headers=AUTH)


def _service_settings(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": url,
        "db_idle_release_seconds": IDLE_RELEASE,
        "db_cold_start_budget_seconds": 15,
        "db_connect_timeout_seconds": 10,
        "db_retry_initial_backoff_seconds": 0.05,
        "db_retry_max_backoff_seconds": 0.3,
        "reference_cache_ttl_seconds": 0,
        "rms_api_token": TOKEN,
        **overrides,
    }
    return load_settings(**values)


@pytest.fixture
def sim(pg_migrated: str) -> Iterator[AuroraSim]:
    with aurora_sim(pg_migrated, pause_after=PAUSE_AFTER, resume_delay=RESUME_DELAY) as proxy:
        yield proxy


@pytest.fixture
def service(sim: AuroraSim, pg_migrated: str) -> Iterator[str]:
    app = create_app(_service_settings(sim.proxied_url(pg_migrated)))
    with live_server(app) as base_url:
        yield base_url


def _wait_paused(sim: AuroraSim, poll: Callable[[], None] | None = None) -> None:
    deadline = time.monotonic() + IDLE_RELEASE + PAUSE_AFTER + 5
    while sim.state().state.value != "paused":
        assert time.monotonic() < deadline, f"never paused: {sim.state()}"
        if poll is not None:
            poll()
        time.sleep(0.1)


def test_idle_service_lets_the_database_pause_despite_health_checks(
    sim: AuroraSim, service: str
) -> None:
    with _http(service) as http:
        assert http.get("/api/accounts").status_code == 200
        assert sim.state().open_connections >= 1
        resumes = sim.state().resumes
        samples = []

        def poll() -> None:
            assert http.get("/health/live").status_code == 200
            assert http.get("/health/ready").status_code == 200
            samples.append(sim.state())

        _wait_paused(sim, poll)
        for _ in range(6):  # keep polling every 500 ms while paused
            poll()
            time.sleep(0.5)
        paused = [s for s in samples if s.state.value == "paused"]
        assert paused and all(s.open_connections == 0 for s in paused)
        assert sim.state().state.value == "paused"
        assert sim.state().resumes == resumes  # health checks never woke it


def test_requests_across_three_pause_cycles_never_fail(sim: AuroraSim, service: str) -> None:
    failures: list[str] = []
    statuses = 0
    with _http(service) as http:
        for cycle in range(3):
            http.get("/api/accounts")
            _wait_paused(sim)
            before = sim.state().resumes
            first = http.get("/api/summary", params={"month": "2024-01"})
            assert first.status_code == 200, first.text  # the first request after a pause
            assert sim.state().resumes == before + 1
            for i in range(33):
                response = (
                    http.post("/api/accounts", json={"name": f"cycle {cycle} #{i}"})
                    if i % 3 == 0
                    else http.get("/api/accounts", params={"limit": 5})
                )
                statuses += 1
                if response.status_code >= 400:
                    failures.append(f"{response.status_code} {response.text}")
    assert statuses + 3 >= 100 and failures == []
    assert sim.state().pauses >= 3


def _load(base_url: str, stop: threading.Event, created: list[str], failed: list[str]) -> None:
    with _http(base_url) as http:
        while not stop.is_set():
            account_id = f"acct-{uuid.uuid4()}"
            write = http.post("/api/accounts", json={"id": account_id, "name": account_id})
            read = http.get("/api/accounts", params={"limit": 3})
            for response in (write, read):
                if response.status_code >= 400:
                    failed.append(f"{response.request.method} {response.status_code}")
            if write.status_code == 201:
                created.append(account_id)


def _count_accounts(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        total, distinct = conn.execute(
            text("SELECT count(*), count(DISTINCT name) FROM accounts")
        ).one()
    engine.dispose()
    return int(total), int(distinct)


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_connections_dropped_mid_load(sim: AuroraSim, service: str, pg_migrated: str) -> None:
    stop, created, failed = threading.Event(), [], []
    dropped: list[int] = []
    with ThreadPoolExecutor(4) as pool:
        for _ in range(4):
            pool.submit(_load, service, stop, created, failed)
        for _ in range(3):
            sim.wait_for(lambda s: s.open_connections >= 1, timeout=15)
            before = len(created)
            dropped.append(sim.drop_all())
            _wait_until(
                lambda mark=before: len(created) >= mark + 5,
                "writes did not resume after a drop",
            )
        stop.set()
    assert all(n >= 1 for n in dropped), dropped  # each drop cut live connections
    assert sim.state().connections_dropped == sum(dropped)
    assert failed == []  # (writes resumed after every drop: checked above, while loading)
    total, distinct = _count_accounts(pg_migrated)
    assert total == distinct == len(set(created))  # every write exactly once
    with _http(service) as http:
        assert http.get("/health").json()["status"] == "ok"  # recovered without restart


def test_postgresql_restart_mid_load() -> None:
    # Durable settings: the suite's fast clusters run with fsync and synchronous_commit off,
    # and an immediate-mode restart would then lose acknowledged commits (a server fact,
    # not the service's doing).
    durable = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
    cluster = PgCluster(extra_conf=durable).start()
    try:
        url = cluster.url()
        engine = create_db_engine(load_settings(database_url=url))
        upgrade(engine)
        engine.dispose()
        app = create_app(_service_settings(url))
        stop, created, failed = threading.Event(), [], []
        with live_server(app) as base_url, ThreadPoolExecutor(3) as pool:
            for _ in range(3):
                pool.submit(_load, base_url, stop, created, failed)
            time.sleep(0.8)
            cluster.restart()
            time.sleep(1.5)
            stop.set()
        assert failed == []
        total, distinct = _count_accounts(url)
        assert total == distinct == len(set(created)) > 0
    finally:
        cluster.stop()


def test_wrong_credentials_fail_fast_with_a_clear_problem(pg_migrated: str) -> None:
    url = pg_migrated.replace("postgres@", "nobody_here@")
    app = create_app(_service_settings(url))
    with (
        live_server(app) as base_url,
        httpx.Client(base_url=base_url, timeout=30, headers=AUTH) as http,
    ):
        response = http.get("/api/accounts")
        assert response.status_code == 503
        body = response.json()
        assert body["title"] == "Database authentication failed"
        assert "nobody_here" in body["detail"] and "Traceback" not in response.text
        assert response.headers["Retry-After"]
        # No retry loop: one attempt, plus at most one after re-reading the credentials.
        assert app.state.db.observer.connect_attempts._value.get() <= 2
        assert http.get("/health/ready").status_code == 503


def test_past_the_budget_requests_get_503_with_retry_after(pg_migrated: str) -> None:
    with aurora_sim(pg_migrated, pause_after=0.5, resume_delay=8, mode="refuse") as proxy:
        proxy.pause_now()
        settings = _service_settings(
            proxy.proxied_url(pg_migrated), db_cold_start_budget_seconds=1.0
        )
        app = create_app(settings)
        with (
            live_server(app) as base_url,
            httpx.Client(base_url=base_url, timeout=30, headers=AUTH) as http,
        ):
            response = http.get("/api/accounts")
        assert response.status_code == 503
        assert int(response.headers["Retry-After"]) >= 1
        body = response.json()
        assert body["status"] == 503 and "did not accept a connection" in body["detail"]
