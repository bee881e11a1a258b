"""Flask's `jsonify` bytes, so a port's JSON responses match the legacy app's byte for byte."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import PlainSerializer
from starlette.responses import JSONResponse
from werkzeug.http import http_date

__all__ = ["FlaskDateTime", "LegacyJSONResponse", "flask_json_bytes", "flask_json_default"]


def flask_json_default(value: Any) -> Any:
    """`json.dumps` fallback for the types Flask's DefaultJSONProvider knows."""
    if isinstance(value, date):
        return http_date(value)
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_FLASK_ENCODER = json.JSONEncoder(
    default=flask_json_default, ensure_ascii=False, sort_keys=True, separators=(",", ":")
)


def flask_json_bytes(value: Any) -> bytes:
    """`jsonify(value)`'s body outside debug mode: `LegacyJSONResponse`'s bytes, from one
    encoder built once rather than one per call."""
    return f"{_FLASK_ENCODER.encode(value)}\n".encode()


class LegacyJSONResponse(JSONResponse):
    """JSON rendered byte for byte as Flask's `jsonify` renders it outside debug mode."""

    media_type = "application/json"
    ensure_ascii = False
    sort_keys = True

    def render(self, content: Any) -> bytes:
        if self.ensure_ascii is False and self.sort_keys is True:
            return flask_json_bytes(content)
        text = json.dumps(
            content,
            default=flask_json_default,
            ensure_ascii=self.ensure_ascii,
            sort_keys=self.sort_keys,
            separators=(",", ":"),
        )
        return f"{text}\n".encode()


def _http_date(value: datetime) -> str:
    return http_date(value)


FlaskDateTime = Annotated[datetime, PlainSerializer(_http_date, return_type=str, when_used="json")]
"""A datetime a response model writes as Flask does: RFC 822 in GMT."""
