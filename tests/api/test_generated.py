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

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from rms.api import create_app
from rms.settings import load_settings

MIN_REQUESTS_PER_ENGINE = 500
EXAMPLES_PER_OPERATION = 12

# The operation list comes from the schema alone (no database is touched to build it).
# Negative cases need something to break: operations without parameters or body get
# positive cases only.
_PATHS = create_app(load_settings(database_url="sqlite://")).openapi()["paths"]
_CASES = [
    (method.upper(), path, mode)
    for path, methods in _PATHS.items()
    for method, spec in methods.items()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or spec.get("parameters") or spec.get("requestBody")
]


def _minimum_requests(method: str, path: str, mode: GenerationMode) -> int:
    """Requests a case must make: every example when there is something to vary.

    A path parameter alone gives negative mode almost nothing to break (a string path
    segment that violates its schema cannot be sent), so there one request is the minimum.
    """
    spec = _PATHS[path][method.lower()]
    parameters = spec.get("parameters", [])
    if mode is GenerationMode.NEGATIVE:
        parameters = [p for p in parameters if p.get("in") != "path"]
    return EXAMPLES_PER_OPERATION if parameters or spec.get("requestBody") else 1


@pytest.mark.parametrize(
    ("method", "path", "mode"), _CASES, ids=[f"{m}-{p}-{g.value}" for m, p, g in _CASES]
)
def test_generated_requests(
    client: TestClient, backend: str, method: str, path: str, mode: GenerationMode
) -> None:
    made = 0
    operation = schemathesis.openapi.from_asgi("/openapi.json", client.app)[path][method]

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
        response = case.call()
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
