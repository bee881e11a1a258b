"""The `cutover` command: inspect a gateway and operate its control plane from the shell.

`cutover routes --app gateway:app` lists the routes (with their traffic when a state store is
named); `init-state`, `switch`, `status` and `history` work on the state store every gateway
process follows (`--state-url`, else `CUTOVER_STATE_URL`, else `DATABASE_URL`); `diffs` shows
the shadow evidence kept there and `replay` re-sends a route's stored mismatches to both sides
of `--app`; `promote` walks a route's canary up on that evidence and the traffic every process
records; `report` tells where the migration stands (`--markdown` for a pull request);
`scaffold METHOD PATH` drafts a legacy route's port and parity test, `scaffold --list` ranks
what to port next.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from cutover.cli import (
    diffs,
    history,
    init_state,
    promote,
    replay,
    report,
    routes,
    scaffold,
    status,
    switch,
)
from cutover.cli.common import CommandError, Runner
from cutover.cli.routes import AppLoadError, format_json, format_table, load_gateway
from cutover.control.modes import ModeRefused

__all__ = ["AppLoadError", "CommandError", "format_json", "format_table", "load_gateway", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cutover",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for command in (
        routes,
        scaffold,
        init_state,
        switch,
        status,
        history,
        diffs,
        replay,
        promote,
        report,
    ):
        command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `cutover` console script."""
    args = build_parser().parse_args(argv)
    run: Runner = args.run
    try:
        return run(args)
    except CommandError as exc:
        print(f"cutover: error: {exc}", file=sys.stderr)
        return exc.code
    except ModeRefused as exc:  # a mode that cannot be, refused before any store is opened
        print(f"cutover: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `cutover history | head`: the reader has gone, say no more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush is quiet too
        return 1
