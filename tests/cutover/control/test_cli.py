"""`cutover init-state / switch / status / history`, run as real subprocesses, text and --json."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cutover.control.modes import LEGACY, ProcessReport
from cutover.control.status import status_document
from cutover.control.store import StateStore
from tests.cutover.control.conftest import BOTH, LISTED, ROUTES

PROJECT_ROOT = Path(__file__).resolve().parents[3]

Run = Callable[..., subprocess.CompletedProcess[str]]


def run_cutover(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CUTOVER_STATE_URL", "DATABASE_URL")
    }
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cutover.cli", *args],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def cutover(state_url: str) -> Run:
    """`cutover ...` with CUTOVER_STATE_URL pointing at this test's store."""

    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return run_cutover(*args, env={"CUTOVER_STATE_URL": state_url, **env})

    return run


@pytest.fixture
def published(state_url: str) -> Iterator[StateStore]:
    store = StateStore(state_url)
    store.create_tables()
    store.publish_routes(ROUTES)
    yield store
    store.dispose()


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def refused(result: subprocess.CompletedProcess[str], message: str, code: int = 2) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("cutover: error: "), result.stderr
    assert message in result.stderr


def test_no_state_url_is_a_clear_error() -> None:
    refused(run_cutover("status"), "pass --state-url URL or set CUTOVER_STATE_URL")


def test_init_state_creates_the_tables_and_is_idempotent(cutover: Run, state_url: str) -> None:
    first = ok(cutover("init-state"))
    assert first.startswith("State store ready at ") and first.endswith("(version 0)\n")
    assert json.loads(ok(cutover("init-state", "--json")))["version"] == 0
    store = StateStore(state_url)
    assert store.read_version() == 0
    store.dispose()


def test_state_url_option_then_cutover_state_url_then_database_url(
    state_url: str, tmp_path: Path
) -> None:
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    ok(run_cutover("init-state", env={"DATABASE_URL": state_url}))
    store = StateStore(state_url)
    assert store.read_version() == 0
    store.dispose()
    result = run_cutover(
        "init-state", "--json", "--state-url", elsewhere, env={"CUTOVER_STATE_URL": state_url}
    )
    assert json.loads(ok(result))["url"] == elsewhere
    assert (tmp_path / "elsewhere.db").exists()


def test_a_store_without_tables_says_to_run_init_state(cutover: Run) -> None:
    refused(cutover("status"), "run `cutover init-state`", code=1)


def test_an_unreachable_store_exits_1(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"
    refused(run_cutover("history", "--state-url", url), "state store unavailable", code=1)


def test_switch_prints_the_change_and_json_is_the_change_document(
    cutover: Run, published: StateStore
) -> None:
    assert ok(cutover("switch", "GET", "/items/{item_id}", "legacy", "--reason", "500s")) == (
        "GET /items/{item_id}: new -> legacy (version 1)\n"
    )
    document = json.loads(
        ok(
            cutover(
                "switch",
                "get",
                "/items/{item_id}",
                "canary",
                "--percent",
                "10",
                "--reason",
                "again, slowly",
                "--actor",
                "alice",
                "--json",
            )
        )
    )
    assert document["route"] == BOTH
    assert (document["version"], document["before"], document["after"]) == (
        2,
        {"mode": "legacy", "percent": 0.0},
        {"mode": "canary", "percent": 10.0},
    )
    assert (document["actor"], document["reason"]) == ("alice", "again, slowly")
    first, _ = reversed(published.history())
    assert first.actor.endswith(f"@{socket.gethostname()}")  # user@host by default
    reset = ok(cutover("switch", "GET", "/items/{item_id}", "default", "--reason", "done"))
    assert reset == "GET /items/{item_id}: canary 10% -> new (version 3)\n"
    assert published.read_state().overrides == {}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("GET", "/items/{item_id}", "canary"), "canary needs --percent"),
        (("GET", "/items/{item_id}", "legacy", "--percent", "5"), "only canary takes a percent"),
        (("GET", "/items/{item_id}", "canary", "--percent", "101"), "between 0 and 100"),
        (("GET", "/items/{item_id}", "sideways"), "MODE is one of legacy, new, canary"),
        (("GET", "/nowhere", "legacy"), "unknown route 'GET /nowhere': `cutover status` lists"),
        (("GET", "/reports", "new"), "GET /reports cannot be new: the new side has no such route"),
        (("GET", "/items/{item_id}", "legacy", "--reason", " "), "needs a reason"),
        (("GET", "/items/{item_id}"), "switch needs METHOD PATH MODE"),
        (("GET", "/items", "legacy", "--all", "legacy"), "--all takes only legacy or new"),
    ],
)
def test_refused_switches_print_the_reason_and_exit_2(
    cutover: Run, published: StateStore, args: tuple[str, ...], message: str
) -> None:
    if "--reason" not in args:
        args = (*args, "--reason", "test")
    refused(cutover("switch", *args), message)
    assert published.read_version() == 0


def test_switch_all_is_the_big_red_button(cutover: Run, published: StateStore) -> None:
    text = ok(cutover("switch", "--all", "legacy", "--reason", "incident 42"))
    assert text.splitlines() == [
        "GET /items: new -> legacy",
        "GET /items/{item_id}: new -> legacy",
        "POST /items: shadow -> legacy",
        "Version 1: 3 routes switched to legacy",
    ]
    state = published.read_state()
    assert set(state.overrides) == {BOTH, LISTED, "POST /items"}
    assert {override.mode for override in state.overrides.values()} == {LEGACY}
    again = json.loads(ok(cutover("switch", "--all", "legacy", "--reason", "sure", "--json")))
    assert again == {"version": 2, "changes": []}
    back = json.loads(ok(cutover("switch", "--all", "new", "--reason", "fixed", "--json")))
    assert {change["route"] for change in back["changes"]} == {BOTH, LISTED, "POST /items"}
    usage = cutover("switch", "--all", "canary", "--reason", "x")  # argparse's own refusal
    assert usage.returncode == 2 and "invalid choice: 'canary'" in usage.stderr


def test_status_is_an_aligned_table_with_the_processes_summary(
    cutover: Run, published: StateStore
) -> None:
    ok(
        cutover(
            "switch", "GET", "/items/{item_id}", "canary", "--percent", "10", "--reason", "10 %"
        )
    )
    at = datetime.now(UTC)
    published.report_process(ProcessReport("box:7:a", "box", 7, at, at, 1, healthy=True))
    published.report_process(ProcessReport("box:8:a", "box", 8, at, at, 0, healthy=True))
    text = ok(cutover("status"))
    routes_table, warning_or_processes, *rest = text.rstrip("\n").split("\n\n")
    header, *rows = routes_table.splitlines()
    assert header.split() == [
        "METHOD",
        "PATH",
        "LEGACY",
        "NEW",
        "DEFAULT",
        "MODE",
        "ACTOR",
        "AT",
        "REASON",
    ]
    assert len(rows) == len(ROUTES)
    path_column, mode_column, actor_column = (
        header.index(name) for name in ("PATH", "MODE", "ACTOR")
    )
    assert [row[path_column:].split()[0] for row in rows] == [
        "/health/deep",
        "/items",
        "/items/{item_id}",
        "/reports",
        "/items",
    ]
    canary = rows[2]
    assert canary[mode_column:actor_column].rstrip() == "canary 10%"
    assert canary.endswith("10 %")
    assert rows[0].split()[:6] == ["GET", "/health/deep", "no", "yes", "new", "new"]
    assert rows[4].split()[:6] == ["POST", "/items", "yes", "yes", "shadow", "shadow"]
    process_header, *processes = warning_or_processes.splitlines()
    assert process_header.split() == ["PROCESS", "VERSION", "HEALTHY", "SEEN"]
    assert [line.split()[:3] for line in processes] == [
        ["box:7:a", "1", "yes"],
        ["box:8:a", "0", "yes"],
    ]
    assert rest == ["Version 1: 1 of 2 processes on version 1"]

    document = json.loads(ok(cutover("status", "--json")))
    expected = status_document(published)
    for process in (*document["processes"], *expected["processes"]):
        process.pop("seen_at")
    assert document == expected


def test_status_before_any_gateway_published(cutover: Run) -> None:
    ok(cutover("init-state"))
    assert ok(cutover("status")) == (
        "No routes published yet.\n\nVersion 0: no live processes reporting (version 0)\n"
    )


def test_history_text_json_route_and_limit(cutover: Run, published: StateStore) -> None:
    assert ok(cutover("history")) == "No switches recorded.\n"
    ok(cutover("switch", "GET", "/items/{item_id}", "legacy", "--reason", "one", "--actor", "a"))
    ok(cutover("switch", "GET", "/items", "legacy", "--reason", "two", "--actor", "b"))
    ok(cutover("switch", "GET", "/items/{item_id}", "new", "--reason", "three", "--actor", "c"))
    header, *rows = ok(cutover("history")).splitlines()
    assert header.split() == ["VERSION", "AT", "ROUTE", "FROM", "TO", "ACTOR", "REASON"]
    route_column, actor_column = header.index("ROUTE"), header.index("ACTOR")
    assert [row.split()[0] for row in rows] == ["3", "2", "1"]
    assert [row[route_column:].split()[:4] for row in rows] == [
        ["GET", "/items/{item_id}", "legacy", "new"],
        ["GET", "/items", "new", "legacy"],
        ["GET", "/items/{item_id}", "new", "legacy"],
    ]
    assert [row[actor_column:].split() for row in rows] == [
        ["c", "three"],
        ["b", "two"],
        ["a", "one"],
    ]
    only = json.loads(ok(cutover("history", "--route", "get /items/{item_id}", "--json")))
    assert [change["reason"] for change in only["changes"]] == ["three", "one"]
    limited = json.loads(ok(cutover("history", "--limit", "1", "--json")))
    assert [change["version"] for change in limited["changes"]] == [3]
    refused(cutover("history", "--limit", "0"), "--limit is at least 1")


def test_a_reader_that_goes_away_gets_no_traceback(state_url: str, published: StateStore) -> None:
    """`cutover history | head -1`: the pipe closes before the output is written."""
    environment = {**os.environ, "CUTOVER_STATE_URL": state_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "cutover.cli", "history", "--json"],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=60) == 1
    assert stderr == ""
