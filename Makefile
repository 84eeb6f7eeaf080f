# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test fuzz lint typecheck schema bench-log bench-http bench-fanout clean

GRAPHIQL_SRC := web/graphiql
GRAPHIQL := chronicle/static/graphiql/index.html

install: $(STAMP) $(GRAPHIQL)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

# GraphiQL served from our own assets (no CDN), built from web/graphiql with
# the versions its package-lock pins. Both steps are skipped when their inputs
# are unchanged: npm ci when the lock is, the build when no source is newer.
$(GRAPHIQL_SRC)/node_modules/.installed: $(GRAPHIQL_SRC)/package-lock.json
	cd $(GRAPHIQL_SRC) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(GRAPHIQL): $(GRAPHIQL_SRC)/node_modules/.installed $(GRAPHIQL_SRC)/index.html \
		$(GRAPHIQL_SRC)/vite.config.ts $(GRAPHIQL_SRC)/tsconfig.json $(wildcard $(GRAPHIQL_SRC)/src/*)
	cd $(GRAPHIQL_SRC) && npm run --silent build -- --logLevel warn

run: install
	$(BIN)/chronicle migrate
	$(BIN)/chronicle serve --host 127.0.0.1 --port 8000

test: install lint typecheck
	$(BIN)/python -m pytest -q

# A longer fuzzing run than make test's, with a new seed each time.
fuzz: install
	CHRONICLE_FUZZ_RANDOM=1 CHRONICLE_FUZZ_EXAMPLES=$${EXAMPLES:-2000} \
		$(BIN)/python -m pytest -q tests/e2e/test_fuzz_schema.py --hypothesis-show-statistics

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

bench-fanout: install
	$(BIN)/python -m bench.fanout

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
