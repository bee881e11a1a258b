"""What each side serves: Flask's url_map and FastAPI's routes as one comparable table."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from werkzeug.routing import Map

from cutover.routes import LegacyRoute, NewRoute

Side = Literal["legacy", "new"]

_AUTOMATIC_HEAD = "HEAD"
logger = logging.getLogger("cutover")


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
    def served_by_new(self) -> int:
        """Routes the new app serves."""
        return sum(1 for row in self.rows if row.side == "new")

    @property
    def new_only(self) -> tuple[InventoryRow, ...]:
        """New routes that capture nothing the legacy app serves."""
        return tuple(row for row in self.rows if row.legacy_endpoint is None)

    def progress(self) -> str:
        percent = 100 * self.served_by_new / self.total if self.total else 100.0
        return f"{self.served_by_new}/{self.total} routes served by the new app ({percent:.0f}%)"

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


def _listed_methods(methods: frozenset[str] | None, automatic_options: bool) -> list[str]:
    if methods is None:
        return ["*"]
    listed = set(methods)
    if "GET" in listed:
        listed.discard(_AUTOMATIC_HEAD)
    if automatic_options:
        listed.discard("OPTIONS")
    return sorted(listed)


def build_inventory(legacy: Sequence[LegacyRoute], new_side: Sequence[NewRoute]) -> Inventory:
    """Join both sides on (method, path template); the new app serves what it has a route for."""
    legacy_by: dict[tuple[str, str], LegacyRoute] = {}
    for route in legacy:
        automatic = bool(getattr(route.rule, "provide_automatic_options", False))
        for method in _listed_methods(route.methods, automatic):
            legacy_by.setdefault((method, route.key), route)
    new_by: dict[tuple[str, str], NewRoute] = {}
    for new_route in new_side:
        for method in _listed_methods(new_route.methods, False):
            new_by.setdefault((method, new_route.key), new_route)

    rows = []
    conflicts = []
    for method, key in legacy_by.keys() | new_by.keys():
        old = legacy_by.get((method, key))
        new = new_by.get((method, key))
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


def log_findings(inventory: Inventory, legacy_map: Map | None, docs_paths: frozenset[str]) -> None:
    """Log at startup what an operator should know about the two sides' routes."""
    if legacy_map is not None and (
        legacy_map.host_matching
        or any(rule.subdomain or rule.host for rule in legacy_map.iter_rules())
    ):
        logger.warning(
            "cutover: the legacy app routes by host or subdomain; the gateway decides on "
            "method and path only"
        )
    for conflict in inventory.type_conflicts:
        logger.warning("cutover: parameter types differ: %s", conflict)
    if legacy_map is not None:
        for row in inventory.new_only:
            logger.info(
                "cutover: new endpoint %s %s (%s) replaces nothing the legacy app served",
                row.method,
                row.path,
                row.new_endpoint,
            )
        adapter = legacy_map.bind("localhost")
        for path in sorted(docs_paths):
            if list(adapter.allowed_methods(path)):
                logger.warning("cutover: docs path %s shadows a legacy route", path)
    logger.info("cutover: %s", inventory.progress())
