"""The legacy worker processes of the out-of-process mode: started, watched and restarted.

Each worker (`cutover.wsgi.worker`, run as a script by the interpreter given, so it needs no
cutover of its own) listens on its own Unix socket in a private directory; a worker counts as
up once its socket is there, and as down from the moment its process exits, when its socket is
removed and it is started again after a pause that doubles up to `MAX_BACKOFF` while it keeps
dying young. The workers inherit the gateway's environment and working directory, and exit by
themselves if the gateway process goes away. With `nice`, they run at that lower CPU priority,
so on a saturated core the gateway (and the native routes) come first.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from cutover.wsgi import worker as worker_module

logger = logging.getLogger("cutover.wsgi")

WATCH_INTERVAL = 0.05
FIRST_BACKOFF = 0.1
MAX_BACKOFF = 5.0
HEALTHY_AFTER = 10.0  # a worker that lived this long is restarted without delay
STOP_TIMEOUT = 5.0
DEFAULT_START_TIMEOUT = 60.0


class _Slot:
    """One worker: its socket, its process while it runs, and whether it accepts now."""

    def __init__(self, index: int, socket_path: str) -> None:
        self.index = index
        self.socket_path = socket_path
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.up = False
        self.backoff = FIRST_BACKOFF
        self.restart_at = 0.0
        self.generation = 0  # bumped at each start, so connections to a dead one are not reused


class LegacyProcesses:
    """`count` worker processes serving `app` (`module:attr` or `module:factory()`)."""

    def __init__(self, app: str, count: int, *, python: str | None = None, nice: int = 0) -> None:
        if count < 1:
            raise ValueError("the out-of-process mode needs at least one legacy process")
        if not 0 <= nice <= 19:
            raise ValueError("a legacy worker's nice value is 0 to 19")
        self.app = app
        self.python = python or sys.executable
        self.nice = nice
        self._directory: str | None = None
        self.slots: list[_Slot] = []
        self.count = count
        self.restarts = 0
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        return self._watcher is not None

    def command(self, socket_path: str) -> list[str]:
        """The command line of one worker."""
        return [
            self.python,
            worker_module.__file__ or "",
            self.app,
            "--socket",
            socket_path,
            "--parent",
            str(os.getpid()),
            *(["--nice", str(self.nice)] if self.nice else []),
        ]

    def start(self, timeout: float = DEFAULT_START_TIMEOUT) -> None:
        """Start the workers and wait until all accept; RuntimeError if none does in time."""
        with self._lock:
            if self._watcher is None:
                self._directory = tempfile.mkdtemp(prefix="cutover-legacy-")
                self.slots = [
                    _Slot(i, os.path.join(self._directory, f"worker-{i}.sock"))
                    for i in range(self.count)
                ]
                self._stop = threading.Event()
                for slot in self.slots:
                    self._spawn(slot)
                self._watcher = threading.Thread(
                    target=self._watch, name="cutover-legacy-supervisor", daemon=True
                )
                self._watcher.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(slot.up for slot in self.slots):
                return
            time.sleep(WATCH_INTERVAL)
        if not any(slot.up for slot in self.slots):
            raise RuntimeError(
                f"cutover: no legacy worker for {self.app!r} accepted within {timeout:g} s"
            )
        logger.warning("cutover: some legacy workers are not up yet; serving with the others")

    def _spawn(self, slot: _Slot) -> None:
        Path(slot.socket_path).unlink(missing_ok=True)
        slot.generation += 1
        slot.started_at = time.monotonic()
        slot.process = subprocess.Popen(self.command(slot.socket_path), stdin=subprocess.DEVNULL)

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_INTERVAL):
            now = time.monotonic()
            for slot in self.slots:
                process = slot.process
                if process is not None and process.poll() is not None:
                    self._lost(slot, process.returncode, now)
                elif process is None and now >= slot.restart_at:
                    self.restarts += 1
                    self._spawn(slot)
                elif process is not None and not slot.up and os.path.exists(slot.socket_path):
                    slot.up = True
                    logger.info("cutover: legacy worker %d up (pid %d)", slot.index, process.pid)

    def _lost(self, slot: _Slot, code: int, now: float) -> None:
        slot.up = False
        slot.process = None
        Path(slot.socket_path).unlink(missing_ok=True)
        if now - slot.started_at >= HEALTHY_AFTER:
            slot.backoff = FIRST_BACKOFF
        slot.restart_at = now + slot.backoff
        logger.error(
            "cutover: legacy worker %d exited with %s; restarting it in %.1f s",
            slot.index,
            code,
            slot.backoff,
        )
        slot.backoff = min(slot.backoff * 2, MAX_BACKOFF)

    def kill(self, index: int) -> None:
        """SIGKILL one worker (it is restarted as if it had crashed); for tests and drills."""
        process = self.slots[index].process
        if process is not None:
            process.send_signal(signal.SIGKILL)

    def close(self) -> None:
        """Stop the workers (SIGTERM, then SIGKILL after `STOP_TIMEOUT`) and remove the sockets."""
        with self._lock:
            watcher, self._watcher = self._watcher, None
            if watcher is None:
                return
            self._stop.set()
            watcher.join()
            processes = [slot.process for slot in self.slots if slot.process is not None]
            for slot in self.slots:
                slot.up = False
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if self._directory is not None:
                shutil.rmtree(self._directory, ignore_errors=True)
                self._directory = None
