"""The application's CUSIP tables and universe's volatility fields, through the API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from rms.db.database import Database
from rms.http.values import CusipSource
from rms.schema.tables import CUSIP_CACHE_SOURCES, CusipCacheArchive, CusipCacheAudit
from tests.api.conftest import Api


def _problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    if field is not None:
        assert body["field"] == field, body
    return body


def test_the_api_enum_is_the_schemas() -> None:
    assert get_args(CusipSource) == CUSIP_CACHE_SOURCES


def test_cusip_cache_lifecycle(client: TestClient) -> None:
    created = client.post(
        "/api/cusip-cache",
        json={"cusip": " 00206r102 ", "symbol": "t", "source": "THIRTEENF"},
    )
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["cusip"] == "00206R102" and entry["symbol"] == "T"
    assert entry["resolvedAt"] == entry["lastUsedAt"] <= entry["createdAt"]  # default: now
    assert "version" not in entry and "deletedAt" not in entry
    key = entry["id"]
    assert client.get(f"/api/cusip-cache/{key}").json() == entry

    # No version on this table: an update just applies, and moves updatedAt.
    used = "2026-04-23T13:10:07.100Z"
    patched = client.patch(f"/api/cusip-cache/{key}", json={"lastUsedAt": used})
    assert patched.status_code == 200, patched.text
    assert patched.json()["lastUsedAt"].startswith("2026-04-23T13:10:07.100")
    assert patched.json()["updatedAt"] >= entry["updatedAt"]
    _problem(client.patch(f"/api/cusip-cache/{key}", json={"version": 1}), 422, "version")

    # The table has no deletedAt: a delete removes the row for good.
    deleted = client.delete(f"/api/cusip-cache/{key}")
    assert deleted.status_code == 200 and deleted.json()["id"] == key
    _problem(client.get(f"/api/cusip-cache/{key}"), 404)
    _problem(client.delete(f"/api/cusip-cache/{key}"), 404)
    assert client.get("/api/cusip-cache").json()["total"] == 0


def test_cusip_cache_validation_and_uniqueness(client: TestClient) -> None:
    body = {"cusip": "037833100", "symbol": "AAPL", "source": "YAHOO_FINANCE"}
    assert client.post("/api/cusip-cache", json=body).status_code == 201
    bad = _problem(client.post("/api/cusip-cache", json={**body, "source": "OPENFIGI"}), 422)
    assert bad["field"] == "source" and "THIRTEENF" in bad["detail"]
    _problem(client.post("/api/cusip-cache", json={**body, "cusip": "12345"}), 422, "cusip")
    _problem(client.get("/api/cusip-cache", params={"source": "SEC"}), 422, "source")
    dup = _problem(client.post("/api/cusip-cache", json={**body, "symbol": "X"}), 409, "cusip")
    assert "cusip_cache.cusip" in dup["detail"]
    entry = client.get("/api/cusip-cache").json()["items"][0]
    _problem(
        client.patch(f"/api/cusip-cache/{entry['id']}", json={"source": "NONE"}), 422, "source"
    )
    _problem(client.patch(f"/api/cusip-cache/{entry['id']}", json={"cusip": None}), 422, "cusip")


def test_cusip_cache_filters(client: TestClient) -> None:
    for cusip, symbol, source in [
        ("00206R102", "T", "THIRTEENF"),
        ("037833100", "AAPL", "YAHOO_FINANCE"),
        ("594918104", "MSFT", "THIRTEENF"),
    ]:
        body = {"cusip": cusip, "symbol": symbol, "source": source}
        assert client.post("/api/cusip-cache", json=body).status_code == 201

    def symbols(**params: str) -> list[str]:
        page = client.get("/api/cusip-cache", params=params).json()
        return [item["symbol"] for item in page["items"]]

    assert symbols() == ["T", "AAPL", "MSFT"]  # ordered by CUSIP
    assert symbols(source="THIRTEENF") == ["T", "MSFT"]
    assert symbols(symbol="aapl") == ["AAPL"]
    assert symbols(cusip="594918104") == ["MSFT"]
    _problem(client.get("/api/cusip-cache", params={"include_deleted": "true"}), 422)


@pytest.fixture
def application_rows(db: Database) -> None:
    """Rows the application itself wrote into its archive and audit tables."""

    def write(session: Session) -> None:
        session.add_all(
            [
                CusipCacheArchive(
                    id="arc-1", cusip="00206R102", symbol="T", source="THIRTEENF",
                    resolvedAt=_instant("2026-01-02T03:04:05.006"), reason="stale",
                ),
                CusipCacheAudit(
                    id="aud-1", cusip="00206R102", symbol="T", action="CREATE",
                    source="THIRTEENF", userId=None, reason=None,
                ),
                CusipCacheAudit(
                    id="aud-2", cusip="037833100", symbol="AAPL", action="DELETE",
                    source="YAHOO_FINANCE", userId="owner", reason="manual",
                ),
            ]
        )  # fmt: skip

    db.run(write)


def _instant(text: str) -> Any:
    from datetime import UTC, datetime

    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.usefixtures("application_rows")
def test_archive_and_audit_are_read_only_lists(client: TestClient) -> None:
    archive = client.get("/api/cusip-cache-archive").json()
    assert archive["total"] == 1
    assert archive["items"][0]["resolvedAt"].startswith("2026-01-02T03:04:05.006")
    assert archive["items"][0]["reason"] == "stale" and archive["items"][0]["archivedAt"]
    assert client.get("/api/cusip-cache-archive/arc-1").json()["symbol"] == "T"
    audit = client.get("/api/cusip-cache-audit", params={"action": "DELETE"}).json()
    assert [i["id"] for i in audit["items"]] == ["aud-2"] and audit["items"][0]["userId"]
    assert client.get("/api/cusip-cache-audit", params={"cusip": "00206r102"}).json()["total"] == 1
    for path in ("/api/cusip-cache-archive", "/api/cusip-cache-audit"):
        assert client.post(path, json={}).status_code == 405
        assert client.delete(f"{path}/arc-1").status_code == 405
    _problem(client.get("/api/cusip-cache-audit/nope"), 404)


@contextmanager
def lose_one_commit_answer() -> Iterator[list[int]]:
    """The first COMMIT lands but its answer is lost (as a dropped connection would)."""
    fired: list[int] = []

    def after_commit(_session: Session) -> None:
        if not fired:
            fired.append(1)
            raise sa_exc.OperationalError("COMMIT", {}, ConnectionResetError("connection reset"))

    event.listen(Session, "after_commit", after_commit)
    try:
        yield fired
    finally:
        event.remove(Session, "after_commit", after_commit)


def test_a_replayed_hard_delete_answers_with_the_row(client: TestClient, api: Api) -> None:
    entry = api.create("cusip-cache", cusip="00206R102", symbol="T", source="THIRTEENF")
    with lose_one_commit_answer() as fired:
        response = client.delete(f"/api/cusip-cache/{entry['id']}")
    assert fired == [1]
    assert response.status_code == 200, response.text
    assert response.json() == entry
    _problem(client.get(f"/api/cusip-cache/{entry['id']}"), 404)


def test_universe_volatility_fields(client: TestClient, api: Api) -> None:
    group = api.risk_group()
    plain = api.symbol(group["id"])
    assert plain["volatility_long"] is None and plain["volatility_calculated_at"] is None
    row = api.symbol(
        group["id"],
        volatility_long="0.1834",
        volatility_short="0.2211",
        volatility_calculated_at="2026-04-26T14:26:17.123+02:00",
    )
    assert row["volatility_calculated_at"].startswith("2026-04-26T12:26:17.123")
    changed = client.patch(
        f"/api/universe/{row['id']}", json={"version": 1, "volatility_short": None}
    ).json()
    assert changed["volatility_short"] is None and changed["volatility_long"] == "0.1834"
    _problem(
        client.patch(f"/api/universe/{row['id']}", json={"version": 2, "volatility_long": "\x00"}),
        422,
        "volatility_long",
    )
