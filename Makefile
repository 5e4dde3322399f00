# The two commands of the quick start are `make run` and `make test`; both install what
# they need into .venv themselves. Other targets are the usual quality gates.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=
SHELL  := bash

.PHONY: run test install install-dev lint format format-check typecheck dupcheck unit \
        infra-check build bench bench-service bench-migrate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev

## run: serve the API on the embedded SQLite database, with reference and demo data
run: install
	$(BIN)/rms db upgrade
	$(BIN)/rms db seed --demo
	$(BIN)/rms serve --host $(HOST) --port $(PORT)

## test: every check CI runs: format, lint, types, duplicates, tests with coverage, infra
test: install-dev format-check lint typecheck dupcheck infra-check unit

format: install-dev
	$(BIN)/ruff format src tests bench scripts

format-check: install-dev
	$(BIN)/ruff format --check src tests bench scripts

lint: install-dev
	$(BIN)/ruff check src tests bench scripts

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
	set -o pipefail; $(BIN)/pytest --cov --cov-branch --cov-report=term \
	    --cov-report=json:coverage.json $(PYTEST_ARGS) | tee .pytest.log
	$(BIN)/python scripts/coverage_gate.py coverage.json --lines 85 --branches 75
	@tail -n 1 .pytest.log

infra-check:
	bash infra/check.sh

build: install-dev
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

## bench: the benchmarks (each starts its own PostgreSQL; see docs/benchmarks.md)
bench: bench-service bench-migrate

bench-service: install-dev
	$(BIN)/python bench/bench_service.py

bench-migrate: install-dev
	$(BIN)/python bench/bench_migrate.py --trades 1000000

clean:
	rm -rf $(VENV) dist build .pytest_cache .mypy_cache .ruff_cache .coverage coverage.json var
