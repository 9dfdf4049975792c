# Meshwork: two commands on a fresh machine: `make run` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
MESH    ?= sample_data/banking
PORT    ?= 8501
STAMP   := $(VENV)/.installed
DBT_VENV  := .venv-tools/dbt
DBT_STAMP := $(DBT_VENV)/.installed
DBT_PINS  := dbt-core==1.11.16 dbt-duckdb==1.11.1 duckdb==1.5.5

.PHONY: run test venv tools system-deps postgres chromium java bench screenshots samples clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,spark]'
	touch $(STAMP)

# Tools whose dependencies clash with ours get a venv each under .venv-tools/: datacontract-cli pins another typer;
# dbt-core needs protobuf 6 (the app's streamlit has 7). tests/interop/test_dbt.py runs its `dbt` to build a real
# manifest; duckdb is pinned to the app's, so both read the same database files.
TOOLS        := .venv-tools
DATACONTRACT := $(TOOLS)/datacontract/bin/datacontract

$(DATACONTRACT):
	$(PY) -m venv $(TOOLS)/datacontract
	$(TOOLS)/datacontract/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/datacontract/bin/python -m pip install --quiet 'datacontract-cli[duckdb]==1.2.8'

$(DBT_STAMP): Makefile
	test -x $(DBT_VENV)/bin/python || $(PY) -m venv $(DBT_VENV)
	$(DBT_VENV)/bin/python -m pip install --quiet $(DBT_PINS)
	touch $(DBT_STAMP)

tools: $(DATACONTRACT) $(DBT_STAMP)

venv: $(STAMP)

run: venv
	$(BIN)/python app/serve.py --server.port $(PORT) -- --mesh $(MESH)

chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

postgres:
	@command -v pg_ctlcluster >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null; }
	@pg_ctlcluster 15 main status >/dev/null 2>&1 || pg_ctlcluster 15 main start
	@su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='meshwork'\"" | grep -q 1 || \
	  su postgres -c "psql -qc \"CREATE ROLE meshwork LOGIN SUPERUSER PASSWORD 'meshwork'\""

java:
	@command -v java >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

system-deps: chromium postgres java

test: venv tools system-deps
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q --durations=15

bench: venv system-deps
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m pip install --quiet --no-deps soda-core-duckdb==3.5.6
	$(BIN)/python -m bench.run

# one browser module at a time, each with its own server: the images are the same, and a 2-core machine is not
# asked to run every module's server and Chromium at once
screenshots: venv system-deps
	for module in tests/browser/test_*.py; do \
		$(BIN)/python -m pytest $$module -q -n 0 -m browser --screenshots docs/screenshots || exit 1; \
	done

samples: venv
	$(BIN)/meshwork sample all

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache test-artifacts
