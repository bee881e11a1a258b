"""Reproduce issue 4 point 10's speed numbers in one run: real servers, wrk, pinned cores."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
README = BENCH_DIR / "README.md"
START_MARK = "<!-- results:start -->"
END_MARK = "<!-- results:end -->"
HOST = "127.0.0.1"
SERVER_CPU = "1"
CLIENT_CPU = "0"
CONNECTIONS = 32
STARTUP_TIMEOUT = 30.0
PACKAGES = (
    "fastapi",
    "starlette",
    "flask",
    "werkzeug",
    "a2wsgi",
    "uvicorn",
    "httptools",
    "uvloop",
    "gunicorn",
)

POINT_10 = "point 10: tiny JSON route"
REFERENCE = "reference app endpoints"


class Server(StrEnum):
    """How a scenario's app is served; both with exactly one worker process."""

    GUNICORN = "gunicorn sync"
    UVICORN = "uvicorn"


class P99(StrEnum):
    """What a scenario's p99 must satisfy against its baseline's for the target to be met."""

    ANY = "any"
    NOT_WORSE = "not worse"


@dataclass(frozen=True)
class Scenario:
    """One server + app + path to load; a target is a minimum req/s ratio against `baseline`."""

    name: str
    server: Server
    app: str
    path: str
    baseline: str | None = None
    target: float | None = None
    p99: P99 = P99.ANY
    group: str = POINT_10
    factory: bool = False
    requires: tuple[str, ...] = ()
    needs_db: bool = False


CUTOVER = ("cutover",)
REFERENCE_MODULES = ("cutover", "legacy_flask", "new_fastapi", "gateway")
REFERENCE_PATHS = ("/api/hello", "/items/1", "/api/users/1")

SCENARIOS: list[Scenario] = [
    Scenario("flask gunicorn sync", Server.GUNICORN, "bench.apps:flask_app", "/ping"),
    Scenario(
        "docs recipe (Mount + a2wsgi)",
        Server.UVICORN,
        "bench.apps:docs_recipe",
        "/ping",
        baseline="flask gunicorn sync",
    ),
    Scenario(
        "bare a2wsgi",
        Server.UVICORN,
        "bench.apps:bare_a2wsgi",
        "/ping",
        baseline="flask gunicorn sync",
    ),
    Scenario(
        "cutover WSGIBridge alone",
        Server.UVICORN,
        "bench.apps:bridge_alone",
        "/ping",
        baseline="flask gunicorn sync",
        requires=CUTOVER,
    ),
    Scenario(
        "cutover fall-through",
        Server.UVICORN,
        "bench.apps:gateway_fallthrough",
        "/ping",
        baseline="flask gunicorn sync",
        target=2.0,
        p99=P99.NOT_WORSE,
        requires=CUTOVER,
    ),
    Scenario("fastapi alone", Server.UVICORN, "bench.apps:fastapi_app", "/native-ping"),
    Scenario(
        "cutover native route",
        Server.UVICORN,
        "bench.apps:gateway_native",
        "/native-ping",
        baseline="fastapi alone",
        target=0.95,
        requires=CUTOVER,
    ),
    Scenario(
        "cutover native + access log",
        Server.UVICORN,
        "bench.apps:gateway_native_logged",
        "/native-ping",
        baseline="fastapi alone",
        requires=CUTOVER,
    ),
]
for _path in REFERENCE_PATHS:
    SCENARIOS += [
        Scenario(
            f"gunicorn GET {_path}",
            Server.GUNICORN,
            "bench.apps:reference_flask",
            _path,
            group=REFERENCE,
            factory=True,
            requires=REFERENCE_MODULES,
            needs_db=True,
        ),
        Scenario(
            f"legacy GET {_path}",
            Server.UVICORN,
            "bench.apps:reference_legacy",
            _path,
            baseline=f"gunicorn GET {_path}",
            group=REFERENCE,
            factory=True,
            requires=REFERENCE_MODULES,
            needs_db=True,
        ),
        Scenario(
            f"native GET {_path}",
            Server.UVICORN,
            "bench.apps:reference_native",
            _path,
            baseline=f"legacy GET {_path}",
            group=REFERENCE,
            factory=True,
            requires=REFERENCE_MODULES,
            needs_db=True,
        ),
    ]


class Status(StrEnum):
    """Outcome of one scenario; only OK rows carry numbers."""

    OK = "ok"
    NOT_AVAILABLE = "not available"
    FAILED = "failed"


@dataclass
class Result:
    """Measured numbers (medians over rounds) and the verdict against the scenario's target."""

    name: str
    group: str
    status: Status
    detail: str = ""
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    rss_kib: int | None = None
    requests: int | None = None
    baseline: str | None = None
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    rounds: list[dict[str, float | int | str]] = field(default_factory=list)


class ScenarioError(Exception):
    """A scenario could not be measured; the message says why."""


# ---------------------------------------------------------------- wrk output


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


# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def server_command(sc: Scenario, port: int) -> list[str]:
    """The exact command line a scenario is served with (before pinning)."""
    if sc.server is Server.GUNICORN:
        return [
            sys.executable, "-m", "gunicorn", "-w", "1", "-k", "sync",
            "-b", f"{HOST}:{port}", "--log-level", "warning",
            sc.app + ("()" if sc.factory else ""),
        ]  # fmt: skip
    return [
        sys.executable, "-m", "uvicorn", sc.app, "--host", HOST, "--port", str(port),
        "--no-proxy-headers", "--no-access-log", "--http", "httptools", "--loop", "uvloop",
        "--log-level", "warning", *(["--factory"] if sc.factory else []),
    ]  # fmt: skip


def pinned(cpu: str | None, cmd: list[str]) -> list[str]:
    return ["taskset", "-c", cpu, *cmd] if cpu is not None else cmd


def probe(sc: Scenario, env: dict[str, str]) -> str | None:
    """Why the scenario's app cannot be built, or None when it can."""
    missing = [m for m in sc.requires if find_spec(m) is None]
    if missing:
        return f"module {', '.join(missing)} not importable yet"
    module, attr = sc.app.split(":")
    code = f"import importlib; obj = getattr(importlib.import_module({module!r}), {attr!r})" + (
        "; obj()" if sc.factory else ""
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    if proc.returncode == 0:
        return None
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    return lines[-1] if lines else f"exit {proc.returncode}"


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


def tail(path: Path, lines: int = 15) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_ready(proc: subprocess.Popen[bytes], port: int, path: str, log: Path) -> None:
    """Block until the server answers `path` with 200; its log tail explains any failure."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ScenarioError(f"server exited with {proc.returncode}:\n{tail(log)}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            conn.close()
            if resp.status == 200:
                return
            last = f"GET {path} -> {resp.status} {body[:200]!r}"
            raise ScenarioError(last)
        except OSError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise ScenarioError(f"server not ready after {STARTUP_TIMEOUT:.0f}s ({last}):\n{tail(log)}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's own process group (it was started in a new session), then SIGKILL."""
    if proc.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def run_wrk(url: str, seconds: int, cpu: str | None) -> str:
    cmd = pinned(cpu, ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", url])
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if proc.returncode != 0:
        raise ScenarioError(f"wrk exited {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


def measure(sc: Scenario, env: dict[str, str], opts: Options) -> dict[str, float | int | str]:
    """One measured run of one scenario on a fresh server."""
    port = free_port()
    with tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False) as f:
        log = Path(f.name)
    try:
        with log.open("wb") as out:
            proc = subprocess.Popen(
                pinned(opts.server_cpu, server_command(sc, port)),
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_ready(proc, port, sc.path, log)
            url = f"http://{HOST}:{port}{sc.path}"
            if opts.warmup > 0:
                run_wrk(url, opts.warmup, opts.client_cpu)
            numbers = parse_wrk(run_wrk(url, opts.duration, opts.client_cpu))
            numbers["rss_kib"] = max_rss_kib(proc.pid)
            if proc.poll() is not None:
                raise ScenarioError(f"server died during the run:\n{tail(log)}")
        finally:
            stop(proc)
    finally:
        log.unlink(missing_ok=True)
    if numbers["socket_errors"] or numbers["non_2xx"]:
        sock = numbers["socket_detail"] or "no socket errors"
        raise ScenarioError(
            f"{numbers['non_2xx']} non-2xx responses; {sock}"
            f" ({numbers['rps']:,.0f} req/s, p99 {numbers['p99_ms']:.2f} ms)"
        )
    return numbers


# ---------------------------------------------------------------- reference database


def make_database(env: dict[str, str]) -> Path:
    """A migrated, seeded SQLite database in a temp dir; DATABASE_URL is set in `env`."""
    tmp = Path(tempfile.mkdtemp(prefix="cutover-bench-db-"))
    env["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.db'}"
    bindir = Path(sys.executable).parent
    migrate = [str(bindir / "alembic"), "upgrade", "head"]
    for cmd in (migrate, [sys.executable, "-m", "shared_models.seed"]):
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise ScenarioError(f"{' '.join(cmd)} failed:\n{proc.stderr.strip()}")
    return tmp


# ---------------------------------------------------------------- running and judging


@dataclass(frozen=True)
class Options:
    """Run settings; pinning CPUs are None where the machine has fewer than two."""

    duration: int
    warmup: int
    rounds: int
    server_cpu: str | None
    client_cpu: str | None


def select(names: list[str], groups: list[str]) -> list[Scenario]:
    """Scenarios whose name contains one of `names` (or in `groups`), plus their baselines."""
    chosen = [
        sc
        for sc in SCENARIOS
        if (not names or any(n.lower() in sc.name.lower() for n in names))
        and (not groups or any(g.lower() in sc.group.lower() for g in groups))
    ]
    wanted = {sc.name for sc in chosen} | {sc.baseline for sc in chosen if sc.baseline}
    return [sc for sc in SCENARIOS if sc.name in wanted]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_all(scenarios: list[Scenario], opts: Options) -> list[Result]:
    """Every scenario `rounds` times, interleaved so that each round is a side-by-side pass."""
    base_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    base_env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    db_env = dict(base_env)
    db_dir: Path | None = None
    db_error: str | None = None
    results = {sc.name: Result(sc.name, sc.group, Status.OK) for sc in scenarios}
    runnable: list[Scenario] = []
    try:
        for sc in scenarios:
            env = base_env
            if sc.needs_db:
                env = db_env
                present = all(find_spec(m) is not None for m in sc.requires)
                if present and db_dir is None and db_error is None:
                    try:
                        db_dir = make_database(db_env)
                    except (ScenarioError, OSError, subprocess.SubprocessError) as exc:
                        db_error = f"database setup failed: {exc}"
                if db_error:
                    results[sc.name].status, results[sc.name].detail = Status.FAILED, db_error
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
                    numbers = measure(sc, db_env if sc.needs_db else base_env, opts)
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
        if db_dir is not None:
            shutil.rmtree(db_dir, ignore_errors=True)
    out = [results[sc.name] for sc in scenarios]
    for res in out:
        if res.status is Status.OK and res.rounds:
            res.rps = statistics.median(float(r["rps"]) for r in res.rounds)
            res.p50_ms = statistics.median(float(r["p50_ms"]) for r in res.rounds)
            res.p99_ms = statistics.median(float(r["p99_ms"]) for r in res.rounds)
            res.rss_kib = max(int(r["rss_kib"]) for r in res.rounds)
            res.requests = sum(int(r["requests"]) for r in res.rounds)
    judge(scenarios, results)
    return out


def target_text(sc: Scenario) -> str:
    parts = [f">= {sc.target:.2f}x"] if sc.target is not None else []
    if sc.p99 is P99.NOT_WORSE:
        parts.append("p99 <= baseline")
    return ", ".join(parts)


def judge(scenarios: list[Scenario], results: dict[str, Result]) -> None:
    """Ratio against the baseline measured in the same run, and whether the target is met."""
    for sc in scenarios:
        res = results[sc.name]
        res.baseline, res.target = sc.baseline, target_text(sc)
        base = results.get(sc.baseline) if sc.baseline else None
        if base is None or res.rps is None or base.rps is None:
            continue
        res.ratio = res.rps / base.rps
        if sc.target is None and sc.p99 is P99.ANY:
            continue
        ok = sc.target is None or res.ratio >= sc.target
        if sc.p99 is P99.NOT_WORSE:
            ok = ok and (res.p99_ms or 0.0) <= (base.p99_ms or 0.0)
        res.met = ok


# ---------------------------------------------------------------- reporting


def machine_info() -> dict[str, str]:
    """What the numbers depend on, recorded beside them."""
    cpu = "unknown"
    try:
        m = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = m[1].strip() if m else cpu
    except OSError:
        pass
    info = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }
    for pkg in PACKAGES:
        try:
            info[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            info[pkg] = "not installed"
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    info["wrk"] = (wrk.stdout or wrk.stderr).split("[")[0].replace("wrk", "").strip() or "?"
    return info


def fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "—" if value is None else f"{value:{spec}}{suffix}"


def met_text(res: Result) -> str:
    if res.status is not Status.OK:
        return res.status.value
    return {True: "**yes**", False: "**NO**", None: "—"}[res.met]


def table(results: list[Result]) -> list[str]:
    rows = [
        "| scenario | req/s | p50 | p99 | max RSS | ratio vs baseline | target | met |",
        "|---|---:|---:|---:|---:|---|---|---|",
    ]
    for r in results:
        ratio = f"{r.ratio:.2f}x {r.baseline}" if r.ratio is not None else "—"
        rows.append(
            f"| {r.name} | {fmt(r.rps, ',.0f')} | {fmt(r.p50_ms, '.2f', ' ms')}"
            f" | {fmt(r.p99_ms, '.2f', ' ms')}"
            f" | {fmt(r.rss_kib / 1024 if r.rss_kib else None, '.0f', ' MiB')}"
            f" | {ratio} | {r.target or '—'} | {met_text(r)} |"
        )
    return rows


def render(results: list[Result], info: dict[str, str], opts: Options) -> str:
    """The generated results section of bench/README.md."""
    pin = (
        f"server on CPU {opts.server_cpu}, wrk on CPU {opts.client_cpu}"
        if opts.server_cpu
        else "NOT pinned (fewer than 2 CPUs)"
    )
    lines = [
        f"Run of {info['date']}: wrk -t1 -c{CONNECTIONS} -d{opts.duration}s after a"
        f" {opts.warmup}s warm-up, {opts.rounds} round(s) (medians), {pin}.",
        "",
        f"Machine: {info['nproc']} CPUs, {info['cpu']}, Linux {info['kernel']};"
        f" load average {info['load_before']} before, {info['load_after']} after"
        " (the run itself adds about 2);"
        f" Python {info['python']}, wrk {info['wrk']}; "
        + ", ".join(f"{p} {info[p]}" for p in PACKAGES)
        + ".",
        "",
    ]
    for group in dict.fromkeys(r.group for r in results):
        members = [r for r in results if r.group == group]
        lines += [f"### {group}", "", *table(members), ""]
        notes = [r for r in members if r.status is not Status.OK]
        lines += [f"- {r.name}: {r.status.value}: {r.detail.splitlines()[0]}" for r in notes]
        if notes:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def update_readme(section: str) -> None:
    text = README.read_text() if README.exists() else f"# Benchmarks\n\n{START_MARK}\n{END_MARK}\n"
    if START_MARK not in text or END_MARK not in text:
        text = text.rstrip() + f"\n\n## Results\n\n{START_MARK}\n{END_MARK}\n"
    head, rest = text.split(START_MARK, 1)
    _, tail_ = rest.split(END_MARK, 1)
    README.write_text(f"{head}{START_MARK}\n{section}{END_MARK}{tail_}")


def print_table(results: list[Result]) -> None:
    header = f"{'scenario':<30} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'RSS MiB':>8}  ratio  met"
    print(header)
    print("-" * len(header))
    for r in results:
        ratio = f"{r.ratio:5.2f}x" if r.ratio is not None else "    — "
        rss = r.rss_kib / 1024 if r.rss_kib else None
        met = met_text(r).replace("*", "")
        if r.status is not Status.OK:
            met += f" ({r.detail.splitlines()[0][:70]})"
        print(
            f"{r.name:<30} {fmt(r.rps, ',.0f'):>9} {fmt(r.p50_ms, '.2f'):>8}"
            f" {fmt(r.p99_ms, '.2f'):>8} {fmt(rss, '.0f'):>8}  {ratio}  {met}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-k", "--only", action="append", default=[], help="name substring")
    parser.add_argument("--group", action="append", default=[], help="group substring")
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", 10)))
    parser.add_argument("--warmup", type=int, default=int(os.environ.get("BENCH_WARMUP", 2)))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 1)))
    parser.add_argument("--no-readme", action="store_true", help="leave bench/README.md alone")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is not met")
    parser.add_argument("--list", action="store_true", help="list scenarios and exit")
    args = parser.parse_args(argv)

    scenarios = select(args.only, args.group)
    if args.list or not scenarios:
        for sc in SCENARIOS:
            print(f"[{sc.group}] {sc.name}: {sc.server} {sc.app} GET {sc.path}")
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

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    payload = {
        "machine": info,
        "options": dataclasses.asdict(opts),
        "results": [dataclasses.asdict(r) for r in results],
    }
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    for path in (RESULTS_DIR / f"bench-{stamp}.json", RESULTS_DIR / "latest.json"):
        path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nresults: {RESULTS_DIR / f'bench-{stamp}.json'}")
    if not args.no_readme:
        update_readme(render(results, info, opts))
        print(f"updated: {README}")

    failed = any(r.status is Status.FAILED for r in results)
    missed = any(r.met is False for r in results)
    return 1 if failed or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
