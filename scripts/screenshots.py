"""Screenshots of every page at 1280 px and 375 px wide, on the demo data.

Starts ``rms serve`` on a fresh SQLite database seeded with the demo portfolio (a temporary
state directory), signs in with the URL it prints, and saves one full-page PNG per page and
width in ``--out`` (default ``/tmp/rms-screenshots``), named ``<page>-1280.png`` and
``<page>-375.png``. Headless Chromium (Debian's ``/usr/bin/chromium``) through Playwright,
as the browser tests use it. For looking at the pages, not for the repository.

    .venv/bin/python scripts/screenshots.py [--out DIR] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

from rms.devtools.pgcluster import free_port

CHROMIUM = "/usr/bin/chromium"
WIDTHS = {1280: 900, 375: 740}
DEMO_MONTH = "2025-06"


def _rms(*args: str) -> list[str]:
    return [sys.executable, "-c", "from rms.cli import run; run()", *args]


@contextmanager
def serve(state_dir: Path) -> Iterator[tuple[str, str]]:
    """``rms serve`` on the demo data: its base URL and the sign-in URL it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_URL"))}
    env.update(RMS_STATE_DIR=str(state_dir), LOG_LEVEL="WARNING")
    for args in (("db", "upgrade"), ("db", "seed", "--demo")):
        subprocess.run(_rms(*args), env=env, check=True, capture_output=True)  # noqa: S603
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        _rms("serve", "--host", "127.0.0.1", "--port", str(port)),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        sign_in = ""
        while not sign_in:
            line = process.stdout.readline()
            if not line:
                raise SystemExit("rms serve stopped before printing its sign-in URL")
            if line.startswith("sign in: "):
                sign_in = line.removeprefix("sign in: ").strip()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/health/live", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield base, sign_in
    finally:
        process.terminate()
        process.wait(timeout=30)


def shoot(page: Page, out: Path, name: str) -> None:
    for width, height in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(out / f"{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth") - width
        if overflow > 0:
            print(f"  {name} at {width} px: the page is {overflow} px wider than the screen")
    page.set_viewport_size({"width": 1280, "height": WIDTHS[1280]})


def pages(base: str, page: Page) -> dict[str, str]:
    """Each page to shoot: its name and its path (ids read from the API)."""

    def first(resource: str, query: str = "") -> str:
        items = page.request.get(f"{base}/api/{resource}?limit=1{query}").json()["items"]
        return str(items[0]["id"])

    trade = first("trades", "&account_id=demo-account-1")
    return {
        "dashboard": f"/?month={DEMO_MONTH}",
        "accounts": "/accounts",
        "account": "/accounts/demo-account-1",
        "account-edit": "/accounts/demo-account-1/edit",
        "trade-edit": f"/trades/{trade}/edit",
        "trade-sell": f"/trades/{trade}/sell",
        "deposit-edit": f"/deposits/{first('div-deposits', '&account_id=demo-account-1')}/edit",
        "universe": "/universe",
        "universe-edit": f"/universe/{first('universe')}/edit",
        "risk-groups": "/risk-groups",
        "screener": "/screener",
        "cusip-cache": "/cusip-cache",
        "holidays": "/holidays?year=2025",
        "demo-remove": "/demo/remove",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "rms-screenshots")
    parser.add_argument("--only", nargs="*", help="page names (default: all)")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as state,
        serve(Path(state)) as (base, sign_in),
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": WIDTHS[1280]})
        wanted = set(args.only or [])
        page.goto(f"{base}/auth/login")
        if not wanted or "sign-in" in wanted:
            shoot(page, out, "sign-in")
        page.goto(sign_in)
        page.wait_for_url(f"{base}/")
        for name, path in pages(base, page).items():
            if wanted and name not in wanted:
                continue
            page.goto(f"{base}{path}")
            if name == "account":  # one symbol's lots unfolded, as the owner reads it
                page.locator("details.lots summary").first.click()
            shoot(page, out, name)
        browser.close()
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
