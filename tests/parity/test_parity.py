"""Every ported endpoint answers the same request sequence as its legacy route, on one database."""

import httpx
import pytest
from sqlalchemy import Engine

from tests.database import truncate_all
from tests.legacy.upstream import UpstreamServer
from tests.parity.cases import CASES
from tests.parity.harness import Answer, Step, normalise, send

pytestmark = pytest.mark.anyio


async def replay(
    client: httpx.AsyncClient, steps: list[Step], upstream: UpstreamServer
) -> list[Answer]:
    tokens: dict[str, str] = {}
    answers = []
    for step in steps:
        if step.upstream is not None:
            upstream.set_behaviour(step.upstream)  # type: ignore[arg-type]
        answers.append(normalise(await send(client, step, tokens)))
    upstream.set_behaviour("json")
    return answers


@pytest.mark.parametrize("case", CASES)
async def test_same_answers(
    request: pytest.FixtureRequest,
    case: str,
    legacy: httpx.AsyncClient,
    new: httpx.AsyncClient,
    clean_db: Engine,
    upstream: UpstreamServer,
) -> None:
    steps = CASES[case]
    expected = await replay(legacy, steps, upstream)
    truncate_all(clean_db)
    actual = await replay(new, steps, upstream)

    standalone = request.node.callspec.params["new"] == "standalone"
    mismatches = []
    for index, (step, old, ported) in enumerate(zip(steps, expected, actual, strict=True)):
        reason = step.differs or (step.standalone_differs if standalone else None)
        if reason is not None:
            assert old != ported, f"#{index} listed as different but is not: {reason}"
        elif old != ported:
            mismatches.append(f"#{index} {step.label}\n  legacy: {old}\n  new:    {ported}")
    assert not mismatches, "\n".join(mismatches)
