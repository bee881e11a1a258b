"""`cutover init-state`: create the state store's tables and its version row (idempotent)."""

from __future__ import annotations

import argparse

from cutover.cli.common import SubParsers, open_store, print_json, state_options


def register(commands: SubParsers) -> None:
    parser = commands.add_parser(
        "init-state",
        parents=[state_options()],
        help="create the control plane's tables (safe to run again)",
        description="Create cutover's tables (cutover_*) and the version row; safe to run again.",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        store.create_tables()
        version = store.read_version()
        url = store.display_url()
    if args.json:
        print_json({"url": url, "version": version})
    else:
        print(f"State store ready at {url} (version {version})")
    return 0
