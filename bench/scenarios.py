"""What the bench measures: each scenario, the baseline and target it is judged against, what
it needs before it can run (its app importable, the reference app's database) and how its
result is judged (issue 4 point 10's numbers, the reference app's endpoints)."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
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
    p50_max: float | None = None  # the p50 may be at most this ratio of the baseline's
    shadow_route: str | None = None  # the route whose shadow counters a run reports
    database: str = "sqlite"  # with needs_db: "sqlite" (a temp file) or "postgresql"
    headers: tuple[str, ...] = ()  # request headers, e.g. the bench caller's bearer token


CUTOVER = ("cutover",)
REFERENCE_MODULES = ("cutover", "legacy_flask", "new_fastapi", "gateway")
REFERENCE_PATHS = ("/api/hello", "/items/1", "/api/users/1")
# Issue 13's ported reads, on SQLite and on PostgreSQL: the 50-row list and the authenticated
# sync read need the rows and the token `seed_reads` adds to the seeded database.
BENCH_TOKEN = "bench-reads-token"
BEARER = (f"Authorization: Bearer {BENCH_TOKEN}",)
READ_PATHS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("/items/1", ()),
    ("/api/users/1", ()),
    ("/items?skip=0&limit=50", ()),
    ("/api/notes?since=0", BEARER),
)
BENCH_ITEMS = 50
POSTGRES_URL = "BENCH_POSTGRES_URL"  # the server PostgreSQL scenarios make their database on

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
_REFERENCE_READS = [(path, (), "sqlite") for path in REFERENCE_PATHS]
_REFERENCE_READS += [(p, h, "sqlite") for p, h in READ_PATHS if p not in REFERENCE_PATHS]
_REFERENCE_READS += [(p, h, "postgresql") for p, h in READ_PATHS]
for _path, _headers, _database in _REFERENCE_READS:
    _on = "" if _database == "sqlite" else f" ({_database})"
    SCENARIOS += [
        Scenario(
            f"gunicorn GET {_path}{_on}",
            Server.GUNICORN,
            "bench.apps:reference_flask",
            _path,
            group=REFERENCE,
            factory=True,
            requires=REFERENCE_MODULES,
            needs_db=True,
            database=_database,
            headers=_headers,
        ),
        Scenario(
            f"legacy GET {_path}{_on}",
            Server.UVICORN,
            "bench.apps:reference_legacy",
            _path,
            baseline=f"gunicorn GET {_path}{_on}",
            group=REFERENCE,
            factory=True,
            requires=REFERENCE_MODULES,
            needs_db=True,
            database=_database,
            headers=_headers,
        ),
        Scenario(
            f"native GET {_path}{_on}",
            Server.UVICORN,
            "bench.apps:reference_native",
            _path,
            baseline=f"legacy GET {_path}{_on}",
            group=REFERENCE,
            factory=True,
            requires=REFERENCE_MODULES,
            needs_db=True,
            database=_database,
            headers=_headers,
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
    wanted = {sc.name for sc in chosen} | {sc.baseline for sc in chosen if sc.baseline}
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
    requests: int | None = None
    baseline: str | None = None
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    p50_ratio: float | None = None
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
        self.requests = sum(int(r["requests"]) for r in self.rounds)
        counters = [key for key in self.rounds[0] if key.startswith(SHADOW_PREFIX)]
        self.shadow = {
            key.removeprefix(SHADOW_PREFIX): statistics.median(float(r[key]) for r in self.rounds)
            for key in counters
        }


class ScenarioError(Exception):
    """A scenario could not be measured; the message says why."""


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


def make_database(env: dict[str, str], database: str = "sqlite") -> Callable[[], None]:
    """A migrated, seeded database (`seed_reads` too), SQLite in a temp dir or PostgreSQL on
    $BENCH_POSTGRES_URL's server; DATABASE_URL is set in `env`; returns what drops it."""
    cleanup: Callable[[], None]
    if database == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix="cutover-bench-db-"))
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.db'}"
        cleanup = partial(shutil.rmtree, tmp, ignore_errors=True)
    else:
        from tests.postgres import private_postgres_database

        server = env.get(POSTGRES_URL) or env.get("TEST_DATABASE_URL")
        if not server:
            raise ScenarioError(f"neither {POSTGRES_URL} nor TEST_DATABASE_URL is set")
        private = private_postgres_database(server, prefix="cutover_bench")
        try:
            env["DATABASE_URL"] = private.__enter__()
        except Exception as exc:  # an unreachable server: the scenarios fail, saying why
            raise ScenarioError(f"PostgreSQL at {server}: {exc}") from exc
        cleanup = partial(private.__exit__, None, None, None)
    bindir = Path(sys.executable).parent
    migrate = [str(bindir / "alembic"), "upgrade", "head"]
    seed_reads_cmd = [sys.executable, "-c", "import bench.scenarios as s; s.seed_reads()"]
    for cmd in (migrate, [sys.executable, "-m", "shared_models.seed"], seed_reads_cmd):
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            cleanup()
            raise ScenarioError(f"{' '.join(cmd)} failed:\n{proc.stderr.strip()}")
    return cleanup


def seed_reads() -> None:
    """Items up to BENCH_ITEMS and a live BENCH_TOKEN for alice, in $DATABASE_URL's database."""
    from datetime import timedelta
    from decimal import Decimal

    from sqlalchemy import func
    from sqlalchemy import select as sql_select

    from shared_models import Item, User, create_engine_for, get_settings, make_sessionmaker
    from shared_models.base import utcnow
    from shared_models.models import ApiToken
    from shared_models.tokens import hash_token

    engine = create_engine_for(get_settings().database_url)
    with make_sessionmaker(engine)() as session:
        count = session.scalar(sql_select(func.count()).select_from(Item)) or 0
        session.add_all(
            Item(name=f"Item {n}", price=Decimal(n) + Decimal("0.25"), tags=["bench", f"n{n}"])
            for n in range(count, BENCH_ITEMS)
        )
        alice = session.scalar(sql_select(User).where(User.username == "alice"))
        expires = utcnow() + timedelta(days=1)
        session.add(ApiToken(token_hash=hash_token(BENCH_TOKEN), user=alice, expires_at=expires))
        session.commit()
    engine.dispose()


def target_text(sc: Scenario) -> str:
    """The target as the tables state it, e.g. `>= 2.00x, p99 <= baseline`."""
    parts = [f">= {sc.target:.2f}x"] if sc.target is not None else []
    if sc.p50_max is not None:
        parts.append(f"p50 <= {sc.p50_max:.2f}x")
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
        res.p50_ratio = (res.p50_ms or 0.0) / base.p50_ms if base.p50_ms else None
        if len(res.rounds) == len(base.rounds):  # paired: round i of both ran side by side
            pairs = list(zip(res.rounds, base.rounds, strict=True))
            res.round_ratios = [float(r["rps"]) / float(b["rps"]) for r, b in pairs]
            res.round_p50_ratios = [float(r["p50_ms"]) / float(b["p50_ms"]) for r, b in pairs]
        if sc.target is None and sc.p99 is P99.ANY and sc.p50_max is None:
            continue
        ok = sc.target is None or res.ratio >= sc.target
        if sc.p50_max is not None:
            ok = ok and res.p50_ratio is not None and res.p50_ratio <= sc.p50_max
        if sc.p99 is P99.NOT_WORSE:
            ok = ok and (res.p99_ms or 0.0) <= (base.p99_ms or 0.0)
        res.met = ok
