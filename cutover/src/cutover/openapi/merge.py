"""One OpenAPI 3.1 document for both sides, so clients have one reference through the migration:
FastAPI's own schema for the ported routes, the werkzeug rules for the rest, what the traffic
taught, and on every operation the side and mode serving it (and the shadow's match rate)."""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import Any

from cutover.control.modes import route_id
from cutover.control.plane import ControlPlane
from cutover.inventory import Inventory, InventoryRow
from cutover.openapi.learned import add_learned
from cutover.openapi.samples import StoredSample
from cutover.routes import STARLETTE_PARAM, template_key
from cutover.shadow.runner import ShadowCounts

logger = logging.getLogger("cutover")

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# The side answering clients in each mode (canary: both, per client).
ANSWERING = {
    "legacy": "legacy",
    "new": "new",
    "shadow": "legacy",
    "reverse-shadow": "new",
    "canary": "both",
}
Paths = dict[str, dict[str, Any]]


def _renamed(operation: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """A legacy operation's path parameters renamed, by position, to the native path's names."""
    renamed = copy.deepcopy(operation)
    position = 0
    for parameter in renamed.get("parameters", []):
        if parameter.get("in") == "path" and position < len(names):
            parameter["name"] = names[position]
            position += 1
    return renamed


def combine_paths(native: Paths, legacy: Paths) -> tuple[Paths, dict[str, str]]:
    """Native paths, then the legacy operations native lacks (on the native path when the two
    templates differ only in parameter names); and which document path each key is at."""
    paths: Paths = copy.deepcopy(native)
    at_key = {template_key(path): path for path in paths}
    for path, operations in legacy.items():
        key = template_key(path)
        target = at_key.setdefault(key, path)
        names = [m["name"] for m in STARLETTE_PARAM.finditer(target)]
        entry = paths.setdefault(target, {})
        for method, operation in operations.items():
            if method not in entry:
                # Copied: the legacy operations are built once and kept for every document.
                entry[method] = (
                    copy.deepcopy(operation) if target == path else _renamed(operation, names)
                )
                entry[method]["x-cutover-documented-by"] = "legacy"
    return paths, at_key


def merge_components(into: dict[str, Any], source: Mapping[str, Any]) -> None:
    """Add `source`'s components to `into`; a name already there keeps its first definition
    (logged when they differ): nothing defined is ever overwritten."""
    for section, entries in source.items():
        target = into.setdefault(section, {})
        for name, definition in entries.items():
            if name not in target:
                target[name] = copy.deepcopy(definition)
            elif target[name] != definition:
                logger.warning("cutover: openapi component %s/%s defined twice", section, name)


def _unique_operation_ids(paths: Paths) -> None:
    seen: set[str] = set()
    for path in sorted(paths):
        for method in METHODS:
            operation = paths[path].get(method)
            if operation is None or "operationId" not in operation:
                continue
            base = candidate = str(operation["operationId"])
            number = 2
            while candidate in seen:
                candidate, number = f"{base}_{number}", number + 1
            operation["operationId"] = candidate
            seen.add(candidate)


def annotate(
    paths: Paths,
    inventory: Inventory,
    control: ControlPlane,
    evidence: Mapping[str, ShadowCounts],
    samples: Mapping[str, list[StoredSample]],
) -> None:
    """Side, mode (and canary percent), match rate and what was learned, on every operation."""
    from cutover.shadow.evidence import match_rate

    rows: dict[tuple[str, str], InventoryRow] = {
        (row.method, template_key(row.path)): row for row in inventory.rows
    }
    for path, entry in paths.items():
        key = template_key(path)
        for method in METHODS:
            operation = entry.get(method)
            row = rows.get((method.upper(), key))
            if operation is None or row is None:
                continue
            route = route_id(row.method, row.path)
            choice = control.choices.get(route)
            mode = choice.label if choice is not None else row.side
            operation["x-cutover-route"] = route
            operation["x-cutover-mode"] = mode
            operation["x-cutover-side"] = ANSWERING.get(mode, row.side)
            if choice is not None and mode == "canary":
                operation["x-cutover-canary-percent"] = choice.mode.percent
            counts = evidence.get(route)
            if (counts is not None and counts.compared) or mode in ("shadow", "reverse-shadow"):
                compared = counts.compared if counts is not None else 0
                rate = match_rate(counts) if counts is not None else None
                operation["x-cutover-match-rate"] = rate
                operation["x-cutover-shadow-compared"] = compared
            native = operation.get("x-cutover-documented-by") != "legacy"
            if route in samples:
                add_learned(operation, samples[route], native=native)


def _tags(paths: Paths, native_tags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    tags = {str(tag["name"]): tag for tag in native_tags}
    for entry in paths.values():
        for method in METHODS:
            operation = entry.get(method) or {}
            for name in operation.get("tags", []):
                if name not in tags:
                    side = operation.get("x-cutover-documented-by", "new")
                    what = "Flask blueprint" if side == "legacy" else "FastAPI router tag"
                    tags[name] = {"name": name, "description": f"{what} `{name}`"}
    return sorted(tags.values(), key=lambda tag: str(tag["name"]))


def build_document(
    native: Mapping[str, Any] | None,
    legacy: Paths,
    inventory: Inventory,
    control: ControlPlane,
    *,
    evidence: Mapping[str, ShadowCounts] | None = None,
    samples: Mapping[str, list[StoredSample]] | None = None,
    root_path: str = "",
) -> dict[str, Any]:
    """The document: `native` is FastAPI's `app.openapi()` (None without a new app), `legacy`
    the legacy app's operations (`cutover.openapi.legacy.legacy_operations`)."""
    native = native or {}
    paths, _ = combine_paths(dict(native.get("paths", {})), legacy)
    _unique_operation_ids(paths)
    annotate(paths, inventory, control, evidence or {}, samples or {})
    info = dict(native.get("info") or {"title": "API", "version": "0"})
    info["x-cutover-progress"] = inventory.progress()
    document: dict[str, Any] = {"openapi": "3.1.0", "info": info}
    if root_path:
        document["servers"] = [{"url": root_path}]
    elif native.get("servers"):
        document["servers"] = native["servers"]
    document["paths"] = dict(sorted(paths.items()))
    components: dict[str, Any] = {}
    merge_components(components, native.get("components") or {})
    if components:
        document["components"] = components
    tags = _tags(paths, list(native.get("tags") or []))
    if tags:
        document["tags"] = tags
    return document
