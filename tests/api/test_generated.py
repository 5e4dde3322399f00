"""Generated requests (schemathesis over our OpenAPI schema) on both engines.

For every operation, Hypothesis draws valid requests (positive mode) and requests that
break the schema on purpose (negative mode). Each response must not be a 5xx and must
conform to the declared status codes, content types and response schemas. Each test
counts its own requests and checks it made as many as its operation allows (every example
for an operation with parameters or a body, at least one for the others); a test of the
case list checks those minimums add up to at least 500 requests per engine. No state is
shared between tests, so any selection or order gives the same verdicts.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from rms.app import create_app
from rms.db.database import Database
from rms.settings import Settings, load_settings
from tests.api.conftest import bearer

MIN_REQUESTS_PER_ENGINE = 500
EXAMPLES_PER_OPERATION = 12

# The operation list comes from the schema alone (no database is touched to build it, and
# with sign-in off no token file is written while the tests are collected).
_PATHS = create_app(
    load_settings(database_url="sqlite://", rms_auth="off"), bind_host="127.0.0.1"
).openapi()["paths"]


def _breakable(spec: dict[str, Any]) -> bool:
    """Whether negative mode has something to break: a body or a non-path parameter.

    A path parameter alone gives it nothing: a string path segment that violates its
    schema cannot be sent, so Hypothesis rejects nearly every draw, and whether any one
    survives depended on the seed (which derandomize derives from this file's source).
    """
    parameters = [p for p in spec.get("parameters", []) if p.get("in") != "path"]
    return bool(parameters or spec.get("requestBody"))


_CASES = [
    (method.upper(), path, mode)
    for path, methods in _PATHS.items()
    for method, spec in methods.items()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or _breakable(spec)
]


def _minimum_requests(method: str, path: str, mode: GenerationMode) -> int:
    """Requests a case must make: every example when there is something to vary."""
    spec = _PATHS[path][method.lower()]
    return EXAMPLES_PER_OPERATION if spec.get("parameters") or spec.get("requestBody") else 1


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    """The app, also answering schemathesis' own ASGI client's Host (``testserver``)."""
    return create_app(settings.model_copy(update={"rms_allowed_hosts": "testserver"}), db=db)


_SCHEMAS: dict[str, dict[str, Any]] = {}


def _schema_of(app: Any, backend: str) -> Any:
    """The app's OpenAPI schema for schemathesis, calling ``app`` in-process.

    The document is the app's own (``app.openapi()``), made once per engine and worker: it
    does not depend on the rows. Loading it over ASGI for every test (``from_asgi``) started
    the app's lifespan in another client each time and, on a loaded machine, ran past
    schemathesis' 10 s read timeout.
    """
    if backend not in _SCHEMAS:
        _SCHEMAS[backend] = app.openapi()
    loaded = schemathesis.openapi.from_dict(_SCHEMAS[backend])
    loaded.app = app
    return loaded


@pytest.mark.parametrize(
    ("method", "path", "mode"), _CASES, ids=[f"{m}-{p}-{g.value}" for m, p, g in _CASES]
)
def test_generated_requests(
    client: TestClient, backend: str, method: str, path: str, mode: GenerationMode
) -> None:
    made = 0
    # Signed in, like the client.
    headers = bearer(client.app)
    operation = _schema_of(client.app, backend)[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def exercise(case: schemathesis.Case) -> None:
        nonlocal made
        response = case.call(headers=headers)
        made += 1
        assert response.status_code < 500, f"{method} {case.formatted_path}: {response.text}"
        # positive_data_acceptance is left out on purpose: some rules cannot be written in
        # JSON Schema (instants must fall in 1900..2199), so a schema-valid body can rightly
        # get a 422. Every other check (status codes, content types, response schemas,
        # negative data rejected) applies.
        case.validate_response(response, excluded_checks=[positive_data_acceptance])

    exercise()
    assert made >= _minimum_requests(method, path, mode), (backend, made)


def test_cases_add_up_to_enough_requests_per_engine() -> None:
    """Each generated test runs once per engine and checks its own minimum (above)."""
    total = sum(_minimum_requests(method, path, mode) for method, path, mode in _CASES)
    assert total >= MIN_REQUESTS_PER_ENGINE, total
