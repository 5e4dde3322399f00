"""What the function's cold start builds: only what the first request needs.

A new Lambda environment imports the handler, builds the service and answers. Alembic (the
health routes' schema revision), ``limits`` (the sign-in failure limit, built on the first
failure), the OIDC libraries (only with an issuer) and the market calendar are not needed
for that, and cost about a second of a 512 MB function's start (docs/lambda.md). The check
runs in a fresh interpreter: the suite's own process has long imported everything.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys

from rms import lambda_handler
from rms.auth.ratelimit import FailureLimiter
from tests.lambda_handler.conftest import BEARER, Env, Invoke
from tests.lambda_handler.events import HOST, PUBLIC_URL

LEFT_FOR_LATER = ("alembic", "limits", "jwt", "httpx", "cryptography", "holidays")

_PROBE = """
import json, sys
from rms.lambda_handler import service
service()
print(json.dumps(sorted(m for m in {names!r} if m in sys.modules)))
"""


def test_building_the_service_leaves_what_the_first_request_does_not_need(
    sqlite_url: str,
) -> None:
    env = {
        "DATABASE_URL": sqlite_url,
        "ENVIRONMENT": "dev",
        "RMS_PUBLIC_URL": PUBLIC_URL,
        "RMS_ALLOWED_HOSTS": HOST,
        "RMS_API_TOKEN": "lambda-test-token-0123456789abcdef",
    }
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE.format(names=LEFT_FOR_LATER)],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", **env},
    )
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_the_build_is_frozen_out_of_collections_until_reset(
    lambda_env: Env, invoke: Invoke, sqlite_url: str
) -> None:
    lambda_env(DATABASE_URL=sqlite_url)
    assert gc.isenabled()
    reply = invoke("GET", "/api/accounts", headers=BEARER)
    assert reply.status == 200
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
    lambda_handler.reset()
    assert gc.get_freeze_count() == 0


def test_the_failure_limit_counts_from_the_first_failure() -> None:
    limiter = FailureLimiter(2, 60)
    assert limiter.retry_after("203.0.113.7") is None
    limiter.failed("203.0.113.7")
    assert limiter.retry_after("203.0.113.7") is None
    limiter.failed("203.0.113.7")
    wait = limiter.retry_after("203.0.113.7")
    assert wait is not None and 1 <= wait <= 60
    assert limiter.retry_after("198.51.100.1") is None
