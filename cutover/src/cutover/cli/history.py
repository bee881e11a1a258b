"""`cutover history`: who switched which route, when, from what to what, and why."""

from __future__ import annotations

import argparse

from cutover.cli.common import (
    CommandError,
    SubParsers,
    format_rows,
    open_store,
    print_json,
    short_time,
    state_options,
)
from cutover.control.modes import Change
from cutover.control.status import history_document

COLUMNS = ("VERSION", "AT", "ROUTE", "FROM", "TO", "ACTOR", "REASON")


def register(commands: SubParsers) -> None:
    parser = commands.add_parser(
        "history", parents=[state_options()], help="the audit trail of switches, newest first"
    )
    parser.add_argument("--route", metavar="ROUTE", help='one route only: "GET /items/{item_id}"')
    parser.add_argument("--limit", type=int, default=100, metavar="N", help="at most N (100)")
    parser.set_defaults(run=run)


def format_history(changes: list[Change]) -> str:
    if not changes:
        return "No switches recorded."
    rows = [
        (
            str(change.version),
            short_time(change.at),
            change.route,
            str(change.before),
            str(change.after),
            change.actor,
            change.reason,
        )
        for change in changes
    ]
    return format_rows(COLUMNS, rows)


def run(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise CommandError(f"--limit is at least 1, not {args.limit}")
    route = " ".join(args.route.split()) if args.route else None
    if route is not None:
        method, _, path = route.partition(" ")
        route = f"{method.upper()} {path}"
    with open_store(args) as store:
        changes = store.history(route, args.limit)
    if args.json:
        print_json(history_document(changes))
    else:
        print(format_history(changes))
    return 0
