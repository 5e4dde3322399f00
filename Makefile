# The two commands of the quick start are `make run` and `make test`; both install what
# they need into .venv themselves, exactly the versions in uv.lock. Other targets are the
# usual quality gates.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=
# pytest-xdist workers. Twice the cores: much of the suite waits on PostgreSQL, subprocesses
# and sockets rather than computing (docs/benchmarks.md, "The suite", has the measurements).
PYTEST_WORKERS ?= $(shell echo $$(( 2 * $$(nproc 2>/dev/null || echo 1) )))
SHELL  := bash

# uv itself is pinned and installed into its own venv (.venv-tools), from PyPI.
UV_VERSION := 0.13.8
TOOLS      := .venv-tools
UV         := $(TOOLS)/bin/uv
# The project venv is .venv; uv never downloads an interpreter (the machine's python3 is
# used) and never touches the lock unless asked (`make lock`, `make lock-upgrade`).
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export UV_PYTHON_DOWNLOADS    := never
export UV_PYTHON              := $(PYTHON)
# Byte-compile what is installed (pip does by default, uv does not): every `rms` command and
# test subprocess then starts from .pyc files, about twice as fast here, and more so where
# PYTHONDONTWRITEBYTECODE is set (Python would otherwise compile every module on every start).
export UV_COMPILE_BYTECODE    := 1
# pytest caches its assertion-rewritten modules (the tests', and every module of a package
# that registers a pytest plugin, schemathesis' ~150 among them) as .pyc files: a session or
# CI that sets PYTHONDONTWRITEBYTECODE makes each of its workers rewrite them all again at
# every start (about 4 s of CPU each here). The test targets run pytest without it.
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest

.PHONY: run test install install-dev lock lock-upgrade lock-check lint format format-check \
        typecheck dupcheck unit test-fast test-setup checks infra-check infra-apply-local build package package-test bench bench-lambda bench-service \
        bench-migrate bench-sim bench-cache bench-failover clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --locked: fail (instead of re-resolving) when uv.lock does not match pyproject.toml.
$(VENV)/.installed-run: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --inexact --no-dev --quiet
	$(BIN)/python -m compileall -q src/rms
	touch $@

$(VENV)/.installed-dev: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --quiet
	$(BIN)/python -m compileall -q src/rms
	touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev

## lock: re-resolve uv.lock after a change to pyproject.toml (keeps other pins)
lock: | $(UV)
	$(UV) lock

## lock-upgrade: move every pin to the newest allowed version; then run `make test`
lock-upgrade: | $(UV)
	$(UV) lock --upgrade

## lock-check: fail when uv.lock is stale
lock-check: | $(UV)
	$(UV) lock --check

## run: serve the API on the embedded SQLite database, with reference and demo data.
## Its state (the embedded database, the sign-in token) lives in this clone's var/.
## With DATABASE_URL (or DB_*) set it serves that database and adds only the reference
## data: the demo portfolio goes into the embedded database alone.
run: export RMS_STATE_DIR ?= $(CURDIR)/var
run: install
	$(BIN)/rms db upgrade
	$(BIN)/rms db seed --demo-if-embedded
	$(BIN)/rms serve --host $(HOST) --port $(PORT)

## test: every check CI runs: lock, format, lint, types, duplicates, infra, tests with coverage.
## The static and infra checks run beside the test suite (both wait on much besides the
## CPU); each one's output is printed whole when it ends.
test: lock-check install-dev test-setup
	$(MAKE) --no-print-directory -j2 -k --output-sync=target checks unit

## checks: the static checks and the offline infra checks, one after the other (in one job
## slot, beside the suite in the other); every one runs, and a failure fails the target
checks: install-dev
	$(MAKE) --no-print-directory -j1 -k format-check lint typecheck dupcheck infra-check

## test-setup: what the tests need beyond the venv (Debian's chromium, the Prisma toolchain's
## npm packages and generated clients), installed once before the suite; a no-op when done
test-setup: install-dev
	$(BIN)/python -m tests.prepare

## test-fast: the inner loop: the suite without the browser, fault-injection and slow tests
## (the Prisma application through Node, large data, package builds, worker processes), no
## coverage, no static checks (Terraform is never part of pytest); none of what it runs
## needs test-setup's Chromium or npm packages
test-fast: install-dev
	$(PYTEST) -n $(PYTEST_WORKERS) --dist worksteal -q -m "not browser and not faults and not slow" $(PYTEST_ARGS)

format: install-dev
	$(BIN)/ruff format src tests bench scripts

format-check: install-dev
	$(BIN)/ruff format --check src tests bench scripts

## lint: ruff, and the import contracts (the layers and the one road to PostgreSQL and AWS,
## [tool.importlinter] in pyproject.toml; docs/architecture.md draws them)
lint: install-dev
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/lint-imports --no-cache

typecheck: install-dev
	$(BIN)/mypy

## dupcheck: fail on copied blocks of 8 or more lines (pylint's similarity checker)
dupcheck: install-dev
	$(BIN)/pylint --disable=all --enable=duplicate-code --min-similarity-lines=8 \
	    --ignore-imports=yes --ignore-signatures=yes src/rms

## unit: the test suite with coverage; pytest's summary line is repeated last, so the run
## closes on the test count
unit: install-dev
	rm -f .coverage .coverage.*
	set -o pipefail; $(PYTEST) -n $(PYTEST_WORKERS) --dist worksteal --cov --cov-branch --cov-report=term \
	    --cov-report=json:coverage.json --durations=15 $(PYTEST_ARGS) | tee .pytest.log
	$(BIN)/python scripts/coverage_gate.py coverage.json --lines 85 --branches 75
	@tail -n 1 .pytest.log

infra-check:
	bash infra/check.sh

## infra-apply-local: apply environments/dev against moto's server on loopback, check, destroy
infra-apply-local: install-dev
	bash infra/apply-local.sh

build: install-dev
	rm -rf dist
	$(UV) build --out-dir dist

## package: the Lambda deployment zip dist/rms-lambda.zip, reproducibly (docs/lambda.md).
## LAMBDA_ARCH=arm64|x86_64, LAMBDA_PYTHON=3.13|3.12|3.11 must match the function's
## (infra/: service_architecture, service_runtime; the defaults are the same: arm64, python3.13).
## python3.11 (Amazon Linux 2) is x86_64 only.
LAMBDA_ARCH   ?= arm64
LAMBDA_PYTHON ?= 3.13
package: install
	$(BIN)/python scripts/package_lambda.py --uv $(UV) --arch $(LAMBDA_ARCH) \
	    --python-version $(LAMBDA_PYTHON) $(PACKAGE_ARGS)

## package-test: build the zip for x86_64 and LAMBDA_PYTHON, unpack it into a Debian 13 chroot
## (debootstrap, cached in .cache/lambda-runtime) and invoke the handler from it with that
## Debian's python: /health/live and a signed-in API request on SQLite (docs/lambda.md).
## Needs root, debootstrap and deb.debian.org; not part of make test or CI.
package-test: install-dev
	RMS_PACKAGE_TEST=1 LAMBDA_PYTHON=$(LAMBDA_PYTHON) $(PYTEST) -q -s -p no:cacheprovider \
	    -o addopts="-ra" tests/scripts/test_package_runtime.py

## bench: the benchmarks (each starts its own PostgreSQL; see docs/benchmarks.md)
bench: bench-service bench-migrate bench-sim bench-cache bench-failover bench-lambda

bench-service: install-dev
	$(BIN)/python bench/bench_service.py

bench-migrate: install-dev
	$(BIN)/python bench/bench_migrate.py --trades 1000000

bench-sim: install-dev
	$(BIN)/python bench/bench_aurora_sim.py

## bench-cache: the service's memory under the cache-growth pattern of issue 11
bench-cache: install-dev
	$(BIN)/python bench/bench_reference_cache.py

## bench-failover: failover recovery and a bad network (issue 16; as root)
bench-failover: install-dev
	$(BIN)/python bench/bench_failover.py

## bench-lambda: the function's cold start against a minimal FastAPI app (same adapter)
bench-lambda: install-dev
	$(BIN)/python bench/bench_lambda.py

clean:
	rm -rf $(VENV) $(TOOLS) dist build .pytest_cache .mypy_cache .ruff_cache .coverage coverage.json var
