#!/usr/bin/env bash
# `make bench`: install wrk on a fresh machine if needed, then run the harness (args pass through).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq wrk
fi
exec .venv/bin/python -m bench.run_bench "$@"
