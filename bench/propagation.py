"""How long a switch takes to reach every gateway process (issue 10: within 2 s).

Starts, on one state database, `uvicorn --workers 2` and a second uvicorn started separately (as
a second machine would be), both serving `tests.cutover.stub_scale_out:gateway`; then makes
`--switches` switches of `GET /items/{item_id}`, alternating legacy and new, each at a random
moment (so the processes' polls fall anywhere), with `StateStore.switch` in this process. For
each switch it measures the time from `switch` returning (the transaction committed) until all
three processes serve the new mode, polling each on a keep-alive connection of its own (pinned
to one worker, told apart by the pid `/_cutover/healthz` answers) and reading
`X-Cutover-Served-By`. Prints a markdown table: median and max per state database.

    .venv/bin/python bench/propagation.py                        # a temporary SQLite file
    .venv/bin/python bench/propagation.py \\
        --state-url sqlite:////tmp/state.db \\
        --state-url postgresql+psycopg://postgres@127.0.0.1:5432/test

A PostgreSQL URL names a server: a private database is created on it for the run and dropped
after. The processes poll every `--poll-interval` seconds (default 1, the gateway's default);
on PostgreSQL a NOTIFY also wakes them at once.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench/ is on the path, the project is not
    sys.path.insert(0, str(ROOT))

from sqlalchemy import make_url  # noqa: E402

from cutover.control.modes import LEGACY, NEW, RouteMode  # noqa: E402
from cutover.control.store import StateStore  # noqa: E402
from tests.postgres import private_postgres_database  # noqa: E402
from tests.servers import PinnedConnection, pin_workers, serve_uvicorn  # noqa: E402

APP = "tests.cutover.stub_scale_out:gateway"
ROUTE = "GET /items/{item_id}"
PATH = "/items/1"
HEALTHZ = "/_cutover/healthz"
WAIT_LIMIT = 30.0  # a switch not served everywhere by then is reported as failed


@dataclass
class Result:
    store: str
    poll_interval: float
    seconds: list[float]  # per switch: commit to the last of the three processes serving it
    first: list[float]  # per switch: commit to the first process serving it


@contextmanager
def private_database(url: str) -> Iterator[str]:
    """A PostgreSQL URL's server with a database of this run's own; SQLite URLs as they are."""
    if make_url(url).get_backend_name() != "postgresql":
        yield url
        return
    with private_postgres_database(url, "cutover_bench_propagation") as private:
        yield private


def served_by(connection: PinnedConnection) -> str:
    status, headers, body = connection.get(PATH)
    if status != 200:
        raise RuntimeError(f"{PATH} answered {status} in process {connection.pid}: {body!r}")
    return str(headers["x-cutover-served-by"])


def wait_until_served(connections: list[PinnedConnection], side: str) -> dict[int, float]:
    """Poll the processes round-robin until each serves `side`: when each was first seen to."""
    seen: dict[int, float] = {}
    deadline = time.monotonic() + WAIT_LIMIT
    while len(seen) < len(connections):
        if time.monotonic() > deadline:
            raise RuntimeError(f"not every process served {side} within {WAIT_LIMIT}s: {seen}")
        for connection in connections:
            if connection.pid not in seen and served_by(connection) == side:
                seen[connection.pid] = time.monotonic()
        time.sleep(0.001)
    return seen


def measure(url: str, switches: int, poll_interval: float, rng: random.Random) -> Result:
    env = {
        "CUTOVER_SCALE_OUT_STATE_URL": url,
        "CUTOVER_SCALE_OUT_POLL_INTERVAL": str(poll_interval),
    }
    keep_alive = ("--timeout-keep-alive", "300")
    store = StateStore(url)
    seconds: list[float] = []
    first: list[float] = []
    with ExitStack() as stack:
        stack.callback(store.dispose)
        first_server = stack.enter_context(serve_uvicorn(APP, *keep_alive, env=env, workers=2))
        second_server = stack.enter_context(serve_uvicorn(APP, *keep_alive, env=env))
        connections = pin_workers(first_server.url, 2, HEALTHZ)
        connections += pin_workers(second_server.url, 1, HEALTHZ)
        for connection in connections:
            stack.callback(connection.close)
        pids = sorted(connection.pid for connection in connections)
        print(f"{store.display_url()}: processes {pids}", file=sys.stderr)
        modes: list[tuple[str, RouteMode]] = [("legacy", LEGACY), ("new", NEW)]
        for number in range(switches):
            side, mode = modes[number % 2]
            time.sleep(rng.uniform(0.2, 0.2 + poll_interval))  # anywhere in the poll cycle
            change = store.switch(ROUTE, mode, actor="bench", reason="propagation bench")
            committed = time.monotonic()
            seen = wait_until_served(connections, side)
            seconds.append(max(seen.values()) - committed)
            first.append(min(seen.values()) - committed)
            print(
                f"  switch {number + 1:2d} to {side:6s} (version {change.version}): "
                f"all in {seconds[-1] * 1000:7.1f} ms, first in {first[-1] * 1000:7.1f} ms",
                file=sys.stderr,
            )
    label = "PostgreSQL" if store.dialect == "postgresql" else "SQLite"
    return Result(label, poll_interval, seconds, first)


def milliseconds(value: float) -> str:
    return f"{value * 1000:,.0f} ms"


def table(results: list[Result]) -> str:
    lines = [
        "| state store | polling | switches | median (all 3) | max (all 3) | median (first) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        lines.append(
            f"| {result.store} | {result.poll_interval:g} s | {len(result.seconds)} "
            f"| {milliseconds(statistics.median(result.seconds))} "
            f"| {milliseconds(max(result.seconds))} "
            f"| {milliseconds(statistics.median(result.first))} |"
        )
    return "\n".join(lines)


def machine() -> str:
    versions = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("uvicorn", "sqlalchemy", "psycopg")
        if _installed(name)
    )
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {versions}; load average {load}"
    )


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--state-url",
        action="append",
        metavar="URL",
        help="a state database (SQLite file, or a PostgreSQL server: a private database is made "
        "on it); repeat to measure several; default: a temporary SQLite file",
    )
    parser.add_argument("--switches", type=int, default=20, help="default 20")
    parser.add_argument(
        "--poll-interval", type=float, default=1.0, help="the processes' poll, s (default 1)"
    )
    parser.add_argument("--seed", type=int, default=10, help="for the random switch moments")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    before = machine()
    results = []
    with tempfile.TemporaryDirectory(prefix="cutover-propagation-") as directory:
        for given in args.state_url or [f"sqlite:///{Path(directory) / 'state.db'}"]:
            with private_database(given) as url:
                results.append(measure(url, args.switches, args.poll_interval, rng))
    print(table(results))
    print()
    print(f"Before: {before}.")
    print(f"After: load average {' '.join(f'{value:.2f}' for value in os.getloadavg())}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
