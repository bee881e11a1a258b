"""`cutover status`: each route's mode and who set it, and each live process's version."""

from __future__ import annotations

import argparse
from typing import Any

from cutover.cli.common import (
    SubParsers,
    format_rows,
    open_store,
    print_json,
    short_time,
    state_options,
    yes_no,
)
from cutover.control.modes import Mode, RouteMode
from cutover.control.status import Document, status_document

ROUTE_COLUMNS = ("METHOD", "PATH", "LEGACY", "NEW", "DEFAULT", "MODE", "ACTOR", "AT", "REASON")
PROCESS_COLUMNS = ("PROCESS", "VERSION", "HEALTHY", "SEEN")


def register(commands: SubParsers) -> None:
    parser = commands.add_parser(
        "status",
        parents=[state_options()],
        help="every route's mode and each live process's version",
    )
    parser.add_argument(
        "--within",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="a process is live if it reported this recently (default 15)",
    )
    parser.set_defaults(run=run)


def label(mode: dict[str, Any]) -> str:
    """`canary 10%`, `legacy`, ... from a mode document."""
    return str(RouteMode(Mode(mode["mode"]), mode["percent"]))


def format_status(document: Document) -> str:
    """The status document as aligned tables and a summary line."""
    routes = [
        (
            route["method"],
            route["path"],
            yes_no(route["legacy"]),
            yes_no(route["new"]),
            label(route["default"]),
            label(route),
            route["actor"] or "-",
            short_time(route["at"]),
            route["reason"] or "-",
        )
        for route in document["routes"]
    ]
    parts = [format_rows(ROUTE_COLUMNS, routes) if routes else "No routes published yet."]
    problems = [f"warning: {route['problem']}" for route in document["routes"] if route["problem"]]
    problems += [
        f"warning: {orphan['route']} is {label(orphan)} but no gateway publishes it"
        for orphan in document["unpublished_overrides"]
    ]
    if problems:
        parts.append("\n".join(problems))
    if document["processes"]:
        processes = [
            (
                process["process_id"],
                "-" if process["version"] is None else str(process["version"]),
                yes_no(process["healthy"]),
                short_time(process["seen_at"]),
            )
            for process in document["processes"]
        ]
        parts.append(format_rows(PROCESS_COLUMNS, processes))
    parts.append(f"Version {document['version']}: {document['summary']}")
    return "\n\n".join(parts)


def run(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        document = status_document(store, within=args.within)
    if args.json:
        print_json(document)
    else:
        print(format_status(document))
    return 0
