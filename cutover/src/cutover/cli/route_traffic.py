"""What `cutover routes` adds when a state store is named: each route's mode, its answers per
side, its shadow match rate and p50/p99 per side over a window, from the shared tables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from cutover.cli.common import STATE_URL_VARIABLES, format_rows

if TYPE_CHECKING:
    from cutover.gateway import Gateway
    from cutover.inventory import Inventory
    from cutover.observe.traffic import SideTraffic

LIVE_COLUMNS = ("MODE", "LEGACY REQ", "NEW REQ", "MATCH", "P50 L/N", "P99 L/N")


@dataclass(frozen=True, slots=True)
class Live:
    """One route's mode and evidence over the window."""

    mode: str
    legacy: SideTraffic
    new: SideTraffic
    match_rate: float | None


def optional_state_url(given: str | None) -> str | None:
    """`--state-url`, else CUTOVER_STATE_URL, else DATABASE_URL, else None."""
    if given:
        return given
    for variable in STATE_URL_VARIABLES:
        if value := os.environ.get(variable, "").strip():
            return value
    return None


def read_live(url: str, gateway: Gateway, window: float) -> dict[str, Live]:
    """Every inventory route's mode (the store's override, else its mode from code) and its
    traffic and shadow match rate over the last `window` seconds, by route id."""
    from cutover.control.modes import route_id
    from cutover.control.store import StateStore, now
    from cutover.observe.traffic import SideTraffic, read_traffic
    from cutover.shadow.evidence import EvidenceStore, match_rate

    store = StateStore(url)
    try:
        since = now() - timedelta(seconds=window)
        overrides = store.read_state().overrides
        traffic = read_traffic(store, since)
        shadow = EvidenceStore(store).totals(since)
    finally:
        store.dispose()
    live = {}
    for row in gateway.inventory.rows:
        route = route_id(row.method, row.path)
        override = overrides.get(route)
        sides = gateway.control.routes.get(route)
        if override is not None:
            mode = str(override.mode)
        elif sides is not None and sides.legacy and sides.new:
            mode = str(sides.default)
        else:
            mode = row.side
        counted = traffic.get(route, {})
        counts = shadow.get(route)
        live[route] = Live(
            mode=mode,
            legacy=counted.get("legacy", SideTraffic()),
            new=counted.get("new", SideTraffic()),
            match_rate=match_rate(counts) if counts is not None else None,
        )
    return live


def live_table(inventory: Inventory, live: dict[str, Live], columns: tuple[str, ...]) -> str:
    """The inventory's columns followed by the live ones."""
    cells = []
    for row in inventory.rows:
        one = live[f"{row.method} {row.path}"]
        cells.append(
            (
                row.method,
                row.path,
                row.legacy_endpoint or "-",
                row.new_endpoint or "-",
                row.side,
                one.mode,
                str(one.legacy.requests),
                str(one.new.requests),
                _percent(one.match_rate),
                f"{_ms(one.legacy.p50)}/{_ms(one.new.p50)}",
                f"{_ms(one.legacy.p99)}/{_ms(one.new.p99)}",
            )
        )
    return format_rows((*columns, *LIVE_COLUMNS), cells)


def live_fields(one: Live) -> dict[str, Any]:
    """The live fields of one route in `cutover routes --json`."""
    return {
        "mode": one.mode,
        "legacy": one.legacy.to_json(),
        "new": one.new.to_json(),
        "match_rate": None if one.match_rate is None else round(one.match_rate, 4),
    }


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}ms"
