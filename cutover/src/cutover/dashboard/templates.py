"""The Jinja2 environment of the dashboard's templates: autoescaped, strict about undefined
names, with the few formatting filters the pages share."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
NONE = "\u2013"  # an en dash: no value yet


def percent(value: float | None, digits: int = 1) -> str:
    return NONE if value is None else f"{value * 100:.{digits}f} %"


def milliseconds(seconds: float | None) -> str:
    if seconds is None:
        return NONE
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"


def moment(at: datetime | None) -> str:
    if at is None:
        return NONE
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def pretty(text: str) -> str:
    """A stored body indented when it is JSON, else as stored."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return text


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["percent"] = percent
    env.filters["ms"] = milliseconds
    env.filters["moment"] = moment
    env.filters["pretty"] = pretty
    return env
