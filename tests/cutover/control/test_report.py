"""`cutover report`: routes and traffic per side, modes, shadow match rates, last switches and
what to port next, as text, JSON and Markdown, from the state store (and `--app`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import insert

from cutover.cli import main
from cutover.control.modes import Mode, RouteMode
from cutover.control.store import StateStore, now
from cutover.control.tables import shadow_counts_table
from cutover.observe.traffic import write_traffic
from tests.cutover.control.conftest import BOTH, LEGACY_ONLY, LISTED, SHADOWED, ready_store


def _traffic(route: str, side: str, requests: int) -> dict[str, object]:
    return {
        "process_id": "p1",
        "route": route,
        "side": side,
        "at": now() - timedelta(minutes=5),
        "requests": requests,
        "errors": 0,
        "seconds": 0.1 * requests,
        **{f"b{index}": 0 for index in range(14)},
    }


@pytest.fixture
def store(state_url: str) -> Iterator[StateStore]:
    store = ready_store(state_url)
    store.switch(LISTED, RouteMode(Mode.CANARY, 50), actor="ann", reason="half | way")
    store.switch(BOTH, RouteMode(Mode.LEGACY), actor="bob", reason="a bug")
    rows = [
        _traffic(BOTH, "legacy", 30),
        _traffic(LISTED, "new", 10),
        _traffic(LISTED, "legacy", 10),
        _traffic(LEGACY_ONLY, "legacy", 50),
    ]
    write_traffic(store, rows, None)
    with store.engine.begin() as connection:
        connection.execute(
            insert(shadow_counts_table),
            [{"process_id": "p1", "route": SHADOWED, "at": now(), "compared": 4, "matched": 3}],
        )
    yield store
    store.dispose()


def _report(state_url: str, capsys: pytest.CaptureFixture[str], *flags: str) -> str:
    assert main(["report", "--state-url", state_url, *flags]) == 0
    return capsys.readouterr().out


def test_the_json_report(
    store: StateStore, state_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(_report(state_url, capsys, "--json"))
    routes = document["routes"]
    # 5 routes: NEW_ONLY on new, LISTED a 50% canary, SHADOWED (legacy answers), BOTH legacy.
    assert routes["total"] == 5
    assert routes["on_new"] == 1.5
    assert routes["share_new"] == 0.3
    assert routes["by_mode"] == {"canary": 1, "legacy": 2, "new": 1, "shadow": 1}
    assert document["traffic"] == {"hours": 24.0, "legacy": 90, "new": 10, "share_new": 0.1}
    assert document["shadow"] == [
        {"route": SHADOWED, "mode": "shadow", "compared": 4, "match_rate": 0.75}
    ]
    assert [change["route"] for change in document["switches"]] == [BOTH, LISTED]
    assert document["port_next"] == [{"route": LEGACY_ONLY, "requests": 50}]


def test_the_text_report(
    store: StateStore, state_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _report(state_url, capsys)
    assert "1.5/5 routes on the FastAPI side (30%)" in text
    assert "10/100 requests on the FastAPI side in the last 24 h (10%)" in text
    assert "canary 1, legacy 2, new 1, shadow 1" in text
    assert "[#########---------------------]" in text
    assert f"{SHADOWED}  shadow  4         75%" in text
    assert "canary 50%" in text and "bob" in text
    assert f"{LEGACY_ONLY}  50" in text


def test_the_markdown_report(
    store: StateStore, state_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    markdown = _report(state_url, capsys, "--markdown", "--switches", "1")
    assert markdown.startswith("## Migration progress (")
    assert "- **Routes:** 1.5/5 routes on the FastAPI side (30%)" in markdown
    assert f"| `{SHADOWED}` | shadow | 4 | 75% |" in markdown
    assert "| at | route | from | to | actor | reason |" in markdown
    assert "bob | a bug |" in markdown and "half \\| way" not in markdown  # only the last one
    assert f"| `{LEGACY_ONLY}` | 50 |" in markdown


def test_a_report_without_a_store_is_an_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CUTOVER_STATE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["report"]) == 2
    assert "no state store" in capsys.readouterr().err


def test_a_report_of_an_app_alone_gives_its_modes_from_code(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CUTOVER_STATE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["report", "--app", "tests.cutover.stub_routing_apps:gateway", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["routes"]["total"] > 0
    assert document["traffic"]["share_new"] is None
    assert document["switches"] == []
