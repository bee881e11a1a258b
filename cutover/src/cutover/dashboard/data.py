"""What each dashboard page shows, read from the shared database in one blocking call (the
views run it in a worker thread): modes, traffic per side, shadow evidence, history, processes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cutover.control.modes import Change, Mode, ProcessReport
from cutover.control.promote import Promotions
from cutover.control.promotion import Promotion
from cutover.control.status import status_document, status_summary
from cutover.control.store import StateStore, now
from cutover.dashboard.progress import Progress, hourly_share, progress
from cutover.observe.traffic import SideTraffic, read_traffic
from cutover.shadow.evidence import EvidenceStore, GroupEvidence, NoiseEvidence, match_rate
from cutover.shadow.runner import ShadowCounts

TRAFFIC_WINDOW = timedelta(hours=24)  # as long as cutover_traffic keeps rows
PROCESS_WINDOW = 15.0  # seconds: a process that reported within it is live
HISTORY_SCAN = 1000  # newest changes read to find each route's last switch
ROUTE_HISTORY = 50


@dataclass(frozen=True, slots=True)
class RouteRow:
    """One route as the overview lists it."""

    route: str
    method: str
    path: str
    legacy: bool
    new: bool
    mode: str
    percent: float
    source: str
    problem: str | None
    sides: dict[str, SideTraffic]
    shadow: ShadowCounts
    match_rate: float | None
    last_switch: Change | None

    @property
    def label(self) -> str:
        return f"canary {self.percent:g}%" if self.mode == Mode.CANARY.value else self.mode

    @property
    def both(self) -> bool:
        return self.legacy and self.new

    @property
    def requests(self) -> int:
        return sum(side.requests for side in self.sides.values())

    @property
    def error_rate(self) -> float | None:
        errors = sum(side.errors for side in self.sides.values())
        return errors / self.requests if self.requests else None

    @property
    def p99(self) -> float | None:
        values = [side.p99 for side in self.sides.values() if side.p99 is not None]
        return max(values) if values else None

    def side(self, name: str) -> SideTraffic:
        return self.sides.get(name, SideTraffic())


@dataclass(frozen=True, slots=True)
class Overview:
    version: int
    summary: str
    rows: list[RouteRow]
    progress: Progress
    chart: list[tuple[datetime, float | None]]
    port_next: list[RouteRow]


@dataclass(frozen=True, slots=True)
class RouteDetail:
    row: RouteRow
    groups: list[GroupEvidence]
    noise: list[NoiseEvidence]
    history: list[Change]
    promotion: Promotion | None = None  # the route's last one, whatever its state
    modes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Processes:
    version: int
    summary: str
    processes: list[ProcessReport]


def read_rows(store: StateStore) -> tuple[dict[str, Any], list[RouteRow]]:
    """Every published route with its mode, traffic, shadow counts and last switch."""
    status = status_document(store)
    traffic = read_traffic(store, now() - TRAFFIC_WINDOW)
    shadow = EvidenceStore(store).totals()
    last: dict[str, Change] = {}
    for change in store.history(limit=HISTORY_SCAN):
        last.setdefault(change.route, change)
    rows = [
        RouteRow(
            route=entry["route"],
            method=entry["method"],
            path=entry["path"],
            legacy=entry["legacy"],
            new=entry["new"],
            mode=entry["mode"],
            percent=entry["percent"],
            source=entry["source"],
            problem=entry["problem"],
            sides=traffic.get(entry["route"], {}),
            shadow=shadow.get(entry["route"], ShadowCounts()),
            match_rate=match_rate(shadow.get(entry["route"], ShadowCounts())),
            last_switch=last.get(entry["route"]),
        )
        for entry in status["routes"]
    ]
    return status, rows


def overview(store: StateStore) -> Overview:
    status, rows = read_rows(store)
    port_next = sorted(
        (row for row in rows if not row.new),
        key=lambda row: (-row.requests, row.route),
    )
    return Overview(
        version=status["version"],
        summary=status["summary"],
        rows=rows,
        progress=progress(rows),
        chart=hourly_share(store, now()),
        port_next=port_next,
    )


def route_detail(store: StateStore, route: str) -> RouteDetail | None:
    """A route's page, or None when no gateway publishes it."""
    _, rows = read_rows(store)
    row = next((row for row in rows if row.route == route), None)
    if row is None:
        return None
    evidence = EvidenceStore(store)
    return RouteDetail(
        row=row,
        groups=evidence.groups(route),
        noise=evidence.noise(route),
        history=store.history(route, ROUTE_HISTORY),
        promotion=Promotions(store).get(route),
        modes=switchable_modes(row.legacy, row.new),
    )


def switchable_modes(legacy: bool, new: bool) -> list[str]:
    """The modes a route can be switched to (with both sides: all of them), `default` last."""
    if legacy and new:
        return [*(mode.value for mode in Mode), "default"]
    return ["default"]


def processes(store: StateStore) -> Processes:
    version = store.read_version()
    found = store.processes(PROCESS_WINDOW)
    return Processes(version, status_summary(found, version), found)
