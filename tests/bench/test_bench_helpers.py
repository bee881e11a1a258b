"""The bench's pure helpers: how scenarios are picked, judged and merged (no server, no timing)."""

from __future__ import annotations

import pytest

from bench.nginx import split_config
from bench.runner import merge_wrk, parse_wrk, wrk_command
from bench.scenarios import (
    BENCH_TOKEN,
    DB_READ_PATHS,
    P99,
    SCENARIOS,
    Database,
    Result,
    Rss,
    Scenario,
    Server,
    Status,
    judge,
    quick,
    select,
)
from bench.soak import Load, Minute, drift, verdict

WRK_OUTPUT = """Running 2s test @ http://127.0.0.1:1/ping
  1 threads and 16 connections
  Latency Distribution
     50%    2.00ms
     75%    3.00ms
     90%    4.00ms
     99%   {p99}
  {requests} requests in 2.00s, 1.00MB read
Requests/sec:   {rps}
"""


def _row(name: str, rps: float, p99: float, rss: int, total: int) -> Result:
    res = Result(name, "g", Status.OK)
    res.rounds = [
        {
            "rps": rps,
            "p50_ms": 1.0,
            "p99_ms": p99,
            "rss_kib": rss,
            "rss_total_kib": total,
            "requests": int(rps),
        }
    ]
    res.summarise()
    return res


def test_every_baseline_names_a_scenario_run_before_it() -> None:
    names = [sc.name for sc in SCENARIOS]
    assert len(set(names)) == len(names)
    for sc in SCENARIOS:
        assert sc.baseline is None or names.index(sc.baseline) < names.index(sc.name), sc.name


def test_selection_brings_baselines_and_theirs() -> None:
    chosen = [sc.name for sc in select(["2 workers"], [])]
    assert "cutover fall-through" in chosen  # the baseline
    assert "flask gunicorn sync" in chosen  # the baseline's own baseline
    assert chosen.index("cutover fall-through") < chosen.index("cutover fall-through, 2 workers")


def test_quick_is_a_subset_with_its_dependencies() -> None:
    picked = {sc.name for sc in quick()}
    assert {sc.name for sc in SCENARIOS if sc.quick} <= picked
    assert len(picked) < len(SCENARIOS)


def test_memory_target_compares_the_kind_of_rss_it_names() -> None:
    base = Scenario("pair", Server.PAIR, "a:b", "/x")
    lean = Scenario(
        "lean", Server.UVICORN, "a:c", "/x", baseline="pair", rss=Rss.TOTAL, rss_max=1.0
    )
    fat = Scenario("fat", Server.UVICORN, "a:d", "/x", baseline="pair", rss=Rss.TOTAL, rss_max=1.0)
    results = {
        "pair": _row("pair", 100.0, 10.0, rss=60_000, total=150_000),
        "lean": _row("lean", 200.0, 10.0, rss=90_000, total=90_000),
        "fat": _row("fat", 200.0, 10.0, rss=90_000, total=200_000),
    }
    judge([base, lean, fat], results)
    assert results["lean"].met is True
    assert results["lean"].rss_ratio == pytest.approx(0.6)
    assert results["fat"].met is False
    assert results["fat"].target == "total RSS <= 1.00x"


def test_mixed_load_is_summed_and_keeps_the_worse_p99() -> None:
    runs = [
        parse_wrk(WRK_OUTPUT.format(p99="10.00ms", requests=100, rps="50.0")),
        parse_wrk(WRK_OUTPUT.format(p99="30.00ms", requests=300, rps="150.0")),
    ]
    merged = merge_wrk(runs)
    assert merged["rps"] == 200.0
    assert merged["requests"] == 400
    assert merged["p99_ms"] == 30.0


def test_nginx_config_sends_the_ported_paths_to_the_new_upstream() -> None:
    conf = split_config(8080, 9001, 9002, ["/native-ping"])
    assert "listen 127.0.0.1:8080;" in conf
    assert "server 127.0.0.1:9001;" in conf and "server 127.0.0.1:9002;" in conf
    assert "location = /native-ping { proxy_pass http://new;" in conf
    assert "location / { proxy_pass http://legacy;" in conf


def test_soak_verdict_judges_errors_and_drift() -> None:
    assert drift(100.0, 105.0) == pytest.approx(0.05)
    steady = Load(tokens=[], note_ids=[])
    steady.minutes = [
        Minute(1, requests=10, latencies_ms=[5.0] * 10, rss_kib=100_000),
        Minute(2, requests=10, latencies_ms=[5.0] * 10, rss_kib=104_000),
    ]
    result = verdict(steady)
    assert result["errors_met"] and result["p99_met"] and result["rss_met"]
    leaking = Load(tokens=[], note_ids=[])
    leaking.minutes = [
        Minute(1, requests=10, latencies_ms=[5.0] * 10, rss_kib=100_000),
        Minute(2, requests=10, errors=1, latencies_ms=[5.0] * 9 + [50.0], rss_kib=120_000),
    ]
    result = verdict(leaking)
    assert not result["errors_met"] and not result["p99_met"] and not result["rss_met"]


def test_every_ported_read_is_judged_against_legacy_on_both_databases() -> None:
    by_name = {sc.name: sc for sc in SCENARIOS}
    for path in DB_READ_PATHS:
        for suffix, database in (("", Database.SQLITE), (" (PostgreSQL)", Database.POSTGRES)):
            native = by_name[f"native GET {path}{suffix}"]
            assert native.baseline == f"legacy GET {path}{suffix}"
            assert native.database is database
            assert (native.target, native.p99) == (1.5, P99.NOT_WORSE)
            assert native.headers == by_name[native.baseline].headers
    notes = by_name["native GET /api/notes?since=0 (PostgreSQL)"]
    assert notes.headers == (f"Authorization: Bearer {BENCH_TOKEN}",)


def test_wrk_sends_the_scenario_headers() -> None:
    cmd = wrk_command("http://127.0.0.1:1/x", 2, None, headers=("Authorization: Bearer t",))
    assert cmd[cmd.index("-H") + 1] == "Authorization: Bearer t"
    assert cmd[-1] == "http://127.0.0.1:1/x"
    assert "-H" not in wrk_command("http://127.0.0.1:1/x", 2, None)
