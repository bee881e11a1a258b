"""Parity tests for a port: one request sequence played through the gateway on the legacy side and
on the new side, each from the same fresh state, and the answers compared step by step.

    report = await assert_parity(gateway, [Step("GET", "/items/1")], reset=empty_tables)

Each side's run pins every route both sides serve to that side's mode in this gateway's memory
(`pinned`): no state store is touched and the request path does no extra work. Answers are reduced
to what clients depend on (`Answer`): the status, the headers that matter and the body bytes with
volatile values (HTTP dates, tokens) masked. A step that deliberately answers otherwise carries
its reason (`differs`) and is reported, not failed. Values an answer gives later steps (a token
each side mints for itself) are kept per side (`keep`, `auth`: `keep_json_field`, `bearer`).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import KW_ONLY, dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import unquote

import httpx

from cutover.control.modes import LEGACY, NEW, Side
from cutover.control.plane import Choice

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from cutover.gateway import Gateway

__all__ = [
    "ABSENT",
    "COMPARED_HEADERS",
    "DEFAULT_MASKS",
    "Answer",
    "Mask",
    "ParityError",
    "ParityReport",
    "RouteNotOnBothSides",
    "Step",
    "StepResult",
    "assert_parity",
    "bearer",
    "check_routes",
    "compare_answers",
    "compare_sides",
    "keep_json_field",
    "normalise",
    "pinned",
    "run_steps",
    "send",
]


class _Absent:
    """The default of `Step.json`: no JSON body (None sends JSON `null`)."""

    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Final = _Absent()

# `allow` is compared as a set of methods, `set-cookie` by the names of the cookies set.
COMPARED_HEADERS: tuple[str, ...] = (
    "content-type",
    "location",
    "www-authenticate",
    "cache-control",
    "vary",
    "allow",
    "set-cookie",
)
HTTP_DATE = re.compile(rb"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT")
TOKEN_FIELD = re.compile(rb'("token": ?)"[^"\\]*"')
Mask = tuple[re.Pattern[bytes], bytes]
DEFAULT_MASKS: tuple[Mask, ...] = (
    (HTTP_DATE, b"<date>"),
    (TOKEN_FIELD, rb'\1"<token>"'),
)

Kept = Mapping[str, str]
Keeper = Callable[[httpx.Response], Mapping[str, str]]
Credentials = Callable[[Kept], Mapping[str, str]]
Hook = Callable[[], object]  # sync, or returning an awaitable
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
_LABEL_LENGTH = 200
_BODY_SHOWN = 300


class ParityError(Exception):
    """A parity run that cannot mean anything: it is refused rather than passed."""


class RouteNotOnBothSides(ParityError):
    """A step's route is served by one side only, so both runs would get the same answer."""


@dataclass(frozen=True)
class Step:
    """One request of a sequence, sent the same way on each side.

    `json` (any value, None included, sends a JSON body), `content` (raw bytes or text), `data`
    and `files` (a form) are httpx's. `headers` are sent as given; `auth` builds more headers
    from what earlier steps of this side's run kept (`bearer`), and `keep` picks those values out
    of this step's answer (`keep_json_field`). `before` runs just before the step is sent on each
    side (switch an outside test server's behaviour). `differs` is the reason this step
    deliberately answers otherwise on the new side: reported, and failed only if it answers the
    same. `one_side` is the reason this step may use a route one side lacks (a setup step on a
    route not ported yet): it is then served by that one side on both runs instead of refused.
    """

    method: str
    path: str
    _: KW_ONLY
    json: Any = ABSENT
    content: bytes | str | None = None
    data: Mapping[str, Any] | None = None
    files: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    auth: Credentials | None = None
    keep: Keeper | None = None
    before: Hook | None = None
    differs: str | None = None
    one_side: str | None = None

    @property
    def label(self) -> str:
        """The step as a line of a report: method, path and what it sends."""
        parts = [self.method, self.path]
        if self.json is not ABSENT:
            parts.append(f"json={self.json!r}")
        for name in ("content", "data", "files"):
            if (value := getattr(self, name)) is not None:
                parts.append(f"{name}={value!r}")
        if self.headers:
            shown = {
                name: "<redacted>" if name.lower() in _SECRET_HEADERS else value
                for name, value in self.headers.items()
            }
            parts.append(f"headers={shown!r}")
        if self.auth is not None:
            parts.append(f"auth={self.auth!r}")
        label = " ".join(parts)
        return label if len(label) <= _LABEL_LENGTH else label[: _LABEL_LENGTH - 3] + "..."


@dataclass(frozen=True)
class _Bearer:
    name: str

    def __call__(self, kept: Kept) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {kept.get(self.name, self.name)}"}

    def __repr__(self) -> str:
        return f"bearer({self.name!r})"


def bearer(name: str) -> Credentials:
    """`Authorization: Bearer <token>` with the token this side's run kept as `name`; the name
    itself when none was kept (a failed login), so both sides are asked with the same bad token."""
    return _Bearer(name)


@dataclass(frozen=True)
class _JsonField:
    field: str
    name: str

    def __call__(self, response: httpx.Response) -> Mapping[str, str]:
        if not response.is_success:
            return {}
        try:
            document = response.json()
        except ValueError:
            return {}
        value = document.get(self.field) if isinstance(document, dict) else None
        return {self.name: str(value)} if value is not None else {}

    def __repr__(self) -> str:
        return f"keep_json_field({self.field!r}, {self.name!r})"


def keep_json_field(json_field: str, name: str) -> Keeper:
    """Keep a successful JSON answer's top-level `json_field` as `name` (a minted token)."""
    return _JsonField(json_field, name)


@dataclass(frozen=True)
class Answer:
    """The parts of an answer parity is judged on: status, compared headers, normalised body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


def _mask(value: bytes, masks: Sequence[Mask]) -> bytes:
    for pattern, replacement in masks:
        value = pattern.sub(replacement, value)
    return value


def _header(response: httpx.Response, name: str, masks: Sequence[Mask]) -> str | None:
    if name == "set-cookie":
        cookies = response.headers.get_list("set-cookie")
        return "; ".join(sorted(c.split("=", 1)[0].strip() for c in cookies)) if cookies else None
    value = response.headers.get(name)
    if value is None:
        return None
    if name == "allow":
        return ", ".join(sorted({method.strip() for method in value.split(",") if method}))
    return _mask(value.encode("utf-8", "surrogateescape"), masks).decode("utf-8", "surrogateescape")


def normalise(
    response: httpx.Response,
    *,
    compared_headers: Sequence[str] = COMPARED_HEADERS,
    masks: Sequence[Mask] = DEFAULT_MASKS,
) -> Answer:
    """`response` reduced to its `Answer`, with `masks` applied to the body and header values."""
    headers = {}
    for name in compared_headers:
        value = _header(response, name.lower(), masks)
        if value is not None:
            headers[name.lower()] = value
    return Answer(response.status_code, headers, _mask(response.content, masks))


async def _call(hook: Callable[[], object]) -> None:
    result = hook()
    if inspect.isawaitable(result):
        await result


async def send(client: httpx.AsyncClient, step: Step, kept: dict[str, str]) -> httpx.Response:
    """Send `step` with `client`, its `auth` drawn from `kept`, and add what its `keep` picks."""
    if step.before is not None:
        await _call(step.before)
    headers = dict(step.headers)
    if step.auth is not None:
        headers.update(step.auth(kept))
    content = step.content
    payload = step.json
    if payload is None:  # httpx reads json=None as no body: send JSON null as written
        content = b"null"
        headers.setdefault("Content-Type", "application/json")
    response = await client.request(
        step.method,
        step.path,
        json=None if payload is ABSENT else payload,
        content=content,
        data=step.data,
        files=step.files,
        headers=headers,
    )
    if step.keep is not None:
        kept.update(step.keep(response))
    return response


class _PinnedChoices(dict[str, Choice]):
    """A control plane's mode table with every route on one side, for one parity run."""


@contextmanager
def pinned(gateway: Gateway, side: Side) -> Iterator[Mapping[str, Choice]]:
    """Serve every route both sides of `gateway` have from `side` while the block runs.

    Only this gateway object's in-memory table changes (`ControlPlane.choices`, read once per
    request as always); the state store, and every other gateway, are left alone. A state store
    switch applied meanwhile replaces the table: `run_steps` then refuses the run.
    """
    if side not in ("legacy", "new"):
        raise ValueError(f"a side is 'legacy' or 'new', not {side!r}")
    control = gateway.control
    if isinstance(control.choices, _PinnedChoices):
        raise ParityError("this gateway is already pinned by another parity run")
    mode = LEGACY if side == "legacy" else NEW
    before = control.choices
    table = _PinnedChoices({route: Choice(mode) for route in before})
    control.choices = table
    try:
        yield table
    finally:
        if control.choices is table:
            control.choices = before


async def run_steps(
    app: Gateway | ASGIApp,
    steps: Sequence[Step],
    *,
    side: Side | None = None,
    reset: Callable[[], object] | None = None,
    compared_headers: Sequence[str] = COMPARED_HEADERS,
    masks: Sequence[Mask] = DEFAULT_MASKS,
) -> list[Answer]:
    """Call `reset` (sync or async), then play `steps` in order on `app` in process, one client
    (so cookies carry from step to step), and return the normalised answers.

    `side` pins a gateway to that side for the run (`pinned`); without it `app` answers as it
    is configured (a gateway's modes, or any ASGI app such as the FastAPI app alone).
    """
    from cutover.gateway import Gateway

    if side is not None and not isinstance(app, Gateway):
        raise TypeError("side= pins a cutover.Gateway; pass the gateway, or no side")
    with _maybe_pinned(app, side) as table:
        if reset is not None:
            await _call(reset)
        kept: dict[str, str] = {}
        answers = []
        control = app.control if table is not None and isinstance(app, Gateway) else None
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            for index, step in enumerate(steps):
                response = await send(client, step, kept)
                if control is not None and control.choices is not table:
                    raise ParityError(
                        f"the gateway's modes were switched during the {side} run (at step "
                        f"#{index} {step.label}): give the parity test a gateway of its own"
                    )
                answers.append(normalise(response, compared_headers=compared_headers, masks=masks))
    return answers


@contextmanager
def _maybe_pinned(app: object, side: Side | None) -> Iterator[Mapping[str, Choice] | None]:
    if side is None:
        yield None
        return
    from cutover.gateway import Gateway

    assert isinstance(app, Gateway)
    with pinned(app, side) as table:
        yield table


def check_routes(gateway: Gateway, steps: Sequence[Step]) -> None:
    """Raise RouteNotOnBothSides for the first step (not marked `one_side`) whose request
    matches a route only one side of `gateway` serves: its runs could not differ."""
    if gateway.new is None:
        raise RouteNotOnBothSides("the gateway has no new app: there is no FastAPI side to compare")
    for index, step in enumerate(steps):
        if step.one_side is not None:
            continue
        path = unquote(step.path.split("?", 1)[0].split("#", 1)[0])
        decision = gateway.router.decide(step.method.upper(), path)
        if decision.route is None or decision.both:
            continue  # no route (a 404, 405, redirect or OPTIONS answered alike), or both sides
        sides = gateway.control.routes.get(decision.route)
        if sides is not None and sides.legacy and sides.new:
            why = (
                f"the {decision.side} side alone matches this path of {decision.route} (the two "
                "sides' path converters differ), so both runs would be served by it"
            )
        else:
            lacking = "FastAPI (new)" if decision.side == "legacy" else "legacy"
            why = (
                f"the {lacking} side has no route {decision.route}, so both runs would be "
                f"served by the {decision.side} side"
            )
        raise RouteNotOnBothSides(
            f"step #{index} {step.label}: {why} and prove nothing. Port the route (and include "
            "its router in the FastAPI app), or give the step one_side='<why>' if it only sets "
            "state up through a route not ported yet."
        )


Outcome = Literal["same", "different", "deliberate", "listed but same"]


@dataclass(frozen=True)
class StepResult:
    """One step's two answers and what they mean."""

    index: int
    step: Step
    legacy: Answer
    new: Answer

    @property
    def outcome(self) -> Outcome:
        """`same`; `different` (a failure); `deliberate` (differs as listed); `listed but same`
        (a failure: the listed difference is gone, so the reason is stale)."""
        same = self.legacy == self.new
        if self.step.differs is None:
            return "same" if same else "different"
        return "listed but same" if same else "deliberate"

    @property
    def failed(self) -> bool:
        return self.outcome in ("different", "listed but same")

    def text(self) -> str:
        """The step and, where its answers differ, what differs, field by field."""
        head = f"#{self.index} {self.outcome.upper()}: {self.step.label}"
        lines = [head]
        if self.step.differs is not None:
            lines.append(f"  listed as different: {self.step.differs}")
        if self.outcome == "listed but same":
            lines.append(f"  both answered {self.legacy.status}")
        lines.extend(f"  {line}" for line in _answer_diff(self.legacy, self.new))
        return "\n".join(lines)


def _shown(body: bytes) -> str:
    text = repr(body[:_BODY_SHOWN])
    return text + (f" ... ({len(body)} bytes)" if len(body) > _BODY_SHOWN else "")


def _answer_diff(legacy: Answer, new: Answer) -> list[str]:
    lines = []
    if legacy.status != new.status:
        lines.append(f"status: legacy {legacy.status}, new {new.status}")
    for name in sorted(legacy.headers.keys() | new.headers.keys()):
        old, ported = legacy.headers.get(name), new.headers.get(name)
        if old != ported:
            lines.append(f"header {name}: legacy {old!r}, new {ported!r}")
    if legacy.body != new.body:
        at = next(
            (i for i, (a, b) in enumerate(zip(legacy.body, new.body, strict=False)) if a != b),
            min(len(legacy.body), len(new.body)),
        )
        lines.append(f"body (first difference at byte {at}):")
        lines.append(f"  legacy: {_shown(legacy.body)}")
        lines.append(f"  new:    {_shown(new.body)}")
    return lines


@dataclass(frozen=True)
class ParityReport:
    """Every step's result; passed unless a step differs unlisted or a listed one agrees."""

    results: tuple[StepResult, ...]

    @property
    def failures(self) -> list[StepResult]:
        return [result for result in self.results if result.failed]

    @property
    def deliberate(self) -> list[StepResult]:
        """The listed differences that still differ, with their reasons."""
        return [result for result in self.results if result.outcome == "deliberate"]

    @property
    def passed(self) -> bool:
        return not self.failures

    def text(self) -> str:
        """A readable report: the failures first, then the deliberate differences."""
        failures, deliberate = self.failures, self.deliberate
        summary = (
            f"{len(self.results)} steps: {len(failures)} failed, "
            f"{len(deliberate)} differ deliberately"
        )
        sections = [summary]
        sections.extend(result.text() for result in failures)
        sections.extend(result.text() for result in deliberate)
        return "\n".join(sections)


def compare_answers(
    steps: Sequence[Step], legacy: Sequence[Answer], new: Sequence[Answer]
) -> ParityReport:
    """The report of two runs of `steps`, answer by answer."""
    if not len(steps) == len(legacy) == len(new):
        raise ValueError(f"{len(steps)} steps, {len(legacy)} legacy and {len(new)} new answers")
    return ParityReport(
        tuple(
            StepResult(index, step, old, ported)
            for index, (step, old, ported) in enumerate(zip(steps, legacy, new, strict=True))
        )
    )


async def compare_sides(
    gateway: Gateway,
    steps: Sequence[Step],
    *,
    reset: Callable[[], object] | None = None,
    compared_headers: Sequence[str] = COMPARED_HEADERS,
    masks: Sequence[Mask] = DEFAULT_MASKS,
) -> ParityReport:
    """Play `steps` through `gateway` pinned to legacy, then pinned to new, calling `reset`
    (sync or async) before each run, and compare the answers. RouteNotOnBothSides, before
    anything is sent, for a step whose route one side lacks (`check_routes`)."""
    check_routes(gateway, steps)
    same: dict[str, Any] = {"reset": reset, "compared_headers": compared_headers, "masks": masks}
    legacy = await run_steps(gateway, steps, side="legacy", **same)
    new = await run_steps(gateway, steps, side="new", **same)
    return compare_answers(steps, legacy, new)


async def assert_parity(
    gateway: Gateway,
    steps: Sequence[Step],
    *,
    reset: Callable[[], object] | None = None,
    **same: Any,
) -> ParityReport:
    """`compare_sides`, raising AssertionError with the readable per-step diff unless it passed;
    `same` takes compare_sides' other options (`compared_headers`, `masks`)."""
    report = await compare_sides(gateway, steps, reset=reset, **same)
    if not report.passed:
        raise AssertionError(f"the new side does not answer as the legacy side:\n{report.text()}")
    return report
