"""The control plane's words: a route's mode, the sides a route has, and what a switch records."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeVar

Side = Literal["legacy", "new"]


class Mode(enum.StrEnum):
    """Which side serves a route; `shadow` and `reverse-shadow` compare the other side too."""

    LEGACY = "legacy"
    NEW = "new"
    CANARY = "canary"  # `percent` of the clients (by a stable key) on new, the rest on legacy
    SHADOW = "shadow"  # legacy answers; the new side is replayed and compared
    REVERSE_SHADOW = "reverse-shadow"  # new answers; legacy is replayed and compared


# What each mode selects for answering the client (canary selects both, per client).
_ANSWERED_BY: dict[Mode, tuple[Side, ...]] = {
    Mode.LEGACY: ("legacy",),
    Mode.NEW: ("new",),
    Mode.CANARY: ("legacy", "new"),
    Mode.SHADOW: ("legacy", "new"),
    Mode.REVERSE_SHADOW: ("legacy", "new"),
}


class ModeRefused(ValueError):
    """A switch that cannot be applied: unknown route, a side the route lacks, a bad percent."""


def route_id(method: str, path: str) -> str:
    """A route's name everywhere (CLI, API, store, metrics): `GET /items/{item_id}`."""
    return f"{method.upper()} {path}"


@dataclass(frozen=True, slots=True)
class RouteMode:
    """A mode with its canary percentage (0-100, in steps of 0.01; 0 unless canary)."""

    mode: Mode
    percent: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.percent <= 100:
            raise ModeRefused(f"a canary percentage is between 0 and 100, not {self.percent}")
        if self.mode is not Mode.CANARY and self.percent:
            raise ModeRefused(f"only canary takes a percentage, not {self.mode.value}")

    @property
    def threshold(self) -> int:
        """Canary buckets (of `cutover.control.canary.BUCKETS`) that go to the new side."""
        return round(self.percent * 100)

    def __str__(self) -> str:
        if self.mode is Mode.CANARY:
            return f"canary {self.percent:g}%"
        return self.mode.value


LEGACY = RouteMode(Mode.LEGACY)
NEW = RouteMode(Mode.NEW)

MODE_ATTRIBUTE = "__cutover_default_mode__"
_Endpoint = TypeVar("_Endpoint", bound=Callable[..., object])


def default_mode(mode: Mode | str, percent: float = 0.0) -> Callable[[_Endpoint], _Endpoint]:
    """Give a FastAPI endpoint's route its mode in code (say `shadow` while it is proven);
    a run-time switch still wins. Put it under the route decorator: `@router.get(...)` first."""
    chosen = RouteMode(Mode(mode), percent)

    def mark(endpoint: _Endpoint) -> _Endpoint:
        setattr(endpoint, MODE_ATTRIBUTE, chosen)
        return endpoint

    return mark


@dataclass(frozen=True, slots=True)
class RouteSides:
    """A route the gateway knows, which sides have it, and the mode its code gives it."""

    route: str
    legacy: bool
    new: bool
    default: RouteMode

    def check(self, mode: RouteMode) -> None:
        """Raise ModeRefused unless every side `mode` may answer with has this route."""
        missing = [
            side
            for side in _ANSWERED_BY[mode.mode]
            if not (self.legacy if side == "legacy" else self.new)
        ]
        if missing:
            raise ModeRefused(
                f"{self.route} cannot be {mode}: the {' and '.join(missing)} side has no such route"
            )


@dataclass(frozen=True, slots=True)
class Change:
    """One audited switch: who moved which route from what to what, when and why."""

    version: int
    route: str
    before: RouteMode
    after: RouteMode
    actor: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Override:
    """A run-time mode set on a route; it wins over the route's default until reset."""

    route: str
    mode: RouteMode
    actor: str
    reason: str
    at: datetime
    version: int


@dataclass(frozen=True, slots=True)
class ModeState:
    """Everything a gateway process needs to route: the state version and the overrides."""

    version: int
    overrides: dict[str, Override]


@dataclass(frozen=True, slots=True)
class ProcessReport:
    """A live gateway process as it last reported itself: which state version it serves."""

    process_id: str
    host: str
    pid: int
    started_at: datetime
    seen_at: datetime
    version: int | None
    healthy: bool
