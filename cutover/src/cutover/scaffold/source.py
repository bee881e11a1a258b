"""One legacy route as the scaffold reads it from the running Flask app: its rule, its view's
source and what every name the view uses stands for (Flask's request, a model, a helper...)."""

from __future__ import annotations

import builtins
import functools
import inspect
import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import libcst as cst

from cutover.control.modes import route_id
from cutover.routes import WERKZEUG_PARAM, legacy_routes, rule_template
from cutover.scaffold.codemod import HelperPort, ViewContext, port_helper

# Flask's names the translation knows, by the object they are bound to.
_KNOWN_FLASK = ("request", "jsonify", "abort", "url_for", "g", "current_app")
_PARAM_TYPES = {"int": "int", "float": "float", "uuid": "uuid.UUID"}
_STARLETTE_CONVERTORS = {"int": "int", "float": "float", "uuid": "uuid", "path": "path"}
_BUILTINS = frozenset(dir(builtins))
_NEEDS_CONTEXT = frozenset({"request", "jsonify", "g", "current_app", "url_for", "db"})


class RouteNotFound(LookupError):
    """No legacy route has this method and path."""


@dataclass(frozen=True, slots=True)
class PathParam:
    name: str
    converter: str  # werkzeug converter name: default, int, float, uuid, path, any...
    annotation: str  # python type, as source


@dataclass(frozen=True, slots=True)
class LegacyView:
    """A legacy route and its view function."""

    method: str
    rule: str
    template: str
    endpoint: str
    blueprint: str | None
    function: Callable[..., Any]
    source: str
    module: str
    params: tuple[PathParam, ...]
    context: ViewContext

    @property
    def route(self) -> str:
        return route_id(self.method, self.template)

    @property
    def fastapi_path(self) -> str:
        """The path for FastAPI, each converter as the Starlette convertor matching alike."""

        def convert(match: re.Match[str]) -> str:
            convertor = _STARLETTE_CONVERTORS.get(match["converter"] or "default")
            return "{" + match["name"] + (f":{convertor}" if convertor else "") + "}"

        return WERKZEUG_PARAM.sub(convert, self.rule)


def _flask_roles() -> dict[int, str]:
    import flask
    import werkzeug.exceptions

    roles = {id(getattr(flask, name)): name for name in _KNOWN_FLASK}
    roles[id(werkzeug.exceptions.abort)] = "abort"
    return roles


def _role(value: Any, known: Mapping[int, str]) -> str:
    import flask

    if id(value) in known:
        return known[id(value)]
    if type(value).__name__ == "SQLAlchemy" and type(value).__module__.startswith(
        "flask_sqlalchemy"
    ):
        return "db"
    if isinstance(value, types.ModuleType):
        return "global"
    for name in getattr(flask, "__all__", dir(flask)):
        if not name.startswith("_") and getattr(flask, name, None) is value:
            return f"flask:{name}"
    return "global"


def _is_model(value: Any) -> bool:
    """A Flask-SQLAlchemy model: a mapped class with the `query` descriptor (not read: it
    needs an app context)."""
    return (
        isinstance(value, type)
        and hasattr(value, "__table__")
        and any("query" in vars(klass) for klass in value.__mro__)
    )


def _flask_uses(value: Any, known: Mapping[int, str]) -> list[str]:
    """Which Flask globals a helper function uses (it then needs a Flask context)."""
    if not inspect.isfunction(value):
        return []
    uses = set()
    for name in value.__code__.co_names:
        if name in value.__globals__:
            role = _role(value.__globals__[name], known)
            if role in _NEEDS_CONTEXT or role.startswith("flask:"):
                uses.add(f"`{name}`")
    return sorted(uses)


def _handled_codes(app: Any, blueprint: str | None) -> frozenset[int]:
    codes: set[int] = set()
    spec: Mapping[Any, Mapping[Any, Any]] = getattr(app, "error_handler_spec", {})
    for scope in (None, blueprint):
        for code, handlers in spec.get(scope, {}).items():
            if isinstance(code, int) and handlers:
                codes.add(code)
    return frozenset(codes)


def find_view(app: Any, method: str, path: str) -> LegacyView:
    """The legacy route `METHOD PATH` (path as a template `/items/{item_id}` or a werkzeug rule
    `/items/<int:item_id>`) of the Flask `app`."""
    method = method.upper()
    wanted = rule_template(path)
    for route in legacy_routes(app.url_map):
        if route.template != wanted and route.key != _key(wanted):
            continue
        if method not in route.methods:
            continue
        return read_view(app, method, route.rule.rule, route.endpoint, route.template)
    raise RouteNotFound(f"the legacy app has no route {method} {path}")


def _key(template: str) -> str:
    from cutover.routes import template_key

    return template_key(template)


def _context(function: Any, app: Any, blueprint: str | None, *, port: bool) -> ViewContext:
    """What each global name of `function` stands for; with `port`, the app's helpers that use
    Flask are translated too (one level: a helper's own helpers are not)."""
    known = _flask_roles()
    namespace: dict[str, Any] = dict(getattr(function, "__globals__", {}))
    roles: dict[str, str] = {}
    models: set[str] = set()
    helpers: dict[str, list[str]] = {}
    ported: dict[str, HelperPort] = {}
    for name, value in namespace.items():
        if name.startswith("__") or name in _BUILTINS:
            continue
        roles[name] = _role(value, known)
        if _is_model(value):
            models.add(name)
        uses = _flask_uses(value, known) if roles[name] == "global" else []
        if not uses:
            continue
        helper = _ported(name, value, app, blueprint) if port else None  # cached: pure
        if helper is not None:
            ported[name] = helper
        else:
            helpers[name] = uses
    return ViewContext(
        roles=roles,
        models=frozenset(models),
        blueprint=blueprint,
        rules={str(r.endpoint): r.rule for r in app.url_map.iter_rules()},
        handled_codes=_handled_codes(app, blueprint),
        flask_helpers=helpers,
        ported_helpers=ported,
    )


@functools.lru_cache(maxsize=256)
def _ported(name: str, value: Any, app: Any, blueprint: str | None) -> HelperPort | None:
    try:
        source = inspect.getsource(value)
    except (OSError, TypeError):
        return None
    context = _context(value, app, blueprint, port=False)
    try:
        return port_helper(name, value.__module__, source, context)
    except (ValueError, cst.ParserSyntaxError):
        return None


def read_view(app: Any, method: str, rule: str, endpoint: str, template: str) -> LegacyView:
    function = app.view_functions[endpoint]
    unwrapped = inspect.unwrap(function)
    source = inspect.getsource(unwrapped)
    blueprint = endpoint.rpartition(".")[0] or None
    params = tuple(
        PathParam(
            match["name"],
            match["converter"] or "default",
            _PARAM_TYPES.get(match["converter"] or "default", "str"),
        )
        for match in WERKZEUG_PARAM.finditer(rule)
    )
    context = _context(unwrapped, app, blueprint, port=True)
    return LegacyView(
        method=method,
        rule=rule,
        template=template,
        endpoint=endpoint,
        blueprint=blueprint,
        function=unwrapped,
        source=source,
        module=unwrapped.__module__,
        params=params,
        context=context,
    )
