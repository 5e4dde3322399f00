"""The handler on SQLite and PostgreSQL: signed in, behind API Gateway's headers and cookies."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from rms import lambda_handler
from tests.auth.issuer import CLIENT_ID, Issuer, running_issuer
from tests.lambda_handler.conftest import BEARER, Env, Invoke
from tests.lambda_handler.events import PUBLIC_URL, LambdaContext, Reply, http_event


def test_signed_in_reads_and_writes(
    lambda_env: Env, invoke: Invoke, database_url: str, backend: str
) -> None:
    lambda_env(DATABASE_URL=database_url)
    name = f"lambda {uuid.uuid4()}"
    created = invoke("POST", "/api/accounts", headers=BEARER, json_body={"name": name})
    assert created.status == 201, created.body
    listed = invoke("GET", "/api/accounts", headers=BEARER, query={"limit": "500"})
    assert listed.status == 200
    assert name in [row["name"] for row in listed.json()["items"]]
    # Behind API Gateway the request is HTTPS: the answer says so to the browser.
    assert listed.headers["strict-transport-security"].startswith("max-age=")
    built = lambda_handler.service()
    assert built.invocations == 2  # one app for both invocations of this environment
    assert built.releases == (2 if backend == "postgresql" else 0)


def test_without_a_credential_the_answer_is_a_problem(lambda_env: Env, invoke: Invoke) -> None:
    lambda_env()
    reply = invoke("GET", "/api/accounts")
    assert reply.status == 401
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.json()["status"] == 401
    assert reply.raw["isBase64Encoded"] is False  # text, as API Gateway logs and relays it
    assert invoke("GET", "/health/live").status == 200  # open paths stay open


def test_a_host_that_is_not_the_api_is_refused(lambda_env: Env, invoke: Invoke) -> None:
    lambda_env()
    assert invoke("GET", "/health/live", host="evil.example.com").status == 400


def test_an_oidc_bearer_token_signs_in(lambda_env: Env, invoke: Invoke, sqlite_url: str) -> None:
    with running_issuer() as issuer:
        lambda_env(
            DATABASE_URL=sqlite_url, AUTH_OIDC_ISSUER=issuer.url, AUTH_OIDC_AUDIENCE=CLIENT_ID
        )
        token = issuer.mint()
        reply = invoke("GET", "/api/accounts", headers={"Authorization": f"Bearer {token}"})
        assert reply.status == 200, reply.body
        forged = issuer.mint(aud="someone-else")
        refused = invoke("GET", "/api/accounts", headers={"Authorization": f"Bearer {forged}"})
        assert refused.status == 401


def _browser_sign_in(invoke: Invoke, issuer: Issuer) -> list[str]:
    """The hosted-UI round trip through the function; the session cookie it ends with."""
    login = invoke("GET", "/auth/login", query={"next": "/api/accounts", "via": "oidc"})
    assert login.status == 303, login.body
    authorize = login.headers["location"]
    assert authorize.startswith(issuer.url)
    with httpx.Client() as browser:
        back = browser.get(authorize, follow_redirects=False)
    callback = urlsplit(back.headers["location"])
    assert f"{callback.scheme}://{callback.netloc}" == PUBLIC_URL  # RMS_PUBLIC_URL's callback
    done = invoke(
        "GET",
        callback.path,
        query=dict(parse_qsl(callback.query)),
        cookies=login.cookie_pairs(),
    )
    # 200 with a same-site page that moves on: a Strict cookie is not sent on the
    # cross-site redirect chain that started at the issuer.
    assert done.status == 200, done.body
    session = [line for line in done.set_cookies if "HttpOnly" in line and "Max-Age=0" not in line]
    assert session and all("Secure" in line for line in session)  # HTTPS behind the gateway
    return done.cookie_pairs()


def test_browser_sign_in_and_cookie_rules(lambda_env: Env, invoke: Invoke, sqlite_url: str) -> None:
    with running_issuer() as issuer:
        lambda_env(
            DATABASE_URL=sqlite_url,
            AUTH_OIDC_ISSUER=issuer.url,
            AUTH_OIDC_AUDIENCE=CLIENT_ID,
            RMS_SESSION_KEY="k" * 40,
        )
        cookies = _browser_sign_in(invoke, issuer)
    assert invoke("GET", "/api/accounts", cookies=cookies).status == 200
    body = {"name": f"cookie {uuid.uuid4()}"}
    foreign = invoke(
        "POST",
        "/api/accounts",
        cookies=cookies,
        json_body=body,
        headers={"Origin": "https://evil.example.com"},
    )
    assert foreign.status == 403
    own = invoke(
        "POST", "/api/accounts", cookies=cookies, json_body=body, headers={"Origin": PUBLIC_URL}
    )
    assert own.status == 201, own.body


def test_an_event_that_is_not_an_http_request(lambda_env: Env) -> None:
    lambda_env()
    reply = Reply(lambda_handler.handler({"source": "aws.events"}, LambdaContext()))
    assert reply.status == 400
    assert reply.json()["title"] == "Not an HTTP request"


def test_settings_that_do_not_load_answer_500_without_internals(
    lambda_env: Env, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "hunter2-not-for-clients"
    lambda_env(DB_HOST="db.example.com", DB_PASSWORD=secret)  # no DB_NAME, DB_USER
    reply = invoke("GET", "/health/live")
    assert reply.status == 500
    assert reply.json()["title"] == "Service not configured"
    assert secret not in reply.body.decode() and "DB_NAME" not in reply.body.decode()
    # Not cached: once the environment is right, the next invocation builds the service.
    monkeypatch.delenv("DB_HOST")
    monkeypatch.delenv("DB_PASSWORD")
    lambda_env(DATABASE_URL="sqlite:///:memory:")
    assert invoke("GET", "/health/live").status == 200


def test_a_binary_body_is_decoded(lambda_env: Env, sqlite_url: str) -> None:
    lambda_env(DATABASE_URL=sqlite_url)
    event = http_event(
        "POST",
        "/api/accounts",
        headers={**BEARER, "content-type": "application/json"},
        body=b'{"name": "bin\xff"}',
    )
    assert event["isBase64Encoded"] is True
    reply = Reply(lambda_handler.handler(event, LambdaContext()))
    assert reply.status == 400  # not UTF-8 JSON: a problem naming the body, not a crash
    assert reply.headers["content-type"] == "application/problem+json"


def test_the_client_address_is_api_gateways_source_ip_never_a_forwarded_header(
    lambda_env: Env, invoke: Invoke, sqlite_url: str
) -> None:
    """Issue 27 item 5 on Lambda: failed guesses count against the source IP API Gateway saw;
    an X-Forwarded-For the client wrote itself does not choose another limiter key."""
    lambda_env(DATABASE_URL=sqlite_url, AUTH_FAILURE_LIMIT="3")
    careless = ["Bearer wrong", "Basic x", "xyz", "Bearer"]
    guesses = [
        invoke(
            "GET",
            "/api/accounts",
            headers={"Authorization": header, "X-Forwarded-For": f"192.0.2.{n}"},
            source_ip="203.0.113.7",
        )
        for n, header in enumerate(careless)
    ]
    assert [reply.status for reply in guesses] == [401, 401, 401, 429]
    assert all(reply.json()["status"] == reply.status for reply in guesses)
    elsewhere = invoke(
        "GET",
        "/api/accounts",
        headers={"Authorization": "Bearer wrong", "X-Forwarded-For": "203.0.113.7"},
        source_ip="198.51.100.9",
    )
    assert elsewhere.status == 401  # another source IP has guesses of its own
    owner = invoke("GET", "/api/accounts", headers=BEARER, source_ip="203.0.113.7")
    assert owner.status == 200, owner.body  # the right token passes even there
