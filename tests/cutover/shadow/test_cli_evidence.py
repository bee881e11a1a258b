"""`cutover diffs` and `cutover replay`, run as real subprocesses on evidence a gateway wrote."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from cutover.control.store import StateStore
from cutover.shadow.evidence import EvidenceStore
from tests.cutover.control.test_cli import run_cutover
from tests.cutover.shadow.evidence_helpers import close, shadowed
from tests.cutover.shadow.stub_evidence import PRICE, STAMPED, shadowing

pytestmark = pytest.mark.anyio

APP = "tests.cutover.shadow.stub_evidence:gateway"


@pytest.fixture
async def evidence(state_url: str) -> AsyncIterator[StateStore]:
    """Evidence of one mismatching route and one noisy route, as a gateway process wrote it."""
    store = StateStore(state_url)
    store.create_tables()
    gateway = shadowing(state_url)
    try:
        await shadowed(gateway, "/price/1", "/stamped", headers={"authorization": "Bearer u"})
    finally:
        close(gateway)
    yield store
    store.dispose()


async def test_diffs_prints_counts_groups_and_the_rule_to_paste(
    evidence: StateStore, state_url: str
) -> None:
    result = run_cutover("diffs", "--state-url", state_url)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert f"{PRICE}\n  compared 1, matched 0, mismatched 1," in text
    assert "  match rate: 0.0%" in text
    assert "    1x  $.price changed" in text
    assert "        $.price changed: 10 -> 11" in text
    assert "    $.at  seen 1 of 1 runs (100%)" in text
    assert f"    {STAMPED!r}: CompareRules(ignore=['$.at'])," in text


async def test_diffs_json_is_the_api_document_and_takes_one_route(
    evidence: StateStore, state_url: str
) -> None:
    everything = run_cutover("diffs", "--state-url", state_url, "--json")
    assert everything.returncode == 0, everything.stderr
    assert json.loads(everything.stdout) == EvidenceStore(evidence).document()
    one = run_cutover("diffs", "GET", "/price/{n}", "--json", env={"CUTOVER_STATE_URL": state_url})
    assert list(json.loads(one.stdout)["routes"]) == [PRICE]
    half = run_cutover("diffs", "GET", "--state-url", state_url)
    assert half.returncode == 2
    assert "give both METHOD and PATH" in half.stderr


async def test_replay_exits_1_until_the_port_is_fixed(evidence: StateStore, state_url: str) -> None:
    args = ("replay", "GET", "/price/{n}", "--app", APP, "--state-url", state_url)
    before = run_cutover(*args)
    assert before.returncode == 1, before.stderr
    assert "STILL DIFFERS: $.price changed (1 seen)" in before.stdout
    assert "$.price changed: 10 -> 11" in before.stdout
    assert "not replayed (redacted when stored; pass --header): authorization" in before.stdout
    after = run_cutover(
        *args, "--header", "Authorization: Bearer test", "--json", env={"CUTOVER_TEST_FIXED": "1"}
    )
    assert after.returncode == 0, after.stderr
    report = json.loads(after.stdout)
    assert (report["still_differs"], report["not_replayed_headers"]) == (False, [])
    assert [group["still_differs"] for group in report["groups"]] == [False]
    bad = run_cutover(*args, "--header", "no colon")
    assert bad.returncode == 2
    assert "--header is 'Name: value'" in bad.stderr
