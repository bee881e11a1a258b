"""Both sides' routes as comparable models: Flask's url_map rules and the FastAPI app's routes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.routing import Mount, Route
from werkzeug.routing import (
    AnyConverter,
    BaseConverter,
    FloatConverter,
    IntegerConverter,
    Map,
    PathConverter,
    Rule,
    UnicodeConverter,
    UUIDConverter,
)

from cutover.control.modes import MODE_ATTRIBUTE, RouteMode

# `<name>`, `<int:name>` or `<any(a, b):name>` in a werkzeug rule.
WERKZEUG_PARAM = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<args>.*?)\))?:)?(?P<name>\w+)>")
# `{name}` or `{name:convertor}` in a Starlette path.
STARLETTE_PARAM = re.compile(r"{(?P<name>\w+)(?::(?P<convertor>\w+))?}")
_CONVERTER_TYPES: tuple[tuple[type[BaseConverter], type], ...] = (
    (IntegerConverter, int),
    (FloatConverter, float),
    (UUIDConverter, uuid.UUID),
    (PathConverter, str),
    (AnyConverter, str),
    (UnicodeConverter, str),
)
_COMPARABLE_ANNOTATIONS = frozenset({str, int, float, uuid.UUID})


@dataclass(frozen=True, slots=True)
class LegacyRoute:
    """One werkzeug rule, with the template both sides can be compared on."""

    rule: Rule
    template: str
    key: str
    methods: frozenset[str]
    endpoint: str
    param_types: tuple[type | None, ...]


@dataclass(frozen=True, slots=True)
class NewRoute:
    """One route of the FastAPI app (a mount serves every method under its prefix)."""

    path: str
    template: str
    key: str
    methods: frozenset[str] | None
    endpoint: str
    param_types: tuple[type | None, ...]
    path_regex: re.Pattern[str]
    default_mode: RouteMode | None = None  # set in code with `cutover.default_mode`


def template_key(template: str) -> str:
    """The template with parameter names erased, so a renamed parameter still compares equal."""
    return STARLETTE_PARAM.sub("{}", template)


def _converter_type(converter: type[BaseConverter] | None) -> type | None:
    if converter is None:
        return None
    for base, python_type in _CONVERTER_TYPES:
        if issubclass(converter, base):
            return python_type
    return None


def rule_template(rule: str) -> str:
    """A werkzeug rule as a path template: `/items/<int:item_id>` -> `/items/{item_id}`."""
    return WERKZEUG_PARAM.sub(lambda m: "{" + m["name"] + "}", rule)


def legacy_routes(url_map: Map) -> list[LegacyRoute]:
    """The routes of a werkzeug Map (a Flask app's `url_map`), build-only rules left out."""
    routes = []
    converters: Mapping[str, type[BaseConverter]] = url_map.converters
    for rule in url_map.iter_rules():
        if rule.build_only or rule.websocket:
            continue
        template = rule_template(rule.rule)
        param_types = tuple(
            _converter_type(converters.get(m["converter"] or "default"))
            for m in WERKZEUG_PARAM.finditer(rule.rule)
        )
        routes.append(
            LegacyRoute(
                rule=rule,
                template=template,
                key=template_key(template),
                methods=frozenset(rule.methods or ()),
                endpoint=str(rule.endpoint),
                param_types=param_types,
            )
        )
    return routes


def endpoint_name(endpoint: Callable[..., Any] | object) -> str:
    """`module:qualname` of a view function or ASGI app."""
    target = (
        endpoint if callable(endpoint) and hasattr(endpoint, "__qualname__") else type(endpoint)
    )
    return f"{target.__module__}:{target.__qualname__}"


def _new_param_types(route: Any, template: str) -> tuple[type | None, ...]:
    dependant = getattr(route, "dependant", None)
    annotations: dict[str, Any] = {}
    if dependant is not None:
        annotations = {param.name: param.field_info.annotation for param in dependant.path_params}
    types: list[type | None] = []
    for match in STARLETTE_PARAM.finditer(template):
        annotation = annotations.get(match["name"])
        types.append(annotation if annotation in _COMPARABLE_ANNOTATIONS else None)
    return tuple(types)


class _FlatRouteContext:
    """A route seen as FastAPI's `RouteContext` sees it, for FastAPI before 0.137.2."""

    __slots__ = ("original_route",)

    def __init__(self, route: Any) -> None:
        self.original_route = route

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original_route, name, None)


def iter_route_contexts(routes: Sequence[Any]) -> Iterator[Any]:
    """FastAPI's `iter_route_contexts` (0.137.2+, where included routers stay nested), else the
    routes themselves: older FastAPI copies an included router's routes into the list."""
    try:
        from fastapi.routing import iter_route_contexts as fastapi_iter_route_contexts
    except ImportError:
        return (_FlatRouteContext(route) for route in routes)
    return iter(fastapi_iter_route_contexts(routes))


def new_routes(routes: Sequence[Any], *, exclude_paths: Iterable[str] = ()) -> list[NewRoute]:
    """The HTTP routes of a FastAPI/Starlette route list, included routers flattened."""
    excluded = frozenset(exclude_paths)
    found = []
    for context in iter_route_contexts(routes):
        original = context.original_route
        path = context.path
        if not isinstance(original, Route | Mount) or path is None or path in excluded:
            continue
        mode = None
        if isinstance(original, Mount):
            path = path.rstrip("/") + "/{path:path}"
            methods: frozenset[str] | None = None
            endpoint = endpoint_name(original.app)
        else:
            methods = frozenset(context.methods or ("GET", "HEAD"))
            endpoint = endpoint_name(context.endpoint)
            mode = getattr(context.endpoint, MODE_ATTRIBUTE, None)
        template = STARLETTE_PARAM.sub(lambda m: "{" + m["name"] + "}", path)
        found.append(
            NewRoute(
                path=path,
                template=template,
                key=template_key(template),
                methods=methods,
                endpoint=endpoint,
                param_types=_new_param_types(context, path),
                path_regex=context.path_regex,
                default_mode=mode if isinstance(mode, RouteMode) else None,
            )
        )
    return found


class _StarletteString(BaseConverter):
    regex = "[^/]+"


class _StarlettePath(BaseConverter):
    regex = ".*"
    part_isolating = False
    weight = 200


class _StarletteInt(BaseConverter):
    regex = "[0-9]+"
    weight = 50


class _StarletteFloat(BaseConverter):
    regex = r"[0-9]+(?:\.[0-9]+)?"
    weight = 50


class _StarletteUUID(BaseConverter):
    regex = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


STARLETTE_CONVERTERS: dict[str, type[BaseConverter]] = {
    "cutover_str": _StarletteString,
    "cutover_path": _StarlettePath,
    "cutover_int": _StarletteInt,
    "cutover_float": _StarletteFloat,
    "cutover_uuid": _StarletteUUID,
}


def werkzeug_rule_string(starlette_path: str) -> str:
    """A Starlette path as a werkzeug rule matching exactly what Starlette matches."""
    return STARLETTE_PARAM.sub(
        lambda m: f"<cutover_{m['convertor'] or 'str'}:{m['name']}>", starlette_path
    )
