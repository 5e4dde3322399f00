"""The owner's whole month from the pages only (issue 29), in headless Chromium, both engines.

One story per engine against ``rms serve`` on the demo data: create an account and a
symbol, buy a lot, sell part of it, add a dividend and edit it, read the account's totals
and the month's figures on the pages and check them against values computed here from what
was typed, resolve a two-tab edit conflict keeping both changes, undo a delete, and remove
the demo portfolio. Every wait is on a page element or a URL (no sleeps).

The dates are the two months before the current one (trade dates after today are refused),
on market days of the NYSE calendar (a holiday would ask to confirm the date).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import holidays
import pytest

from tests.web.browser import Served

pytestmark = pytest.mark.slow

ACCOUNT = "Month story"
SYMBOL = "MNTH"
LAST, DISTRIBUTION, PER_YEAR, GROUP = 11.0, 0.1, 12, "Income"
QUANTITY, BUY = 100, 10.0
SOLD, SELL = 60, 12.5
DIVIDEND, DIVIDEND_EDITED = 12.34, 23.45
BUY_CORRECTED = 10.4  # the first tab's change in the conflict
MONTH_FIGURES = ("dividends", "deposits", "capital_gains", "open_cost_basis_total")


def money(value: float) -> str:
    return f"{value:,.2f}"


def amount(text: str) -> float:
    return float(text.replace(",", ""))


def market_day(year: int, month: int, day: int) -> date:
    """The first weekday on or after ``day`` that the NYSE was open."""
    closed = holidays.financial_holidays("NYSE", years=year)
    found = date(year, month, day)
    while found.weekday() >= 5 or found in closed:
        found += timedelta(days=1)
    return found


def month_before(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


def flash(page: Any) -> str:
    text: str = page.locator(".flash p").inner_text()
    return text


def month_figures(page: Any, base: str, month: str, account_id: str = "") -> dict[str, float]:
    """The dashboard's figures of ``month`` (with the risk group's and the year's)."""
    page.goto(f"{base}/?month={month}&account_id={account_id}")
    assert page.locator("#summary").get_attribute("data-month") == month
    read = {
        n: amount(page.locator(f'#summary [data-figure="{n}"]').inner_text()) for n in MONTH_FIGURES
    }
    group = page.locator(f'#basis [data-group="{GROUP}"]')
    read["group"] = amount(group.inner_text()) if group.count() else 0.0
    row = page.locator(f'#graph tr[data-month="{month}"]')
    for name in ("dividends", "capital_gains"):
        read[f"row_{name}"] = amount(row.locator(f'[data-figure="{name}"]').inner_text())
        read[f"year_{name}"] = amount(page.locator(f'#year [data-figure="{name}"]').inner_text())
    return read


def totals(page: Any) -> dict[str, str]:
    """The account page's totals, as shown."""
    names = ("cost-basis", "unrealised", "income", "yield", "realised-year", "realised")
    return {n: page.locator(f'#totals [data-figure="{n}"]').inner_text() for n in names}


def expected_totals(
    *, open_lots: list[tuple[int, float]], realised: float, realised_year: float, income: float
) -> dict[str, str]:
    basis = sum(q * b for q, b in open_lots)
    held = sum(q for q, _ in open_lots)
    return {
        "cost-basis": money(basis),
        "unrealised": money(sum((LAST - b) * q for q, b in open_lots)),
        "income": money(income),
        "yield": f"{DISTRIBUTION * PER_YEAR * held / basis * 100:.2f} %" if basis else "none open",
        "realised-year": money(realised_year),
        "realised": money(realised),
    }


def test_owner_month(page: Any, served: Served) -> None:
    base = served.base
    today = datetime.now(UTC).date()
    second_month = month_before(today.replace(day=1))  # the sale and the dividend
    first_month = month_before(second_month)  # the buy
    m1, m2 = first_month.strftime("%Y-%m"), second_month.strftime("%Y-%m")
    bought = market_day(first_month.year, first_month.month, 8)
    rebought = market_day(first_month.year, first_month.month, 15)  # the second tab's change
    sold_on = market_day(second_month.year, second_month.month, 8)
    paid_on = date(second_month.year, second_month.month, 15)
    this_year = today.year
    income = DIVIDEND_EDITED if paid_on.year == this_year else 0.0
    gain = (SELL - BUY) * SOLD

    page.goto(served.sign_in_url)
    page.wait_for_url(f"{base}/")
    before = {m: month_figures(page, base, m) for m in (m1, m2)}

    # An account and a symbol, from their lists' Add forms.
    page.goto(f"{base}/accounts")
    page.locator("form.card").get_by_label("Name").fill(ACCOUNT)
    page.get_by_role("button", name="Add").click()
    assert flash(page) == f"Added the account {ACCOUNT}."
    page.locator("th[scope=row] a", has_text=ACCOUNT).click()
    page.wait_for_url(f"{base}/accounts/*")
    account_url = page.url.split("?")[0].split("#")[0]
    account_id = account_url.rsplit("/", 1)[1]
    assert page.get_by_text("No positions yet").is_visible()
    assert totals(page)["cost-basis"] == "0.00"

    page.goto(f"{base}/universe")
    add_symbol = page.locator("form.card")
    add_symbol.get_by_label("Symbol").fill(SYMBOL)
    add_symbol.get_by_label("Last price").fill(str(LAST))
    add_symbol.get_by_label("Distribution").fill(str(DISTRIBUTION))
    add_symbol.get_by_label("Payments a year").fill(str(PER_YEAR))
    add_symbol.get_by_label("Risk group").select_option(label=GROUP)
    add_symbol.get_by_role("button", name="Add").click()
    assert flash(page) == f"Added the symbol {SYMBOL}."
    assert page.locator("#universe th[scope=row]", has_text=SYMBOL).is_visible()

    # Buy a lot.
    page.goto(account_url)
    buy = page.locator("#buy form")
    buy.get_by_label("Symbol").fill(SYMBOL)
    buy.get_by_label("Quantity").fill(str(QUANTITY))
    buy.get_by_label("Price").fill(str(BUY))
    buy.get_by_label("Date").fill(bought.isoformat())
    buy.get_by_role("button", name="Buy").click()
    assert flash(page) == f"Bought {QUANTITY} {SYMBOL} at {money(BUY)} on {bought}."
    assert totals(page) == expected_totals(
        open_lots=[(QUANTITY, BUY)], realised=0, realised_year=0, income=0
    )

    # Sell part of it: the rest stays open on the lot.
    page.locator(f"#lots-{SYMBOL} summary").click()
    page.get_by_role("link", name=f"Sell {SYMBOL} lot of {QUANTITY}").click()
    page.get_by_label("Shares to sell").fill(str(SOLD))
    page.get_by_label("Sell price").fill(str(SELL))
    page.get_by_label("Sell date").fill(sold_on.isoformat())
    page.get_by_role("button", name="Sell").click()
    kept = QUANTITY - SOLD
    assert flash(page) == f"Sold {SOLD} {SYMBOL} at {money(SELL)} on {sold_on}; {kept} stay open."
    in_year = gain if sold_on.year == this_year else 0.0
    assert totals(page) == expected_totals(
        open_lots=[(kept, BUY)], realised=gain, realised_year=in_year, income=0
    )

    # A dividend, then an edit of its amount.
    add = page.locator("#add form")
    add.get_by_label("Symbol").fill(SYMBOL)
    add.get_by_label("Amount").fill(str(DIVIDEND))
    add.get_by_label("Date").fill(paid_on.isoformat())
    add.get_by_role("button", name="Add").click()
    page.wait_for_url("**#dividends")
    assert flash(page).startswith("Added the dividend")
    row = page.locator("#dividends-list tr", has_text=paid_on.isoformat())
    assert row.locator("td.num").inner_text() == money(DIVIDEND)
    row.get_by_role("link", name="Edit").click()
    page.get_by_label("Amount").fill(str(DIVIDEND_EDITED))
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**#dividends")
    assert flash(page).startswith("Saved the dividend")
    assert row.locator("td.num").inner_text() == money(DIVIDEND_EDITED)
    assert totals(page)["income"] == money(income)

    # The month's figures moved by exactly what was entered, the account's and everyone's;
    # the closed first month keeps its open cost basis after the later sale.
    def moved(month: str) -> dict[str, float]:
        in_m1, in_m2 = month == m1, month == m2
        same_year = {m: m[:4] == month[:4] for m in (m1, m2)}
        basis = QUANTITY * BUY if in_m1 else kept * BUY
        return {
            "dividends": DIVIDEND_EDITED if in_m2 else 0.0,
            "deposits": 0.0,
            "capital_gains": gain if in_m2 else 0.0,
            "open_cost_basis_total": basis,
            "group": basis,
            "row_dividends": DIVIDEND_EDITED if in_m2 else 0.0,
            "row_capital_gains": gain if in_m2 else 0.0,
            "year_dividends": DIVIDEND_EDITED if same_year[m2] else 0.0,
            "year_capital_gains": gain if same_year[m2] else 0.0,
        }

    for month in (m1, m2):
        mine = month_figures(page, base, month, account_id)
        assert mine == pytest.approx(moved(month)), month
        everyone = month_figures(page, base, month)
        change = {k: everyone[k] - before[month][k] for k in everyone}
        assert change == pytest.approx(moved(month), abs=0.005), month

    # An edit conflict: two tabs edit the lot still open; each changes one field.
    page.goto(account_url)
    page.locator(f"#lots-{SYMBOL} summary").click()
    page.get_by_role("link", name=f"Edit {SYMBOL} lot of {kept}").click()
    page.wait_for_url("**/edit")
    edit_url = page.url
    other = page.context.new_page()
    other.goto(edit_url)
    page.get_by_label("Buy price").fill(str(BUY_CORRECTED))
    page.get_by_role("button", name="Save").click()
    assert flash(page) == f"Saved the {SYMBOL} trade bought {bought}."
    other.get_by_label("Buy date").fill(rebought.isoformat())
    other.get_by_role("button", name="Save").click()
    panel = other.locator("#conflict")
    assert "nothing was saved" in panel.inner_text()
    price = panel.locator("tr", has=other.locator("th", has_text="Buy price")).locator("td")
    yours, saved_now = price.nth(0).inner_text(), price.nth(1).inner_text()
    assert (amount(yours), amount(saved_now)) == (BUY, BUY_CORRECTED)
    assert other.get_by_label("Buy date").input_value() == rebought.isoformat()
    # The owner merges: the saved price into the form, then saves over the saved row.
    other.get_by_label("Buy price").fill(saved_now)
    other.get_by_role("button", name="Save mine over theirs").click()
    assert flash(other) == f"Saved the {SYMBOL} trade bought {rebought}."
    other.close()
    page.goto(account_url)
    page.locator(f"#lots-{SYMBOL} summary").click()
    lot = page.locator(f"#lots-{SYMBOL} .open-lots tbody tr")
    assert lot.locator("th").inner_text() == rebought.isoformat()
    assert lot.locator("td").nth(1).inner_text() == money(BUY_CORRECTED)
    assert totals(page) == expected_totals(
        open_lots=[(kept, BUY_CORRECTED)], realised=gain, realised_year=in_year, income=income
    )

    # Undo a delete: the dividend goes, and comes back.
    page.once("dialog", lambda dialog: dialog.accept())  # the delete button asks first
    page.locator("#dividends summary").click()
    page.get_by_role("button", name=f"Delete dividends of {paid_on}").click()
    assert flash(page).startswith("Deleted the dividend")
    assert page.locator("#dividends-list").count() == 0
    assert totals(page)["income"] == "0.00"
    page.locator(".flash").get_by_role("button", name="Undo").click()
    assert flash(page) == "Restored: the delete is undone."
    assert totals(page)["income"] == money(income)
    restored = page.locator("#dividends-list tr", has_text=paid_on.isoformat())
    assert restored.locator("td.num").inner_text() == money(DIVIDEND_EDITED)

    # Remove the demo portfolio: only the owner's account and symbol stay, and the
    # figures of everyone are now exactly his.
    page.goto(f"{base}/")
    page.locator("#demo-note").get_by_role("link", name="Remove the demo portfolio").click()
    page.get_by_role("button", name="Remove the demo portfolio").click()
    page.wait_for_url(f"{base}/")
    assert flash(page).startswith("Removed the demo portfolio")
    assert page.locator("#demo-note").count() == 0
    page.goto(f"{base}/accounts")
    assert page.locator("#accounts th[scope=row]").all_inner_texts() == [ACCOUNT]
    page.goto(f"{base}/universe")
    assert page.locator("#universe th[scope=row]").all_inner_texts() == [SYMBOL]
    for month in (m1, m2):
        everyone = month_figures(page, base, month)
        basis = SOLD * BUY + kept * BUY_CORRECTED if month == m1 else kept * BUY_CORRECTED
        assert everyone["open_cost_basis_total"] == pytest.approx(basis), month
        assert everyone["capital_gains"] == pytest.approx(gain if month == m2 else 0.0)
        assert everyone["dividends"] == pytest.approx(DIVIDEND_EDITED if month == m2 else 0.0)
