#!/usr/bin/env bash
# `make bench`: install wrk and nginx (the strangler comparison) on a fresh machine if needed,
# then run the harness (args pass through).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${missing[*]}" >&2
    # Debian's nginx package would start a system nginx on port 80: forbid service starts for
    # the install (policy-rc.d exit 101), unless the machine already has a policy of its own.
    policy=/usr/sbin/policy-rc.d
    own_policy=false
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=true
    fi
    status=0
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    } >/dev/null || status=$?
    if $own_policy; then rm -f "$policy"; fi
    [ "$status" = 0 ] || echo "apt-get install ${missing[*]} failed ($status)" >&2
  else
    echo "missing ${missing[*]} and no apt-get as root: install them by hand" >&2
  fi
fi
exec .venv/bin/python -m bench.run_bench "$@"
