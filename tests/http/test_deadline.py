"""The request deadline middleware: set for every request, inherited by worker threads,
and a 503 with Retry-After for a request that has not started answering past it."""

from __future__ import annotations

import anyio
import anyio.to_thread
import pytest
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from rms.app import create_app
from rms.db.deadline import current_deadline
from rms.http.deadline import RequestDeadlineMiddleware
from rms.settings import Settings


async def _slow(scope: Scope, receive: Receive, send: Send) -> None:
    await anyio.sleep(30)


async def _deadline_in_a_thread(scope: Scope, receive: Receive, send: Send) -> None:
    deadline = await anyio.to_thread.run_sync(current_deadline)
    body = f"{deadline.budget_seconds if deadline else None}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def _started_then_slow(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"partial", "more_body": True})
    await anyio.sleep(30)


def test_a_request_stuck_past_its_budget_gets_503_with_retry_after() -> None:
    app = RequestDeadlineMiddleware(_slow, budget_seconds=0.2, retry_after_seconds=3)
    response = TestClient(app).get("/api/accounts")  # (no lifespan: these apps have none)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "3"
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 503 and "DB_REQUEST_BUDGET_SECONDS" in body["detail"]
    assert body["instance"] == "/api/accounts"


def test_the_deadline_reaches_the_worker_thread() -> None:
    app = RequestDeadlineMiddleware(_deadline_in_a_thread, budget_seconds=7, retry_after_seconds=1)
    assert TestClient(app).get("/").text == "7"


def test_a_started_response_is_never_replaced() -> None:
    app = RequestDeadlineMiddleware(_started_then_slow, budget_seconds=0.2, retry_after_seconds=1)
    response = TestClient(app).get("/")
    assert response.status_code == 200 and response.text == "partial"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_app_factory_installs_it(settings: Settings) -> None:
    app = create_app(settings)
    assert any(m.cls is RequestDeadlineMiddleware for m in app.user_middleware)
