"""The owner's pages in real headless Chromium against ``rms serve``, on both engines.

Few tests, each a whole story (sign in, read, buy, sell, add a dividend, a refused form),
using Playwright's own waits (no sleeps). Screenshots of every page, at desktop width and
at 375 px, go to ``build/screenshots/`` (gitignored).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.browser import DESKTOP, PHONE, Served, Sim, shoot

pytestmark = pytest.mark.slow

#: After the demo data the servers are seeded with (through 2025-12-31, tests/demo.py):
#: this month's figures are only what the test adds.
MONTH = "2026-11"
DEMO_MONTH = "2025-06"


def figure(page: Any, name: str) -> str:
    text: str = page.locator(f'#summary [data-figure="{name}"]').inner_text()
    return text


def money(value: float) -> str:
    return f"{value:,.2f}"


def sign_in(page: Any, served: Served) -> None:
    """An anonymous visit goes to the sign-in form and, after it, back where it went."""
    page.goto(f"{served.base}/universe")
    page.wait_for_url("**/auth/login?next=%2Funiverse")
    assert page.get_by_role("heading", name="Sign in").is_visible()
    page.get_by_label("Token").fill(served.token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{served.base}/universe")


def test_owner_story(page: Any, served: Served) -> None:
    shots = served.backend == "sqlite"  # one set of screenshots is enough
    page.goto(f"{served.base}/")
    if shots:
        shoot(page, "sign-in")
    sign_in(page, served)

    # The dashboard shows the demo figures the API returns.
    page.goto(f"{served.base}/?month={DEMO_MONTH}")
    api = page.request.get(f"{served.base}/api/summary?month={DEMO_MONTH}").json()
    for name in ("dividends", "deposits", "capital_gains", "open_cost_basis_total"):
        assert figure(page, name) == money(api[name]), name
    graph = page.request.get(f"{served.base}/api/summary/graph?year=2025").json()
    june = page.locator('#graph tr[data-month="2025-06"]')
    assert june.locator('[data-figure="dividends"]').inner_text() == money(
        graph["months"][5]["dividends"]
    )
    assert (page.locator("#chart-title-wide").text_content() or "").startswith("Dividends")
    # At 375 px the narrow drawing of the chart shows instead, its text still readable.
    page.set_viewport_size(PHONE)
    assert page.locator("svg.narrow").is_visible() and not page.locator("svg.wide").is_visible()
    label = page.locator("svg.narrow text.axis").first.bounding_box()
    assert label is not None and label["height"] >= 10
    page.set_viewport_size(DESKTOP)
    if shots:
        shoot(page, "dashboard")

    # An account: buy a lot, then a refused form, then sell the lot.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    if shots:
        shoot(page, "accounts")
    page.locator("th[scope=row] a").first.click()  # the account list: its names link
    account_url = page.url
    page.get_by_label("Symbol").first.fill("PDI")
    page.get_by_label("Quantity").fill("0")
    page.get_by_label("Price").fill("10")
    page.get_by_label("Date").first.fill(f"{MONTH}-02")
    page.get_by_role("button", name="Buy").click()
    error = page.locator("#e-quantity")
    assert error.inner_text() == "Quantity must be greater than or equal to 1"
    assert page.get_by_label("Quantity").get_attribute("aria-invalid") == "true"
    if shots:
        shoot(page, "account-validation-error")
    page.get_by_label("Quantity").fill("10")
    page.get_by_role("button", name="Buy").click()
    page.wait_for_url(f"{account_url.split('?')[0]}#trades")
    page.locator("#lots-PDI summary").click()  # the symbol's lots are folded
    lot = page.locator("#lots-PDI .open-lots tr").filter(has_text="10.00").first
    assert lot.is_visible()
    if shots:
        shoot(page, "account")
    lot.get_by_role("link", name="Sell").click()
    page.get_by_label("Sell price").fill("12.5")
    page.get_by_label("Sell date").fill(f"{MONTH}-20")
    if shots:
        shoot(page, "sell")
    page.get_by_role("button", name="Sell").click()
    page.wait_for_url("**#trades")

    # A dividend.
    form = page.locator("form[action*='/deposits']")
    form.get_by_label("Symbol").fill("PDI")
    form.get_by_label("Amount").fill("12.34")
    form.get_by_label("Date").fill(f"{MONTH}-15")
    form.get_by_role("button", name="Add").click()
    page.wait_for_url("**#dividends")
    assert page.locator("#dividends-list tr", has_text=f"{MONTH}-15").is_visible()

    # The month's capital gain and dividend on the dashboard of that account.
    account_id = account_url.rstrip("/").split("/")[-1].split("?")[0]
    page.goto(f"{served.base}/?month={MONTH}&account_id={account_id}")
    assert figure(page, "capital_gains") == "25.00"
    assert figure(page, "dividends") == "12.34"
    api = page.request.get(
        f"{served.base}/api/summary?month={MONTH}&account_id={account_id}"
    ).json()
    assert (api["capital_gains"], api["dividends"]) == (25.0, 12.34)

    if shots:
        trade = page.request.get(
            f"{served.base}/api/trades?account_id={account_id}&limit=1"
        ).json()["items"][0]
        page.goto(f"{served.base}/trades/{trade['id']}/edit")
        shoot(page, "edit")
        for name in ("universe", "screener", "holidays?year=2025"):
            page.goto(f"{served.base}/{name}")
            shoot(page, name.split("?")[0])

    # Remove the demo portfolio: refused at first (the lot bought above is in a demo
    # account), then done keeping the demo account and symbol that lot uses.
    page.goto(f"{served.base}/?month={DEMO_MONTH}")
    page.get_by_role("link", name="Remove the demo portfolio").click()
    assert "of your trades in the demo account" in page.locator("#dependents").inner_text()
    if shots:
        shoot(page, "demo-remove")
    page.get_by_role("button", name="Remove the demo portfolio").click()
    assert "Nothing was removed" in page.locator("#demo-error").inner_text()
    page.get_by_label("Keep them").check()
    page.get_by_role("button", name="Remove the demo portfolio").click()
    page.wait_for_url(f"{served.base}/")
    assert "Removed the demo portfolio" in page.locator(".flash").inner_text()
    accounts = page.request.get(f"{served.base}/api/accounts").json()["items"]
    assert [a["id"] for a in accounts] == [account_id]


def test_every_page_names_its_icon_and_nothing_asked_for_is_missing(
    page: Any, serve_sqlite: Served
) -> None:
    """A browser asks for /favicon.ico unless the page names an icon: that was a 404 (signed
    in) or a 401 logged as a refused request (on the sign-in page) on every first visit."""
    served = serve_sqlite
    answers: list[tuple[int, str]] = []
    errors: list[str] = []
    page.on("response", lambda r: answers.append((r.status, r.url)))
    # The favicon's own request is not a page event; its failure shows on the console.
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{served.base}/")  # anonymous: the sign-in form
    page.wait_for_url("**/auth/login*")
    page.goto(served.sign_in_url)
    page.wait_for_url(f"{served.base}/")
    links = page.eval_on_selector_all("header a[href^='/']", "els => els.map(e => e.pathname)")
    for path in sorted(set(links)):
        page.goto(f"{served.base}{path}")
    page.goto(f"{served.base}/problems/unavailable")  # a plain page of the service's own
    pages = {url for status, url in answers if status == 200 and "/static/" not in url}
    assert len(pages) >= 6, pages
    assert errors == []  # was: "Failed to load resource: ... 404" for /favicon.ico
    assert [(s, u) for s, u in answers if s >= 400] == []
    icons = [(s, u) for s, u in answers if u.endswith("/static/rms.svg")]
    assert icons and all(s in (200, 304) for s, _ in icons), icons


def test_docs_load_with_no_request_leaving_the_machine(page: Any, serve_sqlite: Served) -> None:
    served = serve_sqlite
    requests: list[str] = []
    blocked: list[str] = []
    problems: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on(
        "requestfailed",
        lambda r: blocked.append(r.url) if "csp" in (r.failure or "").lower() else None,
    )
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(served.sign_in_url)  # the URL rms serve printed signs in
    page.wait_for_url(f"{served.base}/")
    page.goto(f"{served.base}/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "RMS" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock").first.wait_for()
    shoot(page, "docs")
    page.goto(f"{served.base}/redoc")
    page.get_by_role("heading", name="RMS").first.wait_for()
    shoot(page, "redoc")
    outside = [u for u in requests if not u.startswith((served.base, "data:", "blob:"))]
    # ReDoc's sidebar shows Redocly's logo from its CDN: the page's CSP (img-src 'self'
    # data:) stops that request in the browser, so it never leaves the machine.
    assert requests and [u for u in outside if u not in blocked] == []
    assert set(outside) <= {"https://cdn.redoc.ly/redoc/logo-mini.svg"}
    csp = [p for p in problems if "Content Security Policy" in p and "logo-mini" not in p]
    assert csp == []


def test_waking_database_page_then_dashboard(
    page: Any, serve_postgresql: tuple[Served, Sim]
) -> None:
    served, sim = serve_postgresql
    sign_in(page, served)
    sim.post("pause")
    page.goto(f"{served.base}/?month={DEMO_MONTH}")
    assert page.get_by_role("heading", name="The database is waking up").is_visible()
    assert page.locator("#elapsed").is_visible()
    shoot(page, "waking")
    # It reloads by itself until the database answers, then shows the page asked for.
    page.locator("#summary").wait_for(timeout=60_000)
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    assert sim.state()["resumes"] == 1
