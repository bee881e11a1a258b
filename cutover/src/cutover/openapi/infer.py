"""A JSON Schema inferred from sampled JSON values, so the legacy routes' answers get a shape in
the document: each value's schema, merged so every sample fits (fields seen in all are required).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Schema = dict[str, Any]
MAX_DEPTH = 12  # deeper values are left as `{}` (any): a sample is evidence, not a contract
MAX_PROPERTIES = 200

_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),  # before int: a bool is an int in Python
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    for python_type, name in _TYPES:
        if isinstance(value, python_type):
            return name
    return "string"


def infer(value: Any, depth: int = 0) -> Schema:
    """The schema of one JSON value."""
    kind = _kind(value)
    if depth >= MAX_DEPTH:
        return {}
    if kind == "object":
        items = list(value.items())[:MAX_PROPERTIES]
        return {
            "type": "object",
            "properties": {str(key): infer(item, depth + 1) for key, item in items},
            "required": sorted(str(key) for key, _ in items),
        }
    if kind == "array":
        element: Schema | None = None
        for item in value:
            element = merge(element, infer(item, depth + 1))
        return {"type": "array", "items": element} if element is not None else {"type": "array"}
    return {"type": kind}


def _types(schema: Schema) -> list[str]:
    kinds = schema.get("type", [])
    return [kinds] if isinstance(kinds, str) else list(kinds)


def merge(left: Schema | None, right: Schema | None) -> Schema:
    """A schema every value of `left` and of `right` fits."""
    if left is None or right is None:
        return dict(left or right or {})
    if not left or not right:
        return {}  # one side is "anything"
    kinds = sorted(set(_types(left)) | set(_types(right)))
    if "integer" in kinds and "number" in kinds:
        kinds.remove("integer")
    merged: Schema = {"type": kinds[0] if len(kinds) == 1 else kinds}
    if "object" in kinds:
        properties: dict[str, Schema] = {}
        for schema in (left, right):
            for key, sub in schema.get("properties", {}).items():
                properties[key] = merge(properties.get(key), sub) if key in properties else sub
        merged["properties"] = properties
        required = _required(left, right)
        if required:
            merged["required"] = required
    if "array" in kinds and ("items" in left or "items" in right):
        merged["items"] = merge(left.get("items"), right.get("items"))
    return merged


def _required(left: Schema, right: Schema) -> list[str]:
    """Fields both sides require; a side that is not an object requires nothing of one."""
    sides = [set(s.get("required", ())) for s in (left, right) if "object" in _types(s)]
    return sorted(set.intersection(*sides)) if sides else []


def infer_all(values: Iterable[Any]) -> Schema | None:
    """The schema every value fits (None for no values)."""
    schema: Schema | None = None
    for value in values:
        schema = merge(schema, infer(value)) if schema is not None else infer(value)
    return schema
