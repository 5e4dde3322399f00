"""The function in front of a pausing database (the Aurora emulator), on PostgreSQL.

Times are scaled down: the emulator pauses after 1 s without a client. The function is
given a cold-start budget shorter than the resume (the first request is answered 503 with
``Retry-After``, the retry is served) or longer (the first request waits and is served).
Between invocations the function holds no connection, so the emulator pauses again. The
tests assert statuses and counts; timings are bench/bench_lambda.py's business.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from rms import lambda_handler
from rms.devtools.aurora_sim import AuroraSim, aurora_sim
from tests.lambda_handler.conftest import BEARER, Env, Invoke
from tests.lambda_handler.events import LambdaContext, Reply, http_event

# A paused database behind the handler: fault injection (make test-fast leaves it out).
pytestmark = pytest.mark.faults

PAUSE_AFTER = 1.0


def _sim(url: str, resume_delay: float) -> Iterator[AuroraSim]:
    with aurora_sim(url, pause_after=PAUSE_AFTER, resume_delay=resume_delay) as proxy:
        yield proxy


@pytest.fixture
def slow_resume(pg_migrated: str) -> Iterator[AuroraSim]:
    yield from _sim(pg_migrated, resume_delay=5.0)


@pytest.fixture
def quick_resume(pg_migrated: str) -> Iterator[AuroraSim]:
    yield from _sim(pg_migrated, resume_delay=1.0)


def _configure(lambda_env: Env, sim: AuroraSim, url: str, budget: float) -> None:
    lambda_env(
        DATABASE_URL=sim.proxied_url(url),
        DB_COLD_START_BUDGET_SECONDS=str(budget),
        DB_CONNECT_TIMEOUT_SECONDS="20",
        DB_RETRY_INITIAL_BACKOFF_SECONDS="0.05",
        DB_RETRY_MAX_BACKOFF_SECONDS="0.3",
    )


def _paused_again(sim: AuroraSim) -> None:
    """Nothing holds the database between invocations: it pauses with 0 connections."""
    state = sim.wait_for_state("paused", timeout=PAUSE_AFTER + 10)
    assert state.open_connections == 0


def test_a_resume_longer_than_the_budget_is_answered_503_then_served(
    lambda_env: Env, invoke: Invoke, slow_resume: AuroraSim, pg_migrated: str
) -> None:
    sim = slow_resume
    _configure(lambda_env, sim, pg_migrated, budget=2)
    _paused_again(sim)
    resumes = sim.state().resumes
    # No automatic collection: the socket of the attempt that timed out must be closed by
    # the function itself, as nothing collects in a frozen environment.
    gc.disable()
    try:
        _longer_than_the_budget(invoke, sim, resumes)
    finally:
        gc.enable()


def _longer_than_the_budget(invoke: Invoke, sim: AuroraSim, resumes: int) -> None:

    first = invoke("GET", "/api/accounts", headers=BEARER)
    assert first.status == 503, first.body
    assert int(first.headers["retry-after"]) >= 1
    assert first.headers["content-type"] == "application/problem+json"
    assert first.json()["status"] == 503
    assert sim.state().resumes == resumes + 1  # the request started the resume

    sim.wait_for_state("running", timeout=15)  # Aurora resumes after the client gave up
    retried = invoke("GET", "/api/accounts", headers=BEARER)
    assert retried.status == 200, retried.body
    assert sim.state().resumes == resumes + 1  # served by that same resume
    _paused_again(sim)
    built = lambda_handler.service()
    assert built.invocations == 2  # one environment throughout
    assert built.collections == 1  # after the 503's timed-out attempt only


def test_a_resume_within_the_budget_is_served_at_once(
    lambda_env: Env, invoke: Invoke, quick_resume: AuroraSim, pg_migrated: str
) -> None:
    sim = quick_resume
    _configure(lambda_env, sim, pg_migrated, budget=10)
    for cycle in range(2):
        _paused_again(sim)
        before = sim.state()
        reply = invoke("POST", "/api/accounts", headers=BEARER, json_body={"name": f"c{cycle}"})
        assert reply.status == 201, reply.body
        after = sim.state()
        assert after.resumes == before.resumes + 1
    assert sim.state().pauses >= 2
    built = lambda_handler.service()
    assert built.invocations == built.releases == 2


def test_a_slow_cold_start_shortens_the_wait_for_the_database(
    lambda_env: Env, slow_resume: AuroraSim, pg_migrated: str
) -> None:
    """API Gateway's 30 s count from its receipt of the request (timeEpoch), not the app's."""
    sim = slow_resume
    _configure(lambda_env, sim, pg_migrated, budget=20)  # would wait out the 5 s resume
    _paused_again(sim)
    event = http_event("GET", "/api/accounts", headers=BEARER)
    event["requestContext"]["timeEpoch"] -= 27_000  # a cold start took 27 s of the 30
    reply = Reply(lambda_handler.handler(event, LambdaContext()))
    assert reply.status == 503, reply.body  # answered before the gateway gives up
    assert int(reply.headers["retry-after"]) >= 1
    sim.wait_for_state("running", timeout=15)
    again = Reply(
        lambda_handler.handler(http_event("GET", "/api/accounts", headers=BEARER), LambdaContext())
    )
    assert again.status == 200


def test_the_gateway_deadline(lambda_env: Env, sqlite_url: str) -> None:
    lambda_env(DATABASE_URL=sqlite_url)
    built = lambda_handler.service()
    event = http_event("GET", "/")
    arrived = event["requestContext"]["timeEpoch"] / 1000
    assert round(built.gateway_deadline(event, now=arrived + 5).budget_seconds) == 23
    assert built.gateway_deadline(event, now=arrived + 40).budget_seconds == 1.0
    assert built.gateway_deadline(event, now=arrived - 60).budget_seconds == 28.0  # skew
    assert built.gateway_deadline({"requestContext": {}}).budget_seconds == 28.0
