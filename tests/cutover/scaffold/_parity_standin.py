"""A private stand-in for `cutover.parity` (built on another branch), with its fixed API, so the
drafted parity modules run here; replaced by the real module when it is merged."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from cutover import Gateway
from cutover.control.modes import LEGACY, NEW, RouteMode
from cutover.control.plane import Choice

_ABSENT: Any = object()
_COMPARED_HEADERS = ("content-type", "location", "allow")


@dataclass(frozen=True)
class Step:
    method: str
    path: str
    json: Any = _ABSENT
    content: bytes | str | None = None
    data: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    differs: str | None = None


@dataclass(frozen=True)
class ParityReport:
    steps: int
    compared: int


def _answer(response: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    headers = {
        name: response.headers[name] for name in _COMPARED_HEADERS if name in response.headers
    }
    return response.status_code, headers, response.content


async def _play(gateway: Gateway, steps: Sequence[Step], mode: RouteMode) -> list[Any]:
    control = gateway.control
    saved = control.choices
    control.choices = {route: Choice(mode) for route in saved}
    transport = httpx.ASGITransport(
        app=gateway, raise_app_exceptions=bool(__import__("os").environ.get("STANDIN_RAISE"))
    )
    answers = []
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            for step in steps:
                options: dict[str, Any] = {"headers": dict(step.headers)}
                if step.json is not _ABSENT:
                    options["json"] = step.json
                if step.content is not None:
                    options["content"] = step.content
                if step.data is not None:
                    options["data"] = step.data
                answers.append(_answer(await client.request(step.method, step.path, **options)))
    finally:
        control.choices = saved
    return answers


async def assert_parity(
    gateway: Gateway, steps: Sequence[Step], *, reset: Callable[[], object] | None = None
) -> ParityReport:
    if reset is not None:
        reset()
    legacy = await _play(gateway, steps, LEGACY)
    if reset is not None:
        reset()
    new = await _play(gateway, steps, NEW)
    differences = [
        f"{step.method} {step.path}:\n  legacy {old!r}\n  new    {ported!r}"
        for step, old, ported in zip(steps, legacy, new, strict=True)
        if step.differs is None and old != ported
    ]
    if differences:
        raise AssertionError("the sides differ:\n" + "\n".join(differences))
    return ParityReport(len(steps), sum(1 for s in steps if s.differs is None))
