"""`cutover routes --app gateway:app`: every route of both sides and the side serving it; with
a state store, also its mode, answers per side, shadow match rate and p50/p99 per side."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import TYPE_CHECKING

from cutover.cli.common import CommandError, SubParsers, format_rows

if TYPE_CHECKING:
    from cutover.cli.route_traffic import Live
    from cutover.gateway import Gateway
    from cutover.inventory import Inventory

_COLUMNS = ("METHOD", "PATH", "LEGACY", "NEW", "SIDE")


class AppLoadError(CommandError):
    """The `--app` reference does not name a Gateway."""


def load_gateway(reference: str) -> Gateway:
    """Import `module:attribute` (from the current directory, as uvicorn does)."""
    from cutover.gateway import Gateway  # only for this command: the others start faster

    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise AppLoadError(f"--app must look like 'module:attribute', not {reference!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise AppLoadError(f"cannot import {module_name!r}: {exc}") from exc
    app: object = module
    for name in attribute.split("."):
        if not hasattr(app, name):
            raise AppLoadError(f"{module_name!r} has no attribute {attribute!r}")
        app = getattr(app, name)
    if not isinstance(app, Gateway):
        raise AppLoadError(f"{reference} is a {type(app).__name__}, not a cutover.Gateway")
    return app


def format_table(inventory: Inventory) -> str:
    """The inventory as aligned columns, then the progress line."""
    cells = [
        (row.method, row.path, row.legacy_endpoint or "-", row.new_endpoint or "-", row.side)
        for row in inventory.rows
    ]
    return f"{format_rows(_COLUMNS, cells)}\n\nProgress: {inventory.progress()}"


def format_json(inventory: Inventory) -> str:
    """The inventory as a JSON document."""
    document = {
        "routes": inventory.as_dicts(),
        "served_by_new": inventory.served_by_new,
        "total": inventory.total,
    }
    return json.dumps(document, indent=2)


def register(commands: SubParsers) -> None:
    parser = commands.add_parser("routes", help="list every route and the side serving it")
    parser.add_argument("--app", required=True, help="the gateway, as module:attribute")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--state-url",
        metavar="URL",
        help="add each route's mode and traffic from this state store (default: "
        "$CUTOVER_STATE_URL, else $DATABASE_URL; neither: the routes only)",
    )
    parser.add_argument(
        "--window", default="1h", metavar="DURATION", help="traffic over the last 1h (30m, 60s)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from cutover.cli.route_traffic import optional_state_url

    gateway = load_gateway(args.app)
    inventory = gateway.inventory
    url = optional_state_url(args.state_url)
    if url is not None:
        live = _live(url, gateway, args.window)
        if live is not None:
            print(_live_json(inventory, live) if args.json else _live_table(inventory, live))
            return 0
    print(format_json(inventory) if args.json else format_table(inventory))
    return 0


def _live(url: str, gateway: Gateway, window: str) -> dict[str, Live] | None:
    """The routes' modes and traffic, or None (said on stderr) when the store cannot tell."""
    from sqlalchemy.exc import ArgumentError

    from cutover.cli.route_traffic import read_live
    from cutover.control.modes import ModeRefused
    from cutover.control.promotion import parse_duration
    from cutover.control.store import StoreUnavailable

    try:
        seconds = parse_duration(window)
    except ModeRefused as exc:
        raise CommandError(f"--window: {exc}") from exc
    try:
        return read_live(url, gateway, seconds)
    except (StoreUnavailable, ArgumentError, ImportError) as exc:
        print(f"cutover: warning: no traffic shown: {exc}", file=sys.stderr)
        return None


def _live_table(inventory: Inventory, live: dict[str, Live]) -> str:
    from cutover.cli.route_traffic import live_table

    return f"{live_table(inventory, live, _COLUMNS)}\n\nProgress: {inventory.progress()}"


def _live_json(inventory: Inventory, live: dict[str, Live]) -> str:
    from cutover.cli.route_traffic import live_fields

    document = json.loads(format_json(inventory))
    for route in document["routes"]:
        route.update(live_fields(live[f"{route['method']} {route['path']}"]))
    return json.dumps(document, indent=2)
