"""`cutover scaffold --list`: the legacy routes not ported yet, those a draft would port whole
(traffic seen, every construct translated) first, then by fewest TODOs, then by traffic."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cutover.control.modes import route_id
from cutover.openapi.samples import StoredSample
from cutover.routes import legacy_routes
from cutover.scaffold.codemod import translate_view
from cutover.scaffold.source import read_view

_LISTED = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A legacy route as a candidate for a draft."""

    method: str
    path: str
    view: str
    requests: int  # over the window, both sides, every process
    samples: int  # kept by the OpenAPI sampler: what the draft's models and parity learn from
    todos: tuple[str, ...]  # what a draft would leave under TODO(cutover)

    @property
    def ready(self) -> bool:
        """A draft would be whole: traffic to learn from and nothing left untranslated."""
        return self.samples > 0 and not self.todos

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "view": self.view,
            "requests": self.requests,
            "samples": self.samples,
            "todos": list(self.todos),
            "ready": self.ready,
        }


def rank(
    app: Any,
    samples: Mapping[str, Sequence[StoredSample]],
    traffic: Mapping[str, int],
    ported: Collection[str] = (),
) -> list[Candidate]:
    """Every legacy route of the Flask `app` not in `ported`, best candidate first."""
    candidates = []
    for route in legacy_routes(app.url_map):
        static = route.endpoint.rpartition(".")[2] == "static"  # Flask's own files: no view
        if static or route.endpoint not in app.view_functions:
            continue
        for method in sorted(route.methods & set(_LISTED)):
            name = route_id(method, route.template)
            if name in ported:
                continue
            try:
                view = read_view(app, method, route.rule.rule, route.endpoint, route.template)
                todos = tuple(dict.fromkeys(translate_view(view.source, view.context).todos))
            except (OSError, TypeError, ValueError) as exc:  # no source (a C function, a lambda)
                todos = (f"the view cannot be read: {exc}",)
            candidates.append(
                Candidate(
                    method=method,
                    path=route.template,
                    view=route.endpoint,
                    requests=traffic.get(name, 0),
                    samples=len(samples.get(name, ())),
                    todos=todos,
                )
            )
    candidates.sort(key=lambda c: (not c.ready, len(c.todos), -c.requests, -c.samples, c.path))
    return candidates
