"""The pages at unit level, on SQLite and PostgreSQL: sign-in, figures, forms, CSRF, docs."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rms.app import create_app
from rms.db.database import Database
from rms.seed import seed_demo, seed_reference
from rms.settings import Settings
from rms.web.words import API_WORDS
from tests.demo import DEMO_THROUGH
from tests.web.conftest import BASE_URL, Pages

DEMO_MONTH = "2025-06"


def figures(html: str) -> dict[str, str]:
    summary = html.split('id="summary"', 1)[1].split("</dl>", 1)[0]
    return dict(re.findall(r'data-figure="([a-z_]+)"[^>]*>([^<]*)<', summary))


def errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<p id="e-([a-zA-Z_-]+)" class="error" role="alert">([^<]*)</p>', html))


def money(value: float) -> str:
    return f"{value:,.2f}"


def test_an_anonymous_browser_is_sent_to_sign_in_and_back(app: Any) -> None:
    with TestClient(app, base_url=BASE_URL) as client:
        answer = client.get(
            "/accounts?x=1", headers={"Accept": "text/html"}, follow_redirects=False
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/auth/login?next=%2Faccounts%3Fx%3D1"
        login = client.get(answer.headers["location"])
        assert login.status_code == 200 and 'name="next" value="/accounts?x=1"' in login.text
        assert client.get("/static/rms.css").status_code == 200  # the sign-in page's style
        wrong = client.post(
            "/auth/token",
            data={"token": "wrong", "next": "/"},
            headers={"Origin": BASE_URL, "Accept": "text/html"},
        )
        assert wrong.status_code == 401 and "That sign-in did not work." in wrong.text
        assert client.get("/api/accounts").status_code == 401  # the API still answers 401


def test_dashboard_figures_equal_the_api(pages: Pages) -> None:
    for account in ("", "demo-account-2"):
        query = f"month={DEMO_MONTH}" + (f"&account_id={account}" if account else "")
        html = pages.get(f"/?{query}").text
        api = pages.api(f"/api/summary?{query}")
        shown = figures(html)
        for name in ("dividends", "deposits", "capital_gains", "open_cost_basis_total"):
            assert shown[name] == money(api[name]), name
        assert api["dividends"] > 0 and api["open_cost_basis"]
        for group, total in api["open_cost_basis"].items():
            assert f'data-group="{group}">{money(total)}<' in html
        graph = pages.api(
            f"/api/summary/graph?year=2025{'&account_id=' + account if account else ''}"
        )
        for month in graph["months"]:
            row = html.split(f'<tr data-month="{month["month"]}">', 1)[1].split("</tr>", 1)[0]
            cells = dict(re.findall(r'data-figure="([a-z_]+)">([^<]*)<', row))
            assert cells == {
                "dividends": money(month["dividends"]),
                "capital_gains": money(month["capital_gains"]),
                "deposits": money(month["deposits"]),
            }
        total = html.split('<tr id="year-total"', 1)[1].split("</tr>", 1)[0]
        cells = dict(re.findall(r'data-figure="([a-z_]+)">([^<]*)<', total))
        assert cells == {k: money(v) for k, v in graph["total"].items()}
        year = html.split('id="year"', 1)[1].split("</dl>", 1)[0]
        shown_year = dict(re.findall(r'data-figure="([a-z_]+)"[^>]*>([^<]*)<', year))
        assert shown_year == cells
        assert (
            html.count('<rect class="bar') == 48
        )  # two bars a month, in the wide and narrow charts


def test_the_dashboard_opens_on_the_latest_month_with_data(pages: Pages) -> None:
    """The demo data ends in December 2025: no month asked shows it, not an empty today."""
    html = pages.get("/").text
    assert 'id="summary" data-month="2025-12"' in html
    assert 'name="month" value="2025-12"' in html
    assert figures(html)["dividends"] != "0.00"
    one = pages.get("/?account_id=demo-account-2").text
    assert 'id="summary" data-month="2025-12"' in one
    bad = pages.get("/?month=2025-13").text
    assert 'id="e-month"' in bad and 'data-month="2025-12"' in bad


def test_the_dashboard_says_what_its_figures_mean(pages: Pages) -> None:
    html = pages.get(f"/?month={DEMO_MONTH}").text
    assert "held at the month&rsquo;s end: bought by then and not yet sold" in html
    assert "on the lots sold in the month" in html
    assert "a later sale, buy or dividend does not change them" in html


def test_the_dashboard_of_an_empty_year(pages: Pages) -> None:
    html = pages.get("/?month=2019-04").text  # before the demo portfolio
    assert figures(html)["open_cost_basis_total"] == "0.00"
    assert "No dividends or capital gains in 2019." in html
    wide = html.split('<svg class="wide"', 1)[1].split("</svg>", 1)[0]
    labels = re.findall(r'text-anchor="end">([^<]*)<', wide)
    assert labels == ["0", "0.2", "0.4", "0.6", "0.8", "1.0"]  # not 0 0 0 1 1 1


def test_a_bad_month_is_said_next_to_the_picker(pages: Pages) -> None:
    html = pages.get("/?month=2025-13").text
    assert 'id="e-month"' in html and "has no month 13" in html


def test_buy_sell_and_the_capital_gain(pages: Pages) -> None:
    account = "/accounts/demo-account-1"
    bought = pages.post(
        f"{account}/trades",
        {"symbol": "pdi", "quantity": "10", "buy": "10", "buy_date": "2026-11-02"},
        csrf_from=account,
    )
    assert bought.status_code == 303 and bought.headers["location"] == f"{account}#trades"
    trades = pages.api("/api/trades?account_id=demo-account-1&status=open&limit=500")["items"]
    lot = next(t for t in trades if t["buy_date"].startswith("2026-11-02"))
    assert (lot["quantity"], lot["buy"]) == (10, 10.0)
    sold = pages.post(
        f"/trades/{lot['id']}/sell",
        {"sell": "12.5", "sell_date": "2026-11-20", "version": str(lot["version"])},
        csrf_from=f"/trades/{lot['id']}/sell",
    )
    assert sold.status_code == 303
    html = pages.get("/?month=2026-11&account_id=demo-account-1").text
    assert figures(html)["capital_gains"] == "25.00"
    # Selling again with the old version is refused with the API's words, nothing changed.
    stale = pages.post(
        f"/trades/{lot['id']}/sell",
        {"sell": "13", "sell_date": "2026-11-21", "version": str(lot["version"])},
        csrf_from=f"/trades/{lot['id']}/sell",
    )
    assert stale.status_code == 422 and "version" in stale.text
    assert pages.api(f"/api/trades/{lot['id']}")["sell"] == 12.5


def test_form_errors_are_the_api_reasons_next_to_their_fields(pages: Pages) -> None:
    account = "/accounts/demo-account-1"
    refused = pages.post(
        f"{account}/trades",
        {"symbol": "PDI", "quantity": "0", "buy": "-1", "buy_date": "2026-02-30"},
        csrf_from=account,
    )
    assert refused.status_code == 422
    shown = errors(refused.text)
    assert shown["quantity"] == "Quantity must be greater than or equal to 1"
    assert shown["buy"] == "Price must be greater than 0"
    assert shown["buy_date"].startswith("Date is not a real date or time")
    assert 'value="-1"' in refused.text  # what was typed stays in the form
    unknown = pages.post(
        f"{account}/trades",
        {"symbol": "NOPE", "quantity": "1", "buy": "1", "buy_date": "2026-02-03"},
        csrf_from=account,
    )
    assert errors(unknown.text) == {"symbol": "Symbol no symbol &#39;NOPE&#39; in the universe"}
    deposit = pages.post(
        f"{account}/deposits",
        {"kind": "dividend", "symbol": "PDI", "amount": "-5", "date": "2026-02-03"},
        csrf_from=account,
    )
    assert deposit.status_code == 422
    # The API's rule, in the owner's words (the API says "a deposit with a universeId").
    assert "universeId" in _api_reason(pages, -5)
    assert errors(deposit.text) == {
        "d-amount": "Amount must be more than 0 for a dividend (money taken out is a "
        "withdrawal: a deposit with a negative amount)"
    }


def _api_reason(pages: Pages, amount: float) -> str:
    """What ``POST /api/div-deposits`` says about the same dividend amount."""
    token = pages.app.state.auth.local.value
    universe = pages.api("/api/universe?symbol=PDI")["items"][0]["id"]
    answer = pages.client.post(
        "/api/div-deposits",
        json={
            "date": "2026-02-03",
            "amount": amount,
            "accountId": "demo-account-1",
            "divDepositTypeId": "ddt-dividend",
            "universeId": universe,
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 422
    detail: str = answer.json()["detail"]
    return detail.removeprefix("amount: ")


def test_dividends_and_deposits_are_added_and_deleted(pages: Pages) -> None:
    account = "/accounts/demo-account-3"
    added = pages.post(
        f"{account}/deposits",
        {"kind": "dividend", "symbol": "PDI", "amount": "12.34", "date": "2026-11-15"},
        csrf_from=account,
    )
    assert added.status_code == 303 and added.headers["location"].endswith("#dividends")
    pages.post(
        f"{account}/deposits",
        {"kind": "deposit", "amount": "-100", "date": "2026-11-16"},
        csrf_from=account,
    )
    summary = pages.api("/api/summary?month=2026-11&account_id=demo-account-3")
    assert (summary["dividends"], summary["deposits"]) == (12.34, -100.0)
    rows = pages.api("/api/div-deposits?account_id=demo-account-3&date_from=2026-11-01")["items"]
    for row in rows:
        gone = pages.post(
            f"/deposits/{row['id']}/delete", {"version": str(row["version"])}, csrf_from=account
        )
        assert gone.status_code == 303
    summary = pages.api("/api/summary?month=2026-11&account_id=demo-account-3")
    assert (summary["dividends"], summary["deposits"]) == (0.0, 0.0)


def test_a_form_without_its_token_or_from_another_site_is_refused(pages: Pages) -> None:
    account = "/accounts/demo-account-1"
    form = {"symbol": "PDI", "quantity": "1", "buy": "1", "buy_date": "2026-02-03"}
    assert pages.post(f"{account}/trades", {**form, "csrf": "forged"}).status_code == 403
    other_site = pages.client.post(
        f"{account}/trades",
        data={**form, "csrf": pages.csrf(account)},
        headers={"Origin": "https://evil.example"},
    )
    assert other_site.status_code == 403
    assert pages.api("/api/trades?account_id=demo-account-1&buy_date_from=2026-02-03")["total"] == 0


def test_edit_and_delete_a_trade(pages: Pages) -> None:
    trade = pages.api("/api/trades?account_id=demo-account-1&status=open&limit=1")["items"][0]
    edit = f"/trades/{trade['id']}/edit"
    assert pages.get(edit).status_code == 200
    bad = pages.post(
        edit,
        {
            "quantity": str(trade["quantity"]),
            "buy": str(trade["buy"]),
            "buy_date": "2026-03-02",
            "sell": "5",
            "sell_date": "2026-01-05",
            "version": str(trade["version"]),
        },
        csrf_from=edit,
    )
    assert bad.status_code == 422
    assert errors(bad.text) == {
        "sell_date": "Sell date 2026-01-05 is before the buy date 2026-03-02; a lot is sold "
        "on or after the day it was bought"
    }
    ok = pages.post(
        edit,
        {
            "quantity": "7",
            "buy": str(trade["buy"]),
            "buy_date": trade["buy_date"][:10],
            "version": str(trade["version"]),
        },
        csrf_from=edit,
    )
    assert ok.status_code == 303
    changed = pages.api(f"/api/trades/{trade['id']}")
    assert changed["quantity"] == 7 and changed["sell"] is None
    gone = pages.post(
        f"/trades/{trade['id']}/delete", {"version": str(changed["version"])}, csrf_from=edit
    )
    assert gone.status_code == 303
    assert pages.get(f"/trades/{trade['id']}/edit").status_code == 404


def test_account_lists_filter_sort_and_page(pages: Pages) -> None:
    html = pages.get("/accounts/demo-account-1?status=closed&sort=gain&dir=desc").text
    gains = [
        float(g.replace(",", ""))
        for g in re.findall(r'data-figure="gain">([^<]+)<', html.split('id="trade-list"')[1])
    ]
    assert gains and gains == sorted(gains, reverse=True)
    assert "Page 1 of" in html
    positions = html.split('id="positions"')[1].split("</table>")[0]
    assert "%" in positions  # yield on cost
    second = pages.get("/accounts/demo-account-1?status=all&page=2").text
    assert "Page 2 of" in second


@pytest.mark.parametrize("junk", ["\u00b2", "\u0663", "99999999999999999999999", "-1", "x"])
def test_numbers_in_links_and_forms_that_are_not_numbers_are_never_a_500(
    pages: Pages, junk: str
) -> None:
    """Found by posting junk into every form: ``str.isdigit`` accepts "²", which ``int``
    refuses, and a 23-digit version overflowed the database's integer (both were 500s)."""
    listing = pages.get(f"/accounts/demo-account-1?status=all&page={junk}&dpage={junk}")
    assert listing.status_code == 200 and "Page 1 of" in listing.text
    trade = _open_lot(pages)
    gone = pages.post(f"/trades/{trade['id']}/delete", {"version": junk}, csrf_from="/accounts")
    # Not a version the form could have sent: deleted without the check, as the managed
    # lists' forms do (a real form always sends the row's version).
    assert gone.status_code == 303, gone.text
    token = pages.app.state.auth.local.value
    hidden = pages.client.get(
        f"/api/trades/{trade['id']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert hidden.status_code == 404  # deleted
    back = pages.post(f"/trades/{trade['id']}/restore", {"version": junk}, csrf_from="/accounts")
    assert back.status_code == 303, back.text
    assert pages.api(f"/api/trades/{trade['id']}")["deletedAt"] is None


def test_the_read_pages(pages: Pages) -> None:
    assert "PDI" in pages.get("/universe").text
    assert pages.get("/screener").status_code == 200
    assert "Christmas" in pages.get("/holidays?year=2025").text
    assert pages.get("/accounts").text.count('href="/accounts/demo-account-') >= 2
    missing = pages.get("/accounts/nope")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]


def test_docs_assets_are_served_by_the_app_and_behind_sign_in(pages: Pages, app: Any) -> None:
    docs = pages.get("/docs")
    policy = docs.headers["content-security-policy"]
    assert "cdn" not in docs.text and "http" not in policy
    assert "'unsafe-inline'" not in policy and "'sha256-" in policy
    for asset in re.findall(r'(?:src|href)="(/docs/assets/[^"]+)"', docs.text):
        assert pages.get(asset).status_code == 200
    redoc = pages.get("/redoc")
    assert "fonts.googleapis" not in redoc.text
    assert "/docs/assets/redoc.standalone.js" in redoc.text
    with TestClient(app, base_url=BASE_URL) as anonymous:
        assert anonymous.get("/docs/assets/swagger-ui.css").status_code == 401


def test_the_openapi_document_has_no_dangling_reference(pages: Pages) -> None:
    text = pages.client.get(
        "/openapi.json", headers={"Authorization": f"Bearer {pages.app.state.auth.local.value}"}
    ).text
    assert "#/$defs/" not in text


def test_a_database_that_does_not_answer_gives_the_waking_page(
    settings: Settings, tmp_path: Any
) -> None:
    from rms.app import create_app
    from rms.devtools.pgcluster import free_port
    from rms.settings import load_settings

    down = load_settings(
        database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/rms",
        db_cold_start_budget_seconds=1,
    )
    app = create_app(down)
    with TestClient(app, base_url=BASE_URL) as client:
        token = app.state.auth.local.value
        answer = client.get(
            "/?month=2025-06", headers={"Authorization": f"Bearer {token}", "Accept": "text/html"}
        )
        assert answer.status_code == 503 and answer.headers["retry-after"] == "3"
        assert "The database is waking up" in answer.text
        refresh = re.search(r'http-equiv="refresh" content="3; url=([^"]+)"', answer.text)
        assert refresh is not None
        assert "month=2025-06" in refresh.group(1) and "attempt=2" in refresh.group(1)
        since = re.search(r"waking_since=(\d+)", refresh.group(1))
        assert since is not None
        again = client.get(
            f"/?month=2025-06&waking_since={int(since.group(1)) - 20}&attempt=2",
            headers={"Authorization": f"Bearer {token}", "Accept": "text/html"},
        )
        assert re.search(r'data-elapsed="(2\d)"', again.text)
        assert "attempt 2" in again.text


def test_with_sign_in_off_a_form_from_another_site_is_refused(
    settings: Settings, db: Database
) -> None:
    # Issue 27 item 3: sign-in off on loopback is still an ambient credential (any page the
    # owner opens can post to 127.0.0.1), so the Origin and form-token checks hold.
    db.run(lambda s: (seed_reference(s, [2025]), seed_demo(s, through=DEMO_THROUGH)), write=True)
    off = create_app(settings.model_copy(update={"rms_auth": "off"}), db=db, bind_host="127.0.0.1")
    account = "/accounts/demo-account-1"
    deposit = {"kind": "deposit", "amount": "-99999", "date": "2026-03-04"}
    with TestClient(off, base_url="http://localhost", raise_server_exceptions=False) as client:
        page = Pages(client, off)
        token = page.csrf(account)
        assert token
        evil = {"Origin": "http://evil.example", "Accept": "text/html"}
        refused = [
            client.post(f"{account}/deposits", data={**deposit, "csrf": token}, headers=evil),
            client.post(f"{account}/deposits", data=deposit, headers=evil),
            page.post(f"{account}/deposits", {**deposit, "csrf": "forged"}),
            page.post(f"{account}/deposits", deposit),
            client.post("/api/div-deposits", json={"amount": -99999}, headers=evil),
        ]
        assert [r.status_code for r in refused] == [403] * 5
        stored = "/api/div-deposits?account_id=demo-account-1&date_from=2026-03-04"
        assert client.get(stored).json()["total"] == 0
        # The owner's own form still works.
        assert page.post(f"{account}/deposits", deposit, csrf_from=account).status_code == 303


# --- issue 29: conflicts, partial sales, edits of deposits, undo, the owner's words -------


def _api_words(html: str) -> list[str]:
    """API words shown in a page's messages (errors, warnings, conflicts, flashes)."""
    shown = " ".join(
        re.findall(r'class="(?:error|conflict|confirm|flash)"[^>]*>(.*?)</(?:p|div)>', html, re.S)
    )
    return [word for word in API_WORDS if word in shown]


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found is not None, name
    return found.group(1)


def _open_lot(pages: Pages, account: str = "demo-account-1") -> dict[str, Any]:
    lots = pages.api(f"/api/trades?account_id={account}&status=open&limit=1")["items"]
    lot: dict[str, Any] = lots[0]
    return lot


def _edit_form(trade: dict[str, Any], **changes: str) -> dict[str, str]:
    form = {
        "quantity": str(trade["quantity"]),
        "buy": str(trade["buy"]),
        "buy_date": trade["buy_date"][:10],
        "sell": "",
        "sell_date": "",
    }
    return {**form, **changes}


def test_an_edit_conflict_shows_both_values_and_overwrites_only_when_asked(pages: Pages) -> None:
    trade = _open_lot(pages)
    edit = f"/trades/{trade['id']}/edit"
    # Two tabs: two loads of the form, both at the same version.
    tab1, tab2 = pages.get(edit).text, pages.get(edit).text
    loaded = _hidden(tab1, "version")
    assert loaded == _hidden(tab2, "version") == str(trade["version"])
    first = pages.post(edit, {**_edit_form(trade, quantity="7"), "version": loaded}, csrf_from=edit)
    assert first.status_code == 303
    second = pages.post(
        edit, {**_edit_form(trade, quantity="9"), "version": loaded}, csrf_from=edit
    )
    assert second.status_code == 409
    html = second.text
    assert "Changed since you opened this form" in html and "nothing was saved" in html
    row = re.search(r"<th scope=\"row\">Quantity</th><td[^>]*>(\d+)</td><td[^>]*>(\d+)</td>", html)
    assert row is not None and row.groups() == ("9", "7")  # yours, saved
    assert 'id="f-quantity" name="quantity" type="number" value="9"' in html  # mine stay
    assert _hidden(html, "version") == loaded  # the form did not take the new version
    assert f'name="overwrite" value="{int(loaded) + 1}">Save mine over theirs' in html
    assert not _api_words(html)
    assert pages.api(f"/api/trades/{trade['id']}")["quantity"] == 7
    # A plain Save again meets the same conflict: nothing is overwritten silently.
    again = pages.post(edit, {**_edit_form(trade, quantity="9"), "version": loaded}, csrf_from=edit)
    assert again.status_code == 409
    assert pages.api(f"/api/trades/{trade['id']}")["quantity"] == 7
    # The explicit choice saves mine over theirs.
    mine = pages.post(
        edit,
        {**_edit_form(trade, quantity="9"), "version": loaded, "overwrite": str(int(loaded) + 1)},
        csrf_from=edit,
    )
    assert mine.status_code == 303
    assert pages.api(f"/api/trades/{trade['id']}")["quantity"] == 9
    assert "Saved the " in pages.get(mine.headers["location"]).text  # the flash message


def test_a_sell_conflict_is_shown_too(pages: Pages) -> None:
    trade = _open_lot(pages)
    sell = f"/trades/{trade['id']}/sell"
    version = _hidden(pages.get(sell).text, "version")
    edit = f"/trades/{trade['id']}/edit"
    changed = pages.post(
        edit, {**_edit_form(trade, quantity="3"), "version": version}, csrf_from=edit
    )
    assert changed.status_code == 303
    form = {"quantity": "", "sell": "20", "sell_date": "2026-11-20", "version": version}
    stale = pages.post(sell, form, csrf_from=sell)
    assert stale.status_code == 409 and "Save mine over theirs" in stale.text
    assert pages.api(f"/api/trades/{trade['id']}")["sell"] is None


def test_sell_part_of_a_lot(pages: Pages) -> None:
    account = "/accounts/demo-account-2"
    bought = pages.post(
        f"{account}/trades",
        {"symbol": "PDI", "quantity": "100", "buy": "10", "buy_date": "2026-11-02"},
        csrf_from=account,
    )
    assert bought.status_code == 303
    assert "Bought 100 PDI at 10.00 on 2026-11-02." in pages.get(bought.headers["location"]).text
    lots = pages.api("/api/trades?account_id=demo-account-2&buy_date_from=2026-11-02")["items"]
    (lot,) = lots
    sell = f"/trades/{lot['id']}/sell"
    page = pages.get(sell).text
    assert 'id="f-quantity" name="quantity" type="number" value="100"' in page  # the whole lot
    too_many = pages.post(
        sell,
        {"quantity": "101", "sell": "12", "sell_date": "2026-11-20", "version": "1"},
        csrf_from=sell,
    )
    assert too_many.status_code == 422
    assert errors(too_many.text) == {
        "quantity": "Shares to sell the lot holds 100 shares; 101 cannot be sold from it"
    }
    sold = pages.post(
        sell,
        {"quantity": "60", "sell": "12", "sell_date": "2026-11-20", "version": "1"},
        csrf_from=sell,
    )
    assert sold.status_code == 303
    flash = pages.get(sold.headers["location"]).text
    assert "Sold 60 PDI at 12.00 on 2026-11-20; 40 stay open." in flash
    trades = pages.api("/api/trades?account_id=demo-account-2&buy_date_from=2026-11-02")["items"]
    assert sorted((t["quantity"], t["sell"]) for t in trades) == [(40, None), (60, 12.0)]
    summary = pages.api("/api/summary?month=2026-11&account_id=demo-account-2")
    assert summary["capital_gains"] == 120.0


def test_trade_dates_in_the_future_or_on_a_closed_market(pages: Pages) -> None:
    account = "/accounts/demo-account-1"
    lot = {"symbol": "PDI", "quantity": "1", "buy": "10"}
    future = pages.post(f"{account}/trades", {**lot, "buy_date": "2199-01-02"}, csrf_from=account)
    assert future.status_code == 422
    assert errors(future.text) == {
        "buy_date": "Date 2199-01-02 is in the future; enter the day the trade was made"
    }
    holiday = pages.post(f"{account}/trades", {**lot, "buy_date": "2025-12-25"}, csrf_from=account)
    assert holiday.status_code == 422
    assert "Buy date 2025-12-25 was Christmas Day, a market holiday" in holiday.text
    assert 'name="confirm_date" value="1">Save with this date' in holiday.text
    saturday = pages.post(f"{account}/trades", {**lot, "buy_date": "2026-11-21"}, csrf_from=account)
    assert "2026-11-21 was a Saturday" in saturday.text
    assert pages.api("/api/trades?account_id=demo-account-1&buy_date_from=2025-12-25")["total"] == 0
    anyway = pages.post(
        f"{account}/trades",
        {**lot, "buy_date": "2025-12-25", "confirm_date": "1"},
        csrf_from=account,
    )
    assert anyway.status_code == 303


def test_edit_a_dividend_with_its_refusals_and_conflict(pages: Pages) -> None:
    account = "/accounts/demo-account-3"
    pages.post(
        f"{account}/deposits",
        {"kind": "dividend", "symbol": "PDI", "amount": "12.34", "date": "2026-11-16"},
        csrf_from=account,
    )
    (row,) = pages.api("/api/div-deposits?account_id=demo-account-3&date_from=2026-11-16")["items"]
    edit = f"/deposits/{row['id']}/edit"
    page = pages.get(edit)
    assert page.status_code == 200 and 'value="12.34"' in page.text
    assert f'href="{edit}"' in pages.get(account).text  # the list links to it
    form = {
        "symbol": "PDI",
        "amount": "0",
        "date": "2026-11-16",
        "divDepositTypeId": "ddt-dividend",
    }
    zero = pages.post(edit, {**form, "version": "1"}, csrf_from=edit)
    assert zero.status_code == 422 and errors(zero.text)["amount"].startswith("Amount must")
    assert not _api_words(zero.text)
    nope = pages.post(
        edit, {**form, "symbol": "NOPE", "amount": "5", "version": "1"}, csrf_from=edit
    )
    assert errors(nope.text) == {"symbol": "Symbol no symbol &#39;NOPE&#39; in the universe"}
    first = pages.post(edit, {**form, "amount": "13", "version": "1"}, csrf_from=edit)
    assert first.status_code == 303
    assert "Saved the dividend of 13.00 on 2026-11-16." in pages.get(first.headers["location"]).text
    second = pages.post(edit, {**form, "amount": "14", "version": "1"}, csrf_from=edit)
    assert second.status_code == 409 and "Save mine over theirs" in second.text
    row_html = re.search(
        r'<th scope="row">Amount</th><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)<', second.text
    )
    assert row_html is not None and row_html.groups() == ("14", "13")
    assert pages.api(f"/api/div-deposits/{row['id']}")["amount"] == 13.0
    over = pages.post(
        edit, {**form, "amount": "14", "version": "1", "overwrite": "2"}, csrf_from=edit
    )
    assert over.status_code == 303
    assert pages.api(f"/api/div-deposits/{row['id']}")["amount"] == 14.0


def test_a_deposit_names_no_symbol(pages: Pages) -> None:
    account = "/accounts/demo-account-3"
    refused = pages.post(
        f"{account}/deposits",
        {"kind": "deposit", "symbol": "PDI", "amount": "100", "date": "2026-11-16"},
        csrf_from=account,
    )
    assert refused.status_code == 422
    assert errors(refused.text)["d-symbol"].startswith("Symbol is for a dividend")
    missing = pages.post(
        f"{account}/deposits", {"kind": "dividend", "amount": "5"}, csrf_from=account
    )
    shown = errors(missing.text)
    assert shown == {"d-symbol": "Symbol is needed: a dividend names its symbol"}
    reopen = pages.post(
        f"/trades/{_open_lot(pages)['id']}/edit",
        {**_edit_form(_open_lot(pages), sell="5"), "version": str(_open_lot(pages)["version"])},
        csrf_from="/accounts/demo-account-1",
    )
    assert errors(reopen.text) == {
        "sell_date": "Sell date is needed with a sell price (leave both sell fields empty "
        "while the lot is open)"
    }
    assert not _api_words(reopen.text)


def test_delete_keeps_the_filter_and_can_be_undone(pages: Pages) -> None:
    trade = _open_lot(pages)
    listing = "/accounts/demo-account-1?status=open&sort=symbol&dir=asc"
    html = pages.get(listing).text
    assert 'name="back" value="status=open&amp;sort=symbol&amp;dir=asc"' in html
    gone = pages.post(
        f"/trades/{trade['id']}/delete",
        {"version": str(trade["version"]), "back": "status=open&sort=symbol&dir=asc"},
        csrf_from=listing,
    )
    assert gone.status_code == 303
    target = gone.headers["location"]
    assert target == "/accounts/demo-account-1?status=open&sort=symbol&dir=asc#trades"
    after = pages.get(target).text
    assert "Deleted the " in after and ">Undo</button>" in after
    assert "Deleted the " not in pages.get(target).text  # shown once
    undo = re.search(r'<form method="post" action="([^"]+/restore[^"]*)"', after)
    assert undo is not None
    version = re.search(r'class="flash".*?name="version" value="(\d+)"', after, re.S)
    assert version is not None
    restored = pages.post(
        undo.group(1).replace("&amp;", "&"), {"version": version.group(1)}, csrf_from=listing
    )
    assert restored.status_code == 303 and "status=open" in restored.headers["location"]
    assert "Restored" in pages.get(restored.headers["location"]).text
    assert pages.api(f"/api/trades/{trade['id']}")["deletedAt"] is None
    # Deposits too.
    account = "/accounts/demo-account-3"
    (row,) = pages.api("/api/div-deposits?account_id=demo-account-3&limit=1")["items"]
    gone = pages.post(
        f"/deposits/{row['id']}/delete", {"version": str(row["version"])}, csrf_from=account
    )
    assert "Undo" in pages.get(gone.headers["location"]).text
    back = pages.post(
        f"/deposits/{row['id']}/restore", {"version": str(row["version"] + 1)}, csrf_from=account
    )
    assert back.status_code == 303
    assert pages.api(f"/api/div-deposits/{row['id']}")["deletedAt"] is None


def test_an_undo_that_cannot_be_done_says_why(pages: Pages) -> None:
    trade = _open_lot(pages)
    account = "/accounts/demo-account-1"
    live = pages.post(
        f"/trades/{trade['id']}/restore", {"version": str(trade["version"])}, csrf_from=account
    )
    assert live.status_code == 409 and "Not restored" in live.text
    assert "is not deleted" in live.text and "id:" not in live.text
