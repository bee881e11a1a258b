"""A promotion's words: the canary steps a route walks up, the gate's thresholds, where it is
(running, holding, completed, rolled-back, cancelled) and its `cutover_promotions` row."""

from __future__ import annotations

import enum
import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cutover.control.modes import NEW, Mode, ModeRefused, RouteMode

DEFAULT_STEPS = (1.0, 5.0, 25.0, 50.0, 100.0)
DEFAULT_INTERVAL = 60.0


class State(enum.StrEnum):
    """Where a promotion is; the last three are final."""

    RUNNING = "running"
    HOLDING = "holding"  # the step's interval is over but the evidence is too thin to judge
    COMPLETED = "completed"
    ROLLED_BACK = "rolled-back"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        return self in (State.RUNNING, State.HOLDING)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """How much worse than legacy the new side may be over a step's window, and the evidence
    a verdict needs: at least `min_samples` answers on new (and on legacy to compare with)."""

    max_error_rate_increase: float = 0.01  # new's 5xx rate minus legacy's, as a fraction
    max_p99_ratio: float = 1.5  # new's p99 over legacy's
    max_mismatch_rate: float = 0.01  # mismatched over compared, where the route was shadowed
    min_samples: int = 20

    def __post_init__(self) -> None:
        for name in ("max_error_rate_increase", "max_mismatch_rate"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 <= value <= 1):
                raise ModeRefused(f"{name} is a fraction between 0 and 1, not {value}")
        if not (math.isfinite(self.max_p99_ratio) and self.max_p99_ratio >= 1):
            raise ModeRefused(f"max_p99_ratio is at least 1, not {self.max_p99_ratio}")
        if self.min_samples < 1:
            raise ModeRefused(f"min_samples is at least 1, not {self.min_samples}")


@dataclass(frozen=True, slots=True)
class Promotion:
    """One route's promotion as `cutover_promotions` holds it."""

    route: str
    steps: tuple[float, ...]
    step: int  # index into steps of the canary being served
    step_started_at: datetime
    interval: float
    thresholds: Thresholds
    state: State
    message: str
    actor: str
    reason: str
    started_at: datetime
    updated_at: datetime
    version: int  # the state version of the switch the promotion last made
    leader: str | None = None
    lease_expires_at: datetime | None = None

    @property
    def mode(self) -> RouteMode:
        """The mode the promotion gave the route last: its step's canary, or new once done."""
        if self.state is State.COMPLETED:
            return NEW
        return RouteMode(Mode.CANARY, self.steps[self.step])

    def step_label(self) -> str:
        return f"step {self.step + 1} of {len(self.steps)} ({self.mode})"


def parse_steps(spec: str | Sequence[float]) -> tuple[float, ...]:
    """`1,5,25,50,100`: increasing canary percentages, the last one 100."""
    try:
        items = spec.split(",") if isinstance(spec, str) else list(spec)
        steps = tuple(float(item) for item in items if str(item).strip())
    except ValueError:
        raise ModeRefused(f"steps are comma-separated percentages, not {spec!r}") from None
    if not steps:
        raise ModeRefused("a promotion needs at least one step")
    for step in steps:
        RouteMode(Mode.CANARY, step)  # refuses what no canary can be
        if step <= 0:
            raise ModeRefused(f"a step sends some clients to new: more than 0, not {step:g}")
    if any(later <= earlier for earlier, later in itertools.pairwise(steps)):
        raise ModeRefused(f"steps go up: {','.join(f'{step:g}' for step in steps)}")
    if steps[-1] != 100:
        raise ModeRefused(f"the last step is 100 (every client on new), not {steps[-1]:g}")
    return steps


_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str | float) -> float:
    """`60s`, `5m`, `1h`, `250ms`, `0.2` (seconds) as seconds, more than zero."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = _DURATION.match(str(text))
        if match is None:
            raise ModeRefused(f"a duration is like 60s, 5m, 1h or 250ms, not {text!r}")
        seconds = float(match.group(1)) * _UNIT[match.group(2)]
    if not (math.isfinite(seconds) and seconds > 0):
        raise ModeRefused(f"a duration is more than zero, not {text!r}")
    return seconds


def steps_text(steps: Sequence[float]) -> str:
    return ",".join(f"{step:g}" for step in steps)


def promotion_from(row: Any) -> Promotion:
    """A `cutover_promotions` row as the promotion it holds."""
    return Promotion(
        route=row.route,
        steps=parse_steps(row.steps),
        step=int(row.step),
        step_started_at=row.step_started_at,
        interval=float(row.interval),
        thresholds=Thresholds(
            max_error_rate_increase=float(row.max_error_rate_increase),
            max_p99_ratio=float(row.max_p99_ratio),
            max_mismatch_rate=float(row.max_mismatch_rate),
            min_samples=int(row.min_samples),
        ),
        state=State(row.state),
        message=row.message,
        actor=row.actor,
        reason=row.reason,
        started_at=row.started_at,
        updated_at=row.updated_at,
        version=int(row.version),
        leader=row.leader,
        lease_expires_at=row.lease_expires_at,
    )


def promotion_row(promotion: Promotion) -> dict[str, object]:
    """The `cutover_promotions` row holding `promotion`."""
    thresholds = promotion.thresholds
    return {
        "route": promotion.route,
        "steps": steps_text(promotion.steps),
        "step": promotion.step,
        "step_started_at": promotion.step_started_at,
        "interval": promotion.interval,
        "max_error_rate_increase": thresholds.max_error_rate_increase,
        "max_p99_ratio": thresholds.max_p99_ratio,
        "max_mismatch_rate": thresholds.max_mismatch_rate,
        "min_samples": thresholds.min_samples,
        "state": promotion.state.value,
        "message": promotion.message,
        "actor": promotion.actor,
        "reason": promotion.reason,
        "started_at": promotion.started_at,
        "updated_at": promotion.updated_at,
        "version": promotion.version,
        "leader": promotion.leader,
        "lease_expires_at": promotion.lease_expires_at,
    }


def promotion_document(promotion: Promotion) -> dict[str, Any]:
    """A promotion as JSON, one shape for `cutover promote --status --json` and the API."""
    from cutover.control.status import mode_document, timestamp

    def stamp(at: datetime | None) -> str | None:
        return None if at is None else timestamp(at)

    return {
        "route": promotion.route,
        "state": promotion.state.value,
        "steps": list(promotion.steps),
        "step": promotion.step + 1,
        "mode": mode_document(promotion.mode),
        "step_started_at": stamp(promotion.step_started_at),
        "interval": promotion.interval,
        "thresholds": {
            "max_error_rate_increase": promotion.thresholds.max_error_rate_increase,
            "max_p99_ratio": promotion.thresholds.max_p99_ratio,
            "max_mismatch_rate": promotion.thresholds.max_mismatch_rate,
            "min_samples": promotion.thresholds.min_samples,
        },
        "message": promotion.message,
        "actor": promotion.actor,
        "reason": promotion.reason,
        "started_at": stamp(promotion.started_at),
        "updated_at": stamp(promotion.updated_at),
        "version": promotion.version,
        "leader": promotion.leader,
        "lease_expires_at": stamp(promotion.lease_expires_at),
    }
