"""LegacyJSONResponse and FlaskDateTime render the bytes Flask's `jsonify` renders."""

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from flask import Flask, jsonify
from markupsafe import Markup
from pydantic import BaseModel

from cutover.compat import FlaskDateTime, LegacyJSONResponse, flask_json_bytes
from tests.cutover.compat.client import call

pytestmark = pytest.mark.anyio


@dataclass
class Point:
    x: int
    label: str


PAYLOADS: list[Any] = [
    {"b": 1, "a": [True, False, None], "é": "zoë ✓ 😀", "nested": {"z": 1, "y": {"k": "v"}}},
    {"aware": datetime(2026, 11, 25, 14, 36, 2, tzinfo=timezone(timedelta(hours=1)))},
    {"naive": datetime(2026, 11, 25, 13, 36, 2), "day": date(2026, 1, 2)},
    {"price": Decimal("9.90"), "tiny": Decimal("1E-7"), "id": uuid.UUID(int=7)},
    {"point": Point(1, "p"), "html": Markup("<b>x</b>")},
    {"nan": math.nan, "inf": math.inf, "neg": -math.inf, "big": 10**30, "f": 0.1},
    ["a", 1, {"z": None}],
    "just a string",
    None,
    {"escapes": '"\\/\n\t\x00\u2028'},
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_legacy_json_is_flask_jsonify_byte_for_byte(flask_app: Flask, payload: Any) -> None:
    with flask_app.app_context():
        expected = jsonify(payload)
    response = LegacyJSONResponse(payload)
    assert response.body == expected.get_data()
    assert response.headers["content-type"] == expected.headers["Content-Type"]
    assert flask_json_bytes(payload) == expected.get_data()


def test_ascii_escaping_is_a_class_switch_like_flask_default() -> None:
    class AsciiJSONResponse(LegacyJSONResponse):
        ensure_ascii = True

    flask_default = Flask("ascii_reference")
    with flask_default.app_context():
        expected = jsonify(word="zoë")
    assert (
        AsciiJSONResponse({"word": "zoë"}).body == expected.get_data() == b'{"word":"zo\\u00eb"}\n'
    )


def test_unknown_types_fail_like_flask() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        LegacyJSONResponse({"x": object()})


class Stamped(BaseModel):
    at: FlaskDateTime
    price: Decimal


async def test_flask_datetime_in_a_response_model(flask_app: Flask) -> None:
    app = FastAPI(default_response_class=LegacyJSONResponse)
    at = datetime(2026, 11, 25, 13, 36, 2, tzinfo=UTC)

    @app.get("/stamped", response_model=Stamped)
    async def stamped() -> Stamped:
        return Stamped(at=at, price=Decimal("24.50"))

    with flask_app.app_context():
        expected = jsonify(at=at, price=Decimal("24.50")).get_data()
    assert (await call(app, "GET", "/stamped")).content == expected
    assert expected == b'{"at":"Wed, 25 Nov 2026 13:36:02 GMT","price":"24.50"}\n'
