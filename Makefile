# Meshwork: two commands on a fresh machine: `make run` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
MESH    ?= sample_data/banking
PORT    ?= 8501
STAMP   := $(VENV)/.installed

.PHONY: run test venv tools system-deps postgres chromium java bench screenshots samples clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,spark]'
	touch $(STAMP)

# Tools whose dependencies clash with ours (datacontract-cli pins another typer) get a venv each.
TOOLS        := .venv-tools
DATACONTRACT := $(TOOLS)/datacontract/bin/datacontract

$(DATACONTRACT):
	$(PY) -m venv $(TOOLS)/datacontract
	$(TOOLS)/datacontract/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/datacontract/bin/python -m pip install --quiet 'datacontract-cli[duckdb]==1.2.8'

tools: $(DATACONTRACT)

venv: $(STAMP) tools

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

test: venv system-deps
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

bench: venv system-deps
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m pip install --quiet --no-deps soda-core-duckdb==3.5.6
	$(BIN)/python -m bench.run

screenshots: venv system-deps
	$(BIN)/python -m pytest tests -q -m browser --screenshots docs/screenshots

samples: venv
	$(BIN)/meshwork sample all

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache test-artifacts
