# ThinkFamily: two commands for a fresh machine — `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= sqlite:///$(CURDIR)/instance/thinkfamily.sqlite
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: run test test-pg install python-deps web-deps browser-deps lint bench clean

install: python-deps web-deps

python-deps: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

web-deps: node_modules/.installed
node_modules/.installed: package.json package-lock.json scripts/vendor.mjs
	npm ci --no-audit --no-fund --loglevel=error
	npm run --silent vendor
	touch $@

# Debian's Chromium for the browser tests (never a downloaded browser).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

run: install
	mkdir -p instance
	THINKFAMILY_DATABASE_URL=$(DB) $(BIN)/thinkfamily db upgrade
	THINKFAMILY_DATABASE_URL=$(DB) $(BIN)/thinkfamily deploy workflows --forms forms
	THINKFAMILY_DATABASE_URL=$(DB) $(BIN)/thinkfamily demo-data
	@echo "ThinkFamily on http://$(HOST):$(PORT)/ (demo users: see README); Ctrl-C stops everything."
	@trap 'trap - INT TERM EXIT; kill 0' INT TERM EXIT; \
	  $(BIN)/python -m aiosmtpd -n -l 127.0.0.1:8025 & \
	  THINKFAMILY_DATABASE_URL=$(DB) THINKFAMILY_SESSION_COOKIE_SECURE=false $(BIN)/thinkfamily worker & \
	  THINKFAMILY_DATABASE_URL=$(DB) $(BIN)/thinkfamily notify & \
	  THINKFAMILY_DATABASE_URL=$(DB) THINKFAMILY_SESSION_COOKIE_SECURE=false $(BIN)/thinkfamily serve --host $(HOST) --port $(PORT)

test: install browser-deps
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The same suite on PostgreSQL (TEST_DATABASE_URL must point at an empty database).
test-pg: install browser-deps
	@test -n "$$TEST_DATABASE_URL" || { echo "set TEST_DATABASE_URL"; exit 2; }
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: python-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install
	$(BIN)/python bench/request_cycle.py
	$(BIN)/python bench/timers.py
	$(BIN)/python bench/family_timeline.py

clean:
	rm -rf $(VENV) node_modules web/static/vendor instance
