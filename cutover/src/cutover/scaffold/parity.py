"""The drafted parity test: a route's recorded requests (the samples the gateway kept, redacted)
and a few edge cases (missing body, wrong types, unknown id), replayed on both sides by
`cutover.parity.assert_parity`, after the creations seen in the traffic so the ids exist."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from cutover.openapi.samples import StoredSample
from cutover.routes import WERKZEUG_PARAM
from cutover.scaffold.router import MARKER, RouteDraft
from cutover.shadow.evidence import StoredExemplar

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
UNKNOWN_ID = 999999
_WRONG = {str: 12345, int: "not-a-number", float: "not-a-number", bool: "not-a-bool"}
_WRONG_QUERY = {"int": "not-a-number", "float": "not-a-number"}
MAX_WRONG_TYPES = 3


@dataclass(frozen=True, slots=True)
class Creation:
    """A request seen creating something under a path prefix (replayed first, so ids exist)."""

    rule: str
    body: Any


def _literal(value: Any) -> str:
    return repr(json.loads(json.dumps(value)))


def _step(method: str, path: str, **options: Any) -> str:
    parts = [repr(method), repr(path)]
    for name, value in options.items():
        parts.append(f"{name}={_literal(value) if name == 'json' else repr(value)}")
    return f"Step({', '.join(parts)})"


def _path(draft: RouteDraft, values: Mapping[str, str], *, known: bool) -> str:
    """The rule with each parameter given a value: a created one when `known`, else unknown."""

    def value(match: Any) -> str:
        name, converter = match["name"], match["converter"] or "default"
        if known and name in values:
            return values[name]
        if converter in ("int", "float"):
            return str(1 if known else UNKNOWN_ID)
        if converter == "uuid":
            return "00000000-0000-0000-0000-000000000000"
        return "1" if known else "no-such-value"

    return WERKZEUG_PARAM.sub(value, draft.view.rule)


def creations(
    rule: str, samples: Mapping[str, Sequence[StoredSample]], rules: Mapping[str, str]
) -> list[Creation]:
    """The successful POSTs with a JSON body seen on a prefix of `rule` (its collection)."""
    found: list[Creation] = []
    for route, kept in samples.items():
        method, _, template = route.partition(" ")
        legacy_rule = rules.get(template)
        if method != "POST" or legacy_rule is None or "<" in legacy_rule:
            continue
        if not (rule == legacy_rule or rule.startswith(legacy_rule.rstrip("/") + "/")):
            continue
        for sample in reversed(kept):  # oldest first
            if 200 <= sample.status < 300 and isinstance(sample.request_example, dict):
                found.append(Creation(legacy_rule, sample.request_example))
                break
    return found


def _values_from(creation_bodies: Sequence[Any], draft: RouteDraft) -> dict[str, str]:
    """String path parameters named like a created field take its value (`/by-name/<name>`)."""
    values: dict[str, str] = {}
    for param in draft.view.params:
        if param.converter in ("int", "float", "uuid"):
            continue
        for body in creation_bodies:
            if isinstance(body, dict) and isinstance(body.get(param.name), str | int):
                values[param.name] = str(body[param.name])
                break
    return values


def recorded_steps(
    draft: RouteDraft, samples: Sequence[StoredSample], values: Mapping[str, str]
) -> list[str]:
    method = draft.view.method
    steps: list[str] = []
    seen: set[str] = set()
    has_params = bool(draft.view.params)
    for sample in reversed(samples):  # oldest first, as they were sent
        # A 404 of a route with parameters was asked for something that does not exist.
        path = _path(draft, values, known=not (has_params and sample.status == 404))
        if method in _BODY_METHODS and sample.request_example is not None:
            step = _step(method, path, json=sample.request_example)
        else:
            step = _step(method, path)
        if step not in seen:
            seen.add(step)
            steps.append(step)
    return steps


def exemplar_steps(exemplars: Sequence[StoredExemplar]) -> list[str]:
    """The requests the shadow kept as mismatch exemplars (`cutover diffs`), as they came:
    path, query and body, redacted; credentials are not replayed (they were not kept)."""
    steps: list[str] = []
    for exemplar in exemplars:
        request = exemplar.request
        path = str(request["path"]) + (f"?{request['query']}" if request.get("query") else "")
        body = request.get("body") or {}
        content_type = next(
            (value for name, value in request.get("headers", []) if name.lower() == "content-type"),
            None,
        )
        options: dict[str, Any] = {}
        text = body.get("text")
        if body.get("truncated") or "base64" in body:
            continue  # not kept whole: it cannot be replayed as it was
        if text:
            if content_type is not None and "json" in content_type:
                try:
                    options["json"] = json.loads(text)
                except ValueError:
                    options["content"] = text
            else:
                options["content"] = text
            if "json" not in options and content_type is not None:
                options["headers"] = {"Content-Type": content_type}
        steps.append(_step(str(request["method"]), path, **options))
    return list(dict.fromkeys(steps))


def edge_steps(
    draft: RouteDraft, samples: Sequence[StoredSample], values: Mapping[str, str]
) -> list[str]:
    method = draft.view.method
    path = _path(draft, values, known=True)
    steps: list[str] = []
    if method in _BODY_METHODS:
        steps.append(_step(method, path))  # no body
        steps.append(_step(method, path, content="{", headers={"Content-Type": "application/json"}))
        example = next(
            (s.request_example for s in samples if isinstance(s.request_example, dict)), None
        )
        if isinstance(example, dict):
            for key, value in list(example.items())[:MAX_WRONG_TYPES]:
                wrong = _WRONG.get(type(value), "not-the-type")
                if type(value) is bool:
                    wrong = "not-a-bool"
                steps.append(_step(method, path, json={**example, key: wrong}))
    fields = draft.translation.form_fields
    if method in _BODY_METHODS and fields:  # the form the view reads: whole, then each missing
        steps.append(_step(method, path, data={name: f"{name}-1" for name in fields}))
        for missing in fields:
            given = {name: f"{name}-1" for name in fields if name != missing}
            steps.append(_step(method, path, data=given))
    if draft.view.params:
        steps.append(_step(method, _path(draft, values, known=False)))
    for param in draft.translation.query:
        if param.type in _WRONG_QUERY:
            query = urlencode({param.name: _WRONG_QUERY[param.type]})
            steps.append(_step(method, f"{path}?{query}"))
        value = "2" if param.type in ("int", "float") else "a"
        steps.append(_step(method, f"{path}?{urlencode({param.name: value})}"))
    return list(dict.fromkeys(steps))


def _constant(draft: RouteDraft, kind: str) -> str:
    return f"{draft.view.function.__name__.upper()}_{draft.view.method}_{kind}"


def render_parity(
    blueprint: str,
    drafts: Sequence[RouteDraft],
    samples: Mapping[str, Sequence[StoredSample]],
    rules: Mapping[str, str],
    exemplars: Mapping[str, Sequence[StoredExemplar]] | None = None,
) -> str:
    """The pytest module for these routes; fixtures `gateway` and `reset` come from conftest."""
    lines = [
        f'"""Parity of the drafted `{blueprint}` port with its Flask views, made by `cutover '
        "scaffold` from the",
        "traffic the gateway saw (redacted) and a few edge cases; `gateway` and `reset` come "
        'from conftest."""',
        "",
        MARKER + " " + "; ".join(f"{d.view.method} {d.view.rule}" for d in drafts),
        "",
        "from collections.abc import Callable",
        "",
        "import pytest",
        "",
        "from cutover import Gateway",
        "from cutover.parity import Step, assert_parity",
        "",
        "pytestmark = pytest.mark.anyio",
    ]
    for draft in drafts:
        kept = samples.get(draft.view.route, [])
        setup = creations(draft.view.rule, samples, rules)
        if draft.view.method == "POST" and any(c.rule == draft.view.rule for c in setup):
            setup = [c for c in setup if c.rule != draft.view.rule]
        values = _values_from([c.body for c in setup], draft)
        setup_steps = [_step("POST", c.rule, json=c.body) for c in setup]
        name = draft.view.function.__name__
        method = draft.view.method.lower()
        recorded = recorded_steps(draft, kept, values)
        recorded += exemplar_steps((exemplars or {}).get(draft.view.route, []))
        for kind, steps in (
            ("RECORDED", recorded),
            ("EDGE_CASES", edge_steps(draft, kept, values)),
        ):
            constant = _constant(draft, kind)
            listed = [*setup_steps, *steps]
            lines += ["", "", f"{constant} = ["]
            lines += [f"    {step}," for step in listed]
            lines += ["]"]
            if not steps:
                lines.insert(len(lines) - len(listed) - 1, "# no traffic recorded for this route")
            lines += [
                "",
                "",
                f"async def test_{method}_{name}_{kind.lower()}(",
                "    gateway: Gateway, reset: Callable[[], object]",
                ") -> None:",
                f"    await assert_parity(gateway, {constant}, reset=reset)",
            ]
    return "\n".join(lines).strip() + "\n"
