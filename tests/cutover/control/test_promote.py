"""Promotions gated by evidence, on each state backend: the walk to new on healthy traffic, the
hold on thin evidence, the brake back to legacy (audited) on a failing new side or shadow
mismatches, a manual switch stopping it, and the lease letting one driver act at a time.

Ticks are driven by hand on a clock the test moves: nothing sleeps and nothing runs behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert

from cutover.control.driver import PromotionDriver
from cutover.control.gate import judge
from cutover.control.modes import LEGACY, NEW, Mode, ModeRefused, RouteMode
from cutover.control.promote import Promotions
from cutover.control.promotion import State, Thresholds, parse_duration, parse_steps
from cutover.control.tables import TRAFFIC_BUCKETS, shadow_counts_table
from cutover.observe.traffic import SideTraffic
from cutover.shadow.runner import ShadowCounts
from tests.cutover.control.stub_promotion import ROUTE, Rig, rig

pytestmark = pytest.mark.anyio

INTERVAL = 0.2
GATES = Thresholds(min_samples=10, max_p99_ratio=1000)  # in-process latency is noise here


def start(one: Rig, steps: str = "10,50,100", thresholds: Thresholds = GATES) -> Promotions:
    promotions = Promotions(one.store, clock=one.clock)
    promotions.start(
        ROUTE,
        steps=parse_steps(steps),
        interval=INTERVAL,
        thresholds=thresholds,
        actor="alice",
        reason="ported",
    )
    one.follow()
    return promotions


def mode_of(one: Rig) -> RouteMode:
    return one.store.read_state().overrides[ROUTE].mode


async def test_healthy_traffic_walks_every_step_to_new(state_url: str) -> None:
    with rig(state_url) as one:
        promotions = start(one)
        driver = PromotionDriver(one.store, "driver-a", clock=one.clock)
        assert mode_of(one) == RouteMode(Mode.CANARY, 10)
        for percent in (10, 50, 100):
            assert await one.send("new", 12, percent) == [200] * 12
            if percent < 100:
                assert await one.send("legacy", 12, percent) == [200] * 12
            one.publish()
            one.clock.advance(INTERVAL / 2)
            (early,) = driver.tick()
            assert early.state is State.RUNNING and early.steps[early.step] == percent
            assert "so far pass" in early.message
            one.clock.advance(INTERVAL)
            (moved,) = driver.tick()
            one.follow()
        assert moved.state is State.COMPLETED
        assert mode_of(one) == NEW
        assert one.gateway.control.choices[ROUTE].label == "new"
        history = one.store.history(ROUTE)
        done = promotions.get(ROUTE)
    assert done is not None and done.state is State.COMPLETED and done.leader is None
    assert [str(change.after) for change in reversed(history)] == [
        "canary 10%",
        "canary 50%",
        "canary 100%",
        "new",
    ]
    assert history[0].actor == "alice"
    assert history[0].reason.startswith("promotion complete, step 3 of 3 (canary 100%) passed")
    assert history[1].reason.startswith("promotion step 3 of 3 (canary 100%): step 2 of 3")
    assert "legacy 24," in history[0].reason  # legacy compared since before the step


async def test_too_few_samples_hold_the_step_and_never_pass(state_url: str) -> None:
    with rig(state_url) as one:
        promotions = start(one)
        driver = PromotionDriver(one.store, "driver-a", clock=one.clock)
        await one.send("new", 3, 10)
        await one.send("legacy", 30, 10)
        one.publish()
        one.clock.advance(INTERVAL * 5)
        (held,) = driver.tick()
        assert held.state is State.HOLDING
        assert held.message == (
            "holding at step 1 of 3 (canary 10%): too few samples: 3 answers on new, need 10"
        )
        assert mode_of(one) == RouteMode(Mode.CANARY, 10)
        stored = promotions.get(ROUTE)
        assert stored is not None and stored.state is State.HOLDING
        await one.send("new", 9, 10)
        one.publish()
        (moved,) = driver.tick()
    assert moved.state is State.RUNNING and moved.step == 1
    assert "step 1 of 3 (canary 10%) passed: new 12 answers" in moved.message


async def test_a_failing_new_side_rolls_back_to_legacy_at_once(state_url: str) -> None:
    with rig(state_url) as one:
        promotions = start(one, steps="50,100")
        driver = PromotionDriver(one.store, "driver-a", clock=one.clock)
        await one.send("legacy", 20)
        one.fault.on = True
        assert await one.send("new", 10) == [500] * 10
        one.publish()
        one.clock.advance(INTERVAL / 10)  # long before the step's interval is over
        (braked,) = driver.tick()
        assert braked.state is State.ROLLED_BACK
        assert mode_of(one) == LEGACY
        one.follow()
        served = len(one.fault.served)
        assert await one.send("new", 5) == [200] * 5  # clients that were on new: legacy now
        assert len(one.fault.served) == served
        (change, *_) = one.store.history(ROUTE)
        stored = promotions.get(ROUTE)
        assert driver.tick() == []  # a rolled-back promotion is not driven again
    assert (str(change.before), str(change.after)) == ("canary 50%", "legacy")
    assert change.reason == (
        "promotion brake, error-rate gate failed at step 1 of 2 (canary 50%): error rate on new "
        "100.0% (10 of 10) vs legacy 0.0% (0 of 20): more than +1.0%"
    )
    assert stored is not None and stored.state is State.ROLLED_BACK
    assert stored.message.startswith("rolled back to legacy at step 1 of 2 (canary 50%)")


async def test_shadow_mismatches_in_the_window_roll_back(state_url: str) -> None:
    with rig(state_url) as one:
        start(one, steps="50,100")
        driver = PromotionDriver(one.store, "driver-a", clock=one.clock)
        await one.send("legacy", 20)
        await one.send("new", 20)
        one.publish()
        one.clock.advance(INTERVAL * 2)
        row = {name: 0 for name in ShadowCounts.__slots__}
        with one.store.engine.begin() as connection:
            connection.execute(
                insert(shadow_counts_table).values(
                    process_id="elsewhere",
                    route=ROUTE,
                    at=one.clock(),
                    **{**row, "compared": 40, "matched": 30, "mismatched": 10},
                )
            )
        (braked,) = driver.tick()
        change = one.store.history(ROUTE)[0]
    assert braked.state is State.ROLLED_BACK
    assert change.after == LEGACY
    assert "mismatch-rate gate" in change.reason
    assert "mismatch rate 25.0% (10 of 40 shadowed requests): more than 1.0%" in change.reason


async def test_a_manual_switch_stops_the_promotion(state_url: str) -> None:
    with rig(state_url) as one:
        start(one)
        driver = PromotionDriver(one.store, "driver-a", clock=one.clock)
        one.store.switch(ROUTE, RouteMode(Mode.CANARY, 30), actor="bob", reason="by hand")
        (stopped,) = driver.tick()
        assert mode_of(one) == RouteMode(Mode.CANARY, 30)  # the driver left bob's mode alone
        assert driver.tick() == []
    assert stopped.state is State.CANCELLED
    assert "switched to canary 30% by bob (version 2: by hand)" in stopped.message


async def test_cancel_stops_it_where_it_is_and_a_new_one_may_start(state_url: str) -> None:
    with rig(state_url) as one:
        promotions = start(one)
        with pytest.raises(ModeRefused, match="being promoted already"):
            start(one)
        cancelled = promotions.cancel(ROUTE, actor="carol", reason="not today")
        assert mode_of(one) == RouteMode(Mode.CANARY, 10)
        with pytest.raises(ModeRefused, match="no promotion running"):
            promotions.cancel(ROUTE, actor="carol", reason="again")
        start(one, steps="100")
        (active,) = promotions.all(active=True)
    assert cancelled.state is State.CANCELLED and "cancelled by carol" in cancelled.message
    assert cancelled.leader is None
    assert (active.state, active.steps, active.step) == (State.RUNNING, (100.0,), 0)


async def test_one_driver_holds_the_lease_and_another_takes_over_after_it_expires(
    state_url: str,
) -> None:
    with rig(state_url) as one:
        promotions = start(one)
        first = PromotionDriver(one.store, "driver-a", clock=one.clock, lease=1.0)
        second = PromotionDriver(one.store, "driver-b", clock=one.clock, lease=1.0)
        assert [p.leader for p in first.tick()] == ["driver-a"]
        assert second.tick() == []
        one.clock.advance(0.5)
        assert second.tick() == []  # renewed by nobody, but not expired yet
        assert len(first.tick()) == 1  # the leader renews
        one.clock.advance(1.5)  # the leader died: its lease runs out
        assert [p.leader for p in second.tick()] == ["driver-b"]
        assert first.tick() == []
        stored = promotions.get(ROUTE)
    assert stored is not None and stored.leader == "driver-b"
    assert stored.lease_expires_at == one.clock() + timedelta(seconds=1)


def test_the_gate_weighs_p99_against_legacy_and_the_floor() -> None:
    def side(requests: int, bucket: int) -> SideTraffic:
        buckets = [0] * TRAFFIC_BUCKETS
        buckets[bucket] = requests
        return SideTraffic(requests=requests, buckets=tuple(buckets))

    fast, slow = side(50, 1), side(50, 6)  # 1-2.5 ms, 50-100 ms
    verdict = judge(fast, slow, None, Thresholds(min_samples=10))
    assert (verdict.outcome, verdict.gate) == ("fail", "p99")
    assert verdict.message == "p99 on new 99.5 ms vs legacy 2.5 ms: more than 1.5x"
    tiny = judge(side(50, 0), side(50, 0), None, GATES)
    assert tiny.outcome == "pass"
    thin_legacy = judge(side(5, 0), fast, None, GATES)
    assert thin_legacy.message == "too few samples: 5 answers on legacy to compare with, need 10"
    assert judge(side(5, 0), fast, None, GATES, baseline=side(40, 1)).outcome == "pass"
    assert judge(fast, side(5, 0), None, GATES).outcome == "hold"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("5,1,100", "steps go up"),
        ("1,5,50", "the last step is 100"),
        ("0,100", "more than 0"),
        ("1,x", "comma-separated"),
        ("1,150", "between 0 and 100"),
    ],
)
def test_bad_steps_are_refused(spec: str, message: str) -> None:
    with pytest.raises(ModeRefused, match=message):
        parse_steps(spec)


def test_durations() -> None:
    assert [parse_duration(text) for text in ("60s", "5m", "1h", "250ms", "0.2")] == [
        60.0,
        300.0,
        3600.0,
        0.25,
        0.2,
    ]
    with pytest.raises(ModeRefused, match="like 60s"):
        parse_duration("soon")
    with pytest.raises(ModeRefused, match="more than zero"):
        parse_duration("0s")


async def test_rows_published_while_a_step_settles_are_left_out_of_its_window(
    state_url: str,
) -> None:
    """Answers published just after a switch may have been served under the mode before it."""
    with rig(state_url) as one:
        start(one, steps="50,100")
        driver = PromotionDriver(one.store, "driver-a", clock=one.clock, settle=INTERVAL)
        await one.send("new", 12)
        await one.send("legacy", 12)
        one.clock.advance(INTERVAL / 2)
        one.publish()  # stamped inside the settling time: not this step's evidence
        one.clock.advance(INTERVAL * 2)
        (held,) = driver.tick()
        assert held.state is State.HOLDING
        assert "too few samples: 0 answers on new" in held.message
        await one.send("new", 12)
        await one.send("legacy", 12)
        one.publish()
        (moved,) = driver.tick()
    assert moved.state is State.RUNNING and moved.step == 1
    assert "step 1 of 2 (canary 50%) passed: new 12 answers" in moved.message
