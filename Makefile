# Huashen's commands. The README names them; `make run` and `make test` install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
SERVICES_DIR := var/test-services
HOST ?= 127.0.0.1
PORT ?= 8000
# `make run` serves with DEBUG off (the real error pages, no settings on show); `make run DEBUG=1` for a developer.
DEBUG ?= 0
# Test parallelism: this many pytest workers (2-core machines: 2).
JOBS ?= 2

.PHONY: help install install-test frontend messages run test test-fast test-browser lint format services-start services-stop clean bench

help:
	@echo "make run        install what is missing and serve Huashen on http://$(HOST):$(PORT) (embedded shape)"
	@echo "make test       install what is missing, start PostgreSQL + Redis, lint, run every test, stop them"
	@echo "make test-fast  unit tests only, no services (for your own loop)"
	@echo "make test-browser  the end-to-end browser suite alone (own PostgreSQL + Redis, Chromium)"
	@echo "make lint       ruff, ruff format --check, mypy, import contracts, TypeScript types"
	@echo "make format     ruff format + ruff --fix"
	@echo "make bench      benchmarks (warm vs cold sandbox, reference grading, similar code): a table and bench/results.json"

install:
	@bash scripts/install.sh bubblewrap gettext

install-test:
	@bash scripts/install.sh bubblewrap gettext redis-server chromium fonts-wqy-zenhei fonts-noto-color-emoji

frontend:
	@command -v npm >/dev/null || { echo "npm not found — install Node.js 20 and npm (e.g. sudo apt-get install nodejs npm)"; exit 1; }
	@cd frontend && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run --silent build >/dev/null
	@echo "[frontend] built frontend/dist"

# The islands' unit tests (Vitest, jsdom). Part of `make test`, never of `make run`.
.PHONY: frontend-test
frontend-test: frontend
	@cd frontend && npm run --silent test

messages:
	@$(MANAGE) compilemessages --ignore '.venv/*' --ignore 'frontend/*' -v0

run: install frontend messages
	@$(PY) -m exercises.kit.weights --stand-in var/torch-home >/dev/null
	@$(MANAGE) migrate --noinput -v0
	@$(MANAGE) sync_exercises
	@$(MANAGE) create_demo_accounts
	@[ -s var/secret-key ] || (umask 077; $(PY) -c "import secrets; print(secrets.token_urlsafe(50))" > var/secret-key)
	@echo "Huashen: http://$(HOST):$(PORT)/  (Ctrl-C stops it$(if $(filter 1 true yes on,$(DEBUG)),; DEBUG on,))"
	@DEBUG=$(DEBUG) LOCAL_GRADER_START=$${LOCAL_GRADER_START:-1} SECRET_KEY_FILE=$${SECRET_KEY_FILE:-$$([ -n "$$SECRET_KEY" ] || echo $(CURDIR)/var/secret-key)} SECURE_COOKIES=$${SECURE_COOKIES:-0} \
	  TORCH_HOME=$(CURDIR)/var/torch-home PYTHONPATH=platform:. $(VENV)/bin/daphne -b $(HOST) -p $(PORT) huashen.asgi:application

lint:
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy platform workers
	@PYTHONPATH=platform:. $(VENV)/bin/lint-imports
	@cd frontend && npm run --silent typecheck
	@echo "[lint] clean"

format:
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

# The whole suite against real PostgreSQL and Redis, started here and stopped whatever happens. It ends with
# one line: per phase, passed/failed/skipped, and the wall time of the whole run (scripts/test_summary.py).
SUMMARY_DIR := var/test-summary
test:
	@rm -rf $(SUMMARY_DIR) && mkdir -p $(SUMMARY_DIR) && date +%s > $(SUMMARY_DIR)/started
	@status=0; $(MAKE) --no-print-directory test-suite || status=$$?; \
	  python3 scripts/test_summary.py $(SUMMARY_DIR); exit $$status

.PHONY: test-suite
test-suite: install-test frontend frontend-test messages lint
	@bash scripts/services.sh start $(SERVICES_DIR)
	@source $(SERVICES_DIR)/env; status=0; \
	  echo "[test] 1/2 unit, sandbox, golden and page tests ($(JOBS) workers)"; \
	  HUASHEN_TEST_SUMMARY=$(SUMMARY_DIR)/1-unit.json HUASHEN_REQUIRE_SERVICES=1 \
	    $(VENV)/bin/pytest -n $(JOBS) -m "not integration" $(PYTEST_ARGS) || status=$$?; \
	  echo "[test] 2/2 integration and security tests (serial: they share the Redis queues)"; \
	  HUASHEN_TEST_SUMMARY=$(SUMMARY_DIR)/2-integration.json HUASHEN_REQUIRE_SERVICES=1 \
	    $(VENV)/bin/pytest -p no:xdist -m integration $(PYTEST_ARGS) || status=$$?; \
	  bash scripts/services.sh stop $(SERVICES_DIR); exit $$status

test-fast: install messages
	@$(VENV)/bin/pytest -m "not integration and not browser" -q $(PYTEST_ARGS)

# The browser suite alone: Playwright + Chromium against daphne, a grader and a platform worker it starts.
test-browser: install-test frontend messages
	@bash scripts/services.sh start var/test-services-browser
	@source var/test-services-browser/env; status=0; \
	  HUASHEN_REQUIRE_SERVICES=1 $(VENV)/bin/pytest -p no:xdist -m browser tests/browser tests/teaching/browser $(PYTEST_ARGS) || status=$$?; \
	  bash scripts/services.sh stop var/test-services-browser; exit $$status

# Benchmarks, not tests: each figure beside its baseline from the same run (root for the warm rows).
bench: install-test
	@PYTHONPATH=. $(PY) bench/sandbox_start.py
	@PYTHONPATH=. $(PY) bench/reference_grading.py
	@PYTHONPATH=. $(PY) bench/syntax_check.py
	@PYTHONPATH=. $(PY) bench/coach.py
	@PYTHONPATH=. $(PY) bench/first_submit.py
	@bash scripts/services.sh start var/bench-services
	@source var/bench-services/env; status=0; PYTHONPATH=. $(PY) bench/drain.py || status=$$?; \
	  PYTHONPATH=. $(PY) bench/latency.py || status=$$?; \
	  PYTHONPATH=. $(PY) bench/try_latency.py || status=$$?; \
	  PYTHONPATH=. $(PY) bench/fanout.py --paths per-follower,hub-batched-buffered,hub,hub-batched || status=$$?; \
	  PYTHONPATH=. $(PY) bench/fanout.py --paths hub,hub-batched --web-processes 2 --followers 60 || status=$$?; \
	  PYTHONPATH=. $(PY) bench/matrix.py || status=$$?; \
	  PYTHONPATH=. $(PY) bench/similarity.py || status=$$?; \
	  bash scripts/services.sh stop var/bench-services; exit $$status

clean:
	rm -rf var frontend/dist .mypy_cache .ruff_cache .pytest_cache
