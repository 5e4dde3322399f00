"""Generated requests (schemathesis over our OpenAPI schema) on both engines.

For every operation, Hypothesis draws valid requests (positive mode) and requests that
break the schema on purpose (negative mode). Each response must not be a 5xx and must
conform to the declared status codes, content types and response schemas. Requests are
counted per engine; the last test of the module checks there were at least 500 each.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from rms.api import create_app
from rms.settings import load_settings

REQUESTS: Counter[str] = Counter()
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


@pytest.mark.parametrize(
    ("method", "path", "mode"), _CASES, ids=[f"{m}-{p}-{g.value}" for m, p, g in _CASES]
)
def test_generated_requests(
    client: TestClient, backend: str, method: str, path: str, mode: GenerationMode
) -> None:
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
        response = case.call()
        REQUESTS[backend] += 1
        assert response.status_code < 500, f"{method} {case.formatted_path}: {response.text}"
        # positive_data_acceptance is left out on purpose: some rules cannot be written in
        # JSON Schema (instants must fall in 1900..2199), so a schema-valid body can rightly
        # get a 422. Every other check (status codes, content types, response schemas,
        # negative data rejected) applies.
        case.validate_response(response, excluded_checks=[positive_data_acceptance])

    exercise()


@pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"])
def test_enough_generated_requests(engine_name: str) -> None:
    """Runs after the generated tests above (pytest keeps definition order)."""
    if not REQUESTS:
        pytest.skip("the generated-request tests were not selected in this run")
    print(f"generated requests per engine: {dict(REQUESTS)}")
    assert REQUESTS[engine_name] >= MIN_REQUESTS_PER_ENGINE, dict(REQUESTS)
