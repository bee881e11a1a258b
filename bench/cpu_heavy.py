"""Legacy out of process, measured: a native route's throughput while a legacy route burns CPU.

A gateway on uvicorn serves one native trivial JSON route (`/native-ping`) and falls through to
a legacy Flask app with a route burning 20 ms of pure Python (`/burn`) and a trivial one
(`/ping`). For each layout (in-process; out of process with 1 and 2 workers, and 1 at nice 10)
the native route is loaded with wrk idle (before and after), and while a second wrk (one
connection) hammers `/burn`; and
the legacy trivial route is loaded alone, which is the fall-through cost of the mode. Layouts
are interleaved within each round, and the medians of the rounds are reported.

    .venv/bin/python -m bench.cpu_heavy [--rounds 3] [--duration 5] [--cpus one|two]

`--cpus one` (the default, as bench/run_bench.py runs) pins the server and its legacy workers to
CPU 1 and the clients to CPU 0; `two` pins nothing, so the workers may take the other core.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import FastAPI
from flask import Flask, jsonify
from flask.typing import ResponseReturnValue

from cutover import Gateway

BURN_SECONDS = 0.02
NATIVE = "/native-ping"
LEGACY_TRIVIAL = "/ping"
LEGACY_HEAVY = "/burn"
NATIVE_CONNECTIONS = 10
# Each layout: legacy worker processes (0: in-process) and their nice value.
LAYOUTS = {
    "in-process": (0, 0),
    "out of process, 1 worker": (1, 0),
    "out of process, 2 workers": (2, 0),
    "out of process, 1 worker, nice 10": (1, 10),
}


def make_legacy() -> Flask:
    """The legacy side: a trivial JSON route and one burning 20 ms of CPU in pure Python."""
    app = Flask("bench_cpu_heavy")

    @app.get(LEGACY_TRIVIAL)
    def ping() -> ResponseReturnValue:
        return jsonify(ok=True)

    @app.get(LEGACY_HEAVY)
    def burn() -> ResponseReturnValue:
        # CPU time of this thread, so the work is the same however busy the machine is.
        end = time.thread_time() + BURN_SECONDS
        n = 0
        while time.thread_time() < end:
            n += 1
        return jsonify(loops=n)

    return app


def make_new() -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get(NATIVE)
    async def native_ping() -> dict[str, bool]:
        return {"ok": True}

    return app


def gateway() -> Gateway:
    """uvicorn --factory target: the layout BENCH_LEGACY_PROCESSES says (0: in-process)."""
    return Gateway(
        make_legacy(),
        make_new(),
        legacy_processes=int(os.environ.get("BENCH_LEGACY_PROCESSES", "0")),
        legacy_nice=int(os.environ.get("BENCH_LEGACY_NICE", "0")),
        legacy_app="bench.cpu_heavy:make_legacy()",
        freeze_startup_heap=True,
        access_log=False,
    )


def fallthrough_out_of_process() -> Gateway:
    """uvicorn --factory target (bench/scenarios.py): bench/apps.py's fall-through gateway with
    its legacy app in one worker process."""
    from bench.apps import CONTROL_PLANE, flask_app

    return Gateway(
        flask_app, legacy_processes=1, legacy_app="bench.apps:flask_app", **CONTROL_PLANE
    )


# ---------------------------------------------------------------- measuring

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(url: str, seconds: int, connections: int, cpu: str | None) -> dict[str, float]:
    prefix = ["taskset", "-c", cpu] if cpu else []
    command = [*prefix, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p99 = re.search(r"^\s+99(?:\.0+)?%\s+([\d.]+)(us|ms|s)\b", output, re.M)
    if rps is None or p99 is None:
        raise RuntimeError(f"could not parse wrk output:\n{output}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(rps[1]),
        "p99_ms": float(p99[1]) * _UNITS_MS[p99[2]],
        "non_2xx": float(errors[1]) if errors else 0.0,
    }


_TICK = os.sysconf("SC_CLK_TCK")


def _tree_cpu_seconds(root: int) -> float:
    """User + system CPU of `root` and its descendants (the legacy workers), from /proc."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / _TICK
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(pid, 0.0) for pid in tree)


def _cpu_per_request(
    pid: int, url: str, seconds: int, cpu: str | None
) -> tuple[dict[str, float], float]:
    """A wrk run and the server tree's CPU milliseconds per request it answered: unlike req/s,
    this hardly moves with what else the machine runs."""
    began = _tree_cpu_seconds(pid)
    numbers = _wrk(url, seconds, NATIVE_CONNECTIONS, cpu)
    spent = _tree_cpu_seconds(pid) - began
    return numbers, spent * 1000 / max(numbers["rps"] * seconds, 1.0)


@contextmanager
def _serving(processes: int, nice: int, server_cpu: str | None) -> Iterator[tuple[str, int]]:
    from tests.servers import Launch, serve_uvicorn

    log = Path(tempfile.gettempdir()) / f"cutover-bench-cpu-heavy-{processes}.log"
    launch = Launch(prefix=["taskset", "-c", server_cpu] if server_cpu else [], log=log)
    env = {"BENCH_LEGACY_PROCESSES": str(processes), "BENCH_LEGACY_NICE": str(nice)}
    with serve_uvicorn(
        "bench.cpu_heavy:gateway", "--factory", "--no-access-log", env=env, launch=launch
    ) as server:
        yield server.url, server.pid


def measure_layout(
    layout: tuple[int, int], seconds: int, server_cpu: str | None, client_cpu: str | None
) -> dict[str, float]:
    """One round of one layout: native idle and under the legacy burn, legacy trivial alone."""
    with _serving(*layout, server_cpu) as (url, pid):
        _wrk(url + NATIVE, 1, NATIVE_CONNECTIONS, client_cpu)  # warm up
        _wrk(url + LEGACY_TRIVIAL, 1, NATIVE_CONNECTIONS, client_cpu)
        before = _wrk(url + NATIVE, seconds, NATIVE_CONNECTIONS, client_cpu)
        prefix = ["taskset", "-c", client_cpu] if client_cpu else []
        hammer = subprocess.Popen(
            [*prefix, "wrk", "-t1", "-c1", f"-d{seconds + 2}s", url + LEGACY_HEAVY],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.0)
        loaded = _wrk(url + NATIVE, seconds, NATIVE_CONNECTIONS, client_cpu)
        hammered, _ = hammer.communicate()
        burn = re.search(r"^Requests/sec:\s+([\d.]+)", hammered, re.M)
        after = _wrk(url + NATIVE, seconds, NATIVE_CONNECTIONS, client_cpu)
        trivial, trivial_cpu = _cpu_per_request(pid, url + LEGACY_TRIVIAL, seconds, client_cpu)
    # Idle is measured before and after the burn, and averaged, so drift on a busy machine
    # weighs on both sides of the ratio.
    return {
        "native_idle_rps": (before["rps"] + after["rps"]) / 2,
        "native_idle_p99_ms": (before["p99_ms"] + after["p99_ms"]) / 2,
        "native_loaded_rps": loaded["rps"],
        "native_loaded_p99_ms": loaded["p99_ms"],
        "burn_rps": float(burn[1]) if burn else 0.0,
        "legacy_trivial_rps": trivial["rps"],
        "legacy_trivial_p99_ms": trivial["p99_ms"],
        "legacy_trivial_cpu_ms": trivial_cpu,
        "errors": before["non_2xx"] + after["non_2xx"] + loaded["non_2xx"] + trivial["non_2xx"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--cpus", choices=["one", "two"], default="one")
    parser.add_argument("--json", type=Path, help="also write every round's numbers here")
    parser.add_argument("--only", nargs="+", choices=list(LAYOUTS), help="these layouts alone")
    args = parser.parse_args(argv)
    layouts = {name: LAYOUTS[name] for name in args.only or LAYOUTS}
    server_cpu, client_cpu = ("1", "0") if args.cpus == "one" else (None, None)
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in layouts}
    for n in range(args.rounds):
        for name, layout in layouts.items():
            print(f"round {n + 1}: {name}", file=sys.stderr, flush=True)
            rounds[name].append(measure_layout(layout, args.duration, server_cpu, client_cpu))
    if args.json:
        args.json.write_text(json.dumps(rounds, indent=2))
    print(report(rounds, args.cpus))


def report(rounds: dict[str, list[dict[str, float]]], cpus: str) -> str:
    """The medians as a Markdown table, with the ratios the target is judged by."""
    median: dict[str, dict[str, float]] = {
        name: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for name, runs in rounds.items()
    }
    base = next(iter(median.values()))["legacy_trivial_rps"]
    lines = [
        f"CPUs: {cpus}; medians of {len(next(iter(rounds.values())))} interleaved rounds",
        "",
        "| layout | native idle req/s (p99) | native under burn req/s (p99) | kept | p99 x "
        "| /burn req/s | legacy /ping req/s (p99) | vs the first | /ping CPU ms/req |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m in median.items():
        kept = statistics.median(
            r["native_loaded_rps"] / r["native_idle_rps"] for r in rounds[name]
        )
        tail = statistics.median(
            r["native_loaded_p99_ms"] / r["native_idle_p99_ms"] for r in rounds[name]
        )
        lines.append(
            f"| {name} | {m['native_idle_rps']:.0f} ({m['native_idle_p99_ms']:.1f} ms) "
            f"| {m['native_loaded_rps']:.0f} ({m['native_loaded_p99_ms']:.1f} ms) "
            f"| {kept:.2f}x | {tail:.2f}x | {m['burn_rps']:.1f} "
            f"| {m['legacy_trivial_rps']:.0f} ({m['legacy_trivial_p99_ms']:.1f} ms) "
            f"| {m['legacy_trivial_rps'] / base:.2f}x | {m['legacy_trivial_cpu_ms']:.3f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
