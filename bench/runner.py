"""How one scenario is measured: its server started pinned to a CPU through the test fixtures
(tests/servers.py), wrk run against it and its output parsed, the server's peak RSS read; and
every selected scenario run round after round."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from bench.scenarios import (
    SHADOW_API,
    SHADOW_PREFIX,
    SHADOW_SETTLE,
    SHADOW_TOKEN,
    Result,
    Scenario,
    ScenarioError,
    Server,
    Status,
    judge,
    make_database,
    probe,
)
from tests.servers import Launch, serve_gunicorn, serve_uvicorn
from tests.servers import Server as RunningServer

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
SERVER_CPU = "1"
CLIENT_CPU = "0"
CONNECTIONS = 32
STARTUP_TIMEOUT = 30.0


@dataclass(frozen=True)
class Options:
    """Run settings; pinning CPUs are None where the machine has fewer than two."""

    duration: int
    warmup: int
    rounds: int
    server_cpu: str | None
    client_cpu: str | None


def log(msg: str) -> None:
    """Progress goes to stderr, so that stdout is the table alone."""
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- wrk


def pinned(cpu: str | None) -> list[str]:
    """The command prefix pinning a process to `cpu` (none when the machine cannot pin)."""
    return ["taskset", "-c", cpu] if cpu is not None else []


def run_wrk(url: str, seconds: int, cpu: str | None, headers: tuple[str, ...] = ()) -> str:
    """wrk's `--latency` output for `seconds` of load on `url` from one thread."""
    cmd = [*pinned(cpu), "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    cmd += [arg for header in headers for arg in ("-H", header)]
    cmd.append(url)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if proc.returncode != 0:
        raise ScenarioError(f"wrk exited {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def to_ms(value: str, unit: str) -> float:
    """wrk prints latencies as e.g. 812.00us, 1.23ms, 2.01s."""
    return float(value) * _UNITS_MS[unit]


def parse_wrk(output: str) -> dict[str, float | int | str]:
    """req/s, p50, p99, request count and error counts from `wrk --latency` output."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s*(\d+) requests in", output, re.M)
    pct = {
        m[1]: to_ms(m[2], m[3])
        for m in re.finditer(r"^\s+(50|75|90|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\b", output, re.M)
    }
    if rps is None or total is None or "50" not in pct or "99" not in pct:
        raise ScenarioError(f"could not parse wrk output:\n{output}")
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(rps[1]),
        "requests": int(total[1]),
        "p50_ms": pct["50"],
        "p99_ms": pct["99"],
        "socket_errors": sum(int(n) for n in sock.groups()) if sock else 0,
        "socket_detail": sock[0] if sock else "",
        "non_2xx": int(non2xx[1]) if non2xx else 0,
    }


# ---------------------------------------------------------------- RSS


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (gunicorn's worker is the master's child)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo += children.get(p, [])
    return tree


def max_rss_kib(pid: int) -> int:
    """Largest VmHWM among the server's processes, i.e. the peak RSS of the serving process."""
    peak = 0
    for p in process_tree(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        m = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
        if m:
            peak = max(peak, int(m[1]))
    return peak


# ---------------------------------------------------------------- the server


def tail(path: Path, lines: int = 15) -> str:
    """The end of the server's log, which says why it failed."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def alive(pid: int) -> bool:
    """Whether the server still runs: an exited process not yet reaped is a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


@contextmanager
def serve(
    sc: Scenario, env: dict[str, str], opts: Options, log_file: Path
) -> Iterator[RunningServer]:
    """The scenario's server, started by the test fixtures on the server CPU with `env` as its
    whole environment and its output in `log_file`, answering 200 on the scenario's path."""
    launch = Launch(prefix=pinned(opts.server_cpu), log=log_file, inherit_env=False)
    if sc.server is Server.GUNICORN:
        app = sc.app + ("()" if sc.factory else "")
        fixture = serve_gunicorn(app, env=env, launch=launch)
    else:
        fixture = serve_uvicorn(
            sc.app, *(["--factory"] if sc.factory else []), env=env, launch=launch
        )
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(fixture)
        except RuntimeError as exc:  # exited or never accepted
            raise ScenarioError(f"{exc}:\n{tail(log_file)}") from exc
        check_answers(server.port, sc.path, log_file, sc.headers)
        yield server
        if not alive(server.pid):
            raise ScenarioError(f"server died during the run:\n{tail(log_file)}")


def check_answers(port: int, path: str, log_file: Path, headers: tuple[str, ...] = ()) -> None:
    """The server accepts; make sure it answers `path` with 200 before loading it (the request
    waits while gunicorn's worker is still loading the app)."""
    try:
        conn = http.client.HTTPConnection(HOST, port, timeout=STARTUP_TIMEOUT)
        conn.request("GET", path, headers=dict(h.split(": ", 1) for h in headers))
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
    except OSError as exc:
        raise ScenarioError(f"GET {path}: {exc}:\n{tail(log_file)}") from exc
    if resp.status != 200:
        raise ScenarioError(f"GET {path} -> {resp.status} {body[:200]!r}")


def shadow_counts(port: int, route: str) -> dict[str, int]:
    """The route's shadow counters as the gateway's admin API reports them (`GET
    /_cutover/api/diffs`): compared, timeout, candidate_error, dropped... (none yet: empty),
    once the replays still queued are done and published."""
    time.sleep(SHADOW_SETTLE)
    try:
        conn = http.client.HTTPConnection(HOST, port, timeout=STARTUP_TIMEOUT)
        conn.request("GET", SHADOW_API, headers={"Authorization": f"Bearer {SHADOW_TOKEN}"})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
    except OSError as exc:
        raise ScenarioError(f"GET {SHADOW_API}: {exc}") from exc
    if resp.status != 200:
        raise ScenarioError(f"GET {SHADOW_API} -> {resp.status} {body[:200]!r}")
    counts = json.loads(body)["routes"].get(route, {}).get("counts", {})
    return {name: int(value) for name, value in counts.items()}


# ---------------------------------------------------------------- running


def measure(sc: Scenario, env: dict[str, str], opts: Options) -> dict[str, float | int | str]:
    """One measured run of one scenario on a fresh server."""
    with tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False) as f:
        log_file = Path(f.name)
    try:
        with serve(sc, env, opts, log_file) as server:
            url = f"{server.url}{sc.path}"
            if opts.warmup > 0:
                run_wrk(url, opts.warmup, opts.client_cpu, sc.headers)
            route = sc.shadow_route
            before = shadow_counts(server.port, route) if route else {}
            numbers = parse_wrk(run_wrk(url, opts.duration, opts.client_cpu, sc.headers))
            numbers["rss_kib"] = max_rss_kib(server.pid)
            if route:  # what happened to the measured run's replays (warm-up left out)
                after = shadow_counts(server.port, route)
                for name, value in after.items():
                    numbers[SHADOW_PREFIX + name] = value - before.get(name, 0)
    finally:
        log_file.unlink(missing_ok=True)
    if numbers["socket_errors"] or numbers["non_2xx"]:
        sock = numbers["socket_detail"] or "no socket errors"
        raise ScenarioError(
            f"{numbers['non_2xx']} non-2xx responses; {sock}"
            f" ({numbers['rps']:,.0f} req/s, p99 {numbers['p99_ms']:.2f} ms)"
        )
    return numbers


def run_all(scenarios: list[Scenario], opts: Options) -> list[Result]:
    """Every scenario `rounds` times, interleaved so that each round is a side-by-side pass."""
    base_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    base_env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    db_envs: dict[str, dict[str, str]] = {}  # database -> the env naming it
    db_errors: dict[str, str] = {}
    dropped = contextlib.ExitStack()
    results = {sc.name: Result(sc.name, sc.group, Status.OK) for sc in scenarios}
    runnable: list[Scenario] = []
    try:
        for sc in scenarios:
            env = base_env
            if sc.needs_db:
                env = db_envs.setdefault(sc.database, dict(base_env))
                present = all(find_spec(m) is not None for m in sc.requires)
                made = "DATABASE_URL" in env or sc.database in db_errors
                if present and not made:
                    try:
                        dropped.callback(make_database(env, sc.database))
                    except (ScenarioError, OSError, subprocess.SubprocessError) as exc:
                        db_errors[sc.database] = f"database setup failed: {exc}"
                if sc.database in db_errors:
                    results[sc.name].status = Status.FAILED
                    results[sc.name].detail = db_errors[sc.database]
                    continue
            reason = probe(sc, env)
            if reason:
                results[sc.name].status = Status.NOT_AVAILABLE
                results[sc.name].detail = reason
                log(f"-- {sc.name}: not available ({reason})")
            else:
                runnable.append(sc)
        for rnd in range(1, opts.rounds + 1):
            for sc in runnable:
                res = results[sc.name]
                if res.status is not Status.OK:
                    continue
                log(f"-- round {rnd}/{opts.rounds}: {sc.name} ({sc.server}, GET {sc.path})")
                try:
                    numbers = measure(sc, db_envs[sc.database] if sc.needs_db else base_env, opts)
                except (ScenarioError, OSError, subprocess.SubprocessError) as exc:
                    res.status, res.detail = Status.FAILED, str(exc)
                    log(f"   FAILED: {exc}")
                    continue
                res.rounds.append(numbers)
                log(
                    f"   {numbers['rps']:,.0f} req/s  p50 {numbers['p50_ms']:.2f} ms"
                    f"  p99 {numbers['p99_ms']:.2f} ms"
                )
    finally:
        dropped.close()
    out = [results[sc.name] for sc in scenarios]
    for res in out:
        res.summarise()
    judge(scenarios, results)
    return out
