"""What the bench measures: each scenario, the baseline and target it is judged against, what
it needs before it can run (its app importable, the reference app's database) and how its
result is judged (issue 4 point 10's numbers, the reference app's endpoints)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from enum import StrEnum
from importlib.util import find_spec
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

POINT_10 = "point 10: tiny JSON route"
REFERENCE = "reference app endpoints"
SHADOW = "shadow traffic: tiny JSON route"
SHADOW_LARGE = "shadow traffic: 1 MB JSON route"
SHADOW_GROUPS = (SHADOW, SHADOW_LARGE)
# The admin API token of bench/apps.py's shadow gateways; the runner reads their counters.
SHADOW_TOKEN = "bench-shadow-token"
SHADOW_API = "/_cutover/api/diffs"  # every process's counters, as published to the store
SHADOW_SETTLE = 1.5  # seconds for queued replays to finish and the counters to be published
SHADOW_PREFIX = "shadow_"  # a round's shadow counters, e.g. `shadow_dropped`


class Server(StrEnum):
    """How a scenario's app is served: one worker process unless the scenario says otherwise;
    the strangler split (nginx in front of gunicorn and uvicorn) and the pair without nginx
    (each path loaded on its own server) are three servers, all measured together."""

    GUNICORN = "gunicorn sync"
    UVICORN = "uvicorn"
    NGINX_SPLIT = "nginx -> gunicorn + uvicorn"
    PAIR = "gunicorn + uvicorn"


class Database(StrEnum):
    """The reference app's database a scenario runs on (migrated and seeded for the run)."""

    SQLITE = "SQLite"
    POSTGRES = "PostgreSQL"


class Rss(StrEnum):
    """Which peak RSS a scenario's memory target compares: the largest serving process's, or
    the whole deployment's (every process of every server, summed)."""

    PROCESS = "peak RSS"
    TOTAL = "total RSS"


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
    database: Database | None = None
    p50_max: float | None = None  # the p50 may be at most this ratio of the baseline's
    shadow_route: str | None = None  # the route whose shadow counters a run reports
    rss: Rss = Rss.PROCESS  # the RSS the row's memory ratio compares
    rss_max: float | None = None  # that RSS may be at most this ratio of the baseline's
    # Loaded at the same time as `path`, each with half the connections (mixed load).
    mixed_path: str | None = None
    # NGINX_SPLIT and PAIR: the FastAPI app (uvicorn) and the paths it serves; `app` is the
    # Flask one (gunicorn) and serves the rest.
    new_app: str | None = None
    new_paths: tuple[str, ...] = ()
    workers: int = 1
    server_cpu: str | None = None  # pin the server(s) here instead of the bench's server CPU
    connections: int | None = None  # wrk's -c, else runner.CONNECTIONS
    script: str | None = None  # a wrk Lua script in bench/ (e.g. a POST body)
    env: tuple[tuple[str, str], ...] = ()  # the server's extra environment
    setting: str | None = None  # a GatewaySettings field the scenario needs (not yet: n/a)
    quick: bool = False  # part of `make bench-quick`
    headers: tuple[str, ...] = ()  # request headers ("Name: value"), e.g. a bearer token


CUTOVER = ("cutover",)
REFERENCE_MODULES = ("cutover", "legacy_flask", "new_fastapi", "gateway")
# Issue 13: a ported DB read serves >= 1.5x what the same read does through the legacy side,
# with a p99 no worse, on SQLite (the reference group) and on PostgreSQL. Point 2's four ported
# reads: two single rows, the 50-row item list and the authenticated notes sync, which need the
# items and the token `seed_reads` adds to the seeded database.
DB_READ_PATHS = ("/items/1", "/api/users/1", "/items?skip=0&limit=50", "/api/notes?since=0")
DB_READ_TARGET = 1.5
BENCH_ITEMS = 50
BENCH_TOKEN = "bench-reads-token"  # alice's, valid for a day from the seeding
READ_HEADERS = {"/api/notes?since=0": (f"Authorization: Bearer {BENCH_TOKEN}",)}
REFERENCE_PATHS = ("/api/hello", *DB_READ_PATHS)

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
        quick=True,
    ),
    Scenario(
        "cutover fall-through, legacy out of process",
        Server.UVICORN,
        "bench.cpu_heavy:fallthrough_out_of_process",
        "/ping",
        baseline="cutover fall-through",
        factory=True,
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
        quick=True,
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
ROUTING = "routing: the last of 50 native routes behind 200 legacy ones"
SCENARIOS += [
    Scenario(
        "fastapi alone, 50 routes",
        Server.UVICORN,
        "bench.apps:fastapi_many",
        "/native-ping",
        group=ROUTING,
    ),
    Scenario(
        "cutover 200 + 50, last native route",
        Server.UVICORN,
        "bench.apps:gateway_many",
        "/native-ping",
        baseline="cutover native route",
        target=0.95,
        group=ROUTING,
        requires=CUTOVER,
    ),
    Scenario(
        "cutover 200 + 50 vs fastapi alone",
        Server.UVICORN,
        "bench.apps:gateway_many",
        "/native-ping",
        baseline="fastapi alone, 50 routes",
        target=1.0,
        group=ROUTING,
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
            database=Database.SQLITE,
            headers=READ_HEADERS.get(_path, ()),
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
            database=Database.SQLITE,
            headers=READ_HEADERS.get(_path, ()),
        ),
        Scenario(
            f"native GET {_path}",
            Server.UVICORN,
            "bench.apps:reference_native",
            _path,
            baseline=f"legacy GET {_path}",
            target=DB_READ_TARGET if _path in DB_READ_PATHS else None,
            p99=P99.NOT_WORSE if _path in DB_READ_PATHS else P99.ANY,
            group=REFERENCE,
            factory=True,
            requires=REFERENCE_MODULES,
            database=Database.SQLITE,
            headers=READ_HEADERS.get(_path, ()),
        ),
    ]


DB_PG = "DB reads on PostgreSQL: ported vs legacy"
for _path in DB_READ_PATHS:
    SCENARIOS += [
        Scenario(
            f"legacy GET {_path} (PostgreSQL)",
            Server.UVICORN,
            "bench.apps:reference_legacy",
            _path,
            group=DB_PG,
            factory=True,
            requires=REFERENCE_MODULES,
            database=Database.POSTGRES,
            headers=READ_HEADERS.get(_path, ()),
        ),
        Scenario(
            f"native GET {_path} (PostgreSQL)",
            Server.UVICORN,
            "bench.apps:reference_native",
            _path,
            baseline=f"legacy GET {_path} (PostgreSQL)",
            target=DB_READ_TARGET,
            p99=P99.NOT_WORSE,
            group=DB_PG,
            factory=True,
            requires=REFERENCE_MODULES,
            database=Database.POSTGRES,
            headers=READ_HEADERS.get(_path, ()),
            quick=_path == DB_READ_PATHS[0],
        ),
    ]

# CPU-heavy legacy: a Flask view holding the interpreter for ~2 ms. In process its threads
# share the gateway's one interpreter; out of process (CUTOVER_LEGACY_PROCESSES=N) it runs in N
# legacy worker processes loading CUTOVER_LEGACY_APP. The out-of-process row is "not available"
# on a cutover whose GatewaySettings has no `legacy_processes`.
CPU_HEAVY = "cpu-heavy legacy"
LEGACY_PROCESSES = "2"
SCENARIOS += [
    Scenario(
        "gunicorn sync, cpu-heavy view",
        Server.GUNICORN,
        "bench.apps:cpu_flask",
        "/cpu",
        group=CPU_HEAVY,
        factory=True,
    ),
    Scenario(
        "cutover fall-through, legacy in process",
        Server.UVICORN,
        "bench.apps:cpu_gateway",
        "/cpu",
        baseline="gunicorn sync, cpu-heavy view",
        target=0.95,
        group=CPU_HEAVY,
        factory=True,
        requires=CUTOVER,
    ),
    Scenario(
        f"cutover fall-through, legacy in {LEGACY_PROCESSES} processes",
        Server.UVICORN,
        "bench.apps:cpu_gateway",
        "/cpu",
        baseline="gunicorn sync, cpu-heavy view",
        target=0.95,
        group=CPU_HEAVY,
        factory=True,
        requires=CUTOVER,
        env=(
            ("CUTOVER_LEGACY_PROCESSES", LEGACY_PROCESSES),
            ("CUTOVER_LEGACY_APP", "bench.apps:cpu_flask()"),  # what the legacy workers load
        ),
        setting="legacy_processes",
    ),
]

# 10 MB streamed both ways: a Flask generator answering 10 MB in 64 KiB chunks, and a view
# reading a 10 MB body in 64 KiB chunks; 4 connections. The serving process's peak RSS shows
# whether anything buffers a whole body (4 x 10 MB would be 40 MB over the idle process).
STREAMING = "10 MB streaming: download and upload"
STREAM_TARGET = 1.0
STREAM_RSS = 1.5
STREAM_CONNECTIONS = 4
for _label, _path, _script in (
    ("download", "/download", None),
    ("upload", "/upload", "upload.lua"),
):
    SCENARIOS += [
        Scenario(
            f"gunicorn sync, 10 MB {_label}",
            Server.GUNICORN,
            "bench.apps:streaming_flask",
            _path,
            group=STREAMING,
            factory=True,
            connections=STREAM_CONNECTIONS,
            script=_script,
        ),
        Scenario(
            f"cutover fall-through, 10 MB {_label}",
            Server.UVICORN,
            "bench.apps:streaming_gateway",
            _path,
            baseline=f"gunicorn sync, 10 MB {_label}",
            target=STREAM_TARGET,
            rss_max=STREAM_RSS,
            group=STREAMING,
            factory=True,
            requires=CUTOVER,
            connections=STREAM_CONNECTIONS,
            script=_script,
            quick=_label == "download",
        ),
    ]

# The strangler fig done with a reverse proxy: nginx (Debian's, one worker) sends the ported
# path to uvicorn + FastAPI and the rest to gunicorn + Flask, all three on the server CPU;
# against the gateway alone (one process) on the same CPU. Memory: every process, summed.
NGINX = "nginx strangler split vs the gateway"
NGINX_APPS = {"app": "bench.apps:flask_app", "new_app": "bench.apps:fastapi_app"}
for _label, _path, _gateway, _app in (
    ("legacy route", "/ping", "cutover fall-through", "bench.apps:gateway_fallthrough"),
    ("native route", "/native-ping", "cutover native route", "bench.apps:gateway_native"),
):
    SCENARIOS += [
        Scenario(
            f"nginx split, {_label}",
            Server.NGINX_SPLIT,
            NGINX_APPS["app"],
            _path,
            new_app=NGINX_APPS["new_app"],
            new_paths=("/native-ping",),
            group=NGINX,
        ),
        Scenario(
            f"{_gateway} vs nginx split",
            Server.UVICORN,
            _app,
            _path,
            baseline=f"nginx split, {_label}",
            target=1.0,
            rss=Rss.TOTAL,
            rss_max=1.0,
            group=NGINX,
            requires=CUTOVER,
            quick=_label == "legacy route",
        ),
    ]

# One process serving both sides against the two-server deployment (Flask on gunicorn, FastAPI
# on uvicorn), after the same mixed load: a legacy DB read and a ported DB read at once, half
# the connections each, on the reference app (SQLite).
MIXED_RSS = "memory after mixed load: gateway vs gunicorn + uvicorn"
MIXED_LEGACY, MIXED_NEW = "/api/users/1", "/items/1"
SCENARIOS += [
    Scenario(
        "gunicorn + uvicorn, mixed load",
        Server.PAIR,
        "bench.apps:reference_flask",
        MIXED_LEGACY,
        mixed_path=MIXED_NEW,
        new_app="bench.apps:reference_fastapi",
        new_paths=(MIXED_NEW,),
        group=MIXED_RSS,
        factory=True,
        requires=REFERENCE_MODULES,
        database=Database.SQLITE,
    ),
    Scenario(
        "gateway, mixed load",
        Server.UVICORN,
        "bench.apps:reference_mixed",
        MIXED_LEGACY,
        mixed_path=MIXED_NEW,
        baseline="gunicorn + uvicorn, mixed load",
        rss=Rss.TOTAL,
        rss_max=1.0,
        group=MIXED_RSS,
        factory=True,
        requires=REFERENCE_MODULES,
        database=Database.SQLITE,
    ),
]

# A second worker process (uvicorn --workers 2) against one, the server on both CPUs, as wrk
# is; the one-worker rows are point 10's (server on one CPU).
WORKERS = "2 workers vs 1"
BOTH_CPUS = "0,1"
WORKERS_TARGET = 1.3
for _gateway, _app, _path in (
    ("cutover fall-through", "bench.apps:gateway_fallthrough", "/ping"),
    ("cutover native route", "bench.apps:gateway_native", "/native-ping"),
):
    SCENARIOS.append(
        Scenario(
            f"{_gateway}, 2 workers",
            Server.UVICORN,
            _app,
            _path,
            baseline=_gateway,
            target=WORKERS_TARGET,
            rss=Rss.TOTAL,
            group=WORKERS,
            requires=CUTOVER,
            workers=2,
            server_cpu=BOTH_CPUS,
        )
    )

# What the control plane costs a request: the bench's gateways have it on (modes followed from
# a state store, traffic published); the same gateways with modes from code only, run next.
CONTROL_PLANE = "control plane: modes on vs off"
CONTROL_TARGET = 0.95
for _gateway, _app, _path in (
    ("cutover fall-through", "bench.apps:gateway_fallthrough", "/ping"),
    ("cutover native route", "bench.apps:gateway_native", "/native-ping"),
):
    SCENARIOS += [
        Scenario(
            f"{_gateway}, control plane off",
            Server.UVICORN,
            f"{_app}_static",
            _path,
            group=CONTROL_PLANE,
            factory=True,
            requires=CUTOVER,
        ),
        Scenario(
            f"{_gateway}, control plane on",
            Server.UVICORN,
            _app,
            _path,
            baseline=f"{_gateway}, control plane off",
            target=CONTROL_TARGET,
            group=CONTROL_PLANE,
            requires=CUTOVER,
            quick=_gateway == "cutover fall-through",
        ),
    ]


SHADOW_TARGET = 0.95  # issue 11: the client sees shadow at most 5 % worse than legacy
SHADOW_P50 = 1.05
_SHADOWED = [
    # (name, app factory, judged against the target): each against the routes in `legacy`
    ("shadow, matching candidate", "shadow_matching", True),
    ("shadow, 10 % sampled", "shadow_sampled", False),
    ("shadow, 5 % budget", "shadow_budgeted", True),
    ("shadow, candidate sleeps 2 s", "shadow_slow", True),
    ("shadow, candidate raises", "shadow_failing", True),
]
for _group, _path, _label, _shadowed in (
    (SHADOW, "/shadowed", "tiny", _SHADOWED),
    (SHADOW_LARGE, "/shadowed-large", "1 MB", _SHADOWED[:2]),
):
    _legacy = f"legacy route ({_label})"
    SCENARIOS.append(
        Scenario(
            _legacy,
            Server.UVICORN,
            "bench.apps:shadow_legacy",
            _path,
            group=_group,
            factory=True,
            requires=CUTOVER,
            shadow_route=f"GET {_path}",
        )
    )
    for _name, _factory, _judged in _shadowed:
        SCENARIOS.append(
            Scenario(
                f"{_name} ({_label})",
                Server.UVICORN,
                f"bench.apps:{_factory}",
                _path,
                baseline=_legacy,
                target=SHADOW_TARGET if _judged else None,
                p50_max=SHADOW_P50 if _judged else None,
                group=_group,
                factory=True,
                requires=CUTOVER,
                shadow_route=f"GET {_path}",
            )
        )


def select(names: list[str], groups: list[str]) -> list[Scenario]:
    """Scenarios whose name contains one of `names` (or in `groups`), plus their baselines."""
    chosen = [
        sc
        for sc in SCENARIOS
        if (not names or any(n.lower() in sc.name.lower() for n in names))
        and (not groups or any(g.lower() in sc.group.lower() for g in groups))
    ]
    return with_dependencies(chosen)


def quick() -> list[Scenario]:
    """`make bench-quick`'s representative subset, with their baselines."""
    return with_dependencies([sc for sc in SCENARIOS if sc.quick])


def with_dependencies(chosen: list[Scenario]) -> list[Scenario]:
    """`chosen` plus the baselines they are judged on (and theirs), in SCENARIOS's order, which
    is the order of the interleaved run."""
    by_name = {sc.name: sc for sc in SCENARIOS}
    wanted: set[str] = set()
    todo = [sc.name for sc in chosen]
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        wanted.add(name)
        sc = by_name[name]
        todo += [sc.baseline] if sc.baseline else []
    return [sc for sc in SCENARIOS if sc.name in wanted]


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
    rss_total_kib: int | None = None  # every process of the deployment, summed
    requests: int | None = None
    baseline: str | None = None
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    p50_ratio: float | None = None
    rss_ratio: float | None = None  # the scenario's `rss` against its baseline's
    rss_kind: str = ""
    round_ratios: list[float] = field(default_factory=list)  # req/s, round by round
    round_p50_ratios: list[float] = field(default_factory=list)
    shadow: dict[str, float] = field(default_factory=dict)  # counter -> median per run
    rounds: list[dict[str, float | int | str]] = field(default_factory=list)

    def summarise(self) -> None:
        """The row's numbers from its rounds: medians, the largest RSS, all requests."""
        if self.status is not Status.OK or not self.rounds:
            return
        self.rps = statistics.median(float(r["rps"]) for r in self.rounds)
        self.p50_ms = statistics.median(float(r["p50_ms"]) for r in self.rounds)
        self.p99_ms = statistics.median(float(r["p99_ms"]) for r in self.rounds)
        self.rss_kib = max(int(r["rss_kib"]) for r in self.rounds)
        self.rss_total_kib = max(int(r.get("rss_total_kib", r["rss_kib"])) for r in self.rounds)
        self.requests = sum(int(r["requests"]) for r in self.rounds)
        counters = [key for key in self.rounds[0] if key.startswith(SHADOW_PREFIX)]
        self.shadow = {
            key.removeprefix(SHADOW_PREFIX): statistics.median(float(r[key]) for r in self.rounds)
            for key in counters
        }


class ScenarioError(Exception):
    """A scenario could not be measured; the message says why."""


_PROBE = """
import importlib, json, sys
failures = {}
for ref, factory in json.loads(sys.argv[1]):
    module, attr = ref.split(":")
    try:
        obj = getattr(importlib.import_module(module), attr)
        if factory:
            obj()
    except BaseException as exc:
        failures[ref] = f"{type(exc).__name__}: {exc}".splitlines()[0]
print(json.dumps(failures))
"""


def probe(scenarios: list[Scenario], env: dict[str, str]) -> dict[str, str]:
    """Why each scenario that cannot run cannot (by name): a setting or module it needs is
    missing, or its app fails to build; all apps are built in one subprocess with `env`."""
    reasons: dict[str, str] = {}
    apps: dict[tuple[str, bool], None] = {}
    for sc in scenarios:
        if sc.setting is not None:
            from cutover.settings import GatewaySettings

            if sc.setting not in GatewaySettings.model_fields:
                names = ", ".join(f"{k}={v}" for k, v in sc.env)
                reasons[sc.name] = f"{names or sc.setting}: this cutover has no `{sc.setting}` yet"
                continue
        missing = [m for m in sc.requires if find_spec(m) is None]
        if missing:
            reasons[sc.name] = f"module {', '.join(missing)} not importable yet"
            continue
        for app in (sc.app, *([sc.new_app] if sc.new_app else [])):
            apps[(app, sc.factory)] = None
    if not apps:
        return reasons
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(list(apps))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        failures = dict.fromkeys((app for app, _ in apps), lines[-1] if lines else "probe failed")
    else:
        failures = json.loads(proc.stdout.strip().splitlines()[-1])
    for sc in scenarios:
        for app in (sc.app, *([sc.new_app] if sc.new_app else [])):
            if sc.name not in reasons and app in failures:
                reasons[sc.name] = failures[app]
    return reasons


def make_database(env: dict[str, str]) -> None:
    """Migrate and seed the reference app's database at `env`'s DATABASE_URL (the soak uses it
    too)."""
    bindir = Path(sys.executable).parent
    migrate = [str(bindir / "alembic"), "upgrade", "head"]
    for cmd in (migrate, [sys.executable, "-m", "shared_models.seed"]):
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise ScenarioError(f"{' '.join(cmd)} failed:\n{proc.stderr.strip()}")


def seed_reads(database_url: str) -> None:
    """Items up to BENCH_ITEMS (the 50-row list) and a live BENCH_TOKEN for alice (the notes
    sync read) in the seeded database at `database_url`; the bench's databases only."""
    from datetime import timedelta
    from decimal import Decimal

    from sqlalchemy import func
    from sqlalchemy import select as sql_select

    from shared_models import ApiToken, Item, User, create_engine_for, make_sessionmaker
    from shared_models.base import utcnow
    from shared_models.tokens import hash_token

    engine = create_engine_for(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            count = session.scalar(sql_select(func.count()).select_from(Item)) or 0
            session.add_all(
                Item(name=f"Item {n}", price=Decimal(n) + Decimal("0.25"), tags=["bench"])
                for n in range(count, BENCH_ITEMS)
            )
            alice = session.scalar(sql_select(User).where(User.username == "alice"))
            expires = utcnow() + timedelta(days=1)
            session.add(
                ApiToken(token_hash=hash_token(BENCH_TOKEN), user=alice, expires_at=expires)
            )
            session.commit()
    finally:
        engine.dispose()


def target_text(sc: Scenario) -> str:
    """The target as the tables state it, e.g. `>= 2.00x, p99 <= baseline`."""
    parts = [f">= {sc.target:.2f}x"] if sc.target is not None else []
    if sc.p50_max is not None:
        parts.append(f"p50 <= {sc.p50_max:.2f}x")
    if sc.p99 is P99.NOT_WORSE:
        parts.append("p99 <= baseline")
    if sc.rss_max is not None:
        parts.append(f"{sc.rss} <= {sc.rss_max:.2f}x")
    return ", ".join(parts)


def rss_of(res: Result, kind: Rss) -> int | None:
    """The row's RSS of that kind, KiB."""
    return res.rss_total_kib if kind is Rss.TOTAL else res.rss_kib


def judge(scenarios: list[Scenario], results: dict[str, Result]) -> None:
    """Ratio against the baseline measured in the same run, and whether the target is met."""
    for sc in scenarios:
        res = results[sc.name]
        res.baseline, res.target = sc.baseline, target_text(sc)
        base = results.get(sc.baseline) if sc.baseline else None
        if base is None or not res.rps or not base.rps:
            continue
        res.ratio = res.rps / base.rps
        res.p50_ratio = (res.p50_ms or 0.0) / base.p50_ms if base.p50_ms else None
        mine, theirs = rss_of(res, sc.rss), rss_of(base, sc.rss)
        res.rss_kind = str(sc.rss)
        res.rss_ratio = mine / theirs if mine and theirs else None
        if len(res.rounds) == len(base.rounds):  # paired: round i of both ran side by side
            pairs = list(zip(res.rounds, base.rounds, strict=True))
            res.round_ratios = [float(r["rps"]) / float(b["rps"]) for r, b in pairs]
            res.round_p50_ratios = [float(r["p50_ms"]) / float(b["p50_ms"]) for r, b in pairs]
        if sc.target is None and sc.p99 is P99.ANY and sc.p50_max is None and sc.rss_max is None:
            continue
        ok = sc.target is None or res.ratio >= sc.target
        if sc.p50_max is not None:
            ok = ok and res.p50_ratio is not None and res.p50_ratio <= sc.p50_max
        if sc.p99 is P99.NOT_WORSE:
            ok = ok and (res.p99_ms or 0.0) <= (base.p99_ms or 0.0)
        if sc.rss_max is not None:
            ok = ok and res.rss_ratio is not None and res.rss_ratio <= sc.rss_max
        res.met = ok
