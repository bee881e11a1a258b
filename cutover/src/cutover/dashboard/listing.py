"""The overview's route table sorted and filtered by query parameters, so it works without JS:
`?q=items&mode=shadow&sort=requests&order=desc`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from cutover.dashboard.data import RouteRow

_NONE_LAST = float("inf")


def _rate(value: float | None) -> float:
    return _NONE_LAST if value is None else value


SORT_KEYS: dict[str, Callable[[RouteRow], Any]] = {
    "route": lambda row: (row.path, row.method),
    "mode": lambda row: (row.label, row.path),
    "requests": lambda row: row.requests,
    "errors": lambda row: _rate(row.error_rate),
    "p99": lambda row: _rate(row.p99),
    "match": lambda row: _rate(row.match_rate),
    "switched": lambda row: row.last_switch.at.timestamp() if row.last_switch else 0.0,
}
# Filters by side beside the modes: routes only one side has.
SIDE_FILTERS = {"legacy-only": (True, False), "new-only": (False, True), "both": (True, True)}


@dataclass(frozen=True, slots=True)
class Listing:
    """The table's parameters as read from the query (unknown values fall back to defaults)."""

    q: str = ""
    mode: str = ""
    sort: str = "route"
    order: str = "asc"

    @classmethod
    def from_query(cls, query: Mapping[str, list[str]]) -> Listing:
        def one(name: str) -> str:
            return query.get(name, [""])[-1].strip()

        sort = one("sort") if one("sort") in SORT_KEYS else "route"
        order = one("order") if one("order") in ("asc", "desc") else "asc"
        return cls(q=one("q")[:200], mode=one("mode")[:40], sort=sort, order=order)

    def apply(self, rows: list[RouteRow]) -> list[RouteRow]:
        needle = self.q.lower()
        kept = [row for row in rows if not needle or needle in row.route.lower()]
        if self.mode in SIDE_FILTERS:
            kept = [row for row in kept if (row.legacy, row.new) == SIDE_FILTERS[self.mode]]
        elif self.mode:
            kept = [row for row in kept if row.mode == self.mode]
        kept.sort(key=lambda row: row.route)  # ties keep the route order
        kept.sort(key=SORT_KEYS[self.sort], reverse=self.order == "desc")
        return kept

    def link(self, sort: str) -> str:
        """The query string of a column header: sort by it, flipping the order if it is on."""
        order = "desc" if sort == self.sort and self.order == "asc" else "asc"
        if sort != self.sort and sort in ("requests", "errors", "p99", "switched"):
            order = "desc"
        fields = {"q": self.q, "mode": self.mode, "sort": sort, "order": order}
        return urlencode({key: value for key, value in fields.items() if value})

    def arrow(self, sort: str) -> str:
        if sort != self.sort:
            return ""
        return " ▲" if self.order == "asc" else " ▼"
