"""Concurrent requests against a real server, on SQLite and PostgreSQL.

Each test starts the service under uvicorn (tests/live_server.py) over its own fresh,
migrated database, and sends requests from many threads at once, so the requests really
overlap in the server's worker threads and hold separate database connections (the
in-process TestClient runs one request at a time on one connection).

What must hold:

* 50 creates of the same id and content all answer with the one row (never 409, never a
  5xx), and there is one row;
* SQLite writers wait for each other: 50 different creates at once all succeed (no 503
  "database is locked");
* a trade created while another request deletes its account: the two cannot both win, so
  no round ends with an open trade on a deleted account.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from rms.app import create_app
from rms.settings import load_settings
from tests.api.conftest import bearer
from tests.live_server import live_server

CONCURRENT = 50
RACE_ROUNDS = 30
CREATES_PER_ROUND = 6


@pytest.fixture
def service(migrated_url: str) -> Iterator[httpx.Client]:
    """A client of the service running on a fresh database of ``backend``."""
    url = migrated_url
    settings = load_settings(database_url=url, reference_cache_ttl_seconds=0)
    limits = httpx.Limits(max_connections=CONCURRENT + 8, max_keepalive_connections=CONCURRENT)
    app = create_app(settings)
    with (
        live_server(app) as base_url,
        httpx.Client(base_url=base_url, timeout=60, limits=limits, headers=bearer(app)) as http,
    ):
        yield http


def _all_at_once(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run the calls in as many threads, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _created(http: httpx.Client, resource: str, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post(f"/api/{resource}", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


@pytest.fixture
def symbol(service: httpx.Client) -> dict[str, Any]:
    group = _created(service, "risk-groups", {"name": "Income"})
    return _created(
        service,
        "universe",
        {
            "symbol": "PDI",
            "distribution": 0.22,
            "distributions_per_year": 12,
            "last_price": 19.5,
            "risk_group_id": group["id"],
        },
    )


def test_same_id_account_creates_all_answer_with_the_one_row(service: httpx.Client) -> None:
    body = {"id": "acct-replayed", "name": "Replayed at once"}
    responses = _all_at_once([lambda: service.post("/api/accounts", json=body)] * CONCURRENT)
    assert _statuses(responses) == {201: CONCURRENT}, [r.text for r in responses[:3]]
    assert len({r.text for r in responses}) == 1  # the same row, version 1, every time
    listed = service.get("/api/accounts", params={"name": "Replayed at once"}).json()
    assert listed["total"] == 1 and listed["items"][0]["version"] == 1


def test_same_id_trade_creates_all_answer_with_the_one_row(
    service: httpx.Client, symbol: dict[str, Any]
) -> None:
    account = _created(service, "accounts", {"name": "Taxable"})
    body = {
        "id": "trade-replayed",
        "accountId": account["id"],
        "symbol": "pdi",
        "buy": 19.25,
        "quantity": 100,
        "buy_date": "2024-03-01T14:30:00Z",
    }
    responses = _all_at_once([lambda: service.post("/api/trades", json=body)] * CONCURRENT)
    assert _statuses(responses) == {201: CONCURRENT}, [r.text for r in responses[:3]]
    assert len({r.text for r in responses}) == 1
    row = responses[0].json()
    assert row["universeId"] == symbol["id"] and row["sell"] is None
    trades = service.get("/api/trades", params={"account_id": account["id"]}).json()
    assert trades["total"] == 1


def test_concurrent_writers_wait_for_each_other(service: httpx.Client) -> None:
    """Different creates, then updates of one row: no 503 and no lost update."""
    creates = [
        (lambda i=i: service.post("/api/accounts", json={"name": f"Account {i:02d}"}))
        for i in range(CONCURRENT)
    ]
    assert _statuses(_all_at_once(creates)) == {201: CONCURRENT}
    assert service.get("/api/accounts", params={"limit": 1}).json()["total"] == CONCURRENT

    setting = _created(service, "settings", {"key": "signed", "value": []})
    assert setting["version"] == 1

    def sign(name: str) -> httpx.Response:
        # Read, then write against the version read; on a stale version read again. (Each
        # writer's change differs: the same change against the same version would be
        # taken for a replay of the first, and answered with its result.)
        while True:
            current = service.get("/api/settings/signed").json()
            response = service.patch(
                "/api/settings/signed",
                json={"version": current["version"], "value": [*current["value"], name]},
            )
            if response.status_code != 409:
                return response

    writers = [f"writer {i}" for i in range(10)]
    signing = [lambda name=name: sign(name) for name in writers]
    assert _statuses(_all_at_once(signing)) == {200: len(writers)}
    final = service.get("/api/settings/signed").json()
    assert sorted(final["value"]) == writers and final["version"] == len(writers) + 1


def test_trade_create_racing_an_account_delete_never_leaves_a_live_trade(
    service: httpx.Client, symbol: dict[str, Any]
) -> None:
    outcomes: Counter[str] = Counter()
    for round_number in range(RACE_ROUNDS):
        account = _created(service, "accounts", {"name": f"Race {round_number}"})

        def create(account_id: str = account["id"]) -> httpx.Response:
            body = {
                "id": str(uuid.uuid4()),
                "accountId": account_id,
                "universeId": symbol["id"],
                "buy": 10.0,
                "quantity": 5,
                "buy_date": "2024-01-02",
            }
            return service.post("/api/trades", json=body)

        def delete(account_id: str = account["id"]) -> httpx.Response:
            return service.delete(f"/api/accounts/{account_id}")

        # The delete goes in the middle of the creates, so either side can come first.
        calls = [create] * (CREATES_PER_ROUND // 2) + [delete] + [create] * (CREATES_PER_ROUND // 2)
        responses = _all_at_once(calls)
        deleted = responses[CREATES_PER_ROUND // 2]
        creates = responses[: CREATES_PER_ROUND // 2] + responses[CREATES_PER_ROUND // 2 + 1 :]
        made = [r.json()["id"] for r in creates if r.status_code == 201]
        assert all(r.status_code in (201, 409) for r in creates), [r.text for r in creates]
        for refused in (r for r in creates if r.status_code == 409):
            assert refused.json()["field"] == "accountId", refused.text

        live_open = service.get(
            "/api/trades", params={"account_id": account["id"], "status": "open"}
        ).json()
        after = service.get(f"/api/accounts/{account['id']}", params={"include_deleted": True})
        if deleted.status_code == 200:
            # The delete won: it saw no open trade, and every create after it was refused.
            assert after.json()["deletedAt"] is not None
            assert live_open["total"] == 0, (round_number, made, live_open)
            assert made == []
            outcomes["delete first"] += 1
        else:
            # A create won: the delete was refused, naming the trades it found.
            assert deleted.status_code == 409, deleted.text
            problem = deleted.json()
            assert problem["type"] == "/problems/in-use"
            assert problem["blocking"]["resource"] == "open trades"
            assert set(problem["blocking"]["ids"]) <= set(made)
            assert after.json()["deletedAt"] is None
            assert live_open["total"] == len(made) >= problem["blocking"]["count"] >= 1
            outcomes["create first"] += 1
    assert sum(outcomes.values()) == RACE_ROUNDS
    print(f"create vs delete, {RACE_ROUNDS} rounds: {dict(outcomes)}")
