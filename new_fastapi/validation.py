"""The legacy API's input rules as pydantic types, plus parsers for its query values."""

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

ASCII_DIGITS = re.compile(r"[0-9]+")
PRICE_TEXT = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
PRICE_LIMIT = Decimal(10) ** 10  # Numeric(12, 2) holds ten digits before the point.
TWO_PLACES = Decimal("0.01")
INT32_MAX = 2**31 - 1  # path converters accept any size; INTEGER columns do not


def is_storable_text(value: str) -> bool:
    """No NUL character and valid UTF-8 (no lone surrogates): what the database can store."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _storable(value: Any) -> Any:
    if isinstance(value, str) and not is_storable_text(value):
        raise PydanticCustomError("text_unstorable", "Text contains NUL or lone surrogates")
    return value


def _legacy_email(value: Any) -> Any:
    """Validate and normalise exactly as the legacy app did, before EmailStr sees the value."""
    if not isinstance(value, str) or value == "":
        return value
    _storable(value)
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise PydanticCustomError(
            "email_invalid", "Invalid email address: {reason}", {"reason": str(error)}
        ) from None


def _price(value: Any) -> Any:
    """A price >= 0 below 10**10 with at most two decimals, from a JSON number or a string."""
    if value is None or value == "":
        return value
    price: Decimal | None = None
    if isinstance(value, bool):
        price = None
    elif isinstance(value, int | float):
        try:
            price = Decimal(str(value))
        except InvalidOperation:
            price = None
    elif isinstance(value, str) and PRICE_TEXT.fullmatch(value):
        price = Decimal(value)
    if price is None or not price.is_finite() or price < 0 or price >= PRICE_LIMIT:
        raise PydanticCustomError("price_invalid", "Invalid price")
    exponent = price.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise PydanticCustomError("price_invalid", "Invalid price")
    return price.quantize(TWO_PLACES)


Text = Annotated[str, BeforeValidator(_storable)]
"""A string the database can store."""

RequiredText = Annotated[str, Field(min_length=1), BeforeValidator(_storable)]
"""A non-empty storable string (the legacy app treated "" like a missing field)."""

LegacyEmail = BeforeValidator(_legacy_email)
"""Put before EmailStr: email_validator's own verdict and normalisation, as legacy stored it."""

Price = Annotated[Decimal, BeforeValidator(_price)]
"""An exact price with two places."""


def parse_digits(text: str | None) -> int | None:
    """A non-negative integer written in ASCII digits only, else None."""
    if text is None or ASCII_DIGITS.fullmatch(text) is None:
        return None
    try:
        return int(text)
    except ValueError:  # more digits than Python converts
        return None
