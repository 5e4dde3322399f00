"""The account page's totals and lots by symbol: the API's numbers, actions first."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from rms.web.render import money, percent
from tests.web.conftest import Pages

ACCOUNT = "demo-account-1"


def _figure(html: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}"[^>]*>([^<]*)<', html)
    assert found is not None, name
    return found.group(1)


def test_totals_and_symbols_are_the_apis_numbers(pages: Pages) -> None:
    html = pages.get(f"/accounts/{ACCOUNT}").text
    api = pages.api(f"/api/summary/holdings?account_id={ACCOUNT}")
    assert api["year"] == datetime.now(UTC).year
    total = api["total"]
    assert _figure(html, "cost-basis") == money(total["cost_basis"])
    assert _figure(html, "unrealised") == money(total["unrealised_gain"])
    assert _figure(html, "income") == money(total["income_this_year"])
    assert _figure(html, "realised") == money(total["realised_gain"])
    assert _figure(html, "yield") == percent(total["yield_on_cost"])
    assert total["cost_basis"] > 0 and total["sold_lots"] > 0
    table = html.split('id="positions"')[1].split("</table>")[0]
    rows = re.findall(r'<tr data-symbol="([^"]+)">(.*?)</tr>', table, re.S)
    assert [symbol for symbol, _ in rows] == [s["symbol"] for s in api["symbols"]]
    for (_, row), symbol in zip(rows, api["symbols"], strict=True):
        cells = re.findall(r'<td class="num[^"]*">([^<]*)</td>', row)
        figures = symbol["figures"]
        if figures["open_lots"]:
            assert cells[1] == money(figures["cost_basis"])
        if figures["sold_lots"]:
            assert cells[6] == money(figures["realised_gain"])
    # Every lot is in its symbol's <details>: the open ones with Sell, the sold with their gain.
    for symbol in api["symbols"]:
        block = html.split(f'<details id="lots-{symbol["symbol"]}"')[1].split("</details>")[0]
        for lot in symbol["open_lots"]:
            assert f'href="/trades/{lot["trade_id"]}/sell"' in block
        for lot in symbol["sold_lots"]:
            assert f'<tr data-trade="{lot["trade_id"]}">' in block
            assert money(lot["realised_gain"]) in block


def test_the_actions_come_first_and_the_lots_are_folded(pages: Pages) -> None:
    html = pages.get(f"/accounts/{ACCOUNT}").text
    assert html.index('id="buy"') < html.index('id="add"') < html.index('id="totals"')
    assert html.index('id="totals"') < html.index('id="positions"') < html.index('id="lots"')
    assert '<details id="lots-' in html and "<details open" not in html
    assert "<script" not in html.split("<main")[1].split("</main>")[0]


def test_a_sale_moves_a_lot_to_the_sold_ones_with_its_gain(pages: Pages) -> None:
    before = pages.api(f"/api/summary/holdings?account_id={ACCOUNT}")
    symbol = next(s for s in before["symbols"] if s["open_lots"])
    lot = symbol["open_lots"][0]
    day = datetime.now(UTC).date()
    answer = pages.post(
        f"/trades/{lot['trade_id']}/sell",
        {
            "sell": f"{lot['buy'] + 1:.2f}",
            "sell_date": day.isoformat(),
            "confirm_date": "1",
            "quantity": str(lot["quantity"]),
            "version": "1",
        },
        csrf_from=f"/trades/{lot['trade_id']}/sell",
    )
    assert answer.status_code == 303, answer.text
    after = pages.api(f"/api/summary/holdings?account_id={ACCOUNT}")
    changed = next(s for s in after["symbols"] if s["symbol"] == symbol["symbol"])
    assert lot["trade_id"] in [s["trade_id"] for s in changed["sold_lots"]]
    gain = round(float(f"{lot['buy'] + 1:.2f}") * lot["quantity"] - lot["buy"] * lot["quantity"], 2)
    assert after["total"]["realised_this_year"] == round(
        before["total"]["realised_this_year"] + gain, 2
    )
    html = pages.get(f"/accounts/{ACCOUNT}").text
    assert _figure(html, "realised-year") == money(after["total"]["realised_this_year"])


def test_holdings_of_an_unknown_account_is_not_found(pages: Pages) -> None:
    token = pages.app.state.auth.local.value
    answer = pages.client.get(
        "/api/summary/holdings?account_id=nope", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 404
