"""Web fixtures: the unit-level page client (both engines) and the end-to-end servers."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from rms.app import create_app
from rms.db.database import Database
from rms.seed import seed_demo, seed_reference
from rms.settings import Settings
from tests.demo import DEMO_THROUGH
from tests.web import browser

BASE_URL = "http://localhost"
ORIGIN = {"Origin": BASE_URL}


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    db.run(lambda s: (seed_reference(s, [2025]), seed_demo(s, through=DEMO_THROUGH)), write=True)
    return create_app(settings, db=db)


class Pages:
    """A browser-like client: signed in with the session cookie, sends HTML forms."""

    def __init__(self, client: TestClient, app: FastAPI) -> None:
        self.client = client
        self.app = app

    def sign_in(self) -> None:
        token = self.app.state.auth.local.value
        answer = self.client.post("/auth/token", data={"token": token, "next": "/"}, headers=ORIGIN)
        assert answer.status_code == 200, answer.text

    def get(self, url: str) -> Any:
        return self.client.get(url, headers={"Accept": "text/html"})

    def csrf(self, url: str) -> str:
        found = re.search(r'name="csrf" value="([^"]*)"', self.get(url).text)
        assert found is not None
        return found.group(1)

    def post(self, url: str, form: dict[str, str], *, csrf_from: str | None = None) -> Any:
        data = dict(form)
        if csrf_from is not None:
            data["csrf"] = self.csrf(csrf_from)
        return self.client.post(
            url, data=data, headers={**ORIGIN, "Accept": "text/html"}, follow_redirects=False
        )

    def api(self, url: str) -> Any:
        token = self.app.state.auth.local.value
        answer = self.client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture
def pages(app: FastAPI) -> Iterator[Pages]:
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        signed = Pages(client, app)
        signed.sign_in()
        yield signed


# --- end to end --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    path = browser.ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=browser.LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport=browser.DESKTOP)
    context.set_default_timeout(30_000)
    opened = context.new_page()
    yield opened
    context.close()


def _env(state_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_URL"))}
    return {**env, "RMS_STATE_DIR": str(state_dir), "LOG_LEVEL": "INFO", **extra}


@pytest.fixture
def serve_sqlite(state_dir: Path) -> Iterator[browser.Served]:
    env = _env(state_dir)
    browser.rms(env, "db", "upgrade")
    browser.rms(env, "db", "seed")
    browser.seed_demo(env, DEMO_THROUGH)
    with browser.serve(env, "sqlite") as served:
        yield served


@pytest.fixture
def serve_postgresql(
    state_dir: Path, create_pg_database: Callable[[], str], pg_server_url: str
) -> Iterator[tuple[browser.Served, browser.Sim]]:
    """``rms serve`` on PostgreSQL, reached through the pause emulator (pausing off)."""
    upstream = make_url(pg_server_url)
    database = make_url(create_pg_database())
    with browser.aurora_sim(upstream.host or "127.0.0.1", upstream.port or 5432, 10) as sim:
        url = database.set(host="127.0.0.1", port=sim.port).render_as_string(False)
        env = _env(state_dir, DATABASE_URL=url)
        browser.rms(env, "db", "upgrade")
        browser.rms(env, "db", "seed")
        browser.seed_demo(env, DEMO_THROUGH)
        with browser.serve(env, "postgresql") as served:
            yield served, sim


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest) -> browser.Served:
    if request.param == "sqlite":
        found: browser.Served = request.getfixturevalue("serve_sqlite")
        return found
    both: tuple[browser.Served, browser.Sim] = request.getfixturevalue("serve_postgresql")
    return both[0]
