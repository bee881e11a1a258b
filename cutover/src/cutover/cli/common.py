"""What the `cutover` commands share: the state store's URL, the actor, errors and tables."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cutover.control.store import StateStore

    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    SubParsers = argparse._SubParsersAction

STATE_URL_VARIABLES = ("CUTOVER_STATE_URL", "DATABASE_URL")


class CommandError(Exception):
    """A command that cannot run: printed as `cutover: error: ...`, exit `code`."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def state_options() -> argparse.ArgumentParser:
    """`--state-url` and `--json`, for every command that uses the state store."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--state-url",
        metavar="URL",
        help="the state store's SQLAlchemy URL (default: $CUTOVER_STATE_URL, else $DATABASE_URL)",
    )
    parent.add_argument("--json", action="store_true", help="print JSON instead of text")
    return parent


def state_url(args: argparse.Namespace) -> str:
    """`--state-url`, else CUTOVER_STATE_URL, else DATABASE_URL."""
    if args.state_url:
        return str(args.state_url)
    for variable in STATE_URL_VARIABLES:
        if value := os.environ.get(variable, "").strip():
            return value
    raise CommandError(
        "no state store: pass --state-url URL or set CUTOVER_STATE_URL (or DATABASE_URL)"
    )


@contextmanager
def open_store(args: argparse.Namespace) -> Iterator[StateStore]:
    """The state store named by the arguments, disposed of on the way out; its refusals and
    outages become CommandErrors (exit 2 for a refusal, 1 for a store that cannot be used)."""
    from sqlalchemy.exc import ArgumentError

    from cutover.control.modes import ModeRefused
    from cutover.control.store import StateStore, StoreUnavailable

    url = state_url(args)
    try:
        store = StateStore(url)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise CommandError(f"cannot use the state URL: {exc}") from exc
    try:
        yield store
    except ModeRefused as exc:
        raise CommandError(str(exc)) from exc
    except StoreUnavailable as exc:
        raise CommandError(f"{exc} ({store.display_url()})", code=1) from exc
    finally:
        store.dispose()


def default_actor() -> str:
    """`user@host`, as the history records who switched."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def format_rows(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart, trailing spaces stripped."""
    lines = [tuple(header), *(tuple(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def print_json(document: Any) -> None:
    print(json.dumps(document, indent=2))


def short_time(at: datetime | str | None) -> str:
    """`2026-12-01 13:45:22Z` (documents carry full ISO timestamps)."""
    if at is None:
        return "-"
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return at.strftime("%Y-%m-%d %H:%M:%SZ")


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


Runner = Callable[[argparse.Namespace], int]
