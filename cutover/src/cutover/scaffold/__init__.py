"""`cutover scaffold`: draft a legacy route's FastAPI port and its parity test from the Flask view
(translated on its syntax tree, `codemod`) and the traffic the gateway saw (`models`, `parity`).

Needs libcst: `pip install 'cutover[scaffold]'`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cutover.openapi.samples import StoredSample
from cutover.routes import legacy_routes
from cutover.scaffold.parity import render_parity
from cutover.scaffold.router import MARKER, RouteDraft, draft_route, render_router
from cutover.scaffold.source import LegacyView, RouteNotFound, find_view
from cutover.shadow.evidence import StoredExemplar

__all__ = ["DraftEdited", "Drafted", "RouteNotFound", "scaffold"]
DIGEST = "# cutover-scaffold digest: "


class DraftEdited(Exception):
    """The blueprint's draft was edited since it was made: refused unless forced."""


@dataclass(frozen=True, slots=True)
class Drafted:
    """What `scaffold` wrote and what it left for a human."""

    router: Path
    parity: Path
    routes: tuple[str, ...]
    todos: tuple[str, ...]


def module_name(blueprint: str | None) -> str:
    name = re.sub(r"\W", "_", blueprint or "app").lower()
    return name if name[:1].isalpha() else f"bp_{name}"


def _listed(path: Path) -> list[tuple[str, str]]:
    """The routes a draft says it holds (its marker line)."""
    if not path.exists():
        return []
    for line in path.read_text().splitlines():
        if line.startswith(MARKER):
            listed = line[len(MARKER) :].strip()
            return [
                (method, rule)
                for method, _, rule in (part.strip().partition(" ") for part in listed.split(";"))
                if rule
            ]
    return []


def _views(app: Any, routes: Sequence[tuple[str, str]]) -> list[LegacyView]:
    return [find_view(app, method, rule) for method, rule in routes]


def _render(
    app: Any,
    views: Sequence[LegacyView],
    samples: Mapping[str, Sequence[StoredSample]],
    exemplars: Mapping[str, Sequence[StoredExemplar]] | None,
) -> tuple[list[RouteDraft], str, str]:
    blueprint = views[0].blueprint or "app"
    names = [view.function.__name__ for view in views]
    drafts = [
        draft_route(view, samples.get(view.route, []), qualify=names.count(name) > 1)
        for view, name in zip(views, names, strict=True)
    ]
    rules = {route.template: route.rule.rule for route in legacy_routes(app.url_map)}
    return (
        drafts,
        render_router(blueprint, drafts),
        render_parity(blueprint, drafts, samples, rules, exemplars),
    )


def scaffold(
    app: Any,
    method: str,
    path: str,
    samples: Mapping[str, Sequence[StoredSample]],
    out: Path,
    *,
    tests_out: Path | None = None,
    force: bool = False,
    exemplars: Mapping[str, Sequence[StoredExemplar]] | None = None,
) -> Drafted:
    """Write (or extend) the blueprint's router module in `out` and its parity test in
    `tests_out` (default `out`) for the legacy route `METHOD PATH` of the Flask `app`; the
    parity test replays `samples` and any shadow `exemplars` kept of its routes too."""
    view = find_view(app, method, path)
    name = module_name(view.blueprint)
    router_path = out / f"{name}.py"
    parity_path = (tests_out or out) / f"test_{name}_parity.py"
    before = _listed(router_path)
    if not force:
        for written in (router_path, parity_path):
            if not written.exists():
                continue
            text = written.read_text()
            if DIGEST not in text:
                raise DraftEdited(
                    f"{written} exists and is not a draft of cutover scaffold: pick another "
                    "--out (or --tests-out), or pass --force to replace it"
                )
            if not _untouched(text):
                raise DraftEdited(
                    f"{written} was edited since it was drafted: pass --force to draft it anew "
                    "(the edits are lost), or move it away"
                )
    routes = [r for r in before if r != (view.method, view.rule)] + [(view.method, view.rule)]
    drafts, router_text, parity_text = _render(app, _views(app, routes), samples, exemplars)
    out.mkdir(parents=True, exist_ok=True)
    parity_path.parent.mkdir(parents=True, exist_ok=True)
    router_path.write_text(_signed(router_text))
    parity_path.write_text(_signed(parity_text))
    return Drafted(
        router=router_path,
        parity=parity_path,
        routes=tuple(d.view.route for d in drafts),
        todos=tuple(todo for d in drafts for todo in d.translation.todos),
    )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _signed(text: str) -> str:
    """The draft with its digest as the last line, so a later run can tell it was edited."""
    return f"{text}{DIGEST}{_digest(text)}\n"


def _untouched(text: str) -> bool:
    body, _, last = text.rstrip("\n").rpartition("\n")
    return last.startswith(DIGEST) and last[len(DIGEST) :] == _digest(body + "\n")
