PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
OLDEST_VENV := .venv-oldest
OLDEST_STAMP := $(OLDEST_VENV)/.installed-stamp
OLDEST_PINS := tests/cutover/requirements-oldest.txt
HOST ?= 127.0.0.1
PORT ?= 8000
UPSTREAM_PORT ?= 8001
# uvicorn would otherwise trust X-Forwarded-* from 127.0.0.1 and rewrite REMOTE_ADDR and the
# scheme the legacy app sees; the gateway must hand Flask the environ gunicorn would.
# The protocol is uvicorn's httptools one plus a request-header timeout and gunicorn's header
# limits (431), which uvicorn has no option for (cutover.uvicorn_protocol, CUTOVER_HEADER_*).
SERVE_FLAGS := --no-proxy-headers --no-server-header \
	--http cutover.uvicorn_protocol:GuardedHttpToolsProtocol --timeout-graceful-shutdown 10

.PHONY: install migrate seed run test browser lint bench bench-quick soak clean

$(STAMP): pyproject.toml cutover/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ./cutover -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The toolkit alone on its oldest supported dependencies (pinned in $(OLDEST_PINS)), without the
# reference app; made anew whenever the pins or the toolkit's metadata change.
$(OLDEST_STAMP): $(OLDEST_PINS) cutover/pyproject.toml
	rm -rf $(OLDEST_VENV)
	$(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install -q --upgrade pip
	$(OLDEST_VENV)/bin/python -m pip install -q -e './cutover[fastapi,uvicorn,parity,scaffold]' -r $(OLDEST_PINS)
	touch $(OLDEST_STAMP)

migrate: install
	$(VENV)/bin/alembic upgrade head

seed: migrate
	$(PY) -m shared_models.seed

# The control plane is on: its admin token is CUTOVER_ADMIN_TOKEN if set, else a fresh one
# printed here; the served-by header is on for local smoke tests.
run: seed
	@$(PY) -m http.server $(UPSTREAM_PORT) --bind $(HOST) --directory demo_upstream >/dev/null 2>&1 & \
	upstream=$$!; trap 'kill $$upstream' EXIT INT TERM; \
	token=$${CUTOVER_ADMIN_TOKEN:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(24))')}; \
	echo "cutover admin token: $$token  (admin API: http://$(HOST):$(PORT)/_cutover/api/)"; \
	CUTOVER_ADMIN_TOKEN=$$token CUTOVER_SERVED_BY_HEADER=$${CUTOVER_SERVED_BY_HEADER:-true} \
	UPSTREAM_URL=$${UPSTREAM_URL:-http://$(HOST):$(UPSTREAM_PORT)/data.json} \
	$(VENV)/bin/uvicorn gateway:app --host $(HOST) --port $(PORT) $(SERVE_FLAGS)

# The dashboard's browser test (tests/dashboard) drives Debian's chromium through chromium-driver:
# installed here when missing and apt-get is usable as root; otherwise that test skips, saying why.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium and chromium-driver (the dashboard's browser test)"; \
	    { DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	    } >/dev/null 2>&1 || echo "chromium could not be installed: the browser test will skip"; \
	  else \
	    echo "no /usr/bin/chromium and no apt-get as root: the browser test will skip"; \
	  fi; \
	fi

# The whole suite on the newest dependencies (.venv), then the toolkit's suite on the oldest
# (.venv-oldest). PYTEST_ARGS go to the first run, OLDEST_PYTEST_ARGS to the second.
test: install $(OLDEST_STAMP) browser
	$(PY) -m pytest $(PYTEST_ARGS)
	$(OLDEST_VENV)/bin/python -m pytest tests/cutover $(OLDEST_PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy cutover/src/cutover shared_models legacy_flask new_fastapi gateway.py

# Every scenario (bench/README.md; about 15 minutes), or a representative subset with short
# runs (under 3 minutes, bench/README.md left alone); both install wrk and nginx if missing.
bench: install
	bash bench/run.sh $(BENCH_ARGS)

bench-quick: install
	bash bench/run.sh --quick --duration 3 --warmup 1 --no-readme $(BENCH_ARGS)

# 10 minutes (SOAK_SECONDS) of mixed traffic on 2 workers on a private PostgreSQL database
# (SOAK_POSTGRES_URL, else TEST_DATABASE_URL, else the local server); writes bench/README.md.
soak: install
	$(PY) -m bench.soak $(SOAK_ARGS)

clean:
	rm -rf $(VENV) $(OLDEST_VENV) build .pytest_cache .mypy_cache .ruff_cache
