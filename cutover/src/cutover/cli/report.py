"""`cutover report`: where the migration stands, for a terminal, a script (`--json`) or a pull
request and a weekly update (`--markdown`): share of routes and of traffic on the FastAPI side,
routes per mode, shadow match rates, the last switches and the legacy routes to port next."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from cutover.cli.common import (
    STATE_URL_VARIABLES,
    SubParsers,
    format_rows,
    open_store,
    print_json,
    short_time,
    state_options,
)
from cutover.control.modes import RouteMode, RouteSides
from cutover.control.status import change_document, mode_document, timestamp

Document = dict[str, Any]
BAR = 30  # characters of the progress bars
_ON_NEW = {"new": 1.0, "reverse-shadow": 1.0}


def register(commands: SubParsers) -> None:
    parser = commands.add_parser(
        "report",
        parents=[state_options()],
        help="the migration's progress: routes and traffic per side, modes, shadow, switches",
    )
    parser.add_argument("--markdown", action="store_true", help="print Markdown (PR, update)")
    parser.add_argument("--app", metavar="MODULE:ATTR", help="the gateway: its routes and modes")
    parser.add_argument(
        "--hours", type=float, default=24.0, metavar="H", help="traffic window (default 24)"
    )
    parser.add_argument("--switches", type=int, default=5, metavar="N", help="last N switches")
    parser.set_defaults(run=run)


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _route_rows(
    sides: Sequence[RouteSides], modes: dict[str, RouteMode], traffic: dict[str, Any]
) -> list[Document]:
    rows = []
    for route in sides:
        mode = modes.get(route.route, route.default)
        per_side = traffic.get(route.route, {})
        rows.append(
            {
                "route": route.route,
                "legacy": route.legacy,
                "new": route.new,
                **mode_document(mode),
                "requests": {side: per_side[side].requests for side in sorted(per_side)},
            }
        )
    return rows


def _on_new(row: Document) -> float:
    """How much of the route's clients the new side answers (a canary: its share)."""
    if row["mode"] == "canary":
        return float(row["percent"]) / 100
    return _ON_NEW.get(str(row["mode"]), 0.0)


def report_document(
    sides: Sequence[RouteSides],
    modes: dict[str, RouteMode],
    traffic: dict[str, Any],
    evidence: dict[str, Any],
    switches: Sequence[Document],
    *,
    now: Any,
    hours: float,
) -> Document:
    """The report as JSON-ready data, from the routes, their modes, each route's traffic by side
    (`read_traffic`), shadow counts by route (`EvidenceStore.totals`) and the last changes."""
    from cutover.shadow.evidence import match_rate

    rows = _route_rows(sides, modes, traffic)
    on_new = sum(_on_new(row) for row in rows)
    requests = Counter[str]()
    for row in rows:
        requests.update(row["requests"])
    by_mode = Counter(str(row["mode"]) for row in rows)
    shadow = [
        {
            "route": row["route"],
            "mode": row["mode"],
            "compared": evidence[row["route"]].compared if row["route"] in evidence else 0,
            "match_rate": match_rate(evidence[row["route"]]) if row["route"] in evidence else None,
        }
        for row in rows
        if row["mode"] in ("shadow", "reverse-shadow") or row["route"] in evidence
    ]
    port_next = sorted(
        (row for row in rows if not row["new"]),
        key=lambda row: (-sum(row["requests"].values()), row["route"]),
    )
    return {
        "generated_at": timestamp(now),
        "routes": {
            "total": len(rows),
            "on_new": round(on_new, 2),
            "share_new": _share(on_new, len(rows)),
            "by_mode": dict(sorted(by_mode.items())),
        },
        "traffic": {
            "hours": hours,
            "legacy": requests.get("legacy", 0),
            "new": requests.get("new", 0),
            "share_new": _share(requests.get("new", 0), sum(requests.values())),
        },
        "shadow": shadow,
        "switches": list(switches),
        "port_next": [
            {"route": row["route"], "requests": sum(row["requests"].values())}
            for row in port_next[:5]
        ],
        "route_modes": rows,
    }


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.0f}%"


def _bar(share: float | None) -> str:
    filled = round(BAR * (share or 0.0))
    return "[" + "#" * filled + "-" * (BAR - filled) + "]"


def _headline(document: Document) -> tuple[str, str, str]:
    routes, traffic = document["routes"], document["traffic"]
    route_line = (
        f"{routes['on_new']:g}/{routes['total']} routes on the FastAPI side "
        f"({_percent(routes['share_new'])})"
    )
    total = traffic["legacy"] + traffic["new"]
    traffic_line = (
        f"{traffic['new']}/{total} requests on the FastAPI side in the last "
        f"{traffic['hours']:g} h ({_percent(traffic['share_new'])})"
    )
    modes = ", ".join(f"{mode} {count}" for mode, count in document["routes"]["by_mode"].items())
    return route_line, traffic_line, modes


def _switch_cells(change: Document) -> tuple[str, ...]:
    return (
        short_time(change["at"]),
        change["route"],
        str(RouteMode(**_mode(change["before"]))),
        str(RouteMode(**_mode(change["after"]))),
        change["actor"],
        change["reason"],
    )


def _mode(document: Document) -> dict[str, Any]:
    from cutover.control.modes import Mode

    return {"mode": Mode(document["mode"]), "percent": document["percent"]}


def _rate(entry: Document) -> str:
    return _percent(entry["match_rate"])


def format_text(document: Document) -> str:
    route_line, traffic_line, modes = _headline(document)
    parts = [
        f"Migration progress at {short_time(document['generated_at'])}\n"
        f"  routes   {_bar(document['routes']['share_new'])}  {route_line}\n"
        f"  traffic  {_bar(document['traffic']['share_new'])}  {traffic_line}\n"
        f"  modes    {modes or '-'}"
    ]
    cells: list[tuple[str, ...]]
    if document["shadow"]:
        cells = [(e["route"], e["mode"], str(e["compared"]), _rate(e)) for e in document["shadow"]]
        parts.append("Shadow\n" + format_rows(("ROUTE", "MODE", "COMPARED", "MATCH"), cells))
    if document["switches"]:
        cells = [_switch_cells(change) for change in document["switches"]]
        header = ("AT", "ROUTE", "FROM", "TO", "ACTOR", "REASON")
        parts.append("Last switches\n" + format_rows(header, cells))
    if document["port_next"]:
        cells = [(e["route"], str(e["requests"])) for e in document["port_next"]]
        parts.append(
            "Port next (legacy only, by traffic)\n" + format_rows(("ROUTE", "REQUESTS"), cells)
        )
    return "\n\n".join(parts)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def format_markdown(document: Document) -> str:
    route_line, traffic_line, modes = _headline(document)
    parts = [
        f"## Migration progress ({short_time(document['generated_at'])})",
        f"- **Routes:** {route_line}\n- **Traffic:** {traffic_line}\n- **Modes:** {modes or '-'}",
    ]
    rows: list[tuple[str, ...]]
    if document["shadow"]:
        rows = [
            (f"`{e['route']}`", e["mode"], str(e["compared"]), _rate(e)) for e in document["shadow"]
        ]
        parts += ["### Shadow", _table(("route", "mode", "compared", "match rate"), rows)]
    if document["switches"]:
        switched = [_switch_cells(change) for change in document["switches"]]
        rows = [(at, f"`{route}`", *rest) for at, route, *rest in switched]
        parts += [
            "### Last switches",
            _table(("at", "route", "from", "to", "actor", "reason"), rows),
        ]
    if document["port_next"]:
        rows = [(f"`{e['route']}`", str(e["requests"])) for e in document["port_next"]]
        parts += ["### Port next (legacy only, by traffic)", _table(("route", "requests"), rows)]
    return "\n\n".join(parts)


def _has_store(args: argparse.Namespace) -> bool:
    import os

    return bool(args.state_url) or any(os.environ.get(v, "").strip() for v in STATE_URL_VARIABLES)


def run(args: argparse.Namespace) -> int:
    from cutover.control.store import now

    sides: list[RouteSides] = []
    if args.app:
        from cutover.cli.routes import load_gateway

        sides = list(load_gateway(args.app).control.routes.values())
    document: Document
    if args.app and not _has_store(args):
        document = report_document(sides, {}, {}, {}, [], now=now(), hours=args.hours)
    else:
        document = _from_store(args, sides)
    if args.json:
        print_json(document)
    else:
        print(format_markdown(document) if args.markdown else format_text(document))
    return 0


def _from_store(args: argparse.Namespace, sides: list[RouteSides]) -> Document:
    from cutover.control.store import now
    from cutover.observe.traffic import read_traffic
    from cutover.shadow.evidence import EvidenceStore

    with open_store(args) as store:
        at = now()
        state = store.read_state()
        published = sides or store.routes()
        modes = {route: override.mode for route, override in state.overrides.items()}
        traffic = read_traffic(store, at - timedelta(hours=args.hours))
        evidence = EvidenceStore(store).totals()
        changes = [change_document(change) for change in store.history(limit=args.switches)]
    modes = {route: mode for route, mode in modes.items() if route in {s.route for s in published}}
    return report_document(published, modes, traffic, evidence, changes, now=at, hours=args.hours)
