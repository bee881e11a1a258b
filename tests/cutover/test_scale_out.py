"""Scale-out (issue 10, point 6): `uvicorn --workers 2` and a second gateway started separately
(as on a second machine), all on one state database. A switch made with the real CLI is served
by all three processes within 2 s of the command returning, a rollback likewise, a canary
assigns each client the same side in every process, and `cutover status` sees every process
on the latest version.

Each process is reached on a keep-alive connection of its own, told apart by the pid its
`/_cutover/healthz` answers, and asked which side served it (`X-Cutover-Served-By`)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from cutover.control.canary import bucket
from cutover.control.modes import Mode, RouteMode
from tests.postgres import private_postgres_database
from tests.servers import BIN, PROJECT_ROOT, PinnedConnection, pin_workers, serve_uvicorn

APP = "tests.cutover.stub_scale_out:gateway"
STATE_URL_VARIABLE = "CUTOVER_SCALE_OUT_STATE_URL"  # what tests/cutover/stub_scale_out.py reads
ROUTE = ("GET", "/items/{item_id}")
PATH = "/items/1"
PROPAGATION_BOUND = 2.0  # issue 10: every process applies a change within 2 s
WAIT_LIMIT = 15.0  # how long to keep looking before reporting what was (not) seen
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")

BACKENDS = [pytest.param("sqlite", id="sqlite")]
if POSTGRES_URL:
    BACKENDS.append(pytest.param("postgres", id="postgres", marks=pytest.mark.postgres))


@pytest.fixture(params=BACKENDS)
def state_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A state database nobody has used: a new SQLite file the processes share, or a private
    database created on TEST_DATABASE_URL's server for this test and dropped after it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('scale-out') / 'state.db'}"
        return
    assert POSTGRES_URL is not None
    with private_postgres_database(POSTGRES_URL, "cutover_scale_out") as url:
        yield url


@pytest.fixture
def processes(state_url: str) -> Iterator[list[PinnedConnection]]:
    """A connection to each gateway process: the two workers of the first server, then the
    second server's one. Every server and connection is gone on the way out."""
    env = {STATE_URL_VARIABLE: state_url}
    keep_alive = ("--timeout-keep-alive", "120")  # a pinned connection is never dropped idle
    with ExitStack() as stack:
        first = stack.enter_context(serve_uvicorn(APP, *keep_alive, env=env, workers=2))
        second = stack.enter_context(serve_uvicorn(APP, *keep_alive, env=env))
        connections = pin_workers(first.url, 2, "/_cutover/healthz")
        for connection in connections:
            stack.callback(connection.close)
        connections += pin_workers(second.url, 1, "/_cutover/healthz")
        stack.callback(connections[-1].close)
        assert len({connection.pid for connection in connections}) == 3
        yield connections


def cutover(state_url: str, *args: str) -> str:
    """The installed `cutover` command on this state database; its stdout."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CUTOVER_STATE_URL", "DATABASE_URL")
    }
    result = subprocess.run(
        [str(BIN / "cutover"), *args, "--state-url", state_url],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout


def switch(state_url: str, mode: str, *extra: str) -> int:
    """`cutover switch GET /items/{item_id} MODE ...`: the version it committed."""
    out = cutover(state_url, "switch", *ROUTE, mode, *extra, "--reason", "scale-out test", "--json")
    version: int = json.loads(out)["version"]
    return version


def served_by(connection: PinnedConnection, token: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    status, answer, body = connection.get(PATH, headers)
    assert status == 200, body
    side = answer["x-cutover-served-by"]
    assert json.loads(body)["side"] == side
    return side


def wait_until_served(
    connections: list[PinnedConnection], side: str, token: str | None = None
) -> dict[int, float]:
    """Poll every process until each serves `side`: the seconds, from now, at which each pid
    was first seen doing so (pids that never did within WAIT_LIMIT are missing)."""
    started = time.monotonic()
    seen: dict[int, float] = {}
    while len(seen) < len(connections) and time.monotonic() - started < WAIT_LIMIT:
        for connection in connections:
            if connection.pid not in seen and served_by(connection, token) == side:
                seen[connection.pid] = time.monotonic() - started
        time.sleep(0.005)
    return seen


def assert_propagated(connections: list[PinnedConnection], seen: dict[int, float]) -> None:
    pids = {connection.pid for connection in connections}
    print("seconds from the switch returning to each pid serving it:", seen)  # shown by -s
    assert set(seen) == pids, f"never switched: {sorted(pids - set(seen))} (seen: {seen})"
    assert max(seen.values()) <= PROPAGATION_BOUND, f"seconds after the switch returned: {seen}"


def wait_for_status(state_url: str, pids: set[int], version: int) -> dict[str, object]:
    """`cutover status --json` once every live process reports `version` (the processes report
    right after applying a version); the last document read if that never happens."""
    started = time.monotonic()
    while True:
        document: dict[str, object] = json.loads(cutover(state_url, "status", "--json"))
        processes = document["processes"]
        assert isinstance(processes, list)
        reported = {process["pid"]: process["version"] for process in processes}
        if reported == dict.fromkeys(pids, version) or time.monotonic() - started > WAIT_LIMIT:
            return document
        time.sleep(0.2)


@pytest.mark.slow
def test_two_workers_and_a_second_server_follow_one_state_database(
    state_url: str, processes: list[PinnedConnection]
) -> None:
    pids = {connection.pid for connection in processes}
    # The route's mode from code: both sides have it, so the new side serves it.
    assert [served_by(connection) for connection in processes] == ["new"] * 3

    # The switch: every process serves legacy within 2 s of the command returning.
    switch(state_url, "legacy")
    assert_propagated(processes, wait_until_served(processes, "legacy"))

    # The rollback (to new) likewise.
    switch(state_url, "new")
    assert_propagated(processes, wait_until_served(processes, "new"))

    # A 10 % canary: each client is on the side its key's bucket says, in every process.
    canary = RouteMode(Mode.CANARY, 10)
    tokens = [f"client-{number}" for number in range(200)]
    on_new = {token: bucket(b"bearer:" + token.encode()) < canary.threshold for token in tokens}
    assert 0 < sum(on_new.values()) < len(tokens) // 2  # both sides get some clients
    version = switch(state_url, "canary", "--percent", "10")
    on_legacy = next(token for token in tokens if not on_new[token])
    assert_propagated(processes, wait_until_served(processes, "legacy", on_legacy))
    expected = {token: "new" if on_new[token] else "legacy" for token in tokens}
    for connection in processes:
        answered = {token: served_by(connection, token) for token in tokens}
        assert answered == expected, f"process {connection.pid} disagrees"

    # Every live process reports the canary's version, and only these three are live.
    document = wait_for_status(state_url, pids, version)
    assert document["version"] == version
    assert document["summary"] == f"3 of 3 processes on version {version}"
    processes_reported = document["processes"]
    assert isinstance(processes_reported, list)
    assert {process["pid"] for process in processes_reported} == pids
    assert all(process["current"] and process["healthy"] for process in processes_reported)
