"""`cutover replay`: a route's stored exemplars re-sent to both sides now, in-process, and
compared under the route's rules, so a developer fixing a port sees its mismatch groups go
before shadowing again. Redacted credentials are not replayed; `headers` supplies test ones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.types import ASGIApp, Message

from cutover.shadow.compare import DEFAULT_RULES, CompareRules, Comparison, compare
from cutover.shadow.evidence import EvidenceStore, GroupEvidence, StoredExemplar
from cutover.shadow.exemplar import body_bytes, replay_headers
from cutover.shadow.runner import replay
from cutover.shadow.serve import side_apps

if TYPE_CHECKING:
    from cutover.control.store import StateStore
    from cutover.gateway import Gateway


@dataclass(frozen=True, slots=True)
class ExemplarReplay:
    """One stored request replayed: the new comparison (legacy vs new), or why there is none."""

    exemplar_id: int
    request_line: str
    comparison: Comparison | None
    error: str | None = None
    noise_only: bool = False  # differs only in paths learned as noise

    @property
    def differs(self) -> bool:
        if self.error is not None:
            return True
        assert self.comparison is not None
        return not self.comparison.matched and not self.noise_only

    def to_json(self) -> dict[str, Any]:
        return {
            "exemplar_id": self.exemplar_id,
            "request": self.request_line,
            "differs": self.differs,
            "error": self.error,
            "noise_only": self.noise_only,
            "comparison": self.comparison.to_json() if self.comparison else None,
            "report": self.comparison.report() if self.comparison else self.error,
        }


@dataclass(frozen=True, slots=True)
class GroupReplay:
    """A stored mismatch group and what its exemplars do now."""

    shape: tuple[str, ...]
    count: int
    replays: list[ExemplarReplay] = field(default_factory=list)

    @property
    def still_differs(self) -> bool:
        return any(replay.differs for replay in self.replays)


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """Every group of one route replayed; `still_differs` when any exemplar still does."""

    route: str
    groups: list[GroupReplay]
    not_replayed_headers: list[str]  # redacted when stored, so not sent (pass `headers`)

    @property
    def still_differs(self) -> bool:
        return any(group.still_differs for group in self.groups)

    def to_json(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "still_differs": self.still_differs,
            "not_replayed_headers": self.not_replayed_headers,
            "groups": [
                {
                    "shape": list(group.shape),
                    "count": group.count,
                    "still_differs": group.still_differs,
                    "replays": [replay.to_json() for replay in group.replays],
                }
                for group in self.groups
            ],
        }

    def text(self) -> str:
        """What a developer reads: per group gone or still differing, with the diff now."""
        if not self.groups:
            return f"{self.route}: no stored exemplars to replay."
        lines = [f"{self.route}: {len(self.groups)} mismatch group(s) replayed"]
        if self.not_replayed_headers:
            names = ", ".join(self.not_replayed_headers)
            lines.append(f"  not replayed (redacted when stored; pass --header): {names}")
        for group in self.groups:
            verdict = "STILL DIFFERS" if group.still_differs else "gone"
            lines.append(f"  {verdict}: {', '.join(group.shape)} ({group.count} seen)")
            for item in group.replays:
                if item.differs:
                    lines.append(f"    {item.request_line}")
                    report = item.error or (item.comparison.report() if item.comparison else "")
                    lines.extend(f"      {line}" for line in report.splitlines())
        return "\n".join(lines)


async def replay_route(
    gateway: Gateway,
    route: str,
    store: StateStore,
    *,
    headers: Iterable[tuple[str, str]] = (),
    timeout: float | None = None,
) -> ReplayReport:
    """Re-send `route`'s stored exemplars to both sides of `gateway` and compare them again."""
    if gateway.new is None:
        raise ValueError("the gateway has no new app: there is nothing to compare legacy with")
    evidence = EvidenceStore(store)
    groups: list[GroupEvidence] = await anyio.to_thread.run_sync(evidence.groups, route)
    noise = {item.path for item in await anyio.to_thread.run_sync(evidence.noise, route)}
    rules = gateway.shadow.rules.get(route, DEFAULT_RULES)
    extra = list(headers)
    limit = timeout if timeout is not None else gateway.shadow.timeout
    dropped: set[str] = set()
    done: list[GroupReplay] = []
    for group in groups:
        replays = []
        for exemplar in group.exemplars:
            head = exemplar.request["method"] == "HEAD"
            legacy, new = side_apps(gateway.bridge, gateway.new, gateway.max_body_size, head=head)
            scope, body, missing = _request(exemplar, extra)
            dropped.update(missing)
            replays.append(
                await _replay_one(exemplar, scope, body, legacy, new, rules, noise, limit)
            )
        done.append(GroupReplay(group.shape, group.count, replays))
    return ReplayReport(route, done, sorted(dropped))


async def _replay_one(
    exemplar: StoredExemplar,
    scope: dict[str, Any],
    body: bytes,
    legacy: ASGIApp,
    new: ASGIApp,
    rules: CompareRules,
    noise: set[str],
    limit: float,
) -> ExemplarReplay:
    line = _line(exemplar)
    try:
        primary = await asyncio.wait_for(replay(legacy, scope, body), limit)
        candidate = await asyncio.wait_for(replay(new, scope, body), limit)
    except TimeoutError:
        return ExemplarReplay(exemplar.id, line, None, f"no answer within {limit} s")
    except Exception as exc:
        return ExemplarReplay(exemplar.id, line, None, f"raised {type(exc).__name__}: {exc}")
    comparison = await anyio.to_thread.run_sync(compare, primary, candidate, rules)
    only_noise = bool(comparison.paths) and comparison.paths <= noise
    return ExemplarReplay(exemplar.id, line, comparison, noise_only=only_noise)


def _request(
    exemplar: StoredExemplar, extra: Sequence[tuple[str, str]]
) -> tuple[dict[str, Any], bytes, list[str]]:
    """The ASGI scope and body of a stored request, and the headers it could not carry."""
    request = exemplar.request
    headers, dropped = replay_headers(request.get("headers", []), extra)
    body = body_bytes(request.get("body", {}))
    if body:
        headers.append((b"content-length", str(len(body)).encode()))
    path = str(request["path"])
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": str(request["method"]),
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8"),
        "query_string": str(request.get("query", "")).encode("latin-1"),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 0),
        "server": ("cutover-replay", 80),
        "state": {},
    }
    return scope, body, dropped


def _line(exemplar: StoredExemplar) -> str:
    request = exemplar.request
    query = f"?{request['query']}" if request.get("query") else ""
    return f"{request['method']} {request['path']}{query}"


@asynccontextmanager
async def app_lifespan(app: ASGIApp | None) -> AsyncIterator[None]:
    """`app`'s own lifespan run around a replay (its startup and shutdown), as a server would."""
    if app is None:
        yield
        return
    incoming: asyncio.Queue[Message] = asyncio.Queue()
    sent: asyncio.Queue[Message] = asyncio.Queue()

    async def receive() -> Message:
        return await incoming.get()

    async def send(message: Message) -> None:
        await sent.put(message)

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}

    async def run() -> None:
        await app(scope, receive, send)

    task = asyncio.get_running_loop().create_task(run())
    await incoming.put({"type": "lifespan.startup"})
    started = await _answer(sent, task)
    if started is None:  # the app does no lifespan
        await asyncio.gather(task, return_exceptions=True)
        yield
        return
    if started["type"] != "lifespan.startup.complete":
        await asyncio.gather(task, return_exceptions=True)
        raise RuntimeError(f"the app's startup failed: {started.get('message', '')}")
    try:
        yield
    finally:
        await incoming.put({"type": "lifespan.shutdown"})
        await _answer(sent, task)
        await asyncio.gather(task, return_exceptions=True)


async def _answer(sent: asyncio.Queue[Message], task: asyncio.Task[None]) -> Message | None:
    """The app's next lifespan message, or None when it ended without one."""
    getter = asyncio.ensure_future(sent.get())
    await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
    if getter.done():
        return getter.result()
    getter.cancel()
    await asyncio.gather(getter, return_exceptions=True)
    return None
