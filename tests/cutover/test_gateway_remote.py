"""The legacy app out of process: the gateway's routing, modes and shadowing unchanged, worker
crashes answered and repaired, and a worker under another interpreter."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from werkzeug.exceptions import BadGateway, ServiceUnavailable

from cutover import Gateway
from cutover.control.modes import Mode, ModeState, Override, RouteMode
from cutover.settings import GatewaySettings
from cutover.wsgi import RemoteBridge
from tests.cutover.lifespan import running
from tests.cutover.shadow import test_runner as shadow_stubs
from tests.cutover.stub_routing_apps import make_legacy, make_new
from tests.servers import Server, serve_uvicorn

pytestmark = pytest.mark.anyio

ROUTING_LEGACY = "tests.cutover.stub_routing_apps:make_legacy()"
ITEM = "GET /items/{item_id}"
SYSTEM_PYTHON = Path("/usr/bin/python3")
WAIT = 30.0


def switched(gateway: Gateway, route: str, mode: Mode) -> None:
    now = datetime.now(UTC)
    version = (gateway.control.version or 0) + 1
    gateway.control.apply(
        ModeState(version, {route: Override(route, RouteMode(mode), "t", "test", now, version)})
    )


@pytest.fixture
async def remote_gateway() -> AsyncIterator[tuple[Gateway, httpx.AsyncClient]]:
    gateway = Gateway(
        make_legacy(),
        make_new(),
        legacy_processes=2,
        legacy_app=ROUTING_LEGACY,
        served_by_header=True,
        access_log=False,
    )
    async with running(gateway) as client:
        yield gateway, client
    assert not gateway.bridge.processes.started  # type: ignore[union-attr]


async def test_routes_methods_and_modes_work_as_in_process(
    remote_gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    gateway, client = remote_gateway
    assert isinstance(gateway.bridge, RemoteBridge)
    pids = {slot.process.pid for slot in gateway.bridge.processes.slots if slot.process}
    assert len(pids) == 2 and os.getpid() not in pids
    native = await client.get("/items/3")
    assert (native.json()["side"], native.headers["x-cutover-served-by"]) == ("new", "new")
    # Per-method cut-over: GET /split is ported, POST /split still legacy's.
    assert (await client.get("/split")).json() == {"side": "new"}
    posted = await client.post("/split")
    assert (posted.json(), posted.headers["x-cutover-served-by"]) == ({"side": "legacy"}, "legacy")
    assert (await client.get("/users/zoë")).json()["side"] == "new"
    assert (await client.get("/tickets")).json() == {"side": "legacy"}
    options = await client.options("/tickets")
    assert sorted(options.headers["allow"].split(", ")) == ["GET", "HEAD", "OPTIONS", "POST"]
    assert (await client.put("/tickets")).status_code == 405
    redirect = await client.get("/legacy-dir")
    assert (redirect.status_code, redirect.headers["location"]) == (
        308,
        "http://testserver/legacy-dir/",
    )
    switched(gateway, ITEM, Mode.LEGACY)
    legacy = await client.get("/items/3")
    assert legacy.json() == {"side": "legacy", "item_id": 3}
    assert legacy.headers["x-cutover-served-by"] == "legacy"
    switched(gateway, ITEM, Mode.NEW)
    assert (await client.get("/items/3")).json()["side"] == "new"


async def test_both_workers_take_requests(
    remote_gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    gateway, client = remote_gateway
    answers = await asyncio.gather(*(client.get("/tickets") for _ in range(20)))
    assert {answer.json()["side"] for answer in answers} == {"legacy"}
    bridge = gateway.bridge
    assert isinstance(bridge, RemoteBridge)
    assert bridge.pool.busy_count == 0
    assert all(bridge.pool._idle), "a concurrent burst reaches every worker"


async def test_shadow_compares_the_out_of_process_legacy_answer() -> None:
    gateway = Gateway(
        shadow_stubs.make_legacy(),
        shadow_stubs.make_new(),
        legacy_processes=1,
        legacy_app="tests.cutover.shadow.test_runner:make_legacy()",
        served_by_header=True,
        access_log=False,
    )
    gateway.shadow.noise_rate = 0
    switched(gateway, "GET /differs/{n}", Mode.SHADOW)
    try:
        async with running(gateway) as client:
            answer = await client.get("/differs/1")
            assert answer.headers["x-cutover-served-by"] == "legacy"
            assert answer.json() == {"n": 1, "price": 10}
            switched(gateway, "GET /same/{n}", Mode.REVERSE_SHADOW)
            reverse = await client.get("/same/2")
            assert reverse.headers["x-cutover-served-by"] == "new"
            await asyncio.wait_for(gateway.shadow.join(), 10)
    finally:
        gateway.bridge.close()
    counts = gateway.shadow.counts
    assert counts["GET /differs/{n}"].mismatched == 1
    assert counts["GET /same/{n}"].matched == 1


def test_processes_need_the_app_to_load() -> None:
    with pytest.raises(ValueError, match="CUTOVER_LEGACY_APP"):
        Gateway(make_legacy(), legacy_processes=1)


def test_settings_choose_the_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUTOVER_LEGACY_PROCESSES", "2")
    monkeypatch.setenv("CUTOVER_LEGACY_APP", ROUTING_LEGACY)
    monkeypatch.setenv("CUTOVER_LEGACY_PYTHON", sys.executable)
    gateway = Gateway.from_settings(make_legacy(), make_new())
    bridge = gateway.bridge
    assert isinstance(bridge, RemoteBridge)
    assert (bridge.processes.count, bridge.processes.app) == (2, ROUTING_LEGACY)
    assert bridge.processes.python == sys.executable
    assert not bridge.processes.started  # the lifespan starts them
    assert GatewaySettings().legacy_processes == 2
    monkeypatch.delenv("CUTOVER_LEGACY_PROCESSES")
    assert GatewaySettings().legacy_processes == 0


def test_workers_run_at_the_nice_value_asked() -> None:
    bridge = RemoteBridge("tests.cutover.stub_wsgi_stdlib:app", processes=2, nice=7)
    try:
        bridge.start()
        priorities = {
            os.getpriority(os.PRIO_PROCESS, slot.process.pid)
            for slot in bridge.processes.slots
            if slot.process is not None
        }
    finally:
        bridge.close()
    assert priorities == {os.getpriority(os.PRIO_PROCESS, 0) + 7}


def test_a_worker_that_never_comes_up_fails_the_start_clearly() -> None:
    bridge = RemoteBridge("tests.cutover.no_such_module:app", start_timeout=1.5)
    try:
        with pytest.raises(RuntimeError, match=r"no legacy worker for 'tests\.cutover\.no_such"):
            bridge.start()
        assert bridge.processes.restarts >= 1  # it was retried meanwhile
    finally:
        bridge.close()


@pytest.mark.skipif(not SYSTEM_PYTHON.exists(), reason="no second interpreter on this machine")
async def test_a_worker_runs_under_another_interpreter_without_cutover() -> None:
    bridge = RemoteBridge("tests.cutover.stub_wsgi_stdlib:app", python=str(SYSTEM_PYTHON))
    try:
        transport = httpx.ASGITransport(app=bridge)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            answer = (await client.post("/who", content=b"hello")).json()
    finally:
        bridge.close()
    assert answer["executable"] == str(SYSTEM_PYTHON)
    assert answer["prefix"] != sys.prefix
    assert (answer["cutover"], answer["flask"]) == (False, False)
    assert (answer["path"], answer["body"]) == ("/who", "hello")


def _children(pid: int) -> list[int]:
    """The processes `pid` started, from any of its threads."""
    tasks = Path(f"/proc/{pid}/task").iterdir()
    return [int(child) for task in tasks for child in (task / "children").read_text().split()]


@pytest.fixture
def one_worker() -> Iterator[Server]:
    with serve_uvicorn(
        "tests.cutover.stub_apps:remote_flask", "--factory", env={"STUB_PROCESSES": "1"}
    ) as server:
        yield server


def test_a_crashed_worker_answers_502_then_503_until_it_is_restarted(one_worker: Server) -> None:
    [worker] = _children(one_worker.pid)
    with (
        httpx.Client(base_url=one_worker.url, timeout=WAIT) as client,
        ThreadPoolExecutor(1) as pool,
    ):
        assert client.get("/json").json() == {"ok": True}
        in_flight = pool.submit(client.get, "/sleep?seconds=5")
        time.sleep(0.5)
        os.kill(worker, signal.SIGKILL)
        crashed = in_flight.result()
        meanwhile = client.get("/json")
        assert (crashed.status_code, crashed.content) == (502, BadGateway().get_body().encode())
        assert meanwhile.status_code == 503
        assert meanwhile.headers["retry-after"] == "1"
        assert meanwhile.content == ServiceUnavailable().get_body().encode()
        deadline = time.monotonic() + WAIT
        while client.get("/json").status_code != 200:
            assert time.monotonic() < deadline, "the worker was not restarted"
            time.sleep(0.1)
        [restarted] = _children(one_worker.pid)
        assert restarted != worker
        assert client.get("/json").json() == {"ok": True}
