"""Removing the demo portfolio from the pages: a confirmation step, CSRF, plain refusals."""

from __future__ import annotations

from rms.repo import crud
from rms.repo.resources import RESOURCES
from rms.web.render import FLASH_COOKIE
from tests.web.conftest import Pages


def _buy(pages: Pages, account: str, symbol: str) -> None:
    answer = pages.post(
        f"/accounts/{account}/trades",
        {"symbol": symbol, "quantity": "5", "buy": "10", "buy_date": "2025-03-03"},
        csrf_from=f"/accounts/{account}",
    )
    assert answer.status_code == 303, answer.text


def _own_account(pages: Pages) -> None:
    pages.app.state.db.run(
        lambda s: crud.create_row(s, RESOURCES["accounts"], {"id": "own", "name": "Own"}),
        write=True,
    )


def test_remove_the_demo_after_confirming(pages: Pages) -> None:
    assert 'href="/demo/remove"' in pages.get("/?month=2025-06").text
    _own_account(pages)
    page = pages.get("/demo/remove").text
    assert "3 demo accounts" in page and "demo trades" in page and "no Undo" in page
    assert pages.post("/demo/remove", {"confirm": "remove", "csrf": "forged"}).status_code == 403
    unconfirmed = pages.post("/demo/remove", {}, csrf_from="/demo/remove")
    assert unconfirmed.status_code == 409 and "Nothing was removed" in unconfirmed.text
    assert len(pages.api("/api/accounts")["items"]) == 4

    done = pages.post("/demo/remove", {"confirm": "remove"}, csrf_from="/demo/remove")
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert FLASH_COOKIE in done.cookies
    after = pages.get("/").text
    assert "Removed the demo portfolio: " in after and "3 accounts" in after
    assert 'href="/demo/remove"' not in after
    assert [a["name"] for a in pages.api("/api/accounts")["items"]] == ["Own"]
    assert pages.api("/api/trades")["items"] == []
    assert pages.api("/api/risk-groups")["items"]  # reference data stays
    assert "nothing to remove" in pages.get("/demo/remove").text


def test_refused_when_the_owner_uses_a_demo_account_unless_kept(pages: Pages) -> None:
    _buy(pages, "demo-account-1", "PDI")
    page = pages.get("/demo/remove").text
    assert "1 of your trades in the demo account Brokerage and of the demo symbol PDI" in page
    refused = pages.post("/demo/remove", {"confirm": "remove"}, csrf_from="/demo/remove")
    assert refused.status_code == 409
    assert "Nothing was removed: some of your own rows use" in refused.text
    assert len(pages.api("/api/accounts")["items"]) == 3

    kept = pages.post(
        "/demo/remove", {"confirm": "remove", "keep": "yes"}, csrf_from="/demo/remove"
    )
    assert kept.status_code == 303
    assert [a["id"] for a in pages.api("/api/accounts")["items"]] == ["demo-account-1"]
    trades = pages.api("/api/trades")["items"]
    assert len(trades) == 1 and trades[0]["quantity"] == 5
    assert [u["symbol"] for u in pages.api("/api/universe")["items"]] == ["PDI"]
