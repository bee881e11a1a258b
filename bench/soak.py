"""`make soak` (issue 13 point 5): the reference gateway on 2 uvicorn workers and a private
PostgreSQL database, its routes in every mode, under 10 minutes of mixed traffic (70 % reads,
30 % writes, both sides); errors, p99 and RSS minute by minute, drifts judged, bench/README.md's
"Soak" section written.

The database is `soak_<pid>_<random>` on the shared server (SOAK_POSTGRES_URL, else
TEST_DATABASE_URL, else the local one), created, migrated and seeded here and dropped after; the
server itself is never touched. SOAK_SECONDS shortens the run (default 600), SOAK_CLIENTS sets
the concurrent clients (default 16).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.report import README, RESULTS_DIR, update_readme
from bench.runner import POSTGRES_URL, log, process_tree
from bench.scenarios import ROOT, make_database
from tests.postgres import private_postgres_database
from tests.servers import Launch, serve_uvicorn

SOAK_MARKS = ("<!-- soak-results:start -->", "<!-- soak-results:end -->")
SOAK_TITLE = "Soak"
DEFAULT_SECONDS = 600
INTERVAL = 60.0  # one sample of p99 and RSS per minute
WORKERS = 2
DRIFT_TARGET = 0.10  # p99 and RSS may grow at most 10 % from the first minute to the last
REQUEST_TIMEOUT = 10.0
SERVED_BY = "x-cutover-served-by"
CANARY_HEADER = "X-Soak-Client"  # the canary key: each request a random client
DEMO_USERS = ("alice", "bob")
DEMO_PASSWORD = "correct horse"

# Every mode on some route, reads and writes on both sides (POST /items in a canary, POST
# /api/users on legacy, POST /api/notes on new).
MODES: list[tuple[str, str, str, int | None]] = [
    ("GET", "/api/hello", "legacy", None),
    ("GET", "/items", "new", None),
    ("GET", "/items/{item_id}", "canary", 50),
    ("GET", "/api/users/{user_id}", "shadow", None),
    ("GET", "/api/posts", "reverse-shadow", None),
    ("GET", "/api/notes/{note_id}", "canary", 50),
    ("POST", "/items", "canary", 50),
    ("POST", "/api/users", "legacy", None),
    ("POST", "/api/notes", "new", None),
]
READ_SHARE = 0.7


@dataclass
class Request:
    """One request the load sends: the route it counts under and how to send it."""

    route: str
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    data: Any = None


@dataclass
class Minute:
    """What one interval of the run saw."""

    index: int
    requests: int = 0
    errors: int = 0  # 5xx, connection errors, timeouts
    client_errors: int = 0  # 4xx: none expected
    latencies_ms: list[float] = field(default_factory=list)
    rss_kib: int = 0  # every gateway process, summed, at the interval's end

    def p99(self) -> float:
        """The interval's p99 latency, ms."""
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else 0.0
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[98]


@dataclass
class Load:
    """The tokens and notes the requests use, and what they came back with."""

    tokens: list[str]
    note_ids: list[int]
    minutes: list[Minute] = field(default_factory=list)
    sides: Counter[tuple[str, str]] = field(default_factory=Counter)  # (route, side) -> count
    statuses: Counter[int] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)


def read_request(load: Load, rng: random.Random) -> Request:
    """A read of one of the routes, on either side by its mode."""
    kind = rng.randrange(6)
    if kind == 0:
        return Request("GET /api/hello", "GET", "/api/hello")
    if kind == 1:
        return Request("GET /items", "GET", "/items?skip=0&limit=10")
    if kind == 2:
        return Request("GET /items/{item_id}", "GET", f"/items/{rng.randint(1, 3)}")
    if kind == 3:
        return Request("GET /api/users/{user_id}", "GET", f"/api/users/{rng.randint(1, 2)}")
    if kind == 4:
        return Request("GET /api/posts", "GET", "/api/posts")
    token = rng.randrange(len(load.tokens))
    note = load.note_ids[token]
    headers = {"Authorization": f"Bearer {load.tokens[token]}"}
    return Request("GET /api/notes/{note_id}", "GET", f"/api/notes/{note}", headers)


def write_request(load: Load, rng: random.Random) -> Request:
    """A write: an item (canary), a note (new), now and then a user (legacy: its password hash
    costs ~50 ms of CPU, so one write in fifty)."""
    roll = rng.random()
    if roll < 0.02:
        name = f"soak-{uuid.uuid4().hex[:12]}"
        body = {"username": name, "email": f"{name}@example.com", "password": "soak-pass"}
        return Request("POST /api/users", "POST", "/api/users", json=body)
    if roll < 0.55:
        form = {"name": f"soak item {rng.randrange(10**6)}", "price": "3.50", "tags": "soak"}
        return Request("POST /items", "POST", "/items", data=form)
    token = rng.randrange(len(load.tokens))
    headers = {"Authorization": f"Bearer {load.tokens[token]}"}
    body = {"title": f"soak note {rng.randrange(10**6)}", "body": "soak"}
    return Request("POST /api/notes", "POST", "/api/notes", headers, json=body)


async def client_loop(
    client: httpx.AsyncClient,
    load: Load,
    rng: random.Random,
    started: float,
    stop_at: float,
    minute_of: Callable[[float], Minute],
) -> None:
    """One client sending requests back to back until `stop_at`."""
    while (now := time.monotonic()) < stop_at:
        make = read_request if rng.random() < READ_SHARE else write_request
        req = make(load, rng)
        headers = {CANARY_HEADER: f"client-{rng.randrange(10**9)}", **req.headers}
        t0 = time.perf_counter()
        status, said = 0, ""
        try:
            resp = await client.request(
                req.method, req.url, headers=headers, json=req.json, data=req.data
            )
            status, said = resp.status_code, resp.text[:200]
            load.sides[(req.route, resp.headers.get(SERVED_BY, "?"))] += 1
        except httpx.HTTPError as exc:
            said = f"{type(exc).__name__} {exc}"
        elapsed_ms = (time.perf_counter() - t0) * 1000
        minute = minute_of(now - started)
        minute.requests += 1
        minute.latencies_ms.append(elapsed_ms)
        load.statuses[status] += 1
        if status == 0 or status >= 500:
            minute.errors += 1
        elif status >= 400:
            minute.client_errors += 1
        if (status == 0 or status >= 400) and len(load.error_samples) < 10:
            load.error_samples.append(f"{req.method} {req.url}: {status or ''} {said}".strip())


def gateway_rss_kib(pid: int) -> int:
    """VmRSS of every process of the gateway (uvicorn's supervisor and its workers), summed."""
    total = 0
    for p in process_tree(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


async def run_load(base_url: str, pid: int, load: Load, seconds: float, clients: int) -> None:
    """`clients` concurrent clients for `seconds`, RSS sampled at the end of every interval."""
    intervals = max(1, round(seconds / INTERVAL))
    interval = seconds / intervals
    load.minutes = [Minute(i + 1) for i in range(intervals)]

    def minute_of(offset: float) -> Minute:
        return load.minutes[min(int(offset / interval), intervals - 1)]

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=REQUEST_TIMEOUT
    ) as client:
        started = time.monotonic()
        stop_at = started + seconds
        tasks = [
            asyncio.create_task(
                client_loop(client, load, random.Random(n), started, stop_at, minute_of)
            )
            for n in range(clients)
        ]
        for minute in load.minutes:
            await asyncio.sleep(max(0.0, started + minute.index * interval - time.monotonic()))
            minute.rss_kib = gateway_rss_kib(pid)
            log(
                f"   minute {minute.index}/{intervals}: {minute.requests:,} requests,"
                f" {minute.errors} errors, p99 {minute.p99():.1f} ms,"
                f" RSS {minute.rss_kib / 1024:.0f} MiB"
            )
        await asyncio.gather(*tasks)


def set_up(base_url: str, token: str) -> Load:
    """Every route in its mode (the admin API), both processes on the new version, then a
    token and a note for each demo user."""
    admin = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT) as client:
        for method, path, mode, percent in MODES:
            body: dict[str, Any] = {"method": method, "path": path, "mode": mode}
            body |= {"reason": "soak", "actor": "bench/soak.py"}
            if percent is not None:
                body["percent"] = percent
            resp = client.post("/_cutover/api/switch", json=body, headers=admin)
            if resp.status_code != 200:
                raise RuntimeError(f"switch {method} {path} {mode}: {resp.status_code} {resp.text}")
        deadline = time.monotonic() + 30
        summary = ""
        while time.monotonic() < deadline:
            status = client.get("/_cutover/api/status", headers=admin).json()
            summary = str(status.get("summary", ""))
            if summary.startswith(f"{WORKERS} of {WORKERS} "):
                break
            time.sleep(0.5)
        log(f"-- modes set: {summary}")
        tokens, notes = [], []
        for user in DEMO_USERS:
            resp = client.post("/api/tokens", auth=(user, DEMO_PASSWORD))
            resp.raise_for_status()
            tokens.append(resp.json()["token"])
            resp = client.post(
                "/api/notes",
                json={"title": "soak", "body": ""},
                headers={"Authorization": f"Bearer {tokens[-1]}"},
            )
            resp.raise_for_status()
            notes.append(int(resp.json()["id"]))
    return Load(tokens, notes)


def drift(first: float, last: float) -> float:
    """Relative change from `first` to `last` (0.05 = 5 % more)."""
    return (last - first) / first if first else 0.0


def verdict(load: Load) -> dict[str, Any]:
    """Errors, p99 and RSS drift (the last interval against the first), and their targets."""
    first, last = load.minutes[0], load.minutes[-1]
    errors = sum(m.errors for m in load.minutes)
    p99_drift = drift(first.p99(), last.p99())
    rss_drift = drift(first.rss_kib, last.rss_kib)
    return {
        "requests": sum(m.requests for m in load.minutes),
        "errors": errors,
        "client_errors": sum(m.client_errors for m in load.minutes),
        "p99_drift": p99_drift,
        "rss_drift": rss_drift,
        "errors_met": errors == 0,
        "p99_met": p99_drift < DRIFT_TARGET,
        "rss_met": rss_drift < DRIFT_TARGET,
    }


def _yes(ok: bool) -> str:
    return "**yes**" if ok else "**NO**"


def render(load: Load, result: dict[str, Any], info: dict[str, Any]) -> str:
    """The "Soak" section of bench/README.md."""
    seconds = info["seconds"]
    lines = [
        f"Run of {info['date']}: {seconds:.0f} s, {info['clients']} concurrent clients"
        f" (httpx, keep-alive), `uvicorn gateway:app --workers {WORKERS}` (not pinned: the two"
        " workers and the load share the 2 CPUs), PostgreSQL database"
        f" `{info['database']}` (dropped after); load average {info['load_before']} before,"
        f" {info['load_after']} after. The VM is shared with other agents' test suites: the"
        " latencies move with their load.",
        "",
        "| check | measured | target | met? |",
        "|---|---|---|---|",
        f"| errors (5xx, connection errors, timeouts) | {result['errors']} of"
        f" {result['requests']:,} requests | 0 | {_yes(result['errors_met'])} |",
        f"| p99 drift, last interval vs first | {result['p99_drift']:+.1%}"
        f" ({load.minutes[0].p99():.1f} -> {load.minutes[-1].p99():.1f} ms) | < +10 %"
        f" | {_yes(result['p99_met'])} |",
        f"| RSS drift (all gateway processes), last vs first | {result['rss_drift']:+.1%}"
        f" ({load.minutes[0].rss_kib / 1024:.0f} -> {load.minutes[-1].rss_kib / 1024:.0f} MiB)"
        f" | < +10 % | {_yes(result['rss_met'])} |",
        f"| 4xx answers (none expected) | {result['client_errors']} | 0 | — |",
        "",
        "| interval | requests | req/s | errors | p99 | RSS (all processes) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    interval = seconds / len(load.minutes)
    for m in load.minutes:
        lines.append(
            f"| {m.index} | {m.requests:,} | {m.requests / interval:,.0f} | {m.errors}"
            f" | {m.p99():.1f} ms | {m.rss_kib / 1024:.0f} MiB |"
        )
    lines += ["", "| route | mode | legacy | new |", "|---|---|---:|---:|"]
    for method, path, mode, percent in MODES:
        route = f"{method} {path}"
        shown = f"{mode} {percent} %" if percent is not None else mode
        lines.append(
            f"| `{route}` | {shown} | {load.sides[(route, 'legacy')]:,}"
            f" | {load.sides[(route, 'new')]:,} |"
        )
    if load.error_samples:
        lines += ["", "First errors seen:", ""]
        lines += [f"- `{sample}`" for sample in load.error_samples]
    return "\n".join(lines) + "\n"


def soak(seconds: float, clients: int, server_url: str, write_readme: bool) -> int:
    """Set up, run, report; 0 when every target is met."""
    token = secrets.token_urlsafe(24)
    load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    with private_postgres_database(server_url, "soak") as database_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CUTOVER_")}
        env |= {
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": database_url,
            "CUTOVER_ADMIN_TOKEN": token,
            "CUTOVER_SERVED_BY_HEADER": "true",
            "CUTOVER_ACCESS_LOG": "false",
            "CUTOVER_CANARY_KEY": f"header:{CANARY_HEADER}",
            # 2 workers x 2 sides x (5 + 5): 40 connections at most on a shared server.
            "DB_POOL_SIZE": "5",
            "DB_MAX_OVERFLOW": "5",
        }
        log(f"-- migrating and seeding {database_url.rsplit('/', 1)[1]}")
        make_database(env)
        with tempfile.NamedTemporaryFile(prefix="soak-server-", suffix=".log") as server_log:
            launch = Launch(log=Path(server_log.name), inherit_env=False)
            flags = ["--http", "cutover.uvicorn_protocol:GuardedHttpToolsProtocol"]
            flags += ["--no-server-header"]
            with serve_uvicorn(
                "gateway:app", *flags, env=env, workers=WORKERS, launch=launch
            ) as server:
                load = set_up(server.url, token)
                log(f"-- {seconds:.0f} s of mixed traffic, {clients} clients")
                asyncio.run(run_load(server.url, server.pid, load, seconds, clients))
            server_tail = Path(server_log.name).read_text(errors="replace").splitlines()[-20:]
    result = verdict(load)
    info = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": seconds,
        "clients": clients,
        "database": database_url.rsplit("/", 1)[1],
        "load_before": load_before,
        "load_after": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }
    section = render(load, result, info)
    print(section)
    if result["errors"]:
        log("server log (last lines):\n" + "\n".join(server_tail))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    payload = {
        "info": info,
        "result": result,
        "minutes": [
            {**dataclasses.asdict(m), "latencies_ms": None, "p99_ms": m.p99()} for m in load.minutes
        ],
        "statuses": {str(k): v for k, v in load.statuses.items()},
        "sides": {f"{route} {side}": n for (route, side), n in load.sides.items()},
    }
    (RESULTS_DIR / f"soak-{stamp}.json").write_text(json.dumps(payload, indent=2) + "\n")
    if write_readme:
        update_readme(section, SOAK_TITLE, *SOAK_MARKS)
        log(f"updated: {README}")
    ok = result["errors_met"] and result["p99_met"] and result["rss_met"]
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """The command line: `python -m bench.soak [--seconds N] [--clients N] [--no-readme]`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", DEFAULT_SECONDS))
    )
    parser.add_argument("--clients", type=int, default=int(os.environ.get("SOAK_CLIENTS", 16)))
    parser.add_argument("--no-readme", action="store_true", help="leave bench/README.md alone")
    parser.add_argument("--postgres-url", default=os.environ.get("SOAK_POSTGRES_URL", POSTGRES_URL))
    args = parser.parse_args(argv)
    return soak(args.seconds, args.clients, args.postgres_url, not args.no_readme)


if __name__ == "__main__":
    sys.exit(main())
