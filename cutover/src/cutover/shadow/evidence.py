"""The shadow's evidence as every process wrote it to the shared database, read back: counts per
route summed over a window (what a promotion gate weighs), mismatch groups with their exemplars,
and the noise learned with its rate and the ignore rule to paste.

    evidence = EvidenceStore(state_store)
    evidence.counts("GET /items/{item_id}", since=now - timedelta(minutes=5))  # ShadowCounts
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from cutover.control.engine import translated
from cutover.control.status import timestamp
from cutover.control.store import StateStore
from cutover.control.tables import (
    shadow_counts_table,
    shadow_exemplars_table,
    shadow_groups_table,
    shadow_noise_table,
)
from cutover.shadow.compare import suggested_rule
from cutover.shadow.runner import ShadowCounts, as_dict

COUNT_NAMES: tuple[str, ...] = ShadowCounts.__slots__


@dataclass(frozen=True, slots=True)
class StoredExemplar:
    """One mismatching request as kept: request, both answers and the diff, all redacted."""

    id: int
    at: datetime
    request: dict[str, Any]  # method, path, query, headers [[name, value]], body {...}
    primary: dict[str, Any]  # status, headers, body {...}
    candidate: dict[str, Any]
    comparison: dict[str, Any]  # Comparison.to_json()
    report: str  # Comparison.report(): one difference per line

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": timestamp(self.at),
            "request": self.request,
            "primary": self.primary,
            "candidate": self.candidate,
            "comparison": self.comparison,
            "report": self.report,
        }


@dataclass(frozen=True, slots=True)
class GroupEvidence:
    """Mismatches of one route with one shape, summed over every process."""

    route: str
    shape_id: str
    shape: tuple[str, ...]
    count: int
    first_seen: datetime
    last_seen: datetime
    exemplars: list[StoredExemplar] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "shape": list(self.shape),
            "shape_id": self.shape_id,
            "count": self.count,
            "first_seen": timestamp(self.first_seen),
            "last_seen": timestamp(self.last_seen),
            "exemplars": [exemplar.to_json() for exemplar in self.exemplars],
        }


@dataclass(frozen=True, slots=True)
class NoiseEvidence:
    """A path that differed between two runs of the answering side, and how often it did."""

    route: str
    path: str
    seen: int
    runs: int  # noise runs of the route within the retention window
    first_seen: datetime
    last_seen: datetime

    @property
    def rate(self) -> float | None:
        """Share of noise runs in which the path differed (None before any run is counted)."""
        return min(1.0, round(self.seen / self.runs, 4)) if self.runs else None

    @property
    def suggested_ignore(self) -> str:
        return suggested_rule(self.path)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "seen": self.seen,
            "runs": self.runs,
            "rate": self.rate,
            "suggested_ignore": self.suggested_ignore,
            "first_seen": timestamp(self.first_seen),
            "last_seen": timestamp(self.last_seen),
        }


def match_rate(counts: ShadowCounts) -> float | None:
    """Matched (noise-only counting as matched) per compared; None before any comparison."""
    if not counts.compared:
        return None
    return round((counts.matched + counts.noise_only) / counts.compared, 4)


class EvidenceStore:
    """Reads of the `cutover_shadow_*` tables of `store`; thread-safe, blocking (call it off
    the event loop). Counts are summed from every process's delta rows, so any process (or the
    CLI) sees the evidence of all of them."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def counts(self, route: str, since: datetime, until: datetime | None = None) -> ShadowCounts:
        """`route`'s shadow counts summed over every process from `since` (inclusive) to
        `until` (exclusive; None: now): the evidence a promotion gate weighs over a window."""
        c = shadow_counts_table.c
        query = select(*(func.coalesce(func.sum(c[name]), 0) for name in COUNT_NAMES)).where(
            c.route == route, c.at >= since
        )
        if until is not None:
            query = query.where(c.at < until)
        with translated(), self.store.engine.connect() as connection:
            row = connection.execute(query).one()
        return ShadowCounts(*(int(value) for value in row))

    def totals(self, since: datetime | None = None) -> dict[str, ShadowCounts]:
        """Every route's counts summed over the kept window (or from `since`), by route."""
        c = shadow_counts_table.c
        query = select(c.route, *(func.sum(c[name]) for name in COUNT_NAMES)).group_by(c.route)
        if since is not None:
            query = query.where(c.at >= since)
        with translated(), self.store.engine.connect() as connection:
            rows = connection.execute(query.order_by(c.route)).all()
        return {row[0]: ShadowCounts(*(int(value or 0) for value in row[1:])) for row in rows}

    def groups(self, route: str | None = None, exemplars: bool = True) -> list[GroupEvidence]:
        """Mismatch groups (of one route, or all), largest first, with their kept exemplars."""
        g = shadow_groups_table.c
        query = select(shadow_groups_table).order_by(g.count.desc(), g.route, g.shape_id)
        if route is not None:
            query = query.where(g.route == route)
        with translated(), self.store.engine.connect() as connection:
            rows = connection.execute(query).all()
            kept = self._exemplars(connection, route) if exemplars else {}
        return [
            GroupEvidence(
                row.route,
                row.shape_id,
                tuple(json.loads(row.shape)),
                int(row._mapping["count"]),  # `row.count` is the tuple method
                row.first_seen,
                row.last_seen,
                kept.get((row.route, row.shape_id), []),
            )
            for row in rows
        ]

    def noise(self, route: str | None = None) -> list[NoiseEvidence]:
        """Noise learned (of one route, or all), by route and path, with its rate."""
        n = shadow_noise_table.c
        query = select(shadow_noise_table).order_by(n.route, n.path)
        if route is not None:
            query = query.where(n.route == route)
        with translated(), self.store.engine.connect() as connection:
            rows = connection.execute(query).all()
        runs = {name: counts.noise_runs for name, counts in self.totals().items()} if rows else {}
        return [
            NoiseEvidence(
                row.route,
                row.path,
                int(row.seen),
                runs.get(row.route, 0),
                row.first_seen,
                row.last_seen,
            )
            for row in rows
        ]

    def document(self, route: str | None = None) -> dict[str, Any]:
        """Counts, match rate, groups (largest first) and noise of every route (or one), for
        JSON: what `GET /_cutover/api/diffs` and `cutover diffs --json` give."""
        totals = self.totals()
        if route is not None:
            totals = {route: totals.get(route, ShadowCounts())}
        routes: dict[str, Any] = {
            name: {"counts": as_dict(counts), "match_rate": match_rate(counts), "groups": []}
            for name, counts in totals.items()
        }
        for group in self.groups(route):
            routes.setdefault(group.route, _empty_route())["groups"].append(group.to_json())
        for noise in self.noise(route):
            routes.setdefault(noise.route, _empty_route()).setdefault("noise", []).append(
                noise.to_json()
            )
        for entry in routes.values():
            entry.setdefault("noise", [])
        return {"routes": routes}

    def _exemplars(
        self, connection: Any, route: str | None
    ) -> dict[tuple[str, str], list[StoredExemplar]]:
        e = shadow_exemplars_table.c
        query = select(shadow_exemplars_table).order_by(e.route, e.shape_id, e.id.desc())
        if route is not None:
            query = query.where(e.route == route)
        kept: dict[tuple[str, str], list[StoredExemplar]] = {}
        for row in connection.execute(query):
            kept.setdefault((row.route, row.shape_id), []).append(
                StoredExemplar(
                    int(row.id),
                    row.at,
                    json.loads(row.request),
                    json.loads(row.primary_answer),
                    json.loads(row.candidate_answer),
                    json.loads(row.comparison),
                    row.report,
                )
            )
        return kept


def _empty_route() -> dict[str, Any]:
    return {"counts": as_dict(ShadowCounts()), "match_rate": None, "groups": []}
