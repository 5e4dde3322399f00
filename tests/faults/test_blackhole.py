"""A database that vanishes mid-request: answered within the budget, recovered without restart.

The proxy swallows every byte and resets nothing, as a dead Multi-AZ primary or a cut-off
availability zone does. Its kernel still acknowledges what the service sends, so keepalives
and ``tcp_user_timeout`` cannot see it: only the deadline can (the netns tests cover the
kernel's side).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from rms.app import create_app
from rms.devtools.aurora_sim import AuroraSim
from tests.api.conftest import bearer
from tests.faults.harness import CLIENT_TIMEOUT, service_settings
from tests.live_server import live_server


def test_a_vanished_database_answers_503_within_the_budget_then_recovers(
    proxy: AuroraSim, pg_migrated: str
) -> None:
    app = create_app(service_settings(proxy.proxied_url(pg_migrated)))
    db = app.state.db
    with (
        live_server(app) as base,
        httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT, headers=bearer(app)) as http,
    ):
        assert http.get("/api/accounts").status_code == 200  # warm: a pooled connection
        assert proxy.blackhole() >= 1
        statuses = []
        for path in ("/api/accounts", "/health", "/api/summary?month=2024-01"):
            response = http.get(path)
            statuses.append(response.status_code)
            assert int(response.headers["Retry-After"]) >= 1, response.text
            assert (
                "budget" in response.json()["detail"] or "connection" in response.json()["detail"]
            )
        assert statuses == [503, 503, 503]
        figures = db.observer.pool_figures()
        assert figures is not None and figures.in_use == 0  # every slot given back
        proxy.heal()
        assert http.get("/api/accounts").status_code == 200  # no restart
        assert http.get("/health").json()["status"] == "ok"
    abandoned = db.observer.abandoned_connections
    assert abandoned.labels(reason="ping")._value.get() >= 1


def test_many_requests_into_the_black_hole_never_exhaust_the_pool(
    proxy: AuroraSim, pg_migrated: str
) -> None:
    settings = service_settings(proxy.proxied_url(pg_migrated), db_pool_size=2, db_max_overflow=1)
    app = create_app(settings)
    with (
        live_server(app) as base,
        httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT, headers=bearer(app)) as http,
    ):
        for _ in range(3):
            assert http.get("/api/accounts").status_code == 200
        proxy.blackhole()

        def one(_: int) -> int:
            with httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT, headers=bearer(app)) as client:
                return client.get("/api/accounts").status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(one, range(8)))
        assert statuses == [503] * 8
        proxy.heal()
        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(one, range(4))) == [200] * 4
