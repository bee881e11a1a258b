"""Keep one gateway process on the state store's current version, from a daemon thread.

The version row is the truth and is polled (one cheap SELECT); on PostgreSQL with psycopg 3 a
LISTEN on `cutover_state` is only a doorbell that wakes the poll early. NOTIFY is lost while the
listener is disconnected and never arrives behind PgBouncer in transaction mode, so the version is
re-read after every (re)connect and polling never stops. The thread never touches an asyncio
loop: `apply` is called from it and must be an atomic swap of what the request path reads.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from cutover.control.doorbell import Doorbell, doorbell_supported
from cutover.control.modes import ModeState, ProcessReport
from cutover.control.store import NOTIFY_CHANNEL, StateStore, now

logger = logging.getLogger("cutover.control")

# Reconnecting the listener and re-reading after a failure: at most this often.
RETRY_INTERVAL = 1.0


class StateFollower:
    """Apply the store's state in this process whenever its version moves; report heartbeats.

    `start()` reads once synchronously, so the first request sees the store's modes; then a
    daemon thread polls `read_version()` every `poll_interval` seconds (woken early by NOTIFY on
    PostgreSQL) and calls `apply(read_state())` only when the version changed. While the store is
    unreachable the last applied state stays, `healthy` is False, one warning is logged per
    outage and one info line on recovery (logger `cutover.control`).
    """

    def __init__(
        self,
        store: StateStore,
        apply: Callable[[ModeState], None],
        *,
        poll_interval: float = 1.0,
        heartbeat_interval: float = 5.0,
        listen: bool = True,
    ) -> None:
        if poll_interval <= 0 or heartbeat_interval <= 0:
            raise ValueError("poll_interval and heartbeat_interval must be positive")
        self.store = store
        self._apply = apply
        self.poll_interval = poll_interval
        self.heartbeat_interval = heartbeat_interval
        self._retry_interval = min(poll_interval, RETRY_INTERVAL)
        self._listen = listen and doorbell_supported(store)
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.started_at = now()
        self.process_id = f"{self.host}:{self.pid}:{self.started_at:%Y%m%dT%H%M%S.%fZ}"
        self._version: int | None = None
        self._healthy = False
        self._last_ok: float | None = None
        self._last_error: str | None = None
        self._outage_since: float | None = None
        self._stop = threading.Event()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._thread: threading.Thread | None = None
        self._doorbell: Doorbell | None = None
        self._next_listen = 0.0
        self._next_heartbeat = 0.0
        self._failed_apply: int | None = None
        self._heartbeat_failing = False
        self.notifications = 0  # doorbell rings received, for tests and debugging

    # -- what the process shows -----------------------------------------------------------------

    @property
    def version(self) -> int | None:
        """The version applied in this process (None until one was read)."""
        return self._version

    @property
    def healthy(self) -> bool:
        """The last read succeeded, and recently (within three polls, or 5 s)."""
        last_ok = self._last_ok
        if not self._healthy or last_ok is None:
            return False
        return time.monotonic() - last_ok <= max(3 * self.poll_interval, 5.0)

    @property
    def last_error(self) -> str | None:
        """Why the last read failed (None once a read succeeds again)."""
        return self._last_error

    @property
    def listening(self) -> bool:
        """Whether the NOTIFY doorbell is connected right now."""
        return self._doorbell is not None

    # -- life cycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Read the state once now, then follow it from a daemon thread."""
        if self._thread is not None:
            return
        self._poll(force=True)
        self._thread = threading.Thread(
            target=self._run, name=f"cutover-state-follower-{self.pid}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread, close the doorbell and forget this process's row (best effort)."""
        self._stop.set()
        self._ring()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
        self._close_doorbell()
        try:
            self.store.forget_process(self.process_id)
        except Exception as exc:  # shutting down: the row expires on its own
            logger.debug("cutover: could not forget process %s: %s", self.process_id, exc)
        self._wake_reader.close()
        self._wake_writer.close()

    def wake(self) -> None:
        """Poll now (as a notification would)."""
        self._ring()

    # -- the thread -------------------------------------------------------------------------------

    def _run(self) -> None:
        # start() has just read; after a failed read, retry soon rather than after a long poll.
        interval = self.poll_interval if self._healthy else self._retry_interval
        next_poll = time.monotonic() + interval
        while not self._stop.is_set():
            try:
                if self._doorbell_due() and self._connect_doorbell():
                    next_poll = 0.0  # NOTIFYs were lost while not listening: re-read now
                if time.monotonic() >= next_poll:
                    self._poll()
                    interval = self.poll_interval if self._healthy else self._retry_interval
                    next_poll = time.monotonic() + interval
                if time.monotonic() >= self._next_heartbeat:
                    self._heartbeat()
                deadline = min(next_poll, self._next_heartbeat)
                if self._listen and self._doorbell is None:
                    deadline = min(deadline, self._next_listen)
                if self._wait(deadline - time.monotonic()):
                    next_poll = 0.0
            except Exception:  # the follower must outlive anything; the next round retries
                logger.exception("cutover: state follower error")
                self._stop.wait(self._retry_interval)

    def _wait(self, timeout: float) -> bool:
        """Sleep until `timeout`, a doorbell ring or `stop`; True when it was rung."""
        if self._stop.is_set():
            return False
        sources: list[Any] = [self._wake_reader]
        doorbell = self._doorbell
        if doorbell is not None:
            sources.append(doorbell)
        readable, _, _ = select.select(sources, [], [], max(timeout, 0.0))
        rung = False
        if self._wake_reader in readable:
            self._drain_wake()
            rung = True
        if doorbell is not None and doorbell in readable:
            try:
                received = doorbell.drain()
            except Exception as exc:
                logger.debug("cutover: state doorbell lost: %s", exc)
                self._close_doorbell()
                self._next_listen = 0.0  # reconnect at once (then re-read: NOTIFYs were lost)
                return True  # a lost listener may mean a lost store: look now
            self.notifications += received
            rung = rung or received > 0
        return rung and not self._stop.is_set()

    def _poll(self, *, force: bool = False) -> None:
        """Read the version; apply the state when it moved (or was never applied)."""
        try:
            version = self.store.read_version()
            applied = False
            if force or version != self._version:
                state = self.store.read_state()
                applied = self._apply_state(state)
        except Exception as exc:
            self._failed(exc)
            return
        self._succeeded()
        if applied:
            self._next_heartbeat = 0.0  # tell the others at once which version this runs

    def _apply_state(self, state: ModeState) -> bool:
        try:
            self._apply(state)
        except Exception:
            if self._failed_apply != state.version:  # once per version, not once per poll
                logger.exception("cutover: applying mode-state version %d failed", state.version)
                self._failed_apply = state.version
            return False
        self._failed_apply = None
        self._version = state.version
        return True

    def _heartbeat(self) -> None:
        self._next_heartbeat = time.monotonic() + self.heartbeat_interval
        try:
            self.store.report_process(self.report())
        except Exception as exc:
            # Reads decide health: is the store gone (one outage warning), or only this write?
            self._poll()
            if self._healthy and not self._heartbeat_failing:
                logger.warning("cutover: cannot report this process to the state store: %s", exc)
            self._heartbeat_failing = True
        else:
            self._heartbeat_failing = False

    def _failed(self, exc: Exception) -> None:
        self._last_error = f"{type(exc).__name__}: {exc}"
        if self._outage_since is None:  # said before `healthy` shows it
            self._outage_since = time.monotonic()
            logger.warning(
                "cutover: state store %s unreachable (%s); serving the last known modes "
                "(version %s) and retrying",
                self.store.display_url(),
                self._last_error,
                self._version,
            )
        self._healthy = False

    def _succeeded(self) -> None:
        if self._outage_since is not None:  # said before `healthy` shows it
            logger.info(
                "cutover: state store reachable again after %.1f s; serving version %s",
                time.monotonic() - self._outage_since,
                self._version,
            )
            self._outage_since = None
        self._last_ok = time.monotonic()
        self._last_error = None
        self._healthy = True

    # -- the doorbell -----------------------------------------------------------------------------

    def _doorbell_due(self) -> bool:
        return self._listen and self._doorbell is None and time.monotonic() >= self._next_listen

    def _connect_doorbell(self) -> bool:
        try:
            self._doorbell = Doorbell.open(self.store)
        except Exception as exc:
            logger.debug("cutover: cannot LISTEN on %s: %s", NOTIFY_CHANNEL, exc)
            self._next_listen = time.monotonic() + self._retry_interval
            return False
        return True

    def _close_doorbell(self) -> None:
        doorbell, self._doorbell = self._doorbell, None
        if doorbell is not None:
            doorbell.close()

    def _ring(self) -> None:
        with contextlib.suppress(OSError):  # closed, or the buffer is full of rings already
            self._wake_writer.send(b"\0")

    def _drain_wake(self) -> None:
        try:
            while self._wake_reader.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def report(self) -> ProcessReport:
        """This process as its next heartbeat will report it."""
        return ProcessReport(
            process_id=self.process_id,
            host=self.host,
            pid=self.pid,
            started_at=self.started_at,
            seen_at=now(),
            version=self._version,
            healthy=self.healthy,
        )
