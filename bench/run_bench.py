"""Every bench scenario (issue 4 point 10, issue 13 point 4) in one run: real servers, wrk,
pinned cores.

The scenarios are in bench/scenarios.py, how one is measured in bench/runner.py, what a run
writes in bench/report.py; this is the command line (`python -m bench.run_bench`, `make bench`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from bench.report import (
    README,
    machine_info,
    print_table,
    readme_sections,
    update_readme,
    write_results,
)
from bench.runner import CLIENT_CPU, SERVER_CPU, Options, log, run_all
from bench.scenarios import SCENARIOS, Status, quick, select


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run the selected scenarios, print and write what they measured."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-k", "--only", action="append", default=[], help="name substring")
    parser.add_argument("--group", action="append", default=[], help="group substring")
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", 10)))
    parser.add_argument("--warmup", type=int, default=int(os.environ.get("BENCH_WARMUP", 2)))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 1)))
    parser.add_argument("--no-readme", action="store_true", help="leave bench/README.md alone")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is not met")
    parser.add_argument("--list", action="store_true", help="list scenarios and exit")
    parser.add_argument("--quick", action="store_true", help="the representative subset only")
    args = parser.parse_args(argv)

    scenarios = quick() if args.quick else select(args.only, args.group)
    if args.list or not scenarios:
        for sc in SCENARIOS:
            quick_mark = " (quick)" if sc.quick else ""
            print(f"[{sc.group}] {sc.name}{quick_mark}: {sc.server} {sc.app} {sc.path}")
        return 0 if args.list else 2
    if shutil.which("wrk") is None:
        log("wrk not found: install it (apt-get install wrk) or run bash bench/run.sh")
        return 2
    cpus = os.sched_getaffinity(0)
    pin = shutil.which("taskset") is not None and {0, 1} <= cpus
    if not pin:
        log("warning: cannot pin to CPUs 0 and 1; server and wrk share cores, numbers will suffer")
    opts = Options(
        duration=args.duration,
        warmup=args.warmup,
        rounds=max(1, args.rounds),
        server_cpu=SERVER_CPU if pin else None,
        client_cpu=CLIENT_CPU if pin else None,
    )

    load_before = Path("/proc/loadavg").read_text().split()[:3]
    results = run_all(scenarios, opts)
    info = machine_info()
    info["load_before"] = " ".join(load_before)
    info["load_after"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print()
    print_table(results)

    path = write_results(results, info, opts)
    print(f"\nresults: {path}")
    if not args.no_readme:
        for title, start, end, section in readme_sections(results, info, opts):
            update_readme(section, title, start, end)
        print(f"updated: {README}")

    failed = any(r.status is Status.FAILED for r in results)
    missed = any(r.met is False for r in results)
    return 1 if failed or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
