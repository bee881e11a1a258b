"""`cutover promote` (start, --status, --cancel, --wait) and `cutover routes` with a state store,
run as real subprocesses on each backend, text and --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from cutover import Gateway
from cutover.control.modes import Mode, RouteMode
from cutover.control.promote import Promotions
from cutover.control.promotion import State
from cutover.control.store import StateStore
from cutover.observe.traffic import TrafficCollector
from tests.cutover.control.conftest import BOTH
from tests.cutover.control.test_cli import (  # the fixtures too
    PROJECT_ROOT,
    Run,
    cutover,
    ok,
    published,
    refused,
    run_cutover,
)
from tests.cutover.stub_routing_apps import make_legacy, make_new

pytestmark = pytest.mark.anyio
__all__ = ["cutover", "published"]  # fixtures of test_cli, used here

START = ("promote", "GET", "/items/{item_id}", "--steps", "10,100", "--interval", "90s")
APP = "tests.cutover.stub_routing_apps:gateway"


def test_promote_starts_the_first_step_and_status_shows_it(
    cutover: Run, published: StateStore
) -> None:
    text = ok(cutover(*START, "--reason", "ported", "--actor", "alice", "--min-samples", "50"))
    assert text.splitlines() == [
        "GET /items/{item_id}: promotion started, step 1 of 2 (canary 10%) from new (version 1)",
        "Steps 10,100% every 90 s; gates per step, new against legacy: error rate at most +1 pt, "
        "p99 at most 1.5x, shadow mismatches at most 1%, at least 50 answers, else hold.",
        "Every gateway process drives it, one at a time; `cutover promote --status` follows it.",
    ]
    assert published.read_state().overrides[BOTH].mode == RouteMode(Mode.CANARY, 10)
    header, row = ok(cutover("promote", "--status")).splitlines()
    assert header.split() == ["ROUTE", "STATE", "STEP", "MODE", "UPDATED", "LEADER", "MESSAGE"]
    assert row.startswith("GET /items/{item_id}  running  1/2   canary 10%")
    assert row.split()[-9:] == ["-", "step", "1", "of", "2", "(canary", "10%)", "from", "new"]
    (document,) = json.loads(ok(cutover("promote", "--status", "--json")))["promotions"]
    assert (document["route"], document["state"], document["step"]) == (BOTH, "running", 1)
    assert document["thresholds"]["min_samples"] == 50
    assert document["mode"] == {"mode": "canary", "percent": 10.0}
    assert (document["actor"], document["reason"]) == ("alice", "ported")

    again = cutover(*START, "--reason", "twice")
    refused(again, "GET /items/{item_id} is being promoted already")
    cancelled = ok(cutover("promote", "GET", "/items/{item_id}", "--cancel", "--reason", "stop"))
    assert cancelled.startswith("GET /items/{item_id}: cancelled: cancelled by ")
    assert cancelled.endswith("the route stays canary 10% until switched\n")
    assert ok(cutover("promote", "--status", "--json")).count('"cancelled"') == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--steps", "50,10,100"), "steps go up"),
        (("--steps", "10,50"), "the last step is 100"),
        (("--interval", "soon"), "a duration is like 60s"),
        (("--max-p99-ratio", "0.5"), "max_p99_ratio is at least 1"),
        (("--min-samples", "0"), "min_samples is at least 1"),
    ],
)
def test_refused_promotions_exit_2_and_switch_nothing(
    cutover: Run, published: StateStore, args: tuple[str, ...], message: str
) -> None:
    refused(cutover("promote", "GET", "/items/{item_id}", *args, "--reason", "x"), message)
    assert published.read_version() == 0


def test_refusals_without_a_route_or_a_reason(cutover: Run, published: StateStore) -> None:
    refused(cutover("promote", "GET", "/items/{item_id}"), "a promotion needs --reason")
    refused(cutover("promote", "--reason", "x"), "promote needs METHOD PATH")
    refused(cutover("promote", "GET", "/nowhere", "--reason", "x"), "unknown route 'GET /nowhere'")
    refused(cutover("promote", "GET", "/reports", "--reason", "x"), "the new side has no such")
    refused(cutover("promote", "GET", "/items", "--cancel", "--reason", "x"), "no promotion")
    assert ok(cutover("promote", "--status")) == "No promotions.\n"


def test_wait_drives_and_follows_until_the_promotion_ends(
    state_url: str, published: StateStore
) -> None:
    waiting = subprocess.Popen(
        [sys.executable, "-m", "cutover.cli", *START, "--reason", "watch", "--wait"],
        cwd=PROJECT_ROOT,
        env={**_environment(), "CUTOVER_STATE_URL": state_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert waiting.stdout is not None
        # The start (three lines), then its first tick: it holds the lease by then.
        first = [waiting.stdout.readline() for _ in range(4)]
        found = Promotions(published).get(BOTH)
        assert found is not None and found.leader is not None
        assert found.leader.startswith("cli:")
        Promotions(published).cancel(BOTH, actor="ops", reason="enough")
        stdout, stderr = waiting.communicate(timeout=60)
    finally:
        waiting.kill()
        waiting.wait()
    assert waiting.returncode == 1, stderr
    lines = [line.rstrip("\n") for line in first] + stdout.splitlines()
    assert lines[0].startswith("GET /items/{item_id}: promotion started")
    assert "running: step 1 of 2 (canary 10%): " in lines[3]
    assert "too few samples: 0 answers on new, need 20" in lines[3]
    assert lines[-1].endswith(
        "cancelled: cancelled by ops at step 1 of 2 (canary 10%): "
        "enough; the route stays canary 10% until switched"
    )


async def test_routes_adds_mode_and_traffic_per_side_from_the_state_store(
    state_url: str,
) -> None:
    store = StateStore(state_url)
    store.create_tables()
    gateway = Gateway(make_legacy(), make_new(), access_log=False)
    try:
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for n in range(4):
                assert (await client.get(f"/items/{n}")).status_code == 200
            assert (await client.get("/tickets")).status_code == 200
        write = TrafficCollector(gateway.metrics.tally, store)()
        assert write is not None
        write()
    finally:
        gateway.bridge.close()
        store.dispose()
    text = _routes("--state-url", state_url, "--window", "30m")
    header, *rows = text.split("\n\n")[0].splitlines()
    assert header.split()[5:] == [
        "MODE",
        "LEGACY",
        "REQ",
        "NEW",
        "REQ",
        "MATCH",
        "P50",
        "L/N",
        "P99",
        "L/N",
    ]
    by_route = {tuple(row.split()[:2]): row.split() for row in rows}
    item = by_route[("GET", "/items/{item_id}")]
    assert item[5:9] == ["new", "0", "4", "-"]
    assert item[9].startswith("-/") and item[9].endswith("ms")
    assert by_route[("GET", "/tickets")][5:8] == ["legacy", "1", "0"]
    document = json.loads(_routes("--json", "--state-url", state_url))
    routes = {(route["method"], route["path"]): route for route in document["routes"]}
    listed = routes[("GET", "/items/{item_id}")]
    assert listed["mode"] == "new" and listed["match_rate"] is None
    assert listed["new"]["requests"] == 4 and listed["legacy"]["requests"] == 0
    assert listed["new"]["p99"] > 0 and listed["legacy"]["p99"] is None


def test_routes_without_a_usable_store_is_unchanged_and_warns(state_url: str) -> None:
    plain = _routes()
    result = run_cutover("routes", "--app", APP, "--state-url", state_url)  # no tables yet
    assert result.returncode == 0
    assert result.stdout == plain
    assert "cutover: warning: no traffic shown: " in result.stderr
    assert "cutover init-state" in result.stderr


def _routes(*args: str) -> str:
    """`cutover routes --app APP ...`'s output (the stub app warns of a type on stderr)."""
    result = run_cutover("routes", "--app", APP, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("CUTOVER_STATE_URL", "DATABASE_URL")}


def test_promotion_states_are_words() -> None:
    assert [state.value for state in State] == [
        "running",
        "holding",
        "completed",
        "rolled-back",
        "cancelled",
    ]
