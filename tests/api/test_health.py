"""Health endpoints that never wake the database, the deep check, metrics, the cache."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from rms.app import create_app
from rms.devtools.pgcluster import free_port
from rms.schema.migrations import alembic_config, head_revision
from rms.settings import load_settings
from tests.api.conftest import Api, signed_in_client


def test_live_and_ready_answer_without_the_database(client: TestClient) -> None:
    db = client.app.state.db  # type: ignore[attr-defined]
    before = db.observer.connect_attempts._value.get()
    for _ in range(5):
        assert client.get("/health/live").json()["status"] == "alive"
        ready = client.get("/health/ready")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert db.observer.connect_attempts._value.get() == before


def test_ready_turns_red_only_for_failures_a_person_must_fix(client: TestClient) -> None:
    observer = client.app.state.db.observer  # type: ignore[attr-defined]
    observer.failed("budget", "timed out")
    assert client.get("/health/ready").status_code == 200  # paused or unreachable: normal
    observer.failed("auth", "password authentication failed")
    body = client.get("/health/ready")
    assert body.status_code == 503 and body.json()["database"] == "misconfigured"
    observer.succeeded()
    assert client.get("/health/ready").status_code == 200


def test_deep_health_reports_round_trip_revision_and_pool(client: TestClient, backend: str) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["database"]["dialect"] == backend
    assert body["database"]["schema_revision"] == body["database"]["schema_head"]
    # Timings are figures, not facts to check (bench/ measures them): only their presence
    # and type are part of the contract.
    assert isinstance(body["database"]["round_trip_ms"], float)
    assert isinstance(body["database"]["check_ms"], float)
    assert isinstance(body["uptime_seconds"], float)
    pool = body["pool"]
    assert set(pool) == {"size", "in_use", "idle", "overflow", "waiting"}
    assert pool["in_use"] >= 1  # the test's transaction holds the connection that answered


def test_metrics_in_prometheus_format(client: TestClient) -> None:
    client.get("/api/accounts")
    client.get("/api/accounts/nope")
    text = client.get("/metrics").text
    assert 'rms_http_request_seconds_count{method="GET",route="/api/accounts",status="200"}' in text
    assert 'route="/api/accounts/{key}",status="404"' in text
    for name in (
        "rms_db_connect_attempts_total",
        "rms_db_cold_starts_total",
        "rms_db_cold_start_seconds_bucket",
        "rms_db_pool_in_use",
    ):
        assert name in text


def test_reference_data_is_cached_and_invalidated_on_write(client: TestClient, api: Api) -> None:
    cache = client.app.state.cache  # type: ignore[attr-defined]
    api.risk_group("Cached")
    first = client.get("/api/risk-groups", params={"name": "Cached"}).json()
    hits = cache.hits
    assert client.get("/api/risk-groups", params={"name": "Cached"}).json() == first
    assert cache.hits == hits + 1
    group = first["items"][0]
    client.patch(f"/api/risk-groups/{group['id']}", json={"version": 1, "name": "Renamed"})
    assert client.get("/api/risk-groups", params={"name": "Cached"}).json()["total"] == 0
    # Non-reference resources are never cached.
    api.account()
    hits = cache.hits
    client.get("/api/accounts")
    client.get("/api/accounts")
    assert cache.hits == hits


def test_anonymous_ready_gives_the_status_only(
    client: TestClient, anon_client: TestClient, api: Api
) -> None:
    """Issue 27 item 8: the driver's message (host, port, user) and the time of the owner's
    last request are for a signed-in caller only."""
    observer = client.app.state.db.observer  # type: ignore[attr-defined]
    observer.failed(
        "auth",
        'connection to server at "10.1.2.3", port 5432 failed: password authentication '
        'failed for user "rms_app"',
    )
    anonymous = anon_client.get("/health/ready")
    assert anonymous.status_code == 503 and anonymous.json() == {"status": "not ready"}
    signed_in = client.get("/health/ready")
    assert signed_in.status_code == 503 and "10.1.2.3" in signed_in.json()["last_failure"]
    api.account()  # the owner's request: its time is not the world's to see
    before = anon_client.get("/health/ready")
    api.account()
    assert before.json() == anon_client.get("/health/ready").json() == {"status": "ready"}
    assert client.get("/health/ready").json()["last_success_at"] is not None


def test_ready_is_503_while_the_schema_is_behind_the_head(
    client: TestClient, anon_client: TestClient, connection: Connection
) -> None:
    """Issue 27 item 11: ready said 200 for a database without the schema."""
    head = head_revision()
    older = ScriptDirectory.from_config(alembic_config()).get_revision(head).down_revision
    assert isinstance(older, str)
    set_revision = text("UPDATE alembic_version SET version_num = :revision")
    connection.execute(set_revision, {"revision": older})
    deep = client.get("/health").json()
    assert deep["status"] == "schema behind"
    ready = anon_client.get("/health/ready")
    assert ready.status_code == 503 and ready.json() == {"status": "not ready"}
    assert "rms db upgrade" in client.get("/health/ready").json()["database"]
    connection.execute(set_revision, {"revision": head})  # upgraded: ready again, no restart
    assert anon_client.get("/health/ready").status_code == 200


def test_a_configured_sqlite_file_that_is_gone_answers_503_never_500(tmp_path: Path) -> None:
    """Issue 27 item 11: a missing file was made empty and every page then said 500."""
    missing = tmp_path / "typo.db"
    app = create_app(load_settings(database_url=f"sqlite:///{missing}"))
    with signed_in_client(app) as client:
        response = client.get("/api/accounts")
        assert response.status_code == 503, response.text
        assert response.json()["field"] == "DATABASE_URL"
        assert "no SQLite database at" in response.json()["detail"]
        assert client.get("/health/ready").status_code == 503
    assert not missing.exists()


def test_a_database_host_name_that_does_not_resolve_answers_503_never_500(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A name missing from DNS (a typo, or a moment of a failover's renaming) is the
    database being unreachable: 503 with Retry-After, not an internal error."""
    real = socket.getaddrinfo

    def resolver(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "db.example.test":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    url = f"postgresql://rms@db.example.test:{free_port()}/rms"
    with signed_in_client(create_app(load_settings(database_url=url))) as client:
        response = client.get("/api/accounts")
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"]
    assert "host name does not resolve" in response.json()["detail"]


def test_invented_methods_and_paths_add_no_metric_series(
    client: TestClient, anon_client: TestClient
) -> None:
    """Issue 27 item 4: each invented method name sent to an open path added a series."""

    def series() -> int:
        text = client.get("/metrics").text
        return sum(1 for line in text.splitlines() if line.startswith("rms_http_request_seconds"))

    def invent(n: int) -> None:
        anon_client.request(f"X{n}", "/health/live")
        anon_client.request(f"Y{n}", "/auth/login")
        anon_client.get(f"/no/such/path/{n}")
        anon_client.get(f"/static/{n}.css")

    invent(0)  # one of each kind, and /metrics itself, are counted before the baseline
    series()
    before = series()
    for n in range(1, 31):
        invent(n)
    assert series() == before
    text = client.get("/metrics").text
    assert 'method="other"' in text and "X1" not in text and "/no/such" not in text
