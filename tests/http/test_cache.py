"""The reference cache: bounded, and a read never returns the state before a finished write."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import text

from rms.app import create_app
from rms.db.engine import create_db_engine
from rms.http.cache import ReferenceCache
from rms.settings import load_settings
from tests.live_server import live_server

ROUNDS = 30
TOKEN = "cache-race-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_entries_and_bytes_are_bounded_and_evict() -> None:
    cache = ReferenceCache(60, max_entries=3, max_bytes=10_000)
    for n in range(10):
        cache.get_or_load("settings", n, lambda n=n: {"n": n})
    assert len(cache) == 3
    big = "x" * 4_000
    for n in range(5):
        cache.get_or_load("settings", ("big", n), lambda: big)
    assert cache.size_bytes <= 10_000 and len(cache) <= 3
    # Larger than the whole budget: served, not kept.
    huge = "y" * 20_000
    assert cache.get_or_load("settings", "huge", lambda: huge) == huge
    assert cache.get_or_load("settings", "huge", lambda: "reloaded") == "reloaded"


def test_entries_expire_after_the_ttl() -> None:
    clock = Clock()
    cache = ReferenceCache(30, clock=clock)
    assert cache.get_or_load("holidays", "k", lambda: 1) == 1
    clock.now += 29
    assert cache.get_or_load("holidays", "k", lambda: 2) == 1
    clock.now += 2
    assert cache.get_or_load("holidays", "k", lambda: 3) == 3


def test_a_reader_that_loaded_before_the_commit_cannot_put_the_old_state_back() -> None:
    """The interleaving that went stale before: load old, write commits, then store."""
    cache = ReferenceCache(300)
    loaded = threading.Event()
    go_on = threading.Event()
    state = {"name": "old"}

    def slow_load() -> str:
        value = state["name"]
        loaded.set()
        go_on.wait(5)
        return value

    with ThreadPoolExecutor(1) as pool:
        reader = pool.submit(cache.get_or_load, "risk-groups", "one", slow_load)
        assert loaded.wait(5)
        with cache.writing("risk-groups"):
            state["name"] = "new"  # the write commits ...
        go_on.set()  # ... and only then the reader finishes with what it read before
        assert reader.result(5) == "old"
    # The next read, which starts after the write answered, sees the new state.
    assert cache.get_or_load("risk-groups", "one", lambda: state["name"]) == "new"


def test_a_failed_write_still_outdates_the_entries() -> None:
    cache = ReferenceCache(300)
    cache.get_or_load("settings", "k", lambda: "before")
    with pytest.raises(RuntimeError), cache.writing("settings"):
        raise RuntimeError("COMMIT lost: it may have landed")
    assert cache.get_or_load("settings", "k", lambda: "after") == "after"


@pytest.fixture
def service_url(migrated_url: str) -> str:
    """A fresh, migrated database of ``backend`` that threads can share (no test rollback)."""
    return migrated_url


def test_concurrent_readers_never_see_a_write_that_answered_undone(service_url: str) -> None:
    """Writer updates while readers read, 30 rounds, through a real server: 0 stale reads.

    A read is stale when it *started* after a write had answered and still returns the
    version from before that write. The TTL is long (300 s), so a stale entry would stay.
    """
    settings = load_settings(
        database_url=service_url, rms_api_token=TOKEN, reference_cache_ttl_seconds=300
    )
    app = create_app(settings)
    stale: list[tuple[int, int]] = []
    reads = 0
    with (
        live_server(app) as base_url,
        httpx.Client(base_url=base_url, headers=AUTH, timeout=30) as http,
    ):
        row = http.post("/api/risk-groups", json={"name": "race 0"}).json()
        acknowledged = row["version"]  # the newest version whose write has answered
        lock = threading.Lock()
        stop = threading.Event()

        def reader() -> int:
            nonlocal reads
            with httpx.Client(base_url=base_url, headers=AUTH, timeout=30) as own:
                count = 0
                while not stop.is_set():
                    with lock:
                        floor = acknowledged
                    got = own.get(f"/api/risk-groups/{row['id']}").json()["version"]
                    count += 1
                    if got < floor:
                        with lock:
                            stale.append((floor, got))
                return count

        with ThreadPoolExecutor(4) as pool:
            readers = [pool.submit(reader) for _ in range(4)]
            version = row["version"]
            for n in range(1, ROUNDS + 1):
                response = http.patch(
                    f"/api/risk-groups/{row['id']}", json={"version": version, "name": f"race {n}"}
                )
                assert response.status_code == 200, response.text
                version = response.json()["version"]
                with lock:
                    acknowledged = version
                time.sleep(0.01)  # let the readers read between writes
            stop.set()
            reads = sum(r.result(60) for r in readers)
        final = http.get(f"/api/risk-groups/{row['id']}").json()
    assert reads >= ROUNDS  # the readers did read throughout
    assert stale == []
    assert final["name"] == f"race {ROUNDS}"


def test_a_change_by_another_process_shows_within_the_ttl(service_url: str) -> None:
    settings = load_settings(database_url=service_url, rms_api_token=TOKEN)
    app = create_app(settings)
    clock = Clock()
    app.state.cache = ReferenceCache(settings.reference_cache_ttl_seconds, clock=clock)
    with live_server(app) as base_url, httpx.Client(base_url=base_url, headers=AUTH) as http:
        row = http.post("/api/risk-groups", json={"name": "before"}).json()
        assert http.get(f"/api/risk-groups/{row['id']}").json()["name"] == "before"
        other = create_db_engine(load_settings(database_url=service_url))
        with other.begin() as conn:  # e.g. a migration with --replace, or SQL by hand
            conn.execute(
                text("UPDATE risk_group SET name = :n WHERE id = :i"),
                {"n": "after", "i": row["id"]},
            )
        other.dispose()
        assert http.get(f"/api/risk-groups/{row['id']}").json()["name"] == "before"  # cached
        clock.now += settings.reference_cache_ttl_seconds + 0.1
        assert http.get(f"/api/risk-groups/{row['id']}").json()["name"] == "after"
    assert settings.reference_cache_ttl_seconds == 30  # the stated bound (docs/configuration)
