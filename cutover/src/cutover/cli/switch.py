"""`cutover switch METHOD PATH MODE --reason TEXT`: give one route a mode at run time;
`cutover switch --all legacy --reason TEXT` is the big red button."""

from __future__ import annotations

import argparse

from cutover.cli.common import (
    CommandError,
    SubParsers,
    default_actor,
    open_store,
    print_json,
    state_options,
)
from cutover.control.modes import Mode, RouteMode, route_id
from cutover.control.status import change_document, history_document

DEFAULT = "default"
MODES = (*(mode.value for mode in Mode), DEFAULT)
USAGE = (
    "cutover switch METHOD PATH MODE [--percent N] --reason TEXT [--actor NAME]\n"
    "       cutover switch --all {legacy,new} --reason TEXT [--actor NAME]"
)


def parse_mode(name: str, percent: float | None) -> RouteMode | None:
    """A mode name (and the canary's percent) as a RouteMode; `default` is None."""
    if name == DEFAULT:
        if percent is not None:
            raise CommandError("default takes no --percent")
        return None
    if name not in MODES:
        raise CommandError(f"MODE is one of {', '.join(MODES)}, not {name!r}")
    mode = Mode(name)
    if mode is Mode.CANARY and percent is None:
        raise CommandError("canary needs --percent N (0-100: the share of clients on new)")
    return RouteMode(mode, percent or 0.0)


def register(commands: SubParsers) -> None:
    parser = commands.add_parser(
        "switch",
        parents=[state_options()],
        usage=USAGE,
        help="set a route's mode (or every route's, with --all)",
        description=(
            "Set a route's mode at run time: every gateway process applies it within seconds. "
            f"MODE is one of {', '.join(MODES)} ({DEFAULT}: back to the mode from code)."
        ),
    )
    parser.add_argument("method", nargs="?", metavar="METHOD")
    parser.add_argument("path", nargs="?", metavar="PATH", help="the path template")
    parser.add_argument("mode", nargs="?", metavar="MODE")
    parser.add_argument("--percent", type=float, metavar="N", help="canary: percent on new")
    parser.add_argument(
        "--all",
        choices=("legacy", "new"),
        dest="all_mode",
        metavar="{legacy,new}",
        help="every route that has that side (the big red button)",
    )
    parser.add_argument("--reason", required=True, metavar="TEXT", help="why (audited)")
    parser.add_argument("--actor", metavar="NAME", help="who (default: user@host)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    positional = [value for value in (args.method, args.path, args.mode) if value is not None]
    actor = args.actor if args.actor is not None else default_actor()
    if args.all_mode is not None:
        if positional or args.percent is not None:
            raise CommandError("--all takes only legacy or new: no METHOD, PATH, MODE or --percent")
        return _switch_all(args, RouteMode(Mode(args.all_mode)), actor)
    if len(positional) != 3:
        raise CommandError("switch needs METHOD PATH MODE (or --all legacy|new)")
    mode = parse_mode(args.mode, args.percent)
    route = route_id(args.method, args.path)
    with open_store(args) as store:
        change = store.switch(route, mode, actor=actor, reason=args.reason)
    if args.json:
        print_json(change_document(change))
    else:
        print(f"{change.route}: {change.before} -> {change.after} (version {change.version})")
    return 0


def _switch_all(args: argparse.Namespace, mode: RouteMode, actor: str) -> int:
    with open_store(args) as store:
        changes = store.switch_all(mode, actor=actor, reason=args.reason)
        version = changes[0].version if changes else store.read_version()
    if args.json:
        print_json({"version": version, **history_document(changes)})
        return 0
    for change in changes:
        print(f"{change.route}: {change.before} -> {change.after}")
    routes = "route" if len(changes) == 1 else "routes"
    print(f"Version {version}: {len(changes)} {routes} switched to {mode}")
    return 0
