"""Every ported endpoint answers the same request sequence as its legacy route, on one database:
through the gateway (`cutover.parity`, each side pinned in turn), and as the FastAPI app alone."""

from collections.abc import Callable
from dataclasses import replace

import pytest
from fastapi import FastAPI

from cutover import Gateway
from cutover.parity import Step, compare_answers, compare_sides, run_steps
from tests.legacy.upstream import UpstreamServer
from tests.parity.cases import CASES
from tests.parity.harness import standalone, with_upstream

pytestmark = pytest.mark.anyio


@pytest.fixture
def steps(request: pytest.FixtureRequest, upstream: UpstreamServer) -> list[Step]:
    return with_upstream(CASES[request.param], upstream)


@pytest.fixture
def fresh(reset: Callable[[], None], upstream: UpstreamServer) -> Callable[[], None]:
    """Empty tables and an upstream answering JSON, before each side's run."""

    def fresh() -> None:
        reset()
        upstream.set_behaviour("json")

    return fresh


@pytest.mark.parametrize("steps", CASES, indirect=True)
async def test_same_answers_through_the_gateway(
    steps: list[Step],
    gateway: Gateway,
    legacy_gateway: Gateway,
    fresh: Callable[[], None],
) -> None:
    report = await compare_sides(gateway, steps, reset=fresh)
    assert report.passed, report.text()

    # Pinned to legacy, the gateway with its ports answers as the legacy app alone: its own
    # answers (405s, OPTIONS, redirects for ported paths) are Flask's too.
    alone = await run_steps(legacy_gateway, steps, reset=fresh)
    pinned_legacy = [result.legacy for result in report.results]
    agree = compare_answers([replace(step, differs=None) for step in steps], alone, pinned_legacy)
    assert agree.passed, f"legacy: Flask alone; new: the gateway pinned to legacy\n{agree.text()}"


@pytest.mark.parametrize("steps", CASES, indirect=True)
async def test_same_answers_from_the_fastapi_app_alone(
    steps: list[Step],
    legacy_gateway: Gateway,
    fastapi_app: FastAPI,
    fresh: Callable[[], None],
) -> None:
    """Its compat layer answers 404s, 405s, HEAD and OPTIONS the gateway would hand to Flask."""
    steps = standalone(steps)
    expected = await run_steps(legacy_gateway, steps, reset=fresh)
    actual = await run_steps(fastapi_app, steps, reset=fresh)
    report = compare_answers(steps, expected, actual)
    assert report.passed, report.text()
