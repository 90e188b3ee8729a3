# whaticket — developer commands. `make run` and `make test` work on a fresh clone:
# both create .venv and install requirements.txt first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
FLASK  := $(BIN)/flask --app wsgi

# `make run` serves on every interface, port 8080, unless told otherwise; it is a development
# server (APP_ENV=development unless the environment sets APP_ENV), so the default secrets
# are accepted there. `python wsgi.py` with APP_ENV unset refuses them on such an address.
HOST ?= 0.0.0.0
PORT ?= 8080

# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-x -k auth"`.
PYTEST_ARGS ?=
# Benchmark size, e.g. `make bench BENCH_ARGS="--users 2000 --requests 500"`.
BENCH_ARGS ?= --users 300 --requests 150

# TEST_DATABASE_URL / TEST_REDIS_URL (and DATABASE_URL, REDIS_URL, ...) reach the
# commands below unchanged, from the environment or from the make command line
# (`make test TEST_DATABASE_URL=mysql://root@127.0.0.1/wt_test`).

.PHONY: venv run test lint migrate seed worker bench chaos clean

venv: $(STAMP)

# Re-runs only when requirements.txt changes (or the venv is missing).
$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

run: venv
	$(FLASK) db upgrade
	$(FLASK) seed
	APP_ENV=$${APP_ENV:-development} HOST=$(HOST) PORT=$(PORT) $(BIN)/python wsgi.py

test: venv
	$(BIN)/pytest $(PYTEST_ARGS)

# ruff, then the layer contracts of pyproject.toml (docs/architecture.md).
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

migrate: venv
	$(FLASK) db upgrade

seed: venv
	$(FLASK) seed

# Needs REDIS_URL (without Redis, `make run` runs jobs in its own process).
worker: venv
	$(FLASK) worker

bench: venv
	$(BIN)/python bench/auth_bench.py $(BENCH_ARGS)

# The hardening issue's fault runs on MariaDB + its own Redis (bench/chaos.py): worker
# kill -9 during a campaign, Redis down 30 s, database down 25 s, 2,000 redelivered messages.
CHAOS_ARGS ?=
chaos: venv
	$(BIN)/python bench/chaos.py $(CHAOS_ARGS)

# Removes the virtualenv and caches; keeps instance/ (your SQLite database and media).
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
