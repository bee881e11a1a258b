"""Shadow and reverse-shadow through the gateway: the client gets the answering side's answer at
once; the other side is replayed afterwards (marked), compared, and its faults only counted."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from flask import Flask
from flask import request as flask_request

from cutover import Gateway
from cutover.control.modes import Mode, ModeState, Override, RouteMode
from cutover.shadow.answer import Answer
from cutover.shadow.runner import ShadowJob, ShadowRunner

pytestmark = pytest.mark.anyio

CANDIDATE_DONE = asyncio.Event
SEEN_SHADOW_HEADERS: list[str | None] = []
WRITES: list[str] = []


def make_legacy() -> Flask:
    app = Flask("shadow_legacy")

    @app.get("/same/<int:n>")
    def same(n: int) -> Any:
        return {"n": n, "name": "widget"}

    @app.get("/differs/<int:n>")
    def differs(n: int) -> Any:
        return {"n": n, "price": 10}

    @app.get("/stamped")
    def stamped() -> Any:
        return {"ok": True, "at": time.time_ns()}

    @app.get("/slow")
    def slow() -> Any:
        return {"ok": True}

    @app.get("/boom")
    def boom() -> Any:
        return {"ok": True}

    @app.route("/write", methods=["POST"])
    def write() -> Any:
        WRITES.append("legacy")
        return {"ok": True}

    @app.get("/echo")
    def echo() -> Any:
        SEEN_SHADOW_HEADERS.append(flask_request.headers.get("X-Cutover-Shadow"))
        return {"echo": flask_request.args.get("q")}

    return app


def make_new(finished: asyncio.Event | None = None) -> FastAPI:
    app = FastAPI()

    @app.get("/same/{n}")
    async def same(n: int) -> dict[str, Any]:
        return {"name": "widget", "n": n}

    @app.get("/differs/{n}")
    async def differs(n: int) -> dict[str, Any]:
        return {"n": n, "price": 11}

    @app.get("/stamped")
    async def stamped() -> dict[str, Any]:
        return {"ok": True, "at": time.time_ns()}

    @app.get("/slow")
    async def slow() -> dict[str, Any]:
        await asyncio.sleep(1.0)
        if finished is not None:
            finished.set()
        return {"ok": True}

    @app.get("/boom")
    async def boom() -> dict[str, Any]:
        raise RuntimeError("the candidate broke")

    @app.post("/write")
    async def write() -> dict[str, Any]:
        WRITES.append("new")
        return {"ok": True}

    @app.get("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        SEEN_SHADOW_HEADERS.append(request.headers.get("x-cutover-shadow"))
        return {"echo": request.query_params.get("q")}

    return app


def gateway_in(mode: Mode, *routes: str, **options: Any) -> Gateway:
    finished = options.pop("finished", None)
    gateway = Gateway(
        make_legacy(), make_new(finished), access_log=False, served_by_header=True, **options
    )
    now = datetime.now(UTC)
    gateway.control.apply(
        ModeState(
            1, {route: Override(route, RouteMode(mode), "t", "test", now, 1) for route in routes}
        )
    )
    return gateway


async def request(gateway: Gateway, method: str, url: str, **kwargs: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=gateway)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.request(method, url, **kwargs)


async def settled(gateway: Gateway) -> None:
    await asyncio.wait_for(gateway.shadow.join(), 10)


async def test_shadow_answers_from_legacy_and_finds_the_one_differing_field() -> None:
    gateway = gateway_in(Mode.SHADOW, "GET /same/{n}", "GET /differs/{n}")
    gateway.shadow.noise_rate = 0
    same = await request(gateway, "GET", "/same/1")
    differs = await request(gateway, "GET", "/differs/1")
    await settled(gateway)
    assert same.headers["x-cutover-served-by"] == differs.headers["x-cutover-served-by"] == "legacy"
    assert differs.json() == {"n": 1, "price": 10}
    counts = gateway.shadow.counts
    assert (counts["GET /same/{n}"].compared, counts["GET /same/{n}"].matched) == (1, 1)
    assert counts["GET /differs/{n}"].mismatched == 1
    [(key, group)] = gateway.shadow.groups.items()
    assert key == ("GET /differs/{n}", ("$.price changed",))
    [exemplar] = group.pending
    comparison = exemplar.comparison
    assert exemplar.request_line == "GET /differs/1"
    assert [(d.path, d.primary, d.candidate) for d in comparison.differences] == [
        ("$.price", 10, 11)
    ]


async def test_reverse_shadow_answers_from_new_and_replays_legacy_marked() -> None:
    gateway = gateway_in(Mode.REVERSE_SHADOW, "GET /echo")
    SEEN_SHADOW_HEADERS.clear()
    answer = await request(gateway, "GET", "/echo?q=hi")
    await settled(gateway)
    assert answer.headers["x-cutover-served-by"] == "new"
    assert answer.json() == {"echo": "hi"}
    # The client's request reached new unmarked; the replay reached legacy marked.
    assert SEEN_SHADOW_HEADERS[0] is None
    assert "1" in SEEN_SHADOW_HEADERS[1:]
    assert gateway.shadow.counts["GET /echo"].matched >= 1


async def test_writes_are_not_shadowed() -> None:
    gateway = gateway_in(Mode.SHADOW, "POST /write")
    WRITES.clear()
    answer = await request(gateway, "POST", "/write")
    await settled(gateway)
    assert answer.status_code == 200
    assert WRITES == ["legacy"]
    assert gateway.shadow.counts["POST /write"].not_shadowed == 1


async def test_a_slow_candidate_never_delays_the_client_and_times_out() -> None:
    finished = asyncio.Event()
    gateway = gateway_in(Mode.SHADOW, "GET /slow", shadow_timeout=0.2, finished=finished)
    answer = await request(gateway, "GET", "/slow")
    assert answer.json() == {"ok": True}
    # The client has its answer while the candidate is still asleep.
    assert not finished.is_set()
    await settled(gateway)
    assert gateway.shadow.counts["GET /slow"].timeout == 1
    assert gateway.shadow.counts["GET /slow"].compared == 0


async def test_a_failing_candidate_is_counted_not_felt() -> None:
    gateway = gateway_in(Mode.SHADOW, "GET /boom")
    answer = await request(gateway, "GET", "/boom")
    await settled(gateway)
    assert answer.status_code == 200
    assert gateway.shadow.counts["GET /boom"].candidate_error == 1


async def test_a_field_that_differs_between_two_runs_of_one_side_is_noise() -> None:
    gateway = gateway_in(Mode.SHADOW, "GET /stamped")
    gateway.shadow.noise_rate = 1.0
    for _ in range(3):
        await request(gateway, "GET", "/stamped")
        await settled(gateway)
    counts = gateway.shadow.counts["GET /stamped"]
    assert gateway.shadow.noise["GET /stamped"]["$.at"] == 3
    assert (counts.noise_only, counts.mismatched) == (3, 0)


async def test_a_full_queue_drops_and_counts() -> None:
    gateway = gateway_in(Mode.SHADOW, "GET /same/{n}", shadow_queue_size=1, shadow_concurrency=1)
    gateway.shadow.noise_rate = 0
    transport = httpx.ASGITransport(app=gateway)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answers = await asyncio.gather(*(client.get(f"/same/{n}") for n in range(20)))
    await settled(gateway)
    counts = gateway.shadow.counts["GET /same/{n}"]
    assert all(answer.status_code == 200 for answer in answers)
    assert counts.dropped > 0
    assert counts.compared + counts.dropped == 20


async def test_a_body_above_the_limit_is_served_but_not_shadowed() -> None:
    gateway = gateway_in(Mode.SHADOW, "GET /same/{n}", shadow_max_body_size=10)
    answer = await request(gateway, "GET", "/same/1", content=b"x" * 5)
    await settled(gateway)
    assert answer.status_code == 200
    assert gateway.shadow.counts["GET /same/{n}"].compared == 1
    gateway.shadow.max_body_size = 2
    await request(gateway, "GET", "/same/1", content=b"x" * 5)
    await settled(gateway)
    assert gateway.shadow.counts["GET /same/{n}"].not_shadowed == 1


async def test_the_evidence_is_served_to_the_admin_with_secrets_redacted(tmp_path: Any) -> None:
    gateway = gateway_in(
        Mode.SHADOW,
        "GET /differs/{n}",
        state_url=f"sqlite:///{tmp_path / 'state.db'}",
        admin_token="t0ken",
    )
    assert gateway.control.store is not None
    gateway.control.store.create_tables()
    gateway.shadow.noise_rate = 0
    await request(gateway, "GET", "/differs/7", headers={"authorization": "Bearer user-secret"})
    await settled(gateway)
    await gateway.publisher.flush()
    refused = await request(gateway, "GET", "/_cutover/api/diffs")
    assert refused.status_code == 401
    answer = await request(
        gateway, "GET", "/_cutover/api/diffs", headers={"authorization": "Bearer t0ken"}
    )
    assert answer.status_code == 200
    route = answer.json()["routes"]["GET /differs/{n}"]
    assert route["counts"]["mismatched"] == 1
    assert route["match_rate"] == 0
    [group] = route["groups"]
    assert group["shape"] == ["$.price changed"]
    request_document = group["exemplars"][0]["request"]
    assert (request_document["method"], request_document["path"]) == ("GET", "/differs/7")
    assert "user-secret" not in answer.text


async def test_a_full_queue_refuses_before_the_answer_is_recorded() -> None:
    """With no room, the request is not shadowed at all (nothing kept), and counted dropped."""
    from cutover.shadow.answer import Answer
    from cutover.shadow.runner import ShadowJob, ShadowRunner

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("never run: no worker may start")

    runner = ShadowRunner(queue_size=1, concurrency=0)
    route = "GET /same/{n}"
    assert runner.wants(route, "GET")
    assert runner.submit(ShadowJob(route, {}, b"", Answer(200), app, app))
    assert not runner.wants(route, "GET")
    counts = runner.counts[route]
    assert (counts.dropped, counts.not_shadowed) == (1, 0)


async def test_a_route_opted_in_has_its_write_method_shadowed() -> None:
    gateway = gateway_in(Mode.SHADOW, "POST /write", shadow_methods={"POST /write": ["post"]})
    gateway.shadow.noise_rate = 0
    WRITES.clear()
    answer = await request(gateway, "POST", "/write")
    await settled(gateway)
    assert answer.status_code == 200
    assert WRITES == ["legacy", "new"]
    assert gateway.shadow.counts["POST /write"].compared == 1


async def test_a_routes_own_sample_rate_wins_over_the_gateways() -> None:
    gateway = gateway_in(
        Mode.SHADOW,
        "GET /same/{n}",
        "GET /differs/{n}",
        shadow_sample_rate=1.0,
        shadow_sample_rates={"GET /same/{n}": 0.0},
    )
    gateway.shadow.noise_rate = 0
    for n in range(5):
        await request(gateway, "GET", f"/same/{n}")
        await request(gateway, "GET", f"/differs/{n}")
    await settled(gateway)
    counts = gateway.shadow.counts
    assert counts.get("GET /same/{n}") is None or counts["GET /same/{n}"].compared == 0
    assert counts["GET /differs/{n}"].compared == 5


async def test_an_answer_above_the_limit_is_served_but_not_compared() -> None:
    gateway = gateway_in(Mode.SHADOW, "GET /same/{n}", shadow_max_answer_size=10)
    answer = await request(gateway, "GET", "/same/1")
    await settled(gateway)
    counts = gateway.shadow.counts["GET /same/{n}"]
    assert answer.json() == {"n": 1, "name": "widget"}
    assert (counts.compared, counts.not_shadowed) == (0, 1)


async def test_past_its_budget_the_shadow_serves_requests_unshadowed() -> None:
    """A candidate slower than the budget allows: the first replay spends it, the rest of the
    window's requests are served as if unshadowed and counted dropped."""
    finished = asyncio.Event()
    gateway = gateway_in(
        Mode.SHADOW, "GET /slow", shadow_timeout=0.3, shadow_budget=0.001, finished=finished
    )
    gateway.shadow.noise_rate = 0
    gateway.shadow.budget_window = 60.0  # one window for the whole test, however slow
    first = await request(gateway, "GET", "/slow")
    await settled(gateway)  # the replay ran into its timeout: 0.3 s spent, past 0.001 x 60 s
    later = [await request(gateway, "GET", "/slow") for _ in range(3)]
    await settled(gateway)
    counts = gateway.shadow.counts["GET /slow"]
    assert [answer.status_code for answer in (first, *later)] == [200] * 4
    assert counts.timeout == 1
    assert counts.dropped == 3


async def test_a_job_queued_as_the_last_worker_ends_is_still_run() -> None:
    # CI once hung in join(): a job submitted after the only worker had found the queue empty,
    # but before the task's done callback forgot it, waited for a worker that never came.
    async def candidate(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    runner = ShadowRunner(concurrency=1, noise_rate=0)
    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    job = ShadowJob("GET /", scope, b"", Answer(200, [], b"{}"), candidate, candidate)
    loop = asyncio.get_running_loop()
    before = asyncio.all_tasks()
    runner.submit(job)
    [worker] = asyncio.all_tasks() - before

    def submit_once_the_worker_is_done() -> None:
        if worker.done():
            runner.submit(job)
        else:
            loop.call_soon(submit_once_the_worker_is_done)

    loop.call_soon(submit_once_the_worker_is_done)
    await worker
    await asyncio.wait_for(runner.join(), 5)
    assert runner.counts["GET /"].compared == 2
