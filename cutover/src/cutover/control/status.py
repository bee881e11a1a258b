"""The control plane as JSON-ready documents, one shape for `cutover ... --json` and the API."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cutover.control.modes import Change, ModeRefused, ProcessReport, RouteMode
from cutover.control.store import StateStore

Document = dict[str, Any]


def timestamp(at: datetime) -> str:
    """ISO 8601 in UTC with a `Z`: `2026-12-01T13:45:22.123456Z`."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def mode_document(mode: RouteMode) -> Document:
    return {"mode": mode.mode.value, "percent": mode.percent}


def split_route(route: str) -> tuple[str, str]:
    """`GET /items/{item_id}` as ("GET", "/items/{item_id}")."""
    method, _, path = route.partition(" ")
    return method, path


def status_summary(processes: Sequence[ProcessReport], version: int) -> str:
    """`2 of 3 processes on version 17`."""
    total = len(processes)
    if not total:
        return f"no live processes reporting (version {version})"
    current = sum(1 for process in processes if process.version == version)
    noun = "process" if total == 1 else "processes"
    return f"{current} of {total} {noun} on version {version}"


def status_document(store: StateStore, *, within: float = 15.0) -> Document:
    """Every published route with its sides, default and effective mode (and who set it, why,
    when, in which version), the processes that reported in the last `within` seconds with the
    version each serves, and the current version."""
    state = store.read_state()
    routes = store.routes()
    processes = store.processes(within)
    route_documents = []
    for sides in routes:
        override = state.overrides.get(sides.route)
        effective = override.mode if override is not None else sides.default
        try:
            sides.check(effective)
            problem = None
        except ModeRefused as exc:  # an override older than the sides a gateway now publishes
            problem = str(exc)
        method, path = split_route(sides.route)
        route_documents.append(
            {
                "route": sides.route,
                "method": method,
                "path": path,
                "legacy": sides.legacy,
                "new": sides.new,
                "default": mode_document(sides.default),
                **mode_document(effective),
                "source": "override" if override is not None else "default",
                "actor": override.actor if override is not None else None,
                "reason": override.reason if override is not None else None,
                "at": timestamp(override.at) if override is not None else None,
                "version": override.version if override is not None else None,
                "problem": problem,
            }
        )
    # Overrides of routes no gateway publishes (any more) are shown, not hidden.
    published = {sides.route for sides in routes}
    orphans = [
        {
            "route": override.route,
            **mode_document(override.mode),
            "actor": override.actor,
            "reason": override.reason,
            "at": timestamp(override.at),
            "version": override.version,
        }
        for route, override in sorted(state.overrides.items())
        if route not in published
    ]
    return {
        "version": state.version,
        "routes": route_documents,
        "unpublished_overrides": orphans,
        "processes": [process_document(process, state.version) for process in processes],
        "summary": status_summary(processes, state.version),
    }


def process_document(process: ProcessReport, version: int | None = None) -> Document:
    return {
        "process_id": process.process_id,
        "host": process.host,
        "pid": process.pid,
        "started_at": timestamp(process.started_at),
        "seen_at": timestamp(process.seen_at),
        "version": process.version,
        "current": version is not None and process.version == version,
        "healthy": process.healthy,
    }


def change_document(change: Change) -> Document:
    """One audited switch."""
    method, path = split_route(change.route)
    return {
        "version": change.version,
        "route": change.route,
        "method": method,
        "path": path,
        "before": mode_document(change.before),
        "after": mode_document(change.after),
        "actor": change.actor,
        "reason": change.reason,
        "at": timestamp(change.at),
    }


def history_document(changes: Sequence[Change]) -> Document:
    """Switches, in the order given (the store's history is newest first)."""
    return {"changes": [change_document(change) for change in changes]}
