# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The benchmarks' extra (the comparison library, its PostgreSQL driver, a load
# generator) is installed only by the bench targets, never for make test.
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: install run test fuzz lint typecheck schema web-test bench-install bench-test bench-log bench-http bench-fanout bench-failover bench-rebuild clean

GRAPHIQL_SRC := web/graphiql
GRAPHIQL := chronicle/static/graphiql/index.html
WEB_SRC := web/app
WEB := chronicle/static/web/index.html
# npm never downloads a browser here: the browser tests drive Debian's chromium.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

install: $(STAMP) $(GRAPHIQL) $(WEB)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench-install: install $(BENCH_STAMP)

# GraphiQL served from our own assets (no CDN), built from web/graphiql with
# the versions its package-lock pins. Both steps are skipped when their inputs
# are unchanged: npm ci when the lock is, the build when no source is newer.
$(GRAPHIQL_SRC)/node_modules/.installed: $(GRAPHIQL_SRC)/package-lock.json
	cd $(GRAPHIQL_SRC) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(GRAPHIQL): $(GRAPHIQL_SRC)/node_modules/.installed $(GRAPHIQL_SRC)/index.html \
		$(GRAPHIQL_SRC)/vite.config.ts $(GRAPHIQL_SRC)/tsconfig.json $(wildcard $(GRAPHIQL_SRC)/src/*)
	cd $(GRAPHIQL_SRC) && npm run --silent build -- --logLevel warn

# The web app (React + Apollo), typed by codegen from the committed schema.graphql;
# built the same way as GraphiQL: npm ci when the lock changed, a build when a
# source is newer than the output.
$(WEB_SRC)/node_modules/.installed: $(WEB_SRC)/package-lock.json
	cd $(WEB_SRC) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(WEB): $(WEB_SRC)/node_modules/.installed schema.graphql $(WEB_SRC)/index.html \
		$(WEB_SRC)/vite.config.ts $(WEB_SRC)/codegen.ts $(WEB_SRC)/tsconfig.json \
		$(wildcard $(WEB_SRC)/public/*) $(shell find $(WEB_SRC)/src -type f -not -path '*/gql/*' 2>/dev/null)
	cd $(WEB_SRC) && npm run --silent build -- --logLevel warn

run: install
	$(BIN)/chronicle migrate
	$(BIN)/chronicle serve --host 127.0.0.1 --port 8000

test: install lint typecheck
	$(BIN)/python -m pytest -q
	$(MAKE) web-test

# The web app's checks, then its browser tests against real `chronicle serve`
# processes (Debian's chromium, headless; see web/app/README.md).
web-test: install
	cd $(WEB_SRC) && npm run --silent typecheck && npm run --silent lint && npm test --silent
	cd $(WEB_SRC) && CHRONICLE_BIN=$(abspath $(BIN))/chronicle npm run --silent e2e

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

# The benchmarks' own tests (the CRUD baseline does the work it is compared
# for): beside the benchmarks, outside make test's suite (testpaths = tests).
bench-test: bench-install
	$(BIN)/python -m pytest -q bench/tests

bench-log: bench-install
	$(BIN)/python -m bench.log

# bench.http drives its servers with wrk, a Debian package (as .ci/run installs chromium).
bench-http: bench-install
	command -v wrk >/dev/null 2>&1 || (apt-get update && apt-get install -y --no-install-recommends wrk)
	$(BIN)/python -m bench.http

bench-fanout: bench-install
	$(BIN)/python -m bench.fanout

# Needs PostgreSQL (127.0.0.1:5432, user postgres) and Redis (127.0.0.1:6379).
bench-failover: bench-install
	$(BIN)/python -m bench.failover

bench-rebuild: bench-install
	$(BIN)/python -m bench.rebuild

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
