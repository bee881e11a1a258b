"""The shadow evidence of every process as people read it: the admin API's `GET {prefix}/diffs`
(`?route=GET%20/x` for one route) and the text `cutover diffs` prints (groups with a readable
diff, noise with its rate and the `shadow_rules` code to paste)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import anyio.to_thread
from starlette.types import Scope

from cutover.control.modes import ModeRefused, route_id
from cutover.control.store import StateStore
from cutover.shadow.evidence import EvidenceStore

_LABELS = {"noise_only": "noise-only", "candidate_error": "candidate error"}


def parse_route(text: str) -> str:
    """`GET /items/{item_id}` (any spacing, any case of the method) as a route id."""
    method, _, path = " ".join(text.split()).partition(" ")
    if not method or not path.startswith("/"):
        raise ModeRefused(f"a route is 'METHOD /path', not {text!r}")
    return route_id(method.upper(), path)


def diffs_endpoint(store: StateStore) -> Callable[[Scope, bytes], Awaitable[Any]]:
    """The admin API's handler of `GET /diffs`, reading the shared database in a thread."""
    evidence = EvidenceStore(store)

    async def diffs(scope: Scope, body: bytes) -> Any:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        unknown = sorted(set(query) - {"route"})
        if unknown:
            raise ModeRefused(f"unknown query parameter {unknown[0]!r} (route)")
        text = query.get("route", [""])[-1].strip()
        route = parse_route(text) if text else None
        return await anyio.to_thread.run_sync(evidence.document, route)

    return diffs


def format_diffs(document: dict[str, Any]) -> str:
    """`EvidenceStore.document()` as text: per route its counts, match rate, mismatch groups
    (largest first, the latest exemplar's diff) and noise with the rule to paste."""
    routes: dict[str, Any] = document["routes"]
    if not routes:
        return "No shadow evidence recorded (is a route in shadow or reverse-shadow?)."
    return "\n\n".join(_route_text(route, entry) for route, entry in routes.items())


def _route_text(route: str, entry: dict[str, Any]) -> str:
    counts = entry["counts"]
    rate = entry["match_rate"]
    labels = (f"{_LABELS.get(name, name.replace('_', ' '))} {n}" for name, n in counts.items())
    lines = [
        route,
        "  " + ", ".join(labels),
        f"  match rate: {'-' if rate is None else f'{rate:.1%}'}",
    ]
    groups = entry["groups"]
    if groups:
        lines.append("  mismatch groups, largest first:")
    for group in groups:
        lines.append(f"    {group['count']}x  {', '.join(group['shape'])}")
        lines.append(f"      last seen {group['last_seen']}")
        for exemplar in group["exemplars"][:1]:
            request = exemplar["request"]
            query = f"?{request['query']}" if request["query"] else ""
            lines.append(f"      e.g. {request['method']} {request['path']}{query}")
            lines.extend(f"        {line}" for line in exemplar["report"].splitlines())
    noise = entry["noise"]
    if noise:
        lines.append("  noise (differs between two runs of the answering side; never a mismatch):")
        for item in noise:
            rate_text = "-" if item["rate"] is None else f"{item['rate']:.0%}"
            lines.append(
                f"    {item['path']}  seen {item['seen']} of {item['runs']} runs ({rate_text})"
            )
        rules = ", ".join(repr(item["suggested_ignore"]) for item in noise)
        lines.append("  to ignore it, paste into Gateway(shadow_rules=...):")
        lines.append(f"    {route!r}: CompareRules(ignore=[{rules}]),")
    return "\n".join(lines)
