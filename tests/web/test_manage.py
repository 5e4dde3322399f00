"""The lists the owner changes from the pages (issue 29), on SQLite and PostgreSQL.

Accounts, the universe, risk groups, the screener and the CUSIP cache: each form's
success and its refusals in the owner's words, deletes refused while in use, Undo, and
the "Yours / Saved now" conflict of a stale edit.
"""

from __future__ import annotations

import re
from typing import Any

from tests.web.conftest import Pages
from tests.web.test_pages import _api_words, _hidden, errors


def _flash(pages: Pages, answer: Any) -> str:
    assert answer.status_code == 303, answer.text
    html = pages.get(answer.headers["location"]).text
    found = re.search(r'<div class="flash" role="status">\s*<p>([^<]*)</p>', html)
    assert found is not None
    return found.group(1)


def _symbol(**changes: str) -> dict[str, str]:
    form = {
        "symbol": "NEWX",
        "last_price": "10.5",
        "distribution": "0.08",
        "distributions_per_year": "12",
        "ex_date": "2025-06-13",
        "risk_group_id": "rg-income",
        "is_closed_end_fund": "on",
    }
    return {**form, **changes}


def test_accounts_add_rename_and_delete(pages: Pages) -> None:
    added = pages.post("/accounts", {"name": "Joint"}, csrf_from="/accounts")
    assert _flash(pages, added) == "Added the account Joint."
    [joint] = pages.api("/api/accounts?name=Joint")["items"]
    listed = pages.get("/accounts").text
    assert f'href="/accounts/{joint["id"]}/edit"' in listed

    duplicate = pages.post("/accounts", {"name": "Brokerage"}, csrf_from="/accounts")
    assert duplicate.status_code == 422
    assert errors(duplicate.text)["add-name"] == "Name is taken: another account has it"
    blank = pages.post("/accounts", {"name": "  "}, csrf_from="/accounts")
    assert blank.status_code == 422 and "add-name" in errors(blank.text)

    edit = f"/accounts/{joint['id']}/edit"
    renamed = pages.post(edit, {"name": "Joint account", "version": "1"}, csrf_from=edit)
    assert _flash(pages, renamed) == "Saved the account Joint account."
    taken = pages.post(edit, {"name": "Roth IRA", "version": "2"}, csrf_from=edit)
    assert taken.status_code == 422
    assert errors(taken.text)["name"] == "Name is taken: another account has it"

    # An account with open lots is not deleted; an empty one is, and Undo brings it back.
    busy = pages.post("/accounts/demo-account-1/delete", {"version": "1"}, csrf_from=edit)
    assert busy.status_code == 409
    assert re.search(r"Not deleted: \d+ open lots still use this account", busy.text)
    deleted = pages.post(f"/accounts/{joint['id']}/delete", {"version": "2"}, csrf_from=edit)
    assert _flash(pages, deleted) == "Deleted the account Joint account."
    assert "Joint account" not in pages.get("/accounts").text
    undo = pages.post(f"/accounts/{joint['id']}/restore", {"version": "3"}, csrf_from=edit)
    assert _flash(pages, undo) == "Restored the account Joint account."
    # A deleted account's name stays taken, and the page says by whom.
    pages.post(f"/accounts/{joint['id']}/delete", {"version": "4"}, csrf_from=edit)
    again = pages.post("/accounts", {"name": "Joint account"}, csrf_from="/accounts")
    assert errors(again.text)["add-name"] == (
        "Name is still held by a deleted account; choose another"
    )


def test_a_stale_rename_shows_the_conflict(pages: Pages) -> None:
    edit = "/accounts/demo-account-3/edit"
    loaded = _hidden(pages.get(edit).text, "version")
    first = pages.post(edit, {"name": "IRA one", "version": loaded}, csrf_from=edit)
    assert first.status_code == 303
    second = pages.post(edit, {"name": "IRA two", "version": loaded}, csrf_from=edit)
    assert second.status_code == 409
    row = re.search(
        r'<th scope="row">Name</th><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td>', second.text
    )
    assert row is not None and row.groups() == ("IRA two", "IRA one")
    assert _hidden(second.text, "version") == loaded
    assert pages.api("/api/accounts/demo-account-3")["name"] == "IRA one"
    mine = pages.post(
        edit,
        {"name": "IRA two", "version": loaded, "overwrite": str(int(loaded) + 1)},
        csrf_from=edit,
    )
    assert mine.status_code == 303
    assert pages.api("/api/accounts/demo-account-3")["name"] == "IRA two"


def test_universe_add_edit_and_delete_a_symbol(pages: Pages) -> None:
    added = pages.post("/universe", _symbol(symbol="newx"), csrf_from="/universe")
    assert _flash(pages, added) == "Added the symbol NEWX."
    [row] = pages.api("/api/universe?symbol=NEWX")["items"]
    assert row["ex_date"].startswith("2025-06-13") and row["is_closed_end_fund"] is True
    assert row["expired"] is False

    bad = pages.post(
        "/universe",
        _symbol(symbol="PDI", last_price="ten", distributions_per_year="400"),
        csrf_from="/universe",
    )
    assert bad.status_code == 422
    shown = errors(bad.text)
    assert shown["add-last_price"].startswith("Last price ")
    assert shown["add-distributions_per_year"].startswith("Payments a year ")
    assert 'value="ten"' in bad.text  # what was typed stays
    assert not _api_words(bad.text)
    duplicate = pages.post("/universe", _symbol(symbol="pdi"), csrf_from="/universe")
    assert errors(duplicate.text)["add-symbol"] == "Symbol is taken: another symbol has it"

    edit = f"/universe/{row['id']}/edit"
    form = _symbol(last_price="11.25", ex_date="", expired="on", risk_group_id="rg-equities")
    form.pop("is_closed_end_fund")  # the box unticked
    saved = pages.post(edit, {**form, "version": "1"}, csrf_from=edit)
    assert _flash(pages, saved) == "Saved the symbol NEWX."
    after = pages.api(f"/api/universe/{row['id']}")
    assert after["last_price"] == 11.25 and after["ex_date"] is None
    assert after["expired"] is True and after["is_closed_end_fund"] is False
    assert after["risk_group_id"] == "rg-equities"

    stale = pages.post(edit, {**form, "last_price": "12", "version": "1"}, csrf_from=edit)
    assert stale.status_code == 409 and "Save mine over theirs" in stale.text
    assert re.search(
        r'<th scope="row">Risk group</th><td>Equities</td><td>Equities</td>', stale.text
    )

    held = pages.post("/universe/demo-pdi/delete", {"version": "1"}, csrf_from=edit)
    assert held.status_code == 409
    assert re.search(r"Not deleted: \d+ open lots still use this symbol", held.text)
    gone = pages.post(f"/universe/{row['id']}/delete", {"version": "2"}, csrf_from=edit)
    assert _flash(pages, gone) == "Deleted the symbol NEWX."
    assert pages.api("/api/universe?symbol=NEWX")["items"] == []


def test_risk_groups_add_rename_and_delete_refused_while_used(pages: Pages) -> None:
    added = pages.post("/risk-groups", {"name": "Speculative"}, csrf_from="/risk-groups")
    assert _flash(pages, added) == "Added the risk group Speculative."
    [group] = pages.api("/api/risk-groups?name=Speculative")["items"]
    duplicate = pages.post("/risk-groups", {"name": "Income"}, csrf_from="/risk-groups")
    assert errors(duplicate.text)["add-name"] == "Name is taken: another risk group has it"

    edit = f"/risk-groups/{group['id']}/edit"
    renamed = pages.post(edit, {"name": "Spec", "version": "1"}, csrf_from=edit)
    assert _flash(pages, renamed) == "Saved the risk group Spec."
    # The new group is offered to symbols.
    assert f'<option value="{group["id"]}">Spec</option>' in pages.get("/universe").text

    used = pages.post("/risk-groups/rg-income/delete", {"version": "1"}, csrf_from=edit)
    assert used.status_code == 409
    message = re.search(r'<p class="error" role="alert">([^<]*)</p>', used.text)
    assert message is not None
    assert re.match(
        r"Not deleted: 13 symbols of the universe \(ARDC, .*, PDI, .*\) still use this risk "
        r"group; move them to another risk group first\.",
        message.group(1),
    ), message.group(1)
    assert not _api_words(used.text)
    assert pages.api("/api/risk-groups/rg-income")["deletedAt"] is None
    deleted = pages.post(f"/risk-groups/{group['id']}/delete", {"version": "2"}, csrf_from=edit)
    assert _flash(pages, deleted) == "Deleted the risk group Spec."


def test_screener_add_and_edit(pages: Pages) -> None:
    form = _symbol(symbol="WATCH")
    form.pop("is_closed_end_fund")
    added = pages.post("/screener", form, csrf_from="/screener")
    assert _flash(pages, added) == "Added the screener entry WATCH."
    [entry] = pages.api("/api/screener?symbol=WATCH")["items"]
    negative = pages.post("/screener", {**form, "distribution": "-1"}, csrf_from="/screener")
    assert negative.status_code == 422
    assert errors(negative.text)["add-distribution"].startswith("Distribution ")

    edit = f"/screener/{entry['id']}/edit"
    saved = pages.post(edit, {**form, "last_price": "9", "version": "1"}, csrf_from=edit)
    assert _flash(pages, saved) == "Saved the screener entry WATCH."
    assert pages.api(f"/api/screener/{entry['id']}")["last_price"] == 9
    assert "WATCH" in pages.get("/screener").text


def test_cusip_cache_list_add_and_correct(pages: Pages) -> None:
    form = {"cusip": "72201y101", "symbol": "pdi", "source": "THIRTEENF"}
    added = pages.post("/cusip-cache", form, csrf_from="/cusip-cache")
    assert _flash(pages, added) == "Added the CUSIP 72201Y101."
    [entry] = pages.api("/api/cusip-cache?cusip=72201Y101")["items"]
    assert entry["symbol"] == "PDI"
    listed = pages.get("/cusip-cache?q=72201").text
    assert "72201Y101" in listed and "13F filing" in listed
    assert "Nothing matches" in pages.get("/cusip-cache?q=nothing-like-it").text

    short = pages.post("/cusip-cache", {**form, "cusip": "123"}, csrf_from="/cusip-cache")
    assert short.status_code == 422 and errors(short.text)["add-cusip"].startswith("CUSIP ")
    duplicate = pages.post("/cusip-cache", form, csrf_from="/cusip-cache")
    assert errors(duplicate.text)["add-cusip"] == "CUSIP is taken: another CUSIP has it"

    edit = f"/cusip-cache/{entry['id']}/edit"
    page = pages.get(edit).text
    assert 'name="version"' not in page and "/delete" not in page
    corrected = pages.post(
        edit, {**form, "symbol": "PTY", "source": "YAHOO_FINANCE"}, csrf_from=edit
    )
    assert _flash(pages, corrected) == "Saved the CUSIP 72201Y101."
    after = pages.api(f"/api/cusip-cache/{entry['id']}")
    assert after["symbol"] == "PTY" and after["source"] == "YAHOO_FINANCE"


def test_forms_without_their_token_are_refused(pages: Pages) -> None:
    for url in ("/accounts", "/risk-groups", "/universe/demo-pdi/edit", "/cusip-cache"):
        assert pages.post(url, {"name": "X"}).status_code == 403


def test_the_add_form_starts_as_the_api_would(pages: Pages) -> None:
    html = pages.get("/universe").text
    add = html.split('id="add"', 1)[1]
    assert re.search(r'name="is_closed_end_fund" type="checkbox" checked', add)
    assert not re.search(r'name="expired" type="checkbox" checked', add)
