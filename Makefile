# PartsFlow: `make demo` and `make test` are the two commands that matter (see README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)
MANIFEST := dbt_project/target/manifest.json
LANDING ?= data/landing
PORT ?= 8501
# `make demo WAREHOUSE=postgres` (and materialize, users, serve, dev, docs): the warehouse, Dagster's
# run storage and the dashboard on PostgreSQL at PG_URL; variables already set in the environment
# win, and `partsflow materialize` creates a missing database.
PG_URL ?= postgresql://postgres@127.0.0.1:5432/partsflow
ifeq ($(WAREHOUSE),postgres)
PG_TARGETS := demo data materialize users serve dev docs warehouse-config
$(PG_TARGETS): export PARTSFLOW_WAREHOUSE_URL ?= $(PG_URL)
$(PG_TARGETS): export PARTSFLOW_DAGSTER_PG_URL ?= $(PG_URL)
endif

.PHONY: install manifest data materialize users serve demo test lint format dev clean docs bench \
	chromium warehouse-config

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# The dbt manifest is prepared here (and in CI), never parsed when Dagster imports the code.
manifest: install
	cd dbt_project && ../$(BIN)/dbt parse --quiet --profiles-dir .

data: install
	$(BIN)/partsflow generate --out $(LANDING) --scale demo

materialize: manifest
	$(BIN)/partsflow materialize

# One dashboard user per role with fresh random passwords, printed once (data/users.yaml, or
# $PARTSFLOW_USERS_FILE); scoped users get the first published locations.
users: install
	$(BIN)/partsflow users create-demo

serve: install
	@echo "PartsFlow dashboard: http://127.0.0.1:$(PORT)"
	$(BIN)/streamlit run dashboards/streamlit_app.py --server.headless true \
		--server.address 127.0.0.1 --server.port $(PORT) --browser.gatherUsageStats false

demo: data materialize users serve

# Which warehouse and Dagster storage the targets above use (empty: DuckDB and SQLite defaults).
warehouse-config:
	@echo "PARTSFLOW_WAREHOUSE_URL=$${PARTSFLOW_WAREHOUSE_URL}"
	@echo "PARTSFLOW_DAGSTER_PG_URL=$${PARTSFLOW_DAGSTER_PG_URL}"

# dbt docs (models, column formulas, tests, lineage) with the catalog of the configured warehouse
# (run `make materialize` first for column types; an empty warehouse still gives the docs).
docs: manifest
	@mkdir -p data
	cd dbt_project && ../$(BIN)/dbt docs generate --profiles-dir .
	@echo "Docs: dbt_project/target/index.html. Serve them on http://127.0.0.1:8080 with:"
	@echo "  cd dbt_project && ../$(BIN)/dbt docs serve --profiles-dir . --host 127.0.0.1 --port 8080"

# Two pytest workers (the CI machine has 2 cores); the tests of the shared generated world stay on
# one worker (scheduler in tests/conftest.py). `make test TEST_WORKERS=0` runs in one process.
TEST_WORKERS ?= 2
test: manifest chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n $(TEST_WORKERS)

# Benchmarks: `make bench` = `partsflow bench all` at scale m on DuckDB (report and charts in
# bench/report-m.md); `make bench SCALE=demo`, `make bench WAREHOUSE=postgres`; a single one with
# `make bench BENCH=marts` (WAREHOUSE=both by default there), `make bench BENCH=ingest`. `all`
# ends with `partsflow bench landing` (10,000 small files and a 2 GB file; 1,000 + 0.2 GB at demo).
BENCH ?= all
SCALE ?= m
WAREHOUSE ?=
bench: manifest
	$(BIN)/partsflow bench $(BENCH) --scale $(SCALE) \
		$(if $(filter all,$(BENCH)),--warehouse $(or $(WAREHOUSE),duckdb)) \
		$(if $(filter marts,$(BENCH)),--warehouse $(or $(WAREHOUSE),both))
	$(if $(filter all,$(BENCH)),$(BIN)/partsflow bench landing --scale $(SCALE) \
		--warehouse $(or $(WAREHOUSE),duckdb))

# The browser test drives Debian's Chromium through Playwright (no `playwright install`).
CHROMIUM := /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

lint:
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format:
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

# Dagster UI on :3000 and the dashboard on :$(PORT); Ctrl-C stops both (each in its own group).
dev: manifest
	@set -m; \
	export PATH="$(CURDIR)/$(BIN):$$PATH"; \
	export DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/.dagster_home}; mkdir -p $$DAGSTER_HOME; \
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000 & dpid=$$!; \
	$(BIN)/streamlit run dashboards/streamlit_app.py --server.headless true \
		--server.address 127.0.0.1 --server.port $(PORT) & spid=$$!; \
	trap 'kill -TERM -$$dpid -$$spid 2>/dev/null; wait' INT TERM EXIT; \
	echo "Dagster UI: http://127.0.0.1:3000   Dashboard: http://127.0.0.1:$(PORT)"; \
	wait

clean:
	rm -rf data/warehouse.duckdb data/serving dbt_project/target dbt_project/logs .dagster_home
