"""The gateway serves each route both sides have by its mode: legacy, new, canary by client key,
and the shadow slots (which answer from legacy and new respectively until shadowing lands)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI, Request

from cutover import Gateway
from cutover.control.modes import Mode, ModeRefused, ModeState, Override, RouteMode, default_mode
from tests.cutover.stub_routing_apps import call, make_legacy, make_new

pytestmark = pytest.mark.anyio

ITEM = "GET /items/{item_id}"


def switched(gateway: Gateway, route: str, mode: RouteMode, version: int = 1) -> None:
    now = datetime.now(UTC)
    gateway.control.apply(
        ModeState(version, {route: Override(route, mode, "tester", "test", now, version)})
    )


@pytest.fixture
def gateway() -> Gateway:
    return Gateway(make_legacy(), make_new(), served_by_header=True, access_log=False)


async def test_a_ported_route_is_new_until_switched_to_legacy_and_back(gateway: Gateway) -> None:
    assert (await call(gateway, "GET", "/items/3")).json()["side"] == "new"
    switched(gateway, ITEM, RouteMode(Mode.LEGACY))
    legacy = await call(gateway, "GET", "/items/3")
    assert legacy.json() == {"side": "legacy", "item_id": 3}
    assert legacy.headers["x-cutover-served-by"] == "legacy"
    switched(gateway, ITEM, RouteMode(Mode.NEW), version=2)
    back = await call(gateway, "GET", "/items/3")
    assert back.json()["side"] == "new"
    assert back.headers["x-cutover-served-by"] == "new"
    assert gateway.control.version == 2


async def test_head_follows_the_mode_of_get(gateway: Gateway) -> None:
    switched(gateway, ITEM, RouteMode(Mode.LEGACY))
    head = await call(gateway, "HEAD", "/items/3")
    assert head.status_code == 200
    assert head.headers["x-cutover-served-by"] == "legacy"
    assert head.content == b""


async def test_the_shadow_slots_answer_from_legacy_and_new(gateway: Gateway) -> None:
    switched(gateway, ITEM, RouteMode(Mode.SHADOW))
    assert (await call(gateway, "GET", "/items/3")).json()["side"] == "legacy"
    switched(gateway, ITEM, RouteMode(Mode.REVERSE_SHADOW), version=2)
    assert (await call(gateway, "GET", "/items/3")).json()["side"] == "new"


async def test_a_canary_keeps_each_token_on_one_side_and_splits_by_the_percent(
    gateway: Gateway,
) -> None:
    switched(gateway, ITEM, RouteMode(Mode.CANARY, 30))
    sides: dict[str, str] = {}
    for n in range(300):
        headers = {"authorization": f"Bearer user-{n}"}
        answer = await call(gateway, "GET", "/items/1", headers=headers)
        sides[headers["authorization"]] = answer.json()["side"]
    assert 0.2 < sum(side == "new" for side in sides.values()) / len(sides) < 0.4
    for token, side in list(sides.items())[:30]:
        again = await call(gateway, "GET", "/items/1", headers={"authorization": token})
        assert again.json()["side"] == side


async def test_a_mode_the_route_cannot_take_is_ignored_and_logged(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    # /tickets GET exists on legacy only: it can never be served by new.
    switched(gateway, "GET /tickets", RouteMode(Mode.NEW))
    assert (await call(gateway, "GET", "/tickets")).json() == {"side": "legacy"}
    assert "GET /tickets cannot be new" in caplog.text


async def test_the_request_id_is_honoured_or_made_and_reaches_both_sides(gateway: Gateway) -> None:
    given = await call(gateway, "GET", "/items/1", headers={"x-request-id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await call(gateway, "GET", "/items/1")
    assert len(made.headers["x-request-id"]) == 32
    bad = await call(gateway, "GET", "/items/1", headers={"x-request-id": "no spaces allowed"})
    assert bad.headers["x-request-id"] != "no spaces allowed"


async def test_the_request_id_reaches_the_legacy_environ_and_the_new_request_state() -> None:
    legacy = make_legacy()

    @legacy.get("/echo-id")
    def echo_id() -> Any:
        from flask import request

        return {"id": request.environ.get("HTTP_X_REQUEST_ID")}

    new = FastAPI()

    @new.get("/state-id")
    async def state_id(request: Request) -> dict[str, Any]:
        return {"id": request.state.request_id, "header": request.headers["x-request-id"]}

    gateway = Gateway(legacy, new, access_log=False)
    legacy_answer = await call(gateway, "GET", "/echo-id", headers={"x-request-id": "r-1"})
    assert legacy_answer.json() == {"id": "r-1"}
    new_answer = await call(gateway, "GET", "/state-id", headers={"x-request-id": "r-2"})
    assert new_answer.json() == {"id": "r-2", "header": "r-2"}


async def test_the_served_by_header_is_off_unless_asked() -> None:
    gateway = Gateway(make_legacy(), make_new(), access_log=False)
    assert "x-cutover-served-by" not in (await call(gateway, "GET", "/items/1")).headers


async def test_modes_from_code_by_route_and_by_endpoint_decorator() -> None:
    new = make_new()

    @new.get("/tickets/{ticket_id}")
    @default_mode("shadow")
    async def new_ticket(ticket_id: int) -> dict[str, Any]:
        return {"side": "new"}

    legacy = make_legacy()

    @legacy.get("/tickets/<int:ticket_id>")
    def legacy_ticket(ticket_id: int) -> Any:
        return {"side": "legacy"}

    gateway = Gateway(legacy, new, default_modes={ITEM: "legacy"}, access_log=False)
    assert (await call(gateway, "GET", "/items/1")).json()["side"] == "legacy"
    assert (await call(gateway, "GET", "/tickets/1")).json()["side"] == "legacy"
    assert gateway.control.choices["GET /tickets/{ticket_id}"].label == "shadow"
    # A run-time override wins over the code's default.
    switched(gateway, ITEM, RouteMode(Mode.NEW))
    assert (await call(gateway, "GET", "/items/1")).json()["side"] == "new"


def test_a_default_mode_selecting_a_missing_side_is_refused_at_startup() -> None:
    with pytest.raises(ModeRefused, match="GET /tickets cannot be new"):
        Gateway(make_legacy(), make_new(), default_modes={"GET /tickets": "new"})
    with pytest.raises(ModeRefused, match="does not have"):
        Gateway(make_legacy(), make_new(), default_modes={"GET /nowhere": "legacy"})
