"""Real packets lost and delayed in a network namespace (see :mod:`tests.faults.netns`).

Skipped, with the reason, where the machine refuses namespaces or nftables. ``tc netem``
is used where the kernel has it; this project's CI kernel has no ``sch_netem``, and the
delay then comes from the relay while the loss stays real (nftables).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from rms.app import create_app
from rms.db.engine import create_db_engine
from rms.db.errors import Failure, classify
from rms.devtools.pgcluster import PgCluster
from rms.settings import load_settings
from tests.api.conftest import bearer
from tests.faults.harness import CLIENT_TIMEOUT, service_settings
from tests.faults.netns import LossyLink, lossy_postgres, netns_unavailable
from tests.live_server import live_server


@pytest.fixture(scope="module")
def link_and_server() -> Iterator[tuple[LossyLink, PgCluster]]:
    reason = netns_unavailable()
    if reason:
        pytest.skip(f"network namespaces unavailable: {reason}")
    with lossy_postgres() as running:
        yield running


def test_packets_that_vanish_are_noticed_by_keepalives_and_tcp_user_timeout(
    link_and_server: tuple[LossyLink, PgCluster],
) -> None:
    link, _ = link_and_server
    settings = load_settings(
        database_url=link.url("rms"),
        db_keepalives_idle_seconds=1,
        db_keepalives_interval_seconds=1,
        db_keepalives_count=2,
        db_tcp_user_timeout_ms=2000,
    )
    engine = create_db_engine(settings)
    outcome: list[Any] = []
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
            link.drop_all()  # no deadline anywhere here: only the kernel can notice

            def query() -> None:
                try:
                    conn.execute(text("SELECT 1"))
                    outcome.append("answered")
                except Exception as exc:
                    outcome.append(exc)

            worker = threading.Thread(target=query, daemon=True)
            worker.start()
            worker.join(CLIENT_TIMEOUT)  # a safety net: the kernel gives up after ~2 s
            assert outcome, "the query hung: the kernel never gave up on the peer"
        assert classify(outcome[0]) is Failure.RETRY_CONNECT, outcome
    finally:
        link.heal()
        engine.dispose()
    engine = create_db_engine(settings)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()


def test_service_over_200_ms_round_trips_and_5_percent_loss_answers_everything(
    link_and_server: tuple[LossyLink, PgCluster],
) -> None:
    link, _ = link_and_server
    link.shape(round_trip_ms=200, loss_percent=5)
    try:
        app = create_app(service_settings(link.url("rms"), db_request_budget_seconds=20))
        with (
            live_server(app) as base,
            httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT, headers=bearer(app)) as http,
        ):
            statuses = [
                http.get("/api/accounts", params={"limit": 3}).status_code for _ in range(5)
            ]
            statuses += [
                http.post(
                    "/api/accounts", json={"id": f"lossy-{n}", "name": f"lossy {n}"}
                ).status_code
                for n in range(3)
            ]
        assert statuses == [200] * 5 + [201] * 3
        assert link.relay_state()["connections_accepted"] >= 1
    finally:
        link.heal()
