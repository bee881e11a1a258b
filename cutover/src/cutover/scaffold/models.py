"""Pydantic models drafted from the JSON Schemas the gateway inferred from a route's traffic: a
field seen in every sample is required, one sometimes absent is optional; examples stay redacted."""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cutover.openapi.infer import Schema, merge
from cutover.openapi.samples import StoredSample

_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED = frozenset({"model_config", "model_fields", "schema", "json", "dict", "copy"})


@dataclass(slots=True)
class ModelSource:
    """Class definitions (dependencies first) and the annotation naming the whole value."""

    classes: list[str] = field(default_factory=list)
    names: set[str] = field(default_factory=set)

    @property
    def code(self) -> str:
        return "\n\n\n".join(self.classes)


def class_name(*words: str) -> str:
    """`get_widget`, `response` -> `GetWidgetResponse`."""
    parts = [part for word in words for part in re.split(r"[^A-Za-z0-9]+", word) if part]
    name = "".join(part[:1].upper() + part[1:] for part in parts) or "Model"
    return name if name[0].isalpha() else f"M{name}"


def merged_schema(samples: Iterable[StoredSample], *, request: bool) -> Schema | None:
    """The schema every sample's response (or request) body fits, None when none had JSON."""
    schema: Schema | None = None
    for sample in samples:
        part = sample.request_schema if request else sample.response_schema
        if part is not None:
            schema = merge(schema, part) if schema is not None else dict(part)
    return schema


def annotation(schema: Schema, name: str, source: ModelSource, example: Any = None) -> str:
    """The type of a value of `schema`, its object parts added to `source` as models."""
    if not schema:
        return "Any"
    kinds = schema.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    parts: list[str] = []
    for kind in kinds:
        if kind == "object":
            parts.append(
                _model(schema, name, source, example if isinstance(example, dict) else None)
            )
        elif kind == "array":
            items = schema.get("items") or {}
            element = example[0] if isinstance(example, list) and example else None
            parts.append(f"list[{annotation(items, f'{name}Item', source, element)}]")
        elif kind in _SCALARS:
            parts.append(_SCALARS[kind])
        else:
            parts.append("Any")
    if not parts or parts == ["None"]:
        return "Any"  # never seen with a value
    if "None" in parts and len(parts) > 1:
        parts = [part for part in parts if part != "None"] + ["None"]
    return " | ".join(dict.fromkeys(parts))


def _field_name(key: str, taken: set[str]) -> str:
    base = key if _IDENTIFIER.match(key) else re.sub(r"\W", "_", key) or "field"
    if not base[0].isalpha() and base[0] != "_":
        base = f"f_{base}"
    base = base.lstrip("_") or "field"
    if keyword.iskeyword(base) or base in _RESERVED:
        base = f"{base}_"
    name = base
    number = 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    taken.add(name)
    return name


def _model(schema: Schema, name: str, source: ModelSource, example: dict[str, Any] | None) -> str:
    while name in source.names:
        name = f"{name}_"
    source.names.add(name)
    required = set(schema.get("required", ()))
    lines = [f"class {name}(BaseModel):"]
    properties: dict[str, Schema] = schema.get("properties", {})
    taken: set[str] = set()
    body: list[str] = []
    for key, sub in properties.items():
        sub_example = example.get(key) if example else None
        kind = annotation(sub, class_name(name, key), source, sub_example)
        attribute = _field_name(key, taken)
        options: list[str] = []
        if attribute != key:
            options.append(f"alias={key!r}")
        optional = key not in required
        if optional and not kind.endswith("| None") and kind not in ("Any", "None"):
            kind = f"{kind} | None"
        if optional:
            options.insert(0, "default=None")
        if options:
            body.append(f"    {attribute}: {kind} = Field({', '.join(options)})")
        else:
            body.append(f"    {attribute}: {kind}")
    config = ["extra='allow'"]
    if example is not None:
        config.append(f"json_schema_extra={{'examples': [{_literal(example)}]}}")
    if any(" = Field(alias=" in line or "alias=" in line for line in body):
        config.append("populate_by_name=True")
    lines.append(f"    model_config = ConfigDict({', '.join(config)})")
    if body:
        lines.append("")
        lines.extend(body)
    source.classes.append("\n".join(lines))
    return name


def _literal(value: Any) -> str:
    """A JSON value as Python source (true/false/null spelled as Python)."""
    return repr(json.loads(json.dumps(value)))


def first_example(samples: Sequence[StoredSample], *, request: bool) -> Any:
    for sample in samples:
        value = sample.request_example if request else sample.response_example
        if value is not None:
            return value
    return None
