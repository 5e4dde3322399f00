"""The function's cold start and warm requests, against a minimal FastAPI app, in one run.

1. **Cold start**: a new process (what a new Lambda environment is) that imports the handler
   and answers its first request (``GET /api/accounts``, signed in) on a warm PostgreSQL,
   against a new process that imports a minimal FastAPI app behind the same adapter (Mangum)
   and answers its first request. Median of ``--runs`` each: interpreter start, imports,
   first request, and the process's peak memory (the function has 512 MB).
2. **Warm requests**: the same environment's next invocations, as shipped (every invocation
   closes its connection, so Aurora can pause) against keeping the pooled connection (what
   the function must not do), so the price of letting the database pause is measured.
3. ``rms --help``: the CLI's start, for the import added by ``rms db bootstrap-roles``.

The events are real HTTP API payload 2.0 events (``tests/lambda_handler/events.py``).
Run: ``.venv/bin/python bench/bench_lambda.py [--runs 7] [--requests 200]``; it starts its own
PostgreSQL. Absolute times on a shared machine are noisy: read the ratios. The figures feed
the Lambda line items of ``rms cost estimate --stack`` (docs/cost-model.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.lambda_handler.events import HOST, PUBLIC_URL, LambdaContext, http_event  # noqa: E402

from rms.devtools.pgcluster import PgCluster  # noqa: E402

TOKEN = "bench-lambda-token-0123456789abcdef"

_CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
{imports}
{build}
t1 = time.perf_counter()
event = json.loads(sys.stdin.read())
reply = handler(event, None)
t2 = time.perf_counter()
assert reply["statusCode"] == 200, reply
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"build": t1 - t0, "first_request": t2 - t1, "rss_mb": rss_mb}}))
"""

_RMS_IMPORTS = "from rms.lambda_handler import handler, service"
#: The service is built on the first invocation; built here, its imports and construction
#: are told apart from the first request.
_RMS_BUILD = "service()"
_MINIMAL_IMPORTS = """
from fastapi import FastAPI
from mangum import Mangum
app = FastAPI()
@app.get("/api/accounts")
def accounts() -> dict[str, list[str]]:
    return {"items": []}
handler = Mangum(app, lifespan="off")
"""


def _event() -> str:
    return json.dumps(
        http_event("GET", "/api/accounts", headers={"Authorization": f"Bearer {TOKEN}"})
    )


def cold_start(imports: str, env: dict[str, str], build: str = "") -> dict[str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD.format(imports=imports, build=build)],
        input=_event(),
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["process"] = time.perf_counter() - started
    return figures


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def warm_requests(url: str, count: int, *, release: bool) -> list[float]:
    from rms import lambda_handler

    lambda_handler.reset()
    service = lambda_handler.service()
    if not release:
        service.release = lambda: None  # type: ignore[method-assign]
    event = json.loads(_event())
    times = []
    for _ in range(count + 5):
        started = time.perf_counter()
        reply = service(event, LambdaContext())
        times.append(time.perf_counter() - started)
        assert reply["statusCode"] == 200, reply
    lambda_handler.reset()
    return times[5:]


def cli_help(runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "rms.cli", "--help"], check=True, capture_output=True, cwd=ROOT
        )
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="cold starts of each process")
    parser.add_argument("--requests", type=int, default=200, help="warm invocations each way")
    args = parser.parse_args()
    cluster = PgCluster().start()
    try:
        url = cluster.url()
        from rms.db.engine import create_db_engine
        from rms.schema.migrations import upgrade
        from rms.settings import load_settings

        engine = create_db_engine(load_settings(database_url=url))
        upgrade(engine)
        engine.dispose()
        state = Path(os.environ.get("TMPDIR", "/tmp")) / f"rms-bench-lambda-{os.getpid()}"
        variables = {
            "DATABASE_URL": url,
            "RMS_PUBLIC_URL": PUBLIC_URL,
            "RMS_ALLOWED_HOSTS": HOST,
            "RMS_API_TOKEN": TOKEN,
            "RMS_STATE_DIR": str(state),
            "REFERENCE_CACHE_TTL_SECONDS": "0",
        }
        env = {**os.environ, **variables}
        rms_runs, minimal_runs = [], []
        for _ in range(args.runs):  # interleaved, so both see the same machine load
            rms_runs.append(cold_start(_RMS_IMPORTS, env, _RMS_BUILD))
            minimal_runs.append(cold_start(_MINIMAL_IMPORTS, env))
        rms, minimal = medians(rms_runs), medians(minimal_runs)
        print(f"## 1. cold start: a new process, median of {args.runs} (PostgreSQL warm)\n")
        print("| | RMS handler | minimal FastAPI + Mangum | ratio |")
        print("| --- | ---: | ---: | ---: |")
        for key, label in (
            ("build", "imports + building the app (s)"),
            ("first_request", "first request (s)"),
            ("process", "whole process (s)"),
            ("rss_mb", "peak memory (MB)"),
        ):
            ratio = rms[key] / minimal[key]
            print(f"| {label} | {rms[key]:.3f} | {minimal[key]:.3f} | {ratio:.1f}x |")

        os.environ.update(variables)
        shipped = warm_requests(url, args.requests, release=True)
        pooled = warm_requests(url, args.requests, release=False)
        print(f"\n## 2. warm invocations, GET /api/accounts, {args.requests} each (ms)\n")
        print("| | p50 | p95 |")
        print("| --- | ---: | ---: |")
        for label, times in (
            ("connection closed after each (shipped)", shipped),
            ("pooled connection kept (not allowed)", pooled),
        ):
            print(f"| {label} | {pct(times, 0.5) * 1e3:.1f} | {pct(times, 0.95) * 1e3:.1f} |")
        ratio = statistics.median(shipped) / statistics.median(pooled)
        print(f"\nclosing the connection costs {ratio:.2f}x a pooled warm request")
        print(f"\n## 3. rms --help: {cli_help(5):.3f} s (median of 5)")
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
