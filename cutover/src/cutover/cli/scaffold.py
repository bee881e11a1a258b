"""`cutover scaffold METHOD PATH`: draft a legacy route's FastAPI port and its parity test from the
Flask view and the traffic the gateway saw; `cutover scaffold --list`: which routes to port next."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cutover.cli.common import CommandError, SubParsers

if TYPE_CHECKING:
    from cutover.openapi.samples import StoredSample
    from cutover.scaffold.ranking import Candidate
    from cutover.shadow.evidence import StoredExemplar

INSTALL_HINT = "cutover scaffold needs libcst: pip install 'cutover[scaffold]'"
_LIST_COLUMNS = ("#", "METHOD", "PATH", "VIEW", "REQUESTS", "SAMPLES", "TODOS", "READY")


def register(commands: SubParsers) -> None:
    parser = commands.add_parser(
        "scaffold",
        help="draft a legacy route's FastAPI port and parity test; --list: what to port next",
        description=__doc__,
    )
    parser.add_argument("method", nargs="?", help="the route's method, e.g. GET")
    parser.add_argument(
        "path", nargs="?", help="its path: /items/{item_id} or /items/<int:item_id>"
    )
    parser.add_argument(
        "--app",
        default="gateway:app",
        help="the gateway (or the Flask app), as module:attribute (default: gateway:app)",
    )
    parser.add_argument("--out", default=".", metavar="DIR", help="where the router module goes")
    parser.add_argument(
        "--tests-out", metavar="DIR", help="where the parity test goes (default: --out)"
    )
    parser.add_argument(
        "--state-url",
        metavar="URL",
        help="the state store holding the traffic samples (default: $CUTOVER_STATE_URL, else "
        "$DATABASE_URL, else the gateway's own)",
    )
    parser.add_argument("--force", action="store_true", help="redraft over an edited draft")
    parser.add_argument(
        "--list", action="store_true", help="rank the legacy routes by readiness and traffic"
    )
    parser.add_argument(
        "--window", default="168h", metavar="DURATION", help="--list: traffic over the last 168h"
    )
    parser.add_argument("--json", action="store_true", help="--list: print JSON")
    parser.set_defaults(run=run)


def _load(reference: str) -> tuple[Any, Any]:
    """(the Flask app, the gateway or None) named by `module:attribute`."""
    from cutover.gateway import Gateway

    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise CommandError(f"--app must look like 'module:attribute', not {reference!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise CommandError(f"cannot import {module_name!r}: {exc}") from exc
    for name in attribute.split("."):
        if not hasattr(target, name):
            raise CommandError(f"{module_name!r} has no attribute {attribute!r}")
        target = getattr(target, name)
    if isinstance(target, Gateway):
        if getattr(target.legacy, "url_map", None) is None:
            raise CommandError("the gateway's legacy app is not a Flask app: nothing to draft")
        return target.legacy, target
    if getattr(target, "url_map", None) is not None and hasattr(target, "view_functions"):
        return target, None
    raise CommandError(f"{reference} is a {type(target).__name__}, not a Gateway or a Flask app")


def _store_url(args: argparse.Namespace, gateway: Any) -> str | None:
    from cutover.cli.route_traffic import optional_state_url

    url = optional_state_url(args.state_url)
    if url is None and gateway is not None and gateway.control.store is not None:
        url = str(gateway.control.store.url.render_as_string(hide_password=False))
    return url


def _exemplars(url: str | None) -> dict[str, list[StoredExemplar]]:
    """The shadow's mismatch exemplars by route (a route shadowed once, then set back)."""
    from cutover.control.store import StateStore, StoreUnavailable
    from cutover.shadow.evidence import EvidenceStore

    if url is None:
        return {}
    store = StateStore(url)
    found: dict[str, list[StoredExemplar]] = {}
    try:
        for group in EvidenceStore(store).groups():
            found.setdefault(group.route, []).extend(group.exemplars)
    except StoreUnavailable:
        return {}  # said once already, by _samples
    finally:
        store.dispose()
    return found


def _samples(url: str | None) -> dict[str, list[StoredSample]]:
    from sqlalchemy.exc import ArgumentError

    from cutover.control.store import StateStore, StoreUnavailable
    from cutover.openapi.samples import read_samples

    if url is None:
        print(
            "cutover: warning: no state store, so no traffic to learn from (no models, no "
            "recorded requests, no ranking by traffic); pass --state-url",
            file=sys.stderr,
        )
        return {}
    try:
        store = StateStore(url)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise CommandError(f"cannot use the state URL: {exc}") from exc
    try:
        return read_samples(store)
    except StoreUnavailable as exc:
        print(f"cutover: warning: no traffic used: {exc} ({store.display_url()})", file=sys.stderr)
        return {}
    finally:
        store.dispose()


def run(args: argparse.Namespace) -> int:
    try:
        import libcst  # noqa: F401
    except ImportError:
        raise CommandError(INSTALL_HINT) from None
    if args.list:
        if args.method or args.path:
            raise CommandError("--list takes no METHOD PATH")
        return _run_list(args)
    if not (args.method and args.path):
        raise CommandError("name the route: cutover scaffold METHOD PATH (or --list)")
    from cutover.scaffold import DraftEdited, RouteNotFound, scaffold

    app, gateway = _load(args.app)
    url = _store_url(args, gateway)
    samples = _samples(url)
    exemplars = _exemplars(url) if samples else {}
    tests_out = Path(args.tests_out) if args.tests_out else None
    try:
        drafted = scaffold(
            app,
            args.method,
            args.path,
            samples,
            Path(args.out),
            tests_out=tests_out,
            force=args.force,
            exemplars=exemplars,
        )
    except (RouteNotFound, DraftEdited) as exc:
        raise CommandError(str(exc)) from exc
    route = drafted.routes[-1]
    kept = len(samples.get(route, []))
    shadowed = len(exemplars.get(route, []))
    extra = f", {shadowed} shadow exemplars" if shadowed else ""
    print(f"drafted {route} ({kept} traffic samples{extra})")
    print(f"  router: {drafted.router}  ({len(drafted.routes)} route(s) of its blueprint)")
    print(f"  parity: {drafted.parity}")
    if drafted.todos:
        print(f"  {len(drafted.todos)} TODO(cutover) left:")
        for todo, count in Counter(drafted.todos).items():
            print(f"    - {todo}" + (f" ({count} places)" if count > 1 else ""))
    else:
        print("  every construct translated: no TODO(cutover)")
    return 0


def _run_list(args: argparse.Namespace) -> int:
    from cutover.control.modes import ModeRefused
    from cutover.control.promotion import parse_duration
    from cutover.scaffold.ranking import rank

    try:
        window = parse_duration(args.window)
    except ModeRefused as exc:
        raise CommandError(f"--window: {exc}") from exc
    app, gateway = _load(args.app)
    url = _store_url(args, gateway)
    samples = _samples(url)
    ported = set()
    if gateway is not None:
        ported = {f"{r.method} {r.path}" for r in gateway.inventory.rows if r.side == "new"}
    candidates = rank(app, samples, _traffic(url, window), ported)
    if args.json:
        print(json.dumps([candidate.to_json() for candidate in candidates], indent=2))
    else:
        print(_table(candidates))
    return 0


def _traffic(url: str | None, window: float) -> dict[str, int]:
    """Requests per route over the window, as every gateway process recorded them."""
    if url is None:
        return {}
    from datetime import timedelta

    from cutover.control.store import StateStore, StoreUnavailable, now
    from cutover.observe.traffic import read_traffic

    store = StateStore(url)
    try:
        counted = read_traffic(store, now() - timedelta(seconds=window))
    except StoreUnavailable:
        return {}  # said once already, by _samples
    finally:
        store.dispose()
    return {
        route: sum(side.requests for side in sides.values()) for route, sides in counted.items()
    }


def _table(candidates: list[Candidate]) -> str:
    from cutover.cli.common import format_rows

    cells = [
        (
            str(number),
            c.method,
            c.path,
            c.view,
            str(c.requests),
            str(c.samples),
            str(len(c.todos)),
            "yes" if c.ready else "no",
        )
        for number, c in enumerate(candidates, 1)
    ]
    lines = [format_rows(_LIST_COLUMNS, cells)]
    blocked = [c for c in candidates if c.todos]
    if blocked:
        lines.append("")
        lines.append("Left for a human (TODO(cutover) a draft would keep):")
        for c in blocked:
            lines.append(f"  {c.method} {c.path}: {'; '.join(c.todos)}")
    return "\n".join(lines)
