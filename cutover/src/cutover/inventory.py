"""What each side serves: Flask's url_map and FastAPI's routes as one comparable table."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

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

Side = Literal["legacy", "new"]

# `<name>`, `<int:name>` or `<any(a, b):name>` in a werkzeug rule.
_WERKZEUG_PARAM = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<args>.*?)\))?:)?(?P<name>\w+)>")
# `{name}` or `{name:convertor}` in a Starlette path.
_STARLETTE_PARAM = re.compile(r"{(?P<name>\w+)(?::(?P<convertor>\w+))?}")
_AUTOMATIC_HEAD = "HEAD"
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
class NativeRoute:
    """One route of the FastAPI app (a mount serves every method under its prefix)."""

    path: str
    template: str
    key: str
    methods: frozenset[str] | None
    endpoint: str
    param_types: tuple[type | None, ...]
    path_regex: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class InventoryRow:
    """One (method, path template) of the combined API and the side that serves it."""

    method: str
    path: str
    legacy_endpoint: str | None
    new_endpoint: str | None
    side: Side


@dataclass(frozen=True, slots=True)
class TypeConflict:
    """A parameter both sides capture at the same position but convert to different types."""

    method: str
    path: str
    position: int
    legacy_type: type
    new_type: type

    def __str__(self) -> str:
        return (
            f"{self.method} {self.path}: parameter {self.position + 1} is "
            f"{self.legacy_type.__name__} in the legacy app but {self.new_type.__name__} "
            "in the new app"
        )


@dataclass(frozen=True, slots=True)
class Inventory:
    """Every route of both sides, sorted by path then method, with porting progress."""

    rows: tuple[InventoryRow, ...]
    type_conflicts: tuple[TypeConflict, ...]

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def ported(self) -> int:
        return sum(1 for row in self.rows if row.side == "new")

    @property
    def new_only(self) -> tuple[InventoryRow, ...]:
        """Native routes that capture nothing the legacy app serves."""
        return tuple(row for row in self.rows if row.legacy_endpoint is None)

    def progress(self) -> str:
        percent = 100 * self.ported / self.total if self.total else 100.0
        return f"{self.ported}/{self.total} routes served by the new app ({percent:.0f}%)"

    def as_dicts(self) -> list[dict[str, str | None]]:
        return [
            {
                "method": row.method,
                "path": row.path,
                "legacy_endpoint": row.legacy_endpoint,
                "new_endpoint": row.new_endpoint,
                "side": row.side,
            }
            for row in self.rows
        ]


def template_key(template: str) -> str:
    """The template with parameter names erased, so a renamed parameter still compares equal."""
    return _STARLETTE_PARAM.sub("{}", template)


def _converter_type(converter: type[BaseConverter] | None) -> type | None:
    if converter is None:
        return None
    for base, python_type in _CONVERTER_TYPES:
        if issubclass(converter, base):
            return python_type
    return None


def legacy_routes(url_map: Map) -> list[LegacyRoute]:
    """The routes of a werkzeug Map (a Flask app's `url_map`), build-only rules left out."""
    routes = []
    converters: Mapping[str, type[BaseConverter]] = url_map.converters
    for rule in url_map.iter_rules():
        if rule.build_only or rule.websocket:
            continue
        template = _WERKZEUG_PARAM.sub(lambda m: "{" + m["name"] + "}", rule.rule)
        param_types = tuple(
            _converter_type(converters.get(m["converter"] or "default"))
            for m in _WERKZEUG_PARAM.finditer(rule.rule)
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


def _native_param_types(route: Any, template: str) -> tuple[type | None, ...]:
    dependant = getattr(route, "dependant", None)
    annotations: dict[str, Any] = {}
    if dependant is not None:
        annotations = {param.name: param.field_info.annotation for param in dependant.path_params}
    types: list[type | None] = []
    for match in _STARLETTE_PARAM.finditer(template):
        annotation = annotations.get(match["name"])
        types.append(annotation if annotation in _COMPARABLE_ANNOTATIONS else None)
    return tuple(types)


def native_routes(routes: Sequence[Any], *, exclude_paths: Iterable[str] = ()) -> list[NativeRoute]:
    """The HTTP routes of a FastAPI/Starlette route list, included routers flattened."""
    from fastapi.routing import iter_route_contexts

    excluded = frozenset(exclude_paths)
    found = []
    for context in iter_route_contexts(routes):
        original = context.original_route
        path = context.path
        if not isinstance(original, Route | Mount) or path is None or path in excluded:
            continue
        if isinstance(original, Mount):
            path = path.rstrip("/") + "/{path:path}"
            methods: frozenset[str] | None = None
            endpoint = endpoint_name(original.app)
        else:
            methods = frozenset(context.methods or ("GET", "HEAD"))
            endpoint = endpoint_name(context.endpoint)
        template = _STARLETTE_PARAM.sub(lambda m: "{" + m["name"] + "}", path)
        found.append(
            NativeRoute(
                path=path,
                template=template,
                key=template_key(template),
                methods=methods,
                endpoint=endpoint,
                param_types=_native_param_types(context, path),
                path_regex=context.path_regex,
            )
        )
    return found


def _listed_methods(methods: frozenset[str] | None, automatic_options: bool) -> list[str]:
    if methods is None:
        return ["*"]
    listed = set(methods)
    if "GET" in listed:
        listed.discard(_AUTOMATIC_HEAD)
    if automatic_options:
        listed.discard("OPTIONS")
    return sorted(listed)


def build_inventory(legacy: Sequence[LegacyRoute], native: Sequence[NativeRoute]) -> Inventory:
    """Join both sides on (method, path template); the new app serves what it has a route for."""
    legacy_by: dict[tuple[str, str], LegacyRoute] = {}
    for route in legacy:
        automatic = bool(getattr(route.rule, "provide_automatic_options", False))
        for method in _listed_methods(route.methods, automatic):
            legacy_by.setdefault((method, route.key), route)
    native_by: dict[tuple[str, str], NativeRoute] = {}
    for native_route in native:
        for method in _listed_methods(native_route.methods, False):
            native_by.setdefault((method, native_route.key), native_route)

    rows = []
    conflicts = []
    for method, key in legacy_by.keys() | native_by.keys():
        old = legacy_by.get((method, key))
        new = native_by.get((method, key))
        template = old.template if old is not None else new.template if new is not None else key
        rows.append(
            InventoryRow(
                method=method,
                path=template,
                legacy_endpoint=old.endpoint if old is not None else None,
                new_endpoint=new.endpoint if new is not None else None,
                side="new" if new is not None else "legacy",
            )
        )
        if old is not None and new is not None:
            for position, (old_type, new_type) in enumerate(
                zip(old.param_types, new.param_types, strict=False)
            ):
                if old_type is not None and new_type is not None and old_type is not new_type:
                    conflicts.append(TypeConflict(method, template, position, old_type, new_type))
    rows.sort(key=lambda row: (row.path, row.method))
    conflicts.sort(key=lambda c: (c.path, c.method, c.position))
    return Inventory(rows=tuple(rows), type_conflicts=tuple(conflicts))
