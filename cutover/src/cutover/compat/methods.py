"""The methods Flask would list for a path, shared by the 405 `Allow` and automatic OPTIONS."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute
from starlette.types import Scope

from cutover.asgi import route_path
from cutover.routes import iter_route_contexts

__all__ = ["allowed_methods"]


def allowed_methods(routes: Sequence[BaseRoute], scope: Scope) -> set[str]:
    """Every method some route serves at this path, with HEAD and OPTIONS as Flask adds them."""
    path = route_path(scope)
    methods: set[str] = set()
    for context in iter_route_contexts(routes):
        regex = getattr(context, "path_regex", None)
        route_methods = getattr(context, "methods", None)
        if regex is not None and route_methods and regex.match(path):
            methods.update(route_methods)
    if methods:
        methods.add("OPTIONS")
        if "GET" in methods:
            methods.add("HEAD")
    return methods
