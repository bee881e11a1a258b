"""Liveness and readiness as plain ASGI apps: `healthz` says the process answers, `readyz` runs
the readiness checks in worker threads, so a slow database never stalls the event loop."""

from __future__ import annotations

import inspect
import json
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

import anyio
import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from cutover.asgi import send_json

Check = Callable[[], tuple[str, bool, str]]
DEFAULT_CHECK_TIMEOUT = 2.0

_ALLOW = b"GET, HEAD"
# `scheme://user:password@host` -> `scheme://user:***@host`, as SQLAlchemy prints its URLs.
_PASSWORD_IN_URL = re.compile(r"(://[^/\s:@]*):[^/\s]*@")
# anyio 4.1 renamed `cancellable`; starlette accepts anyio 3.4+, so both spellings are used.
_ABANDON = "abandon_on_cancel" in inspect.signature(anyio.to_thread.run_sync).parameters


def redact(text: str) -> str:
    """`text` with the password of any URL in it replaced by `***`."""
    return _PASSWORD_IN_URL.sub(r"\1:***@", text)


async def healthz(scope: Scope, receive: Receive, send: Send) -> None:
    """200 `{"status": "ok", "pid": ...}` while the process can answer at all."""
    if await _refused(scope, send):
        return
    await _answer(scope, send, 200, {"status": "ok", "pid": os.getpid()})


def readyz(checks: Sequence[Check], *, timeout: float = DEFAULT_CHECK_TIMEOUT) -> ASGIApp:
    """An ASGI app: 200 `{"status": "ready", "checks": {name: {"ok", "detail"}}}` when every
    check passes, else 503 `"not ready"` with `Retry-After: 1`.

    Each check runs in a worker thread, all at once, for at most `timeout` seconds; probes
    arriving meanwhile share that run. One that raises fails with its exception's class name
    (its message may hold a URL with a password); one still running after an earlier probe gave
    up on it fails at once, so a hung check holds one thread, never one per probe.
    """
    return _Readiness(tuple(checks), timeout)


class _Run:
    """One run of one check: the probes waiting for it, and whether its thread still runs."""

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.result: tuple[str, bool, str] | None = None
        self.in_thread = True  # cleared by the thread itself, or if it never started
        self.started = False


class _Readiness:
    """`readyz`'s app: the checks, each one's latest run, and the name it last gave."""

    def __init__(self, checks: tuple[Check, ...], timeout: float) -> None:
        self.checks = checks
        self.timeout = timeout
        self._runs: dict[int, _Run] = {}
        self._names: dict[int, str] = {}  # to report a check that raised under its own name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if await _refused(scope, send):
            return
        results: list[tuple[str, bool, str]] = [("", False, "")] * len(self.checks)
        async with anyio.create_task_group() as group:
            for index in range(len(self.checks)):
                group.start_soon(self._check, index, results)
        report = {name: {"ok": ok, "detail": detail} for name, ok, detail in results}
        if all(ok for _, ok, _ in results):
            await _answer(scope, send, 200, {"status": "ready", "checks": report})
        else:
            body = {"status": "not ready", "checks": report}
            await _answer(scope, send, 503, body, [(b"retry-after", b"1")])

    async def _check(self, index: int, results: list[tuple[str, bool, str]]) -> None:
        check = self.checks[index]
        name = self._names.get(index) or getattr(check, "__name__", None) or f"check-{index}"
        run = self._runs.get(index)
        if run is not None and run.in_thread and run.done.is_set():
            results[index] = (name, False, "still running since an earlier probe")
            return
        if run is None or not run.in_thread:
            run = self._runs[index] = _Run()
            try:
                run.result = await self._run(index, check, run, name)
            finally:
                run.done.set()
            results[index] = run.result
            return
        with anyio.move_on_after(self.timeout):
            await run.done.wait()
        results[index] = run.result or (name, False, self._late())

    async def _run(self, index: int, check: Check, run: _Run, name: str) -> tuple[str, bool, str]:
        def in_thread() -> tuple[str, bool, str]:
            run.started = True
            try:
                returned, ok, detail = check()
            finally:
                run.in_thread = False  # also when the probe gave up waiting for it
            return str(returned), bool(ok), redact(str(detail))

        try:
            with anyio.move_on_after(self.timeout):
                if _ABANDON:
                    result = await anyio.to_thread.run_sync(in_thread, abandon_on_cancel=True)
                else:  # anyio < 4.1
                    result = await anyio.to_thread.run_sync(in_thread, cancellable=True)
                self._names[index] = result[0]
                return result
        except Exception as error:
            return name, False, type(error).__name__
        if not run.started:  # still waiting for a thread of anyio's pool: it will not run
            run.in_thread = False
        return name, False, self._late()

    def _late(self) -> str:
        return f"no answer within {self.timeout:g} s"


async def _refused(scope: Scope, send: Send) -> bool:
    """Answer 405 to any method but GET and HEAD; True if it did."""
    if scope.get("method", "GET") in ("GET", "HEAD"):
        return False
    await _answer(scope, send, 405, {"status": "method not allowed"}, [(b"allow", _ALLOW)])
    return True


async def _answer(
    scope: Scope,
    send: Send,
    status: int,
    body: dict[str, Any],
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """A JSON answer never cached; HEAD gets its headers only."""
    method = scope.get("method", "GET")
    payload = json.dumps(body).encode()
    await send_json(send, status, payload, headers or (), with_body=method != "HEAD")
