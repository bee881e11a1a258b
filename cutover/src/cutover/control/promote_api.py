"""What `cutover promote` does, on the admin API (behind its token):

POST {prefix}/promote         {"method", "path", "reason", "steps"?, "interval"?, "actor"?,
                               "max_error_rate_increase"?, "max_p99_ratio"?,
                               "max_mismatch_rate"?, "min_samples"?}
GET  {prefix}/promotions
POST {prefix}/promote/cancel  {"method", "path", "reason", "actor"?}
"""

from __future__ import annotations

import json
from typing import Any

import anyio.to_thread
from starlette.types import Scope

from cutover.control.api import AdminAPI
from cutover.control.modes import ModeRefused, route_id
from cutover.control.promote import Promotions
from cutover.control.promotion import (
    DEFAULT_INTERVAL,
    DEFAULT_STEPS,
    Thresholds,
    parse_duration,
    parse_steps,
    promotion_document,
)

_THRESHOLDS = ("max_error_rate_increase", "max_p99_ratio", "max_mismatch_rate", "min_samples")
_START_FIELDS = {"method", "path", "reason", "steps", "interval", "actor", *_THRESHOLDS}
_CANCEL_FIELDS = {"method", "path", "reason", "actor"}
PATHS = ("/promote", "/promotions", "/promote/cancel")


def add_promotion_routes(api: AdminAPI) -> None:
    """Serve `/promote`, `/promotions` and `/promote/cancel` on `api`, with its store."""
    promotions = Promotions(api.store)

    async def start(scope: Scope, body: bytes) -> Any:
        fields = _fields(body, _START_FIELDS)
        defaults = Thresholds()
        thresholds = Thresholds(
            **{name: _number(fields, name, getattr(defaults, name)) for name in _THRESHOLDS}
        )
        steps = fields.get("steps", list(DEFAULT_STEPS))
        if isinstance(steps, list):
            for step in steps:
                _check_number("steps", step)
        elif not isinstance(steps, str):
            raise ModeRefused("'steps' is a list of percentages or a string like '1,5,25,50,100'")
        interval = fields.get("interval", DEFAULT_INTERVAL)
        if isinstance(interval, bool) or not isinstance(interval, str | int | float):
            raise ModeRefused("'interval' is seconds or a duration like '60s'")
        promotion = await anyio.to_thread.run_sync(
            lambda: promotions.start(
                _route(fields),
                steps=parse_steps(steps),
                interval=parse_duration(interval),
                thresholds=thresholds,
                actor=_text(fields, "actor", "api"),
                reason=_text(fields, "reason"),
            )
        )
        return promotion_document(promotion)

    async def listed(scope: Scope, body: bytes) -> Any:
        found = await anyio.to_thread.run_sync(promotions.all)
        return {"promotions": [promotion_document(one) for one in found]}

    async def cancel(scope: Scope, body: bytes) -> Any:
        fields = _fields(body, _CANCEL_FIELDS)
        promotion = await anyio.to_thread.run_sync(
            lambda: promotions.cancel(
                _route(fields),
                actor=_text(fields, "actor", "api"),
                reason=_text(fields, "reason"),
            )
        )
        return promotion_document(promotion)

    api.add_route("/promote", "POST", start)
    api.add_route("/promotions", "GET", listed)
    api.add_route("/promote/cancel", "POST", cancel)


def _fields(body: bytes, allowed: set[str]) -> dict[str, Any]:
    """The JSON object of the body; refusals are ModeRefused, which the API answers 400."""
    try:
        fields = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise ModeRefused("the body is not JSON") from None
    if not isinstance(fields, dict):
        raise ModeRefused("the body is a JSON object")
    missing = sorted({"method", "path", "reason"} - fields.keys())
    if missing:
        raise ModeRefused(f"missing field {missing[0]!r}")
    unknown = sorted(fields.keys() - allowed)
    if unknown:
        raise ModeRefused(f"unknown field {unknown[0]!r}")
    return fields


def _route(fields: dict[str, Any]) -> str:
    path = _text(fields, "path")
    if not path.startswith("/"):
        raise ModeRefused(f"'path' is a path template starting with '/', not {path!r}")
    return route_id(_text(fields, "method"), path)


def _text(fields: dict[str, Any], name: str, default: str | None = None) -> str:
    value = fields.get(name, default)
    if not isinstance(value, str):
        raise ModeRefused(f"{name!r} is a string")
    return value


def _check_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ModeRefused(f"{name!r} is a number, not {value!r}")
    return float(value)


def _number(fields: dict[str, Any], name: str, default: float) -> Any:
    if name not in fields:
        return default
    value = _check_number(name, fields[name])
    if name == "min_samples":
        if not value.is_integer():
            raise ModeRefused(f"'min_samples' is a whole number, not {fields[name]!r}")
        return int(value)
    return value
