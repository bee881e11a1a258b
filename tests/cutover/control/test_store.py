"""The state store on SQLite and PostgreSQL: the version row, overrides, history, processes."""

from __future__ import annotations

import itertools
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Table, create_engine, func, inspect, select

from cutover.control.modes import (
    LEGACY,
    NEW,
    Mode,
    ModeRefused,
    ProcessReport,
    RouteMode,
    RouteSides,
)
from cutover.control.store import (
    StateNotInitialised,
    StateStore,
    StoreUnavailable,
    history_table,
    overrides_table,
)
from tests.cutover.control.conftest import (
    BOTH,
    LEGACY_ONLY,
    LISTED,
    NEW_ONLY,
    ROUTES,
    SHADOWED,
    ready_store,
)

CANARY_10 = RouteMode(Mode.CANARY, 10)


def count(store: StateStore, table: Table) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_create_tables_is_idempotent_and_starts_at_version_0(state_url: str) -> None:
    store = StateStore(state_url)
    with pytest.raises(StateNotInitialised, match="cutover init-state"):
        store.read_version()
    store.create_tables()
    store.create_tables()
    assert store.read_version() == 0
    state = store.read_state()
    assert (state.version, state.overrides) == (0, {})
    assert store.routes() == []
    assert store.history() == []
    store.dispose()


def test_concurrent_create_tables_from_several_processes_agree(state_url: str) -> None:
    errors: list[BaseException] = []

    def create() -> None:
        store = StateStore(state_url)
        try:
            store.create_tables()
        except BaseException as exc:
            errors.append(exc)
        finally:
            store.dispose()

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store = StateStore(state_url)
    assert store.read_version() == 0
    store.dispose()


def test_publish_routes_upserts_without_moving_the_version(store: StateStore) -> None:
    assert store.routes() == sorted(ROUTES, key=lambda sides: sides.route)
    changed = RouteSides(LEGACY_ONLY, legacy=True, new=True, default=NEW)
    added = RouteSides("DELETE /items/{item_id}", legacy=True, new=False, default=LEGACY)
    store.publish_routes([changed, added])
    routes = {sides.route: sides for sides in store.routes()}
    assert routes[LEGACY_ONLY] == changed
    assert routes["DELETE /items/{item_id}"] == added
    assert len(routes) == len(ROUTES) + 1
    assert store.read_version() == 0


def test_switch_bumps_the_version_and_writes_override_and_history(store: StateStore) -> None:
    change = store.switch(BOTH, LEGACY, actor="alice@box", reason="500s on new")
    assert (change.version, change.route, change.before, change.after) == (1, BOTH, NEW, LEGACY)
    assert (change.actor, change.reason) == ("alice@box", "500s on new")
    assert change.at.tzinfo is UTC
    assert store.read_version() == 1
    state = store.read_state()
    assert state.version == 1
    override = state.overrides[BOTH]
    assert (override.mode, override.actor, override.reason, override.version) == (
        LEGACY,
        "alice@box",
        "500s on new",
        1,
    )
    assert override.at == change.at
    assert store.history() == [change]

    canary = store.switch(BOTH, CANARY_10, actor="bob", reason="try again at 10 %")
    assert (canary.version, canary.before, canary.after) == (2, LEGACY, CANARY_10)
    assert store.read_state().overrides[BOTH].mode == CANARY_10
    assert set(store.read_state().overrides) == {BOTH}


def test_none_resets_a_route_to_its_default_from_code(store: StateStore) -> None:
    store.switch(SHADOWED, NEW, actor="alice", reason="proven")
    reset = store.switch(SHADOWED, None, actor="alice", reason="back to code")
    assert (reset.version, reset.before, reset.after) == (2, NEW, RouteMode(Mode.SHADOW))
    assert store.read_state().overrides == {}
    # A reset with no override is still an audited switch.
    again = store.switch(SHADOWED, None, actor="alice", reason="make sure")
    assert (again.version, again.before, again.after) == (3, reset.after, reset.after)
    assert [change.version for change in store.history()] == [3, 2, 1]


@pytest.mark.parametrize(
    ("route", "mode", "reason", "message"),
    [
        (BOTH, LEGACY, "", "needs a reason"),
        (BOTH, LEGACY, "   ", "needs a reason"),
        ("GET /nowhere", LEGACY, "why", "unknown route 'GET /nowhere': `cutover status` lists"),
        (LEGACY_ONLY, NEW, "why", "GET /reports cannot be new: the new side has no such route"),
        (NEW_ONLY, LEGACY, "why", "cannot be legacy: the legacy side has no such route"),
        (LEGACY_ONLY, CANARY_10, "why", "cannot be canary 10%: the new side has no such route"),
        (NEW_ONLY, RouteMode(Mode.SHADOW), "why", "cannot be shadow: the legacy side"),
    ],
)
def test_refused_switches_leave_no_trace(
    store: StateStore, route: str, mode: RouteMode, reason: str, message: str
) -> None:
    with pytest.raises(ModeRefused, match=re.escape(message)):
        store.switch(route, mode, actor="alice", reason=reason)
    assert store.read_version() == 0
    assert store.read_state().overrides == {}
    assert store.history() == []


def test_an_empty_actor_is_refused(store: StateStore) -> None:
    with pytest.raises(ModeRefused, match="needs an actor"):
        store.switch(BOTH, LEGACY, actor=" ", reason="why")


def test_history_is_newest_first_by_route_and_limited(store: StateStore) -> None:
    store.switch(BOTH, LEGACY, actor="a", reason="one")
    store.switch(LISTED, LEGACY, actor="b", reason="two")
    store.switch(BOTH, CANARY_10, actor="c", reason="three")
    store.switch(BOTH, None, actor="d", reason="four")
    assert [change.reason for change in store.history()] == ["four", "three", "two", "one"]
    assert [change.version for change in store.history()] == [4, 3, 2, 1]
    assert [change.reason for change in store.history(BOTH)] == ["four", "three", "one"]
    assert [change.reason for change in store.history(limit=2)] == ["four", "three"]
    assert [change.reason for change in store.history(LISTED, limit=5)] == ["two"]
    assert store.history("GET /nowhere") == []
    assert all(change.at.tzinfo is UTC for change in store.history())
    with pytest.raises(ModeRefused):
        store.history(limit=0)


def test_switch_all_is_one_version_and_audits_what_changed(store: StateStore) -> None:
    store.switch(LISTED, LEGACY, actor="alice", reason="already rolled back")
    changes = store.switch_all(LEGACY, actor="oncall", reason="big red button")
    # Every route with a legacy side is legacy; one version; history only where it changed.
    assert {change.version for change in changes} == {2}
    assert {change.route: change.before for change in changes} == {
        BOTH: NEW,
        SHADOWED: RouteMode(Mode.SHADOW),
    }
    assert all(change.after == LEGACY for change in changes)
    state = store.read_state()
    assert state.version == 2
    assert {route: override.mode for route, override in state.overrides.items()} == {
        BOTH: LEGACY,
        LISTED: LEGACY,
        SHADOWED: LEGACY,
    }
    assert state.overrides[LISTED].reason == "already rolled back"  # kept who pinned it first
    # Routes one side serves are on it already, and are not pinned to outlive a later port.
    assert LEGACY_ONLY not in state.overrides and NEW_ONLY not in state.overrides
    assert len(store.history()) == 3

    back = store.switch_all(NEW, actor="oncall", reason="fixed")
    assert {change.route for change in back} == {BOTH, LISTED, SHADOWED}
    assert set(store.read_state().overrides) == {BOTH, LISTED, SHADOWED}
    assert store.switch_all(NEW, actor="oncall", reason="again") == []
    assert store.read_version() == 4


@pytest.mark.parametrize("mode", [CANARY_10, RouteMode(Mode.SHADOW)])
def test_switch_all_takes_only_legacy_or_new(store: StateStore, mode: RouteMode) -> None:
    with pytest.raises(ModeRefused, match="legacy or new"):
        store.switch_all(mode, actor="oncall", reason="why")
    with pytest.raises(ModeRefused, match="needs a reason"):
        store.switch_all(LEGACY, actor="oncall", reason="")
    assert store.read_version() == 0


def test_concurrent_switches_get_distinct_consecutive_versions(
    state_url: str, store: StateStore
) -> None:
    """Several writers (each its own StateStore, as separate processes would be) at once."""
    writers, switches = 4, 10
    versions: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(writers)

    def write(index: int) -> None:
        own = StateStore(state_url)
        try:
            start.wait()
            for n in range(switches):
                mode = LEGACY if (n + index) % 2 else CANARY_10
                change = own.switch(BOTH, mode, actor=f"writer {index}", reason=f"{n}")
                with lock:
                    versions.append(change.version)
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=write, args=(index,)) for index in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    total = writers * switches
    assert sorted(versions) == list(range(1, total + 1))
    assert store.read_version() == total
    history = store.history(limit=total + 1)
    assert [change.version for change in history] == list(range(total, 0, -1))
    # Each change's `before` is the previous change's `after`: no lost update.
    oldest_first = list(reversed(history))
    assert oldest_first[0].before == NEW
    for previous, change in itertools.pairwise(oldest_first):
        assert change.before == previous.after
    assert store.read_state().overrides[BOTH].mode == history[0].after
    assert count(store, overrides_table) == 1
    assert count(store, history_table) == total


STARTED = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def report(process_id: str, seen_at: datetime, version: int | None = 3) -> ProcessReport:
    return ProcessReport(
        process_id=process_id,
        host="box",
        pid=int(process_id.split(":")[1]),
        started_at=STARTED,
        seen_at=seen_at,
        version=version,
        healthy=True,
    )


def test_process_reports_are_upserted_listed_when_recent_and_forgotten(
    store: StateStore,
) -> None:
    now = datetime.now(UTC)
    store.report_process(report("box:42:a", now, version=None))
    store.report_process(report("box:43:b", now - timedelta(seconds=60)))
    assert [p.process_id for p in store.processes()] == ["box:42:a"]
    assert store.processes()[0].version is None
    assert [p.process_id for p in store.processes(within=120)] == ["box:42:a", "box:43:b"]

    store.report_process(report("box:42:a", datetime.now(UTC), version=7))
    (listed,) = store.processes()
    assert listed == ProcessReport(
        process_id="box:42:a",
        host="box",
        pid=42,
        started_at=STARTED,
        seen_at=listed.seen_at,
        version=7,
        healthy=True,
    )
    assert listed.seen_at.tzinfo is UTC and listed.started_at.tzinfo is UTC
    store.forget_process("box:42:a")
    store.forget_process("box:42:a")  # twice is fine
    assert store.processes() == []
    # A day-old row goes with the next report.
    store.report_process(report("box:44:c", now - timedelta(days=2)))
    store.report_process(report("box:45:d", now))
    assert [p.process_id for p in store.processes(within=10 * 86400)] == ["box:43:b", "box:45:d"]


def test_an_unreachable_store_raises_store_unavailable(tmp_path: Path) -> None:
    store = StateStore(f"sqlite:///{tmp_path / 'missing' / 'state.db'}")
    with pytest.raises(StoreUnavailable, match="unavailable"):
        store.read_version()
    with pytest.raises(StoreUnavailable):
        store.switch(BOTH, LEGACY, actor="a", reason="b")
    store.dispose()


def test_the_tables_are_cutovers_own(state_url: str) -> None:
    store = ready_store(state_url)
    engine = create_engine(state_url)
    assert set(inspect(engine).get_table_names()) >= {
        "cutover_state",
        "cutover_overrides",
        "cutover_history",
        "cutover_routes",
        "cutover_processes",
    }
    assert all(name.startswith("cutover_") for name in inspect(engine).get_table_names())
    engine.dispose()
    store.dispose()
