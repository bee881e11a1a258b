"""Replay: the stored exemplars of a route re-sent to both sides now, a group reported gone once
the port is fixed and still there before; the test helper fails with the diff, then passes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cutover import Gateway
from cutover.control.store import StateStore
from cutover.shadow.replay import app_lifespan, replay_route
from cutover.testing import assert_replay_matches
from tests.cutover.shadow import stub_evidence
from tests.cutover.shadow.evidence_helpers import close, shadowed
from tests.cutover.shadow.stub_evidence import PRICE, STAMPED, fix, shadowing, slow_price

pytestmark = pytest.mark.anyio


@pytest.fixture
def gateway(state_url: str) -> Iterator[Gateway]:
    gateway = shadowing(state_url)
    assert gateway.control.store is not None
    gateway.control.store.create_tables()
    fix(False)
    yield gateway
    fix(False)
    close(gateway)


@pytest.fixture
def store(gateway: Gateway) -> StateStore:
    assert gateway.control.store is not None
    return gateway.control.store


async def test_a_group_is_reported_until_the_port_is_fixed(
    gateway: Gateway, store: StateStore
) -> None:
    await shadowed(gateway, "/price/1", "/price/100", headers={"authorization": "Bearer user"})
    before = await replay_route(gateway, PRICE, store)
    assert before.still_differs
    assert sorted((group.shape, group.still_differs) for group in before.groups) == [
        (("$.name changed", "$.price changed"), True),
        (("$.price changed",), True),
    ]
    assert "$.price changed: 10 -> 11" in before.text()
    assert before.not_replayed_headers == ["authorization"]
    fix()
    after = await replay_route(gateway, PRICE, store)
    assert not after.still_differs
    assert [group.still_differs for group in after.groups] == [False, False]
    assert "gone: $.price changed" in after.text()


async def test_given_headers_replace_the_redacted_ones(gateway: Gateway, store: StateStore) -> None:
    await shadowed(gateway, "/price/1", headers={"authorization": "Bearer user"})
    stub_evidence.SEEN_AUTHORIZATION.clear()
    report = await replay_route(gateway, PRICE, store, headers=[("Authorization", "Bearer test")])
    assert report.not_replayed_headers == []
    assert stub_evidence.SEEN_AUTHORIZATION == ["Bearer test"]


async def test_noise_has_no_group_and_a_candidate_too_slow_still_differs(
    gateway: Gateway, store: StateStore
) -> None:
    await shadowed(gateway, "/stamped", "/price/1")
    assert (await replay_route(gateway, STAMPED, store)).groups == []
    slow_price()
    try:
        report = await replay_route(gateway, PRICE, store, timeout=0.05)
    finally:
        slow_price(False)
    [group] = report.groups
    [replayed] = group.replays
    assert replayed.differs and replayed.comparison is None
    assert replayed.error == "no answer within 0.05 s"
    assert "no answer within 0.05 s" in report.text()


async def test_the_helper_fails_with_the_diff_then_passes(gateway: Gateway, state_url: str) -> None:
    await shadowed(gateway, "/price/1")
    with pytest.raises(AssertionError, match=r"\$\.price changed: 10 -> 11"):
        await assert_replay_matches(gateway, PRICE, state_url=state_url)
    fix()
    report = await assert_replay_matches(gateway, PRICE, state_url=state_url, lifespan=True)
    assert [group.still_differs for group in report.groups] == [False]


async def test_an_app_without_lifespan_support_is_replayed_as_is() -> None:
    async def no_lifespan(scope: object, receive: object, send: object) -> None:
        raise RuntimeError("lifespan is not supported")

    async with app_lifespan(no_lifespan):
        entered = True
    assert entered
