"""The `cutover` command: inspect a gateway from the shell (`cutover routes --app gateway:app`)."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence

from cutover.gateway import Gateway
from cutover.inventory import Inventory

_COLUMNS = ("METHOD", "PATH", "LEGACY", "NEW", "SIDE")


class AppLoadError(Exception):
    """The `--app` reference does not name a Gateway."""


def load_gateway(reference: str) -> Gateway:
    """Import `module:attribute` (from the current directory, as uvicorn does)."""
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
    widths = [max(len(line[i]) for line in [_COLUMNS, *cells]) for i in range(len(_COLUMNS))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [_COLUMNS, *cells]
    ]
    lines.append("")
    lines.append(f"Progress: {inventory.progress()}")
    return "\n".join(lines)


def format_json(inventory: Inventory) -> str:
    """The inventory as a JSON document."""
    document = {
        "routes": inventory.as_dicts(),
        "served_by_new": inventory.served_by_new,
        "total": inventory.total,
    }
    return json.dumps(document, indent=2)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cutover", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    routes = commands.add_parser("routes", help="list every route and the side serving it")
    routes.add_argument("--app", required=True, help="the gateway, as module:attribute")
    routes.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `cutover` console script."""
    args = _parser().parse_args(argv)
    try:
        gateway = load_gateway(args.app)
    except AppLoadError as exc:
        print(f"cutover: error: {exc}", file=sys.stderr)
        return 2
    inventory = gateway.inventory
    print(format_json(inventory) if args.json else format_table(inventory))
    return 0


if __name__ == "__main__":
    sys.exit(main())
