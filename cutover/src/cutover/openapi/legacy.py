"""The legacy app's routes as OpenAPI operations, since a Flask app documents them nowhere: methods
and typed path parameters from its werkzeug rules, summary and description from the view's
docstring, a tag per blueprint."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

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
    parse_converter_args,
)

from cutover.routes import WERKZEUG_PARAM, rule_template

Operation = dict[str, Any]
Schema = dict[str, Any]

_AUTOMATIC = frozenset({"HEAD", "OPTIONS"})
DEFAULT_TAG = "legacy"


openapi_path = rule_template  # an OpenAPI path is the template both sides are compared on


def _arguments(converter: type[BaseConverter], args: str | None) -> dict[str, Any]:
    """The converter's constructor arguments by name, defaults filled in."""
    positional, keywords = parse_converter_args(args) if args else ((), {})
    signature = inspect.signature(converter.__init__)
    try:
        bound = signature.bind(None, None, *positional, **keywords)
    except TypeError:
        return {}
    bound.apply_defaults()
    return {name: value for name, value in list(bound.arguments.items())[2:]}


def _number(kind: str, options: Mapping[str, Any]) -> Schema:
    schema: Schema = {"type": kind}
    low, high = options.get("min"), options.get("max")
    if low is None and not options.get("signed", False):
        low = 0  # unsigned converters match no minus sign
    if low is not None:
        schema["minimum"] = low
    if high is not None:
        schema["maximum"] = high
    return schema


def converter_schema(converter: type[BaseConverter] | None, args: str | None) -> Schema:
    """The JSON Schema of what a werkzeug converter matches (and converts to)."""
    if converter is None:
        return {"type": "string"}
    options = _arguments(converter, args)
    if issubclass(converter, IntegerConverter):
        return _number("integer", options)
    if issubclass(converter, FloatConverter):
        return _number("number", options)
    if issubclass(converter, UUIDConverter):
        return {"type": "string", "format": "uuid"}
    if issubclass(converter, PathConverter):
        return {"type": "string", "x-cutover-converter": "path"}
    if issubclass(converter, AnyConverter):
        positional, _ = parse_converter_args(args) if args else ((), {})
        return {"type": "string", "enum": [str(item) for item in positional]}
    if issubclass(converter, UnicodeConverter):
        schema: Schema = {"type": "string", "pattern": "^[^/]+$"}
        if options.get("length") is not None:
            schema["minLength"] = schema["maxLength"] = options["length"]
        else:
            schema["minLength"] = max(1, options.get("minlength") or 1)
            if options.get("maxlength") is not None:
                schema["maxLength"] = options["maxlength"]
        return schema
    return {"type": "string"}  # a custom converter: its regex is all werkzeug knows


def path_parameters(rule: str, converters: Mapping[str, type[BaseConverter]]) -> list[Schema]:
    """The rule's parameters as OpenAPI path parameters, in order."""
    return [
        {
            "name": match["name"],
            "in": "path",
            "required": True,
            "schema": converter_schema(
                converters.get(match["converter"] or "default"), match["args"]
            ),
        }
        for match in WERKZEUG_PARAM.finditer(rule)
    ]


def _docstring(view: Callable[..., Any] | None) -> tuple[str | None, str | None]:
    doc = inspect.getdoc(view) if view is not None else None
    if not doc:
        return None, None
    summary, _, rest = doc.partition("\n\n")
    return " ".join(summary.split()), rest.strip() or None


def _tag(endpoint: str, blueprints: Mapping[str, Any]) -> str:
    """The blueprint of `bp.view` (nested: `outer.inner.view` -> `outer.inner`)."""
    name, dot, _ = endpoint.rpartition(".")
    return name if dot and (name in blueprints or not blueprints) else DEFAULT_TAG


def legacy_operations(legacy: object) -> dict[str, dict[str, Operation]]:
    """`{path: {method: operation}}` of a WSGI app with a werkzeug `url_map` (else empty)."""
    url_map = getattr(legacy, "url_map", None)
    if not isinstance(url_map, Map):
        return {}
    views: Mapping[str, Callable[..., Any]] = getattr(legacy, "view_functions", {})
    blueprints: Mapping[str, Any] = getattr(legacy, "blueprints", {})
    paths: dict[str, dict[str, Operation]] = {}
    for rule in url_map.iter_rules():
        if rule.build_only or rule.websocket:
            continue
        _add_rule(paths, rule, url_map.converters, views, blueprints)
    return paths


def _add_rule(
    paths: dict[str, dict[str, Operation]],
    rule: Rule,
    converters: Mapping[str, type[BaseConverter]],
    views: Mapping[str, Callable[..., Any]],
    blueprints: Mapping[str, Any],
) -> None:
    endpoint = str(rule.endpoint)
    summary, description = _docstring(views.get(endpoint))
    methods = set(rule.methods or ())
    if methods - _AUTOMATIC:
        methods -= _AUTOMATIC  # HEAD and OPTIONS come with GET and every rule
    entry = paths.setdefault(openapi_path(rule.rule), {})
    parameters = path_parameters(rule.rule, converters)
    for method in sorted(methods):
        operation: Operation = {
            "tags": [_tag(endpoint, blueprints)],
            "operationId": f"legacy_{endpoint.replace('.', '_')}_{method.lower()}",
            "summary": summary or endpoint,
        }
        if description:
            operation["description"] = description
        if parameters:
            operation["parameters"] = parameters
        operation["responses"] = {"default": {"description": "Not documented by the legacy app"}}
        entry.setdefault(method.lower(), operation)
