"""`cutover diffs [METHOD PATH]`: the shadow evidence every process wrote to the state store."""

from __future__ import annotations

import argparse

from cutover.cli.common import CommandError, SubParsers, open_store, print_json, state_options


def register(commands: SubParsers) -> None:
    parser = commands.add_parser(
        "diffs",
        parents=[state_options()],
        help="shadow evidence: counts, match rate, mismatch groups with a diff, noise to ignore",
    )
    parser.add_argument("method", nargs="?", help="one route only: its method (GET)...")
    parser.add_argument("path", nargs="?", help="... and its path template (/items/{item_id})")
    parser.set_defaults(run=run)


def route_argument(method: str | None, path: str | None) -> str | None:
    """The route named by METHOD PATH, or None for every route."""
    from cutover.shadow.report import parse_route

    if method is None:
        return None
    if path is None:
        raise CommandError("give both METHOD and PATH (e.g. GET '/items/{item_id}'), or neither")
    return parse_route(f"{method} {path}")


def run(args: argparse.Namespace) -> int:
    from cutover.shadow.evidence import EvidenceStore
    from cutover.shadow.report import format_diffs

    route = route_argument(args.method, args.path)
    with open_store(args) as store:
        document = EvidenceStore(store).document(route)
    if args.json:
        print_json(document)
    else:
        print(format_diffs(document))
    return 0
