"""Sign-out ends the session on the server (issue 27 item 6), on SQLite and PostgreSQL.

Two apps on one database stand for two Lambda environments: what one of them ends, the
other refuses at once (the session's row lives with the data, not in a process).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from rms.app import create_app
from rms.auth import Principal
from rms.auth.store import SessionStore, session_key
from rms.db.database import Database
from rms.errors import DatabaseUnavailableError
from rms.schema.tables import SignInSession
from rms.settings import Settings
from tests.auth.conftest import Clock, client_of
from tests.auth.issuer import Issuer

ORIGIN = {"Origin": "http://localhost"}
PAGE = {"Accept": "text/html"}


@pytest.fixture
def two_apps(settings: Settings, engine: Engine) -> Iterator[tuple[FastAPI, FastAPI]]:
    """Two apps, each with its own engine, on the same database (and the same state dir,
    so the same local token and session key, as RMS_API_TOKEN/RMS_SESSION_KEY on AWS).
    ``engine``: the test database at the schema head."""
    first, second = create_app(settings), create_app(settings)
    yield first, second
    first.state.db.dispose()
    second.state.db.dispose()


def _sign_in(app: FastAPI) -> str:
    with client_of(app) as client:
        token = app.state.auth.local.value
        response = client.get("/auth/token", params={"token": token}, follow_redirects=False)
        assert response.status_code == 303, response.text
        return str(client.cookies["rms_session"])


def _status(app: FastAPI, cookie: str) -> int:
    with client_of(app, cookies={"rms_session": cookie}) as client:
        return int(client.get("/metrics").status_code)


def test_after_sign_out_the_old_cookie_is_refused_by_every_instance(
    two_apps: tuple[FastAPI, FastAPI],
) -> None:
    first, second = two_apps
    cookie = _sign_in(first)
    assert _status(first, cookie) == 200 and _status(second, cookie) == 200
    with client_of(first, cookies={"rms_session": cookie}) as client:
        out = client.post("/auth/logout", headers=ORIGIN, follow_redirects=False)
        assert out.status_code == 303 and out.headers["Location"] == "/auth/login"
        assert 'rms_session=""' in out.headers["set-cookie"]
    # A copy of the cookie: refused on the instance that signed out and on the other one.
    assert _status(first, cookie) == 401 and _status(second, cookie) == 401
    with client_of(second, cookies={"rms_session": cookie}) as client:
        page = client.get("/", headers=PAGE, follow_redirects=False)
        assert page.status_code == 303 and page.headers["Location"].startswith("/auth/login")
    # Signing out again (an ended or unknown session) is harmless.
    with client_of(second, cookies={"rms_session": cookie}) as client:
        again = client.post("/auth/logout", headers=ORIGIN, follow_redirects=False)
        assert again.status_code == 303


def test_sign_out_ends_only_its_own_session(two_apps: tuple[FastAPI, FastAPI]) -> None:
    first, second = two_apps
    mine, other = _sign_in(first), _sign_in(second)
    with client_of(second, cookies={"rms_session": mine}) as client:
        client.post("/auth/logout", headers=ORIGIN)
    assert _status(first, mine) == 401
    assert _status(first, other) == 200 and _status(second, other) == 200


def test_the_api_signs_out_everywhere_and_bearer_tokens_keep_working(
    two_apps: tuple[FastAPI, FastAPI],
) -> None:
    first, second = two_apps
    cookies = [_sign_in(first), _sign_in(second), _sign_in(first)]
    bearer = {"Authorization": f"Bearer {first.state.auth.local.value}"}
    with client_of(second, headers=bearer) as client:
        response = client.delete("/api/sessions")
        assert response.status_code == 200, response.text
        assert response.json()["ended"] >= 3
        assert client.get("/metrics").status_code == 200  # a bearer token is no session
    for cookie in cookies:
        assert _status(first, cookie) == 401 and _status(second, cookie) == 401
    assert "/api/sessions" in first.openapi()["paths"]


def test_the_pages_sign_out_everywhere_button_needs_its_form_token(
    two_apps: tuple[FastAPI, FastAPI],
) -> None:
    first, second = two_apps
    mine, other = _sign_in(first), _sign_in(second)
    with client_of(first, cookies={"rms_session": mine}) as client:
        page = client.get("/", headers=PAGE)
        assert page.status_code == 200
        assert 'action="/auth/logout-everywhere"' in page.text
        found = re.search(
            r'action="/auth/logout-everywhere">\s*<input type="hidden" name="csrf" '
            r'value="([0-9a-f]+)"',
            page.text,
        )
        assert found is not None
        refused = client.post("/auth/logout-everywhere", data={"csrf": "0" * 64}, headers=ORIGIN)
        assert refused.status_code == 403
        assert _status(second, other) == 200  # nothing ended
        out = client.post(
            "/auth/logout-everywhere",
            data={"csrf": found.group(1)},
            headers=ORIGIN,
            follow_redirects=False,
        )
        assert out.status_code == 303 and out.headers["Location"] == "/auth/login"
    assert _status(first, mine) == 401 and _status(second, other) == 401


def test_oidc_sign_out_ends_the_session_on_every_instance(
    issuer: Issuer, make_oidc_app: Callable[..., FastAPI], settings: Settings, engine: Engine
) -> None:
    first = make_oidc_app(database_url=settings.database_url)
    second = make_oidc_app(database_url=settings.database_url)
    with client_of(first) as client:
        start = client.get("/auth/login", follow_redirects=False)
        callback = httpx.get(start.headers["Location"], follow_redirects=False)
        signed_in = client.get(callback.headers["Location"], follow_redirects=False)
        assert signed_in.status_code == 200, signed_in.text
        cookie = str(client.cookies["rms_session"])
    assert _status(second, cookie) == 200
    with client_of(second, cookies={"rms_session": cookie}) as client:
        out = client.post("/auth/logout", headers=ORIGIN, follow_redirects=False)
        assert out.status_code == 303 and out.headers["Location"].startswith(issuer.url)
    assert _status(first, cookie) == 401 and _status(second, cookie) == 401
    for app in (first, second):
        app.state.db.dispose()


def test_rows_expire_and_are_purged_when_a_session_is_written(db: Database) -> None:
    clock = Clock()
    store = SessionStore(db, clock=clock)
    owner = Principal("owner", "token", "cookie")
    old = store.create(owner, 3600)
    assert store.alive(old, owner)
    assert not store.alive(old, Principal("someone else", "token", "cookie"))
    assert not store.alive(old, Principal("owner", "oidc", "cookie", issuer="https://i"))
    clock.now += 3600
    assert not store.alive(old, owner)  # expired with its cookie

    def rows() -> set[str]:
        return set(db.run(lambda s: s.scalars(select(SignInSession.id)).all()))

    assert session_key(old) in rows()
    new = store.create(owner, 3600)  # writing a session purges the expired ones
    assert session_key(old) not in rows() and session_key(new) in rows()
    stored = db.run(lambda s: s.get(SignInSession, session_key(new)))
    assert stored is not None and stored.created == datetime.fromtimestamp(clock.now, UTC)
    assert new not in rows()  # the table holds the id's hash, never the id
    assert store.end(new) and not store.end(new)
    assert session_key(new) not in rows()


def test_a_session_that_cannot_be_checked_answers_503_not_a_trace(
    two_apps: tuple[FastAPI, FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = two_apps
    cookie = _sign_in(first)

    def away(*_args: object) -> bool:
        raise DatabaseUnavailableError("the database is not reachable: resuming")

    monkeypatch.setattr(first.state.auth.store, "alive", away)
    with client_of(first, cookies={"rms_session": cookie}) as client:
        api = client.get("/api/accounts")
        assert api.status_code == 503 and api.headers["Retry-After"]
        assert api.json()["detail"] == "the database is not reachable: resuming"
        assert "Traceback" not in api.text
        page = client.get("/", headers=PAGE)
        assert page.status_code == 503 and "waking" in page.text.lower()
