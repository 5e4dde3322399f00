"""The function's cold start and warm requests, against a minimal FastAPI app, in one run.

1. **Cold start**: a new process (what a new Lambda environment is) that imports the handler
   and answers its first request (``GET /api/accounts``, signed in) on a warm PostgreSQL,
   against a new process that imports a minimal FastAPI app behind the same adapter (Mangum)
   and answers its first request, and against the floor: the same minimal app after
   importing the libraries RMS's first request cannot do without (SQLAlchemy, psycopg,
   pydantic-settings). Median of ``--runs`` each: interpreter start, imports,
   first request, and the process's peak memory (the function has 512 MB). The cold start
   ends when the first reply is out (the child writes its figures then): a Lambda environment
   is not torn down after its first request, so the process's exit (interpreter finalization,
   about as long again as the build's garbage collections) is shown apart, not counted.
   With ``--one-core`` the same cold starts run again pinned to one core (``taskset -c 0``)
   next to ``--competitors`` busy loops on that core: about half a core for one, a third for
   two, near the 0.29 of a vCPU a 512 MB function has.
2. **Warm requests**: the same environment's next invocations, as shipped (every invocation
   closes its connection, so Aurora can pause) against keeping the pooled connection (what
   the function must not do), so the price of letting the database pause is measured.
3. ``rms --help``: the CLI's start, for the import added by ``rms db bootstrap-roles``.

The events are real HTTP API payload 2.0 events (``tests/lambda_handler/events.py``).
Run: ``.venv/bin/python bench/bench_lambda.py [--runs 7] [--requests 200] [--one-core]``; it
starts its own PostgreSQL. The last lines sum it up: the cold-start ratio, the floor's, the
1-core figures and the warm p50. Absolute times on a shared machine are noisy: read the
ratios. The figures feed the Lambda line items of ``rms cost estimate --stack``
(docs/cost-model.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.lambda_handler.events import HOST, PUBLIC_URL, LambdaContext, http_event  # noqa: E402

from rms.devtools.pgcluster import PgCluster  # noqa: E402

TOKEN = "bench-lambda-token-0123456789abcdef"

_CHILD = """
import json, sys, time
t0 = time.perf_counter()
{imports}
{build}
t1 = time.perf_counter()
event = json.loads(sys.stdin.read())
reply = handler(event, None)
t2 = time.perf_counter()
assert reply["statusCode"] == 200, reply
# VmHWM, not ru_maxrss: on Linux ru_maxrss keeps the forked parent's peak across exec
with open("/proc/self/status") as status:
    rss_mb = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:")) / 1024
print(json.dumps({{"build": t1 - t0, "first_request": t2 - t1, "rss_mb": rss_mb}}), flush=True)
"""
#: A competing load for ``--one-core``: a busy loop on the same core.
_BUSY = "while True: pass"


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
#: The floor: the minimal app, after importing the libraries RMS's first request cannot do
#: without (SQLAlchemy with its ORM sessions, the psycopg driver, pydantic-settings for the
#: configuration). No service built on them starts faster than this; the pages' Jinja2 is
#: left out, so the floor is, if anything, low.
_FLOOR_IMPORTS = "import sqlalchemy.orm, psycopg, pydantic_settings\n" + _MINIMAL_IMPORTS


def _event() -> str:
    return json.dumps(
        http_event("GET", "/api/accounts", headers={"Authorization": f"Bearer {TOKEN}"})
    )


def _pinned(command: list[str], core: int | None) -> list[str]:
    return command if core is None else ["taskset", "-c", str(core), *command]


def cold_start(
    imports: str, env: dict[str, str], build: str = "", *, core: int | None = None
) -> dict[str, float]:
    """One new process: its figures, ``cold`` (start to first reply) and ``exit`` (after)."""
    with tempfile.TemporaryFile("w+") as errors:
        started = time.perf_counter()
        child = subprocess.Popen(
            _pinned([sys.executable, "-c", _CHILD.format(imports=imports, build=build)], core),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            env=env,
            text=True,
            cwd=ROOT,
        )
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(_event())
        child.stdin.close()
        line = child.stdout.readline()  # written, flushed, once the reply is out
        replied = time.perf_counter()
        child.stdout.read()
        child.wait()
        ended = time.perf_counter()
        if child.returncode or not line:
            errors.seek(0)
            raise RuntimeError(f"cold start failed ({child.returncode}): {errors.read()[-2000:]}")
    figures: dict[str, float] = json.loads(line)
    figures["cold"] = replied - started
    figures["exit"] = ended - replied
    return figures


ColdStarts = tuple[dict[str, float], dict[str, float], dict[str, float]]


def cold_starts(runs: int, env: dict[str, str], core: int | None = None) -> ColdStarts:
    """Medians of ``runs`` cold starts of the RMS handler, the minimal app and the floor."""
    rms_runs, minimal_runs, floor_runs = [], [], []
    for _ in range(runs):  # interleaved, so all three see the same machine load
        rms_runs.append(cold_start(_RMS_IMPORTS, env, _RMS_BUILD, core=core))
        minimal_runs.append(cold_start(_MINIMAL_IMPORTS, env, core=core))
        floor_runs.append(cold_start(_FLOOR_IMPORTS, env, core=core))
    return medians(rms_runs), medians(minimal_runs), medians(floor_runs)


def cold_table(rms: dict[str, float], minimal: dict[str, float], floor: dict[str, float]) -> None:
    print(
        "| | RMS handler | minimal FastAPI + Mangum | ratio "
        "| floor: minimal + SQLAlchemy, psycopg, pydantic-settings | ratio |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for key, label in (
        ("build", "imports + building the app (s)"),
        ("first_request", "first request (s)"),
        ("cold", "cold start: process start to first reply (s)"),
        ("exit", "process exit, not counted (s)"),
        ("rss_mb", "peak memory (MB)"),
    ):
        ratio, floor_ratio = rms[key] / minimal[key], floor[key] / minimal[key]
        print(
            f"| {label} | {rms[key]:.3f} | {minimal[key]:.3f} | {ratio:.2f}x "
            f"| {floor[key]:.3f} | {floor_ratio:.2f}x |"
        )


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
    parser.add_argument(
        "--one-core",
        action="store_true",
        help="also cold starts on core 0 (taskset) next to busy loops, a CPU share like 512 MB's",
    )
    parser.add_argument("--competitors", type=int, default=1, help="busy loops for --one-core")
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
        rms, minimal, floor = cold_starts(args.runs, env)
        print(f"## 1. cold start: a new process, median of {args.runs} (PostgreSQL warm)\n")
        cold_table(rms, minimal, floor)
        one_core: ColdStarts | None = None
        if args.one_core:
            busy = [
                subprocess.Popen(_pinned([sys.executable, "-c", _BUSY], 0))
                for _ in range(args.competitors)
            ]
            try:
                one_core = cold_starts(args.runs, env, core=0)
            finally:
                for loop in busy:
                    loop.kill()
                    loop.wait()
            print(
                f"\n## 1b. the same on one core (taskset -c 0) next to {args.competitors} "
                f"busy loop(s), median of {args.runs}\n"
            )
            cold_table(*one_core)

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
        print("\n## summary\n")
        print(
            f"cold-start ratio: {rms['cold'] / minimal['cold']:.2f}x "
            f"(RMS {rms['cold']:.3f} s, minimal {minimal['cold']:.3f} s, target 1.5x)"
        )
        print(
            f"floor (the libraries alone): {floor['cold'] / minimal['cold']:.2f}x "
            f"({floor['cold']:.3f} s); RMS over the floor: {rms['cold'] / floor['cold']:.2f}x"
        )
        if one_core is not None:
            core_rms, core_minimal, core_floor = one_core
            print(
                f"1-core cold start ({args.competitors} busy loop(s)): RMS "
                f"{core_rms['cold']:.3f} s, minimal {core_minimal['cold']:.3f} s, "
                f"ratio {core_rms['cold'] / core_minimal['cold']:.2f}x; floor "
                f"{core_floor['cold']:.3f} s, {core_floor['cold'] / core_minimal['cold']:.2f}x"
            )
        print(f"warm p50 (shipped): {pct(shipped, 0.5) * 1e3:.1f} ms")
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
