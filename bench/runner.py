"""How one scenario is measured: its server(s) started pinned to a CPU through the test
fixtures (tests/servers.py; nginx by bench/nginx.py), wrk run against it and its output parsed,
the servers' peak RSS read; and every selected scenario run round after round."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from bench.nginx import serve_nginx_split
from bench.scenarios import (
    SHADOW_API,
    SHADOW_PREFIX,
    SHADOW_SETTLE,
    SHADOW_TOKEN,
    Database,
    Result,
    Scenario,
    ScenarioError,
    Server,
    Status,
    judge,
    make_database,
    probe,
    seed_reads,
)
from tests.postgres import private_postgres_database
from tests.servers import Launch, serve_gunicorn, serve_uvicorn

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
SERVER_CPU = "1"
CLIENT_CPU = "0"
CONNECTIONS = 32
STARTUP_TIMEOUT = 30.0
WRK_TIMEOUT = "10s"  # a request slower than this is a socket error (wrk's default is 2 s)
# The PostgreSQL server the PostgreSQL scenarios make a private database on.
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL",
    os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)


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


def wrk_command(
    url: str,
    seconds: int,
    cpu: str | None,
    connections: int = CONNECTIONS,
    script: str | None = None,
    headers: tuple[str, ...] = (),
) -> list[str]:
    """One wrk thread loading `url` for `seconds` (with bench/<script> and `headers`, each
    "Name: value", when given)."""
    cmd = [*pinned(cpu), "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    cmd += ["--timeout", WRK_TIMEOUT]
    cmd += [arg for header in headers for arg in ("-H", header)]
    if script:
        cmd += ["-s", str(ROOT / "bench" / script)]
    return [*cmd, url]


def run_wrk(url: str, seconds: int, cpu: str | None, **options: Any) -> str:
    """wrk's `--latency` output for `seconds` of load on `url` from one thread."""
    return run_wrk_together([url], seconds, cpu, **options)[0]


def run_wrk_together(
    urls: list[str], seconds: int, cpu: str | None, connections: int = CONNECTIONS, **options: Any
) -> list[str]:
    """One wrk per url at the same time, the connections shared out; each one's output."""
    share = max(1, connections // len(urls))
    procs = [
        subprocess.Popen(
            wrk_command(url, seconds, cpu, share, **options),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for url in urls
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=seconds + 60)
        if proc.returncode != 0:
            raise ScenarioError(f"wrk exited {proc.returncode}: {err.strip()}")
        outputs.append(out)
    return outputs


def merge_wrk(runs: list[dict[str, float | int | str]]) -> dict[str, float | int | str]:
    """Several wrk runs of one mixed load as one: req/s, requests and errors summed, p50 the
    request-weighted mean of theirs, p99 the worst."""
    if len(runs) == 1:
        return runs[0]
    total = sum(int(r["requests"]) for r in runs)
    return {
        "rps": sum(float(r["rps"]) for r in runs),
        "requests": total,
        "p50_ms": sum(float(r["p50_ms"]) * int(r["requests"]) for r in runs) / max(total, 1),
        "p99_ms": max(float(r["p99_ms"]) for r in runs),
        "socket_errors": sum(int(r["socket_errors"]) for r in runs),
        "socket_detail": "; ".join(str(r["socket_detail"]) for r in runs if r["socket_detail"]),
        "non_2xx": sum(int(r["non_2xx"]) for r in runs),
    }


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


def peaks_kib(pids: list[int]) -> list[int]:
    """VmHWM (peak RSS) of every process of the servers started as `pids`."""
    peaks = []
    for root in pids:
        for p in process_tree(root):
            try:
                status = Path(f"/proc/{p}/status").read_text()
            except OSError:
                continue
            m = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
            if m:
                peaks.append(int(m[1]))
    return peaks


def max_rss_kib(pid: int) -> int:
    """Largest VmHWM among the server's processes, i.e. the peak RSS of the serving process."""
    return max(peaks_kib([pid]), default=0)


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


@dataclass
class Deployment:
    """The running server(s) of a scenario: where each path is loaded, which processes are
    measured, the front port (the admin API's)."""

    port: int
    pids: list[int] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)  # path -> base URL

    def url(self, path: str) -> str:
        return f"{self.urls[path]}{path}"


@contextmanager
def serve(sc: Scenario, env: dict[str, str], opts: Options, log_file: Path) -> Iterator[Deployment]:
    """The scenario's server(s), started by the test fixtures on the server CPU with `env` as
    their whole environment and their output in `log_file`, answering 200 on its path(s)."""
    cpu = sc.server_cpu if sc.server_cpu and opts.server_cpu else opts.server_cpu
    launch = Launch(prefix=pinned(cpu), log=log_file, inherit_env=False)
    env = {**env, **dict(sc.env)}
    paths = [sc.path, *([sc.mixed_path] if sc.mixed_path else [])]
    with contextlib.ExitStack() as stack:
        try:
            deployment = _start(sc, env, launch, paths, stack)
        except RuntimeError as exc:  # exited or never accepted
            raise ScenarioError(f"{exc}:\n{tail(log_file)}") from exc
        for path in paths:
            check_answers(deployment.url(path), path, log_file, sc.headers)
        yield deployment
        if not all(alive(pid) for pid in deployment.pids):
            raise ScenarioError(f"server died during the run:\n{tail(log_file)}")


def _app_ref(app: str, factory: bool, server: Server) -> list[str]:
    if server is Server.GUNICORN:
        return [app + ("()" if factory else "")]
    return [app, *(["--factory"] if factory else [])]


def _start(
    sc: Scenario, env: dict[str, str], launch: Launch, paths: list[str], stack: contextlib.ExitStack
) -> Deployment:
    """Start the scenario's servers on `stack`; where each of `paths` is served."""
    if sc.server in (Server.GUNICORN, Server.UVICORN):
        if sc.server is Server.GUNICORN:
            fixture = serve_gunicorn(
                _app_ref(sc.app, sc.factory, sc.server)[0], env=env, launch=launch
            )
        else:
            app, *args = _app_ref(sc.app, sc.factory, sc.server)
            fixture = serve_uvicorn(app, *args, env=env, workers=sc.workers, launch=launch)
        server = stack.enter_context(fixture)
        return Deployment(server.port, [server.pid], dict.fromkeys(paths, server.url))
    assert sc.new_app is not None, f"{sc.name}: {sc.server} needs new_app"
    legacy = stack.enter_context(
        serve_gunicorn(_app_ref(sc.app, sc.factory, Server.GUNICORN)[0], env=env, launch=launch)
    )
    new_app, *args = _app_ref(sc.new_app, sc.factory, Server.UVICORN)
    new = stack.enter_context(serve_uvicorn(new_app, *args, env=env, launch=launch))
    if sc.server is Server.PAIR:
        urls = {path: new.url if path in sc.new_paths else legacy.url for path in paths}
        return Deployment(new.port, [legacy.pid, new.pid], urls)
    front = stack.enter_context(
        serve_nginx_split(legacy.port, new.port, sc.new_paths, launch.prefix, launch.log)
    )
    return Deployment(front.port, [front.pid, legacy.pid, new.pid], dict.fromkeys(paths, front.url))


def check_answers(url: str, path: str, log_file: Path, headers: tuple[str, ...] = ()) -> None:
    """The server accepts; make sure it answers `url` with 200 (sent `headers`, as wrk will)
    before loading it (the request waits while gunicorn's worker is still loading the app)."""
    port = int(url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
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
    """One measured run of one scenario on fresh servers."""
    with tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False) as f:
        log_file = Path(f.name)
    load: dict[str, Any] = {
        "connections": sc.connections or CONNECTIONS,
        "script": sc.script,
        "headers": sc.headers,
    }
    try:
        with serve(sc, env, opts, log_file) as deployment:
            urls = [deployment.url(path) for path in deployment.urls]
            if opts.warmup > 0:
                run_wrk_together(urls, opts.warmup, opts.client_cpu, **load)
            route = sc.shadow_route
            before = shadow_counts(deployment.port, route) if route else {}
            outputs = run_wrk_together(urls, opts.duration, opts.client_cpu, **load)
            numbers = merge_wrk([parse_wrk(out) for out in outputs])
            peaks = peaks_kib(deployment.pids)
            numbers["rss_kib"] = max(peaks, default=0)
            numbers["rss_total_kib"] = sum(peaks)
            if route:  # what happened to the measured run's replays (warm-up left out)
                after = shadow_counts(deployment.port, route)
                for name, value in after.items():
                    numbers[SHADOW_PREFIX + name] = value - before.get(name, 0)
    finally:
        log_file.unlink(missing_ok=True)
    if not numbers["requests"]:
        raise ScenarioError(f"no request completed in {opts.duration} s (a busy machine?)")
    if numbers["socket_errors"] or numbers["non_2xx"]:
        sock = numbers["socket_detail"] or "no socket errors"
        raise ScenarioError(
            f"{numbers['non_2xx']} non-2xx responses; {sock}"
            f" ({numbers['rps']:,.0f} req/s, p99 {numbers['p99_ms']:.2f} ms)"
        )
    return numbers


def _databases(
    scenarios: list[Scenario], base_env: dict[str, str], stack: contextlib.ExitStack
) -> tuple[dict[Database | None, dict[str, str]], dict[Database, str]]:
    """The environment of each database the scenarios need (DATABASE_URL of a migrated, seeded
    database made for this run, removed on `stack`), and why a database could not be made."""
    envs: dict[Database | None, dict[str, str]] = {None: base_env}
    errors: dict[Database, str] = {}
    for kind in dict.fromkeys(sc.database for sc in scenarios if sc.database):
        if not any(
            all(find_spec(m) for m in sc.requires) for sc in scenarios if sc.database == kind
        ):
            continue
        env = dict(base_env)
        try:
            if kind is Database.SQLITE:
                tmp = Path(tempfile.mkdtemp(prefix="cutover-bench-db-"))
                stack.callback(shutil.rmtree, tmp, ignore_errors=True)
                env["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.db'}"
            else:
                url = stack.enter_context(private_postgres_database(POSTGRES_URL, "cutover_bench"))
                env["DATABASE_URL"] = url
            make_database(env)
            seed_reads(env["DATABASE_URL"])
        except Exception as exc:  # any failure to make it: its scenarios fail, saying why
            errors[kind] = f"{kind} database setup failed: {str(exc).splitlines()[0]}"
            log(f"-- {errors[kind]}")
            continue
        envs[kind] = env
    return envs, errors


def run_all(scenarios: list[Scenario], opts: Options) -> list[Result]:
    """Every scenario `rounds` times, interleaved so that each round is a side-by-side pass."""
    base_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    base_env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    results = {sc.name: Result(sc.name, sc.group, Status.OK) for sc in scenarios}
    runnable: list[Scenario] = []
    with contextlib.ExitStack() as stack:
        envs, db_errors = _databases(scenarios, base_env, stack)
        reasons: dict[str, str] = {}
        for kind, env in envs.items():  # the apps of each database's scenarios, built once
            reasons |= probe([sc for sc in scenarios if sc.database == kind], env)
        for sc in scenarios:
            if sc.database in db_errors:
                results[sc.name].status = Status.FAILED
                results[sc.name].detail = db_errors[sc.database]
            elif sc.name in reasons:
                results[sc.name].status = Status.NOT_AVAILABLE
                results[sc.name].detail = reasons[sc.name]
                log(f"-- {sc.name}: not available ({reasons[sc.name]})")
            else:
                runnable.append(sc)
        for rnd in range(1, opts.rounds + 1):
            for sc in runnable:
                res = results[sc.name]
                if res.status is not Status.OK:
                    continue
                log(f"-- round {rnd}/{opts.rounds}: {sc.name} ({sc.server}, GET {sc.path})")
                try:
                    numbers = measure(sc, envs[sc.database], opts)
                except (ScenarioError, OSError, subprocess.SubprocessError) as exc:
                    res.status, res.detail = Status.FAILED, str(exc)
                    log(f"   FAILED: {exc}")
                    continue
                res.rounds.append(numbers)
                log(
                    f"   {numbers['rps']:,.0f} req/s  p50 {numbers['p50_ms']:.2f} ms"
                    f"  p99 {numbers['p99_ms']:.2f} ms  RSS {int(numbers['rss_kib']) // 1024} MiB"
                )
    out = [results[sc.name] for sc in scenarios]
    for res in out:
        res.summarise()
    judge(scenarios, results)
    return out
