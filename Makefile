PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
UPSTREAM_PORT ?= 8001
# uvicorn would otherwise trust X-Forwarded-* from 127.0.0.1 and rewrite REMOTE_ADDR and the
# scheme the legacy app sees; the gateway must hand Flask the environ gunicorn would.
# The protocol is uvicorn's httptools one plus a request-header timeout and gunicorn's header
# limits (431), which uvicorn has no option for (cutover.uvicorn_protocol, CUTOVER_HEADER_*).
SERVE_FLAGS := --no-proxy-headers --no-server-header \
	--http cutover.uvicorn_protocol:GuardedHttpToolsProtocol --timeout-graceful-shutdown 10

.PHONY: install migrate seed run test lint bench clean

$(STAMP): pyproject.toml cutover/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ./cutover -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(VENV)/bin/alembic upgrade head

seed: migrate
	$(PY) -m shared_models.seed

run: seed
	@$(PY) -m http.server $(UPSTREAM_PORT) --bind $(HOST) --directory demo_upstream >/dev/null 2>&1 & \
	upstream=$$!; trap 'kill $$upstream' EXIT INT TERM; \
	UPSTREAM_URL=$${UPSTREAM_URL:-http://$(HOST):$(UPSTREAM_PORT)/data.json} \
	$(VENV)/bin/uvicorn gateway:app --host $(HOST) --port $(PORT) $(SERVE_FLAGS)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy cutover/src/cutover shared_models legacy_flask new_fastapi gateway.py

bench: install
	bash bench/run.sh

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
