"""cutover's control plane: per-route modes switched at run time in every gateway process.

The words (`modes`), the one truth in the database (`store`: its `tables`, their `rows`, the
`switches` made in one transaction, the `engine` underneath), keeping a process on its current
version (`follower`, woken early by the PostgreSQL `doorbell`), the documents the CLI and the API
show (`status`) and the admin API (`api`).

The words are imported at once; the rest on first use, so a gateway without a state store (or
`from cutover.control.modes import ...` anywhere) does not load SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cutover.control.modes import (
    LEGACY,
    NEW,
    Change,
    Mode,
    ModeRefused,
    ModeState,
    Override,
    ProcessReport,
    RouteMode,
    RouteSides,
    Side,
    default_mode,
    route_id,
)

if TYPE_CHECKING:
    from cutover.control.api import AdminAPI
    from cutover.control.follower import StateFollower
    from cutover.control.status import change_document, history_document, status_document
    from cutover.control.store import StateNotInitialised, StateStore, StoreUnavailable

_LAZY = {
    "AdminAPI": "cutover.control.api",
    "StateFollower": "cutover.control.follower",
    "change_document": "cutover.control.status",
    "history_document": "cutover.control.status",
    "status_document": "cutover.control.status",
    "StateNotInitialised": "cutover.control.store",
    "StateStore": "cutover.control.store",
    "StoreUnavailable": "cutover.control.store",
}

__all__ = [
    "LEGACY",
    "NEW",
    "AdminAPI",
    "Change",
    "Mode",
    "ModeRefused",
    "ModeState",
    "Override",
    "ProcessReport",
    "RouteMode",
    "RouteSides",
    "Side",
    "StateFollower",
    "StateNotInitialised",
    "StateStore",
    "StoreUnavailable",
    "change_document",
    "default_mode",
    "history_document",
    "route_id",
    "status_document",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
