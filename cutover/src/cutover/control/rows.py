"""Between the control plane's words (`modes`) and the rows of its tables (`tables`): a row as
the word it stores, and a word as the row that stores it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cutover.control.modes import Change, Mode, Override, ProcessReport, RouteMode, RouteSides


def _mode(mode: str, percent: float) -> RouteMode:
    return RouteMode(Mode(mode), percent)


def sides_from(row: Any) -> RouteSides:
    """A `cutover_routes` row as the route it publishes."""
    return RouteSides(
        route=row.route,
        legacy=bool(row.legacy),
        new=bool(row.new),
        default=_mode(row.default_mode, row.default_percent),
    )


def override_from(row: Any, version: int) -> Override:
    """A `cutover_overrides` row (its version given apart: a join may label it otherwise)."""
    return Override(
        route=row.route,
        mode=_mode(row.mode, row.percent),
        actor=row.actor,
        reason=row.reason,
        at=row.at,
        version=int(version),
    )


def change_from(row: Any) -> Change:
    """A `cutover_history` row as the change it records."""
    return Change(
        version=int(row.version),
        route=row.route,
        before=_mode(row.before_mode, row.before_percent),
        after=_mode(row.after_mode, row.after_percent),
        actor=row.actor,
        reason=row.reason,
        at=row.at,
    )


def report_from(row: Any) -> ProcessReport:
    """A `cutover_processes` row as the heartbeat it holds."""
    return ProcessReport(
        process_id=row.process_id,
        host=row.host,
        pid=int(row.pid),
        started_at=row.started_at,
        seen_at=row.seen_at,
        version=None if row.version is None else int(row.version),
        healthy=bool(row.healthy),
    )


def route_row(sides: RouteSides, at: datetime) -> dict[str, object]:
    """The `cutover_routes` row of a route published at `at`."""
    return {
        "route": sides.route,
        "legacy": sides.legacy,
        "new": sides.new,
        "default_mode": sides.default.mode.value,
        "default_percent": sides.default.percent,
        "published_at": at,
    }


def override_row(
    route: str, mode: RouteMode, actor: str, reason: str, at: datetime, version: int
) -> dict[str, object]:
    """The `cutover_overrides` row giving `route` the run-time mode `mode`."""
    return {
        "route": route,
        "mode": mode.mode.value,
        "percent": mode.percent,
        "actor": actor,
        "reason": reason,
        "at": at,
        "version": version,
    }


def history_row(change: Change) -> dict[str, object]:
    """The `cutover_history` row recording `change`."""
    return {
        "version": change.version,
        "route": change.route,
        "before_mode": change.before.mode.value,
        "before_percent": change.before.percent,
        "after_mode": change.after.mode.value,
        "after_percent": change.after.percent,
        "actor": change.actor,
        "reason": change.reason,
        "at": change.at,
    }


def process_row(report: ProcessReport) -> dict[str, object]:
    """The `cutover_processes` row of a heartbeat."""
    return {
        "process_id": report.process_id,
        "host": report.host,
        "pid": report.pid,
        "started_at": report.started_at,
        "seen_at": report.seen_at,
        "version": report.version,
        "healthy": report.healthy,
    }
