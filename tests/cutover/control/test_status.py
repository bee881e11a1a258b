"""The documents `cutover status/history --json` and the admin API answer with."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from cutover.control.modes import LEGACY, NEW, Mode, ProcessReport, RouteMode, RouteSides
from cutover.control.status import change_document, history_document, status_document
from cutover.control.store import StateStore, routes_table
from tests.cutover.control.conftest import BOTH, LEGACY_ONLY, LISTED, ROUTES, SHADOWED


def process(number: int, version: int | None) -> ProcessReport:
    at = datetime.now(UTC)
    return ProcessReport(f"box:{number}:x", "box", number, at, at, version, healthy=True)


def test_status_shows_each_route_and_who_set_it_and_each_process(store: StateStore) -> None:
    store.switch(BOTH, RouteMode(Mode.CANARY, 12.5), actor="alice", reason="canary")
    store.switch(LISTED, LEGACY, actor="bob", reason="rollback")
    for number, version in [(1, 2), (2, 2), (3, 1)]:
        store.report_process(process(number, version))
    document = status_document(store)
    json.dumps(document)  # JSON-ready as it is
    assert document["version"] == 2
    assert document["summary"] == "2 of 3 processes on version 2"
    routes = {route["route"]: route for route in document["routes"]}
    assert list(routes) == sorted(sides.route for sides in ROUTES)
    canary = routes[BOTH]
    assert canary == {
        "route": BOTH,
        "method": "GET",
        "path": "/items/{item_id}",
        "legacy": True,
        "new": True,
        "default": {"mode": "new", "percent": 0.0},
        "mode": "canary",
        "percent": 12.5,
        "source": "override",
        "actor": "alice",
        "reason": "canary",
        "at": canary["at"],
        "version": 1,
        "problem": None,
    }
    assert canary["at"].endswith("Z")
    shadowed = routes[SHADOWED]
    assert (shadowed["mode"], shadowed["source"], shadowed["actor"], shadowed["version"]) == (
        "shadow",
        "default",
        None,
        None,
    )
    assert [(p["pid"], p["version"], p["current"]) for p in document["processes"]] == [
        (1, 2, True),
        (2, 2, True),
        (3, 1, False),
    ]


def test_status_flags_overrides_the_published_sides_no_longer_allow(store: StateStore) -> None:
    store.switch(BOTH, NEW, actor="alice", reason="ported")
    store.publish_routes([RouteSides(BOTH, legacy=True, new=False, default=LEGACY)])
    store.switch(LEGACY_ONLY, LEGACY, actor="alice", reason="pin")
    with store.engine.begin() as connection:
        connection.execute(routes_table.delete().where(routes_table.c.route == LEGACY_ONLY))
    document = status_document(store)
    routes = {route["route"]: route for route in document["routes"]}
    assert routes[BOTH]["problem"] == f"{BOTH} cannot be new: the new side has no such route"
    assert [orphan["route"] for orphan in document["unpublished_overrides"]] == [LEGACY_ONLY]
    assert document["summary"] == "no live processes reporting (version 2)"


def test_one_process_is_singular(store: StateStore) -> None:
    store.report_process(process(1, 0))
    assert status_document(store)["summary"] == "1 of 1 process on version 0"


def test_change_and_history_documents(store: StateStore) -> None:
    first = store.switch(BOTH, LEGACY, actor="alice", reason="one")
    second = store.switch(BOTH, RouteMode(Mode.CANARY, 5), actor="bob", reason="two")
    assert change_document(first) == {
        "version": 1,
        "route": BOTH,
        "method": "GET",
        "path": "/items/{item_id}",
        "before": {"mode": "new", "percent": 0.0},
        "after": {"mode": "legacy", "percent": 0.0},
        "actor": "alice",
        "reason": "one",
        "at": first.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    document = history_document(store.history())
    assert [change["version"] for change in document["changes"]] == [2, 1]
    assert document["changes"][0] == change_document(second)
