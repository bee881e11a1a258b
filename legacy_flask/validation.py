"""Hand-written checks for request input, shared by the blueprints."""

import re
from decimal import Decimal, InvalidOperation
from typing import Any, TypeGuard

from flask import request

ASCII_DIGITS = re.compile(r"[0-9]+")
PRICE_TEXT = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
PRICE_LIMIT = Decimal(10) ** 10  # Numeric(12, 2) holds ten digits before the point.
TWO_PLACES = Decimal("0.01")


def json_object() -> dict[str, Any] | None:
    """The request's JSON body when it is a non-empty object; anything else counts as no data."""
    try:
        data: Any = request.get_json(silent=True)
    except RecursionError:  # JSON nested too deep escapes `silent`
        return None
    return data if isinstance(data, dict) and data else None


def is_text(value: Any) -> TypeGuard[str]:
    """A string the database can store: no NUL character and valid UTF-8 (no lone surrogates)."""
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_blank(value: Any) -> bool:
    """A required field counts as missing when absent, null or the empty string."""
    return value is None or value == ""


def is_int(value: Any) -> bool:
    """A JSON integer; `True` and `False` are ints to Python but not to this API."""
    return isinstance(value, int) and not isinstance(value, bool)


def parse_digits(text: str | None) -> int | None:
    """A non-negative integer written in ASCII digits only, else None."""
    if text is None or ASCII_DIGITS.fullmatch(text) is None:
        return None
    try:
        return int(text)
    except ValueError:  # more digits than Python converts
        return None


def parse_price(value: Any) -> Decimal | None:
    """A price >= 0 below 10**10 with at most two decimals, from a JSON number or a string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            price = Decimal(str(value))
        except InvalidOperation:
            return None
    elif isinstance(value, str) and PRICE_TEXT.fullmatch(value):
        price = Decimal(value)
    else:
        return None
    if not price.is_finite() or price < 0 or price >= PRICE_LIMIT:
        return None
    exponent = price.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return None
    return price.quantize(TWO_PLACES)
