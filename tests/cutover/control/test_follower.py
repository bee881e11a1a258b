"""The follower keeps a process on the store's version: by polling, by NOTIFY on PostgreSQL, and
through outages of the state database (the last applied state is kept)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from cutover.control.follower import StateFollower
from cutover.control.modes import LEGACY, NEW, ModeState
from cutover.control.store import StateStore
from tests.cutover.control.conftest import BOTH, LISTED, ready_store
from tests.reliability.pg_cluster import find_bin_dir, throwaway_cluster

PROPAGATION = 2.0  # the bound: every process applies a switch within 2 s
PG_BIN = find_bin_dir()


class Applied:
    """An `apply` that records each state and lets a test wait for a version."""

    def __init__(self) -> None:
        self.states: list[ModeState] = []
        self._changed = threading.Condition()

    def __call__(self, state: ModeState) -> None:
        with self._changed:
            self.states.append(state)
            self._changed.notify_all()

    def wait_for(self, version: int, timeout: float) -> float | None:
        """Seconds until `version` was applied, or None after `timeout`."""
        started = time.monotonic()
        with self._changed:
            if self._changed.wait_for(lambda: self.version == version, timeout):
                return time.monotonic() - started
        return None

    @property
    def version(self) -> int | None:
        return self.states[-1].version if self.states else None


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def follow() -> Iterator[Callable[..., tuple[StateFollower, Applied]]]:
    """Start followers that are stopped (and their stores disposed) after the test."""
    started: list[tuple[StateFollower, StateStore]] = []

    def start(url: str, **options: Any) -> tuple[StateFollower, Applied]:
        store = StateStore(url)
        applied = Applied()
        follower = StateFollower(store, applied, **options)
        started.append((follower, store))
        follower.start()
        return follower, applied

    yield start
    for follower, store in started:
        follower.stop()
        store.dispose()


def test_start_applies_the_state_before_returning(
    state_url: str, follow: Callable[..., tuple[StateFollower, Applied]]
) -> None:
    writer = ready_store(state_url)
    writer.switch(BOTH, LEGACY, actor="alice", reason="before start")
    follower, applied = follow(state_url)
    assert applied.version == 1
    assert applied.states[0].overrides[BOTH].mode == LEGACY
    assert (follower.version, follower.healthy, follower.last_error) == (1, True, None)
    host, pid, started = follower.process_id.split(":", 2)
    assert (host, int(pid)) == (follower.host, os.getpid()) and started.endswith("Z")
    writer.dispose()


def test_a_switch_through_another_store_is_applied_within_2_s_by_polling(
    state_url: str, follow: Callable[..., tuple[StateFollower, Applied]]
) -> None:
    writer = ready_store(state_url)
    follower, applied = follow(state_url, listen=False)  # the poll alone, on every backend
    assert not follower.listening
    for version, mode in enumerate([LEGACY, NEW, LEGACY], start=1):
        writer.switch(BOTH, mode, actor="alice", reason=f"switch {version}")
        assert applied.wait_for(version, PROPAGATION) is not None
        assert applied.states[-1].overrides[BOTH].mode == mode
    # Polls that find the same version apply nothing.
    applied_before = len(applied.states)
    time.sleep(2.5)
    assert len(applied.states) == applied_before
    assert follower.version == 3 and follower.healthy
    writer.dispose()


def test_the_process_reports_its_version_and_is_forgotten_on_stop(
    state_url: str, follow: Callable[..., tuple[StateFollower, Applied]]
) -> None:
    writer = ready_store(state_url)
    follower, _ = follow(state_url, heartbeat_interval=30.0)
    assert wait_until(lambda: [p.version for p in writer.processes()] == [0], PROPAGATION)
    (process,) = writer.processes()
    assert (process.process_id, process.pid, process.healthy) == (
        follower.process_id,
        os.getpid(),
        True,
    )
    # Right after applying a version the process says so, without waiting for its heartbeat.
    writer.switch(LISTED, LEGACY, actor="alice", reason="r")
    assert wait_until(lambda: [p.version for p in writer.processes()] == [1], PROPAGATION)
    follower.stop()
    assert writer.processes() == []
    writer.dispose()


def test_apply_failures_are_logged_once_and_retried(
    state_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    writer = ready_store(state_url)
    store = StateStore(state_url)
    good = Applied()
    failing = {2}

    def apply(state: ModeState) -> None:
        if state.version in failing:
            raise RuntimeError("cannot apply")
        good(state)

    follower = StateFollower(store, apply, poll_interval=0.1)
    follower.start()
    try:
        with caplog.at_level(logging.ERROR, logger="cutover.control"):
            writer.switch(BOTH, LEGACY, actor="a", reason="one")
            assert good.wait_for(1, PROPAGATION) is not None
            writer.switch(BOTH, NEW, actor="a", reason="two")
            time.sleep(1.0)  # ten polls of a version that cannot be applied
            assert follower.version == 1
            failing.clear()
            assert good.wait_for(2, PROPAGATION) is not None
        errors = [r for r in caplog.records if "applying mode-state version 2" in r.getMessage()]
        assert len(errors) == 1
    finally:
        follower.stop()
        store.dispose()
        writer.dispose()


def test_a_store_unreachable_at_start_is_followed_once_it_is_there(
    state_url: str,
    follow: Callable[..., tuple[StateFollower, Applied]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="cutover.control"):
        # No tables yet; retried every second, however long the poll interval.
        follower, applied = follow(state_url, poll_interval=30.0, heartbeat_interval=30.0)
        assert (follower.version, follower.healthy) == (None, False)
        assert follower.last_error is not None and "init-state" in follower.last_error
        writer = ready_store(state_url)
        writer.switch(BOTH, LEGACY, actor="a", reason="r")
        assert applied.wait_for(1, PROPAGATION) is not None
        assert wait_until(lambda: follower.healthy, PROPAGATION)
    messages = [r.getMessage() for r in caplog.records if r.name == "cutover.control"]
    assert sum("unreachable" in m for m in messages) == 1
    assert sum("reachable again" in m for m in messages) == 1
    writer.dispose()


def test_sqlite_file_gone_and_back_keeps_the_last_state_then_recovers(
    tmp_path: Path,
    follow: Callable[..., tuple[StateFollower, Applied]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "state.db"
    away = tmp_path / "away.db"
    url, away_url = f"sqlite:///{path}", f"sqlite:///{away}"
    writer = ready_store(url)
    writer.switch(BOTH, LEGACY, actor="a", reason="before the outage")
    writer.dispose()
    with caplog.at_level(logging.INFO, logger="cutover.control"):
        follower, applied = follow(url, poll_interval=0.2)
        assert follower.version == 1
        path.rename(away)  # the state database is gone
        assert wait_until(lambda: not follower.healthy, 5.0)
        time.sleep(1.0)  # several failed polls: still one warning
        assert applied.version == 1 and follower.version == 1  # the last state is kept
        elsewhere = StateStore(away_url)
        elsewhere.switch(BOTH, NEW, actor="a", reason="during the outage")
        elsewhere.dispose()
        os.replace(away, path)  # and back, with a newer version
        assert applied.wait_for(2, PROPAGATION) is not None
        assert wait_until(lambda: follower.healthy, PROPAGATION)
        assert applied.states[-1].overrides[BOTH].mode == NEW
    records = [r for r in caplog.records if r.name == "cutover.control"]
    warnings = [r for r in records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "unreachable" in warnings[0].getMessage()
    assert "serving the last known modes (version 1)" in warnings[0].getMessage()
    infos = [r for r in records if r.levelno == logging.INFO]
    assert len(infos) == 1 and "reachable again" in infos[0].getMessage()


# -- PostgreSQL: NOTIFY as a doorbell -------------------------------------------------------------


def test_postgres_notify_wakes_the_follower_long_before_its_poll(
    postgres_state_url: str, follow: Callable[..., tuple[StateFollower, Applied]]
) -> None:
    writer = ready_store(postgres_state_url)
    follower, applied = follow(postgres_state_url, poll_interval=30.0, heartbeat_interval=30.0)
    assert wait_until(lambda: follower.listening, PROPAGATION)
    time.sleep(0.2)  # past the re-read that follows connecting the listener
    for version, mode in enumerate([LEGACY, NEW, LEGACY], start=1):
        writer.switch(BOTH, mode, actor="alice", reason=f"switch {version}")
        assert applied.wait_for(version, PROPAGATION) is not None  # a poll would take 30 s
    assert follower.notifications >= 3
    writer.dispose()


def _listener_pids(store: StateStore) -> list[int]:
    with store.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN cutover_state%'"
            )
        )
        return [int(row.pid) for row in rows]


def test_postgres_a_lost_listener_reconnects_and_rereads_the_version(
    postgres_state_url: str, follow: Callable[..., tuple[StateFollower, Applied]]
) -> None:
    """A NOTIFY sent while the listener is down is lost: the re-read after reconnecting finds it."""
    writer = ready_store(postgres_state_url)
    follower, applied = follow(postgres_state_url, poll_interval=30.0, heartbeat_interval=30.0)
    assert wait_until(lambda: follower.listening and bool(_listener_pids(writer)), PROPAGATION)
    (listener,) = _listener_pids(writer)
    with writer.engine.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": listener})
    writer.switch(BOTH, LEGACY, actor="alice", reason="while the listener is gone")
    assert applied.wait_for(1, PROPAGATION) is not None
    assert wait_until(lambda: bool(_listener_pids(writer)), PROPAGATION)
    assert _listener_pids(writer) != [listener]
    writer.switch(BOTH, NEW, actor="alice", reason="rung again")
    assert applied.wait_for(2, PROPAGATION) is not None
    writer.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(PG_BIN is None, reason="no initdb/pg_ctl/postgres to run a throwaway cluster")
def test_postgres_server_down_and_back_keeps_the_last_state_then_recovers(
    follow: Callable[..., tuple[StateFollower, Applied]], caplog: pytest.LogCaptureFixture
) -> None:
    """The state database's own throwaway server (never the shared one) stopped and started."""
    assert PG_BIN is not None
    with throwaway_cluster(PG_BIN) as cluster:
        writer = ready_store(cluster.url)
        writer.switch(BOTH, LEGACY, actor="a", reason="before the outage")
        with caplog.at_level(logging.INFO, logger="cutover.control"):
            follower, applied = follow(cluster.url, poll_interval=30.0, heartbeat_interval=30.0)
            assert wait_until(lambda: follower.listening, PROPAGATION)
            cluster.stop("fast")
            # The lost listener is the alarm: no need to wait for the 30 s poll.
            assert wait_until(lambda: not follower.healthy, 10.0)
            time.sleep(1.5)  # failed reconnects and reads: still one warning
            assert follower.version == 1 and applied.version == 1
            cluster.start()
            assert wait_until(lambda: follower.healthy and follower.listening, 15.0)
            writer.switch(BOTH, NEW, actor="a", reason="after the outage")
            assert applied.wait_for(2, PROPAGATION) is not None
        writer.dispose()
        records = [r for r in caplog.records if r.name == "cutover.control"]
        warnings = [r for r in records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "unreachable" in warnings[0].getMessage()
        assert sum("reachable again" in r.getMessage() for r in records) == 1
