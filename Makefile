# Two commands on a fresh machine with Python 3.11+: `make dev` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test setup lint bench clean js-deps

dev: setup
	$(BIN)/halo dev

test: setup js-deps
	bash scripts/system-deps.sh
	$(BIN)/pytest

# supabase-js for the client-compatibility tests (tests/js), pinned by its lock file.
js-deps: tests/js/node_modules/.package-lock.json

tests/js/node_modules/.package-lock.json: tests/js/package-lock.json
	npm ci --prefix tests/js --no-audit --no-fund --loglevel=error

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

lint: setup
	$(BIN)/ruff check halo_supabase workers tests
	$(BIN)/ruff format --check halo_supabase workers tests
	$(BIN)/mypy

bench: setup
	$(BIN)/halo bench db

clean:
	-$(BIN)/halo db stop
	rm -rf .halo
