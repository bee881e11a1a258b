"""cutover.parity plays one sequence on each side of a real gateway (Flask through the bridge,
FastAPI natively) from a fresh state, and fails on every difference not listed as deliberate."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from cutover import Gateway
from cutover.control.modes import LEGACY, Mode
from cutover.parity import (
    Answer,
    ParityError,
    ParityReport,
    RouteNotOnBothSides,
    Step,
    assert_parity,
    bearer,
    compare_sides,
    keep_json_field,
    pinned,
    run_steps,
)
from tests.cutover.stub_parity_apps import Store, make_gateway

pytestmark = pytest.mark.anyio

SEQUENCE = [
    Step("POST", "/items", json={"name": "widget"}),
    Step("GET", "/items/1"),
    Step("GET", "/items/2"),
    Step("POST", "/items", json={}),
]


@pytest.fixture
def store() -> Store:
    return Store()


@contextmanager
def _gateway(store: Store, *quirks: str) -> Iterator[Gateway]:
    gateway = make_gateway(store, quirks)
    try:
        yield gateway
    finally:
        gateway.bridge.close()


@pytest.fixture
def gateway(store: Store) -> Iterator[Gateway]:
    with _gateway(store) as gateway:
        yield gateway


async def test_a_faithful_port_passes_with_every_step_compared(
    gateway: Gateway, store: Store
) -> None:
    report = await assert_parity(gateway, SEQUENCE, reset=store.reset)
    assert isinstance(report, ParityReport)
    assert [result.outcome for result in report.results] == ["same"] * 4
    created = report.results[0]
    assert created.legacy == Answer(
        201,
        {"content-type": "application/json", "location": "/items/1"},
        b'{"id":1,"name":"widget"}\n',
    )
    assert report.results[1].legacy.headers["cache-control"] == "max-age=60"
    assert report.results[2].new.status == 404
    assert report.results[3].new.status == 400
    assert report.text().startswith("4 steps: 0 failed, 0 differ deliberately")


async def test_each_side_is_really_served_by_its_own_app(gateway: Gateway, store: Store) -> None:
    await assert_parity(gateway, SEQUENCE[:2], reset=store.reset)
    assert store.log == [
        "reset",
        "legacy POST /items",
        "legacy GET /items",
        "reset",
        "new POST /items",
        "new GET /items",
    ]


DIFFERENCES = {
    "status": ["#0 DIFFERENT: POST /items json={'name': 'widget'}", "status: legacy 201, new 200"],
    "body": [
        "#1 DIFFERENT: GET /items/1",
        "body (first difference at byte 16):",
        'legacy: b\'{"id":1,"name":"widget"}\\n\'',
        'new:    b\'{"id":1,"name":"WIDGET"}\\n\'',
    ],
    "header": ["#1 DIFFERENT: GET /items/1", "header cache-control: legacy 'max-age=60', new None"],
}


@pytest.mark.parametrize("quirk", DIFFERENCES)
async def test_a_difference_fails_with_a_readable_per_step_diff(quirk: str, store: Store) -> None:
    with _gateway(store, quirk) as gateway:
        with pytest.raises(AssertionError) as failed:
            await assert_parity(gateway, SEQUENCE, reset=store.reset)
        text = str(failed.value)
        assert "4 steps: 1 failed, 0 differ deliberately" in text
        for line in DIFFERENCES[quirk]:
            assert line in text, text


async def test_only_the_compared_headers_count(store: Store) -> None:
    with _gateway(store, "header") as gateway:
        steps = SEQUENCE[:2]
        report = await compare_sides(gateway, steps, reset=store.reset)
        assert [result.outcome for result in report.results] == ["same", "different"]
        narrower = await compare_sides(
            gateway, steps, reset=store.reset, compared_headers=("content-type",)
        )
        assert narrower.passed


async def test_a_listed_difference_is_reported_not_failed(store: Store) -> None:
    reason = "the port answers 200 on create, as the mobile client expects"
    steps = [Step("POST", "/items", json={"name": "widget"}, differs=reason), *SEQUENCE[1:]]
    with _gateway(store, "status") as gateway:
        report = await assert_parity(gateway, steps, reset=store.reset)
        assert report.results[0].outcome == "deliberate"
        assert report.deliberate == [report.results[0]]
        assert f"listed as different: {reason}" in report.text()
        assert "status: legacy 201, new 200" in report.text()


async def test_a_listed_difference_that_no_longer_differs_fails(
    gateway: Gateway, store: Store
) -> None:
    steps = [Step("GET", "/items/1", differs="the port will drop the cache header")]
    with pytest.raises(AssertionError, match=r"#0 LISTED BUT SAME: GET /items/1\n.*cache header"):
        await assert_parity(gateway, steps, reset=store.reset)


async def test_reset_runs_before_each_side_and_without_it_state_leaks(
    gateway: Gateway, store: Store
) -> None:
    report = await compare_sides(gateway, SEQUENCE[:1])
    assert not report.passed  # the new run created item 2: nothing emptied the store between
    assert 'new:    b\'{"id":2,' in report.text()

    calls: list[str] = []

    async def async_reset() -> None:
        calls.append("async reset")
        store.reset()

    assert (await compare_sides(gateway, SEQUENCE, reset=async_reset)).passed
    assert calls == ["async reset", "async reset"]


async def test_a_route_the_new_side_lacks_is_refused_before_anything_is_sent(
    gateway: Gateway, store: Store
) -> None:
    steps = [Step("POST", "/items", json={"name": "x"}), Step("GET", "/reports")]
    with pytest.raises(RouteNotOnBothSides) as refused:
        await compare_sides(gateway, steps, reset=store.reset)
    message = str(refused.value)
    assert "step #1 GET /reports" in message
    assert "the FastAPI (new) side has no route GET /reports" in message
    assert "one_side=" in message
    assert store.log == []

    setup = [Step("GET", "/reports", one_side="reports are not ported yet"), *SEQUENCE[:1]]
    assert (await compare_sides(gateway, setup, reset=store.reset)).passed


async def test_a_gateway_without_a_new_app_is_refused(store: Store) -> None:
    from tests.cutover.stub_parity_apps import make_legacy

    gateway = Gateway(make_legacy(store), access_log=False)
    try:
        with pytest.raises(RouteNotOnBothSides, match="no new app"):
            await compare_sides(gateway, SEQUENCE)
    finally:
        gateway.bridge.close()


async def test_tokens_each_side_mints_are_kept_and_sent_per_side(
    gateway: Gateway, store: Store
) -> None:
    steps = [
        Step("POST", "/tokens", keep=keep_json_field("token", "alice")),
        Step("GET", "/me", auth=bearer("alice")),
        Step("GET", "/me", auth=bearer("nobody")),
    ]
    report = await assert_parity(gateway, steps, reset=store.reset)
    assert report.results[0].legacy.body == b'{"token":"<token>"}\n'
    assert [result.new.status for result in report.results] == [200, 200, 401]
    assert "auth=bearer('alice')" in report.results[1].step.label

    legacy_answers = await run_steps(gateway, steps, side="legacy", reset=store.reset)
    unmasked = await run_steps(gateway, steps[:1], side="new", reset=store.reset, masks=())
    assert legacy_answers[1].status == 200
    assert re.fullmatch(rb'\{"token":"new-1"\}\n', unmasked[0].body)


async def test_a_pinned_gateway_changes_only_its_own_memory(gateway: Gateway) -> None:
    before = gateway.control.choices
    assert before["GET /items/{item_id}"].mode.mode is Mode.NEW
    with pinned(gateway, "legacy") as table:
        assert gateway.control.choices is table
        assert {choice.mode for choice in table.values()} == {LEGACY}
        with pytest.raises(ParityError, match="already pinned"), pinned(gateway, "new"):
            pass
    assert gateway.control.choices is before


async def test_a_mode_switched_during_a_run_is_refused(gateway: Gateway, store: Store) -> None:
    def switch_midway() -> None:
        gateway.control.choices = dict(gateway.control.choices)

    steps = [Step("GET", "/items/1", before=switch_midway)]
    with pytest.raises(ParityError, match="modes were switched during the legacy run"):
        await compare_sides(gateway, steps, reset=store.reset)


async def test_a_json_null_body_is_sent_and_absent_means_no_body(
    gateway: Gateway, store: Store
) -> None:
    steps = [Step("POST", "/items", json=None), Step("POST", "/items")]
    report = await assert_parity(gateway, steps, reset=store.reset)
    assert [result.legacy.status for result in report.results] == [400, 400]
    assert "json=None" in steps[0].label
    assert "json" not in steps[1].label


def test_a_label_shows_what_a_step_sends_but_no_credentials() -> None:
    step = Step(
        "POST",
        "/items",
        data={"name": "x"},
        headers={"Authorization": "Bearer s3cret", "Cookie": "session=s3cret", "X-Trace": "1"},
    )
    assert step.label == (
        "POST /items data={'name': 'x'} headers={'Authorization': '<redacted>', "
        "'Cookie': '<redacted>', 'X-Trace': '1'}"
    )
    assert len(Step("POST", "/items", content="x" * 1000).label) == 200
