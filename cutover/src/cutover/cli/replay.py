"""`cutover replay METHOD PATH --app module:gateway`: a route's stored mismatch exemplars sent
to both sides again now; exit 1 while any still differs, so a fix is seen before shadowing."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cutover.cli.common import (
    CommandError,
    SubParsers,
    open_store,
    print_json,
    state_options,
    state_url,
)
from cutover.cli.diffs import route_argument
from cutover.cli.routes import load_gateway

if TYPE_CHECKING:
    from cutover.shadow.replay import ReplayReport


def register(commands: SubParsers) -> None:
    parser = commands.add_parser(
        "replay",
        parents=[state_options()],
        help="re-send a route's stored mismatch exemplars to both sides; exit 1 if any differs",
    )
    parser.add_argument("method", help="the route's method (GET)")
    parser.add_argument("path", help="the route's path template (/items/{item_id})")
    parser.add_argument("--app", required=True, help="the gateway, as module:attribute")
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="a header to send with every replay, e.g. a test Authorization (repeatable)",
    )
    parser.set_defaults(run=run)


def parse_header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    if not colon or not name.strip():
        raise CommandError(f"--header is 'Name: value', not {text!r}")
    return name.strip(), value.strip()


def run(args: argparse.Namespace) -> int:
    import anyio

    from cutover.shadow.replay import app_lifespan, replay_route

    route = route_argument(args.method, args.path)
    assert route is not None
    headers = [parse_header(text) for text in args.header]
    gateway = load_gateway(args.app)
    try:
        state_url(args)
    except CommandError:  # no --state-url nor variable: the gateway's own store, if it has one
        if gateway.control.store is None:
            raise
        args.state_url = gateway.control.store.url.render_as_string(hide_password=False)

    async def replay_now() -> ReplayReport:
        with open_store(args) as store:
            async with app_lifespan(gateway.new):
                return await replay_route(gateway, route, store, headers=headers)

    try:
        report = anyio.run(replay_now)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        gateway.bridge.close()
    if args.json:
        print_json(report.to_json())
    else:
        print(report.text())
    return 1 if report.still_differs else 0
