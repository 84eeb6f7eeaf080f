# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck schema bench-log bench-http clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

run: install
	$(BIN)/chronicle migrate
	$(BIN)/chronicle serve --host 127.0.0.1 --port 8000

test: install lint typecheck
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

schema: install
	$(BIN)/chronicle export-schema > schema.graphql

bench-log: install
	$(BIN)/python -m bench.log

bench-http: install
	$(BIN)/python -m bench.http

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
