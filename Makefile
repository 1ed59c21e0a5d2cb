# synaps: `make dev` runs everything locally; `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: dev test lint fmt install bench clean lock helm-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

dev: install  ## start embedded PostgreSQL + API + worker, submit a demo command
	$(BIN)/synaps dev --demo

test: install lint  ## lint, type-check, then every test (unit, integration, e2e)
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

helm-check: install  ## render the chart offline (default + production values), validate, audit
	$(BIN)/python -m tests.helm.rendering
	$(BIN)/pytest -q tests/helm

bench: install  ## reproducible benchmarks (starts its own PostgreSQL)
	$(BIN)/python -m bench.queue_bench

lock: $(BIN)/python  ## refresh constraints.txt from what is installed
	$(BIN)/pip freeze --exclude-editable | grep -v '^synaps' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
