"""Which legacy message a failed body validation gets: the first legacy check it would have failed.

The legacy views checked fields in a fixed order and answered the first failure; pydantic reports
every failure at once. Each route lists the legacy checks in order as (message, matcher) and
the first check matching any error wins.
"""

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

ErrorMatcher = Callable[[dict[str, Any]], bool]
Rules = Sequence[tuple[str, ErrorMatcher]]

NO_DATA = "No data provided"
MISSING = "Missing required fields"
INVALID_TYPES = "Invalid field types"
TEXT_ERRORS = frozenset({"string_type", "text_unstorable"})
TOO_LONG = ("string_too_long", "too_long")  # the latter once a validator wraps the string


def _field(error: dict[str, Any]) -> str:
    loc = error["loc"]
    if loc and loc[0] == "body":
        loc = loc[1:]
    return str(loc[0]) if loc else ""


def blank(*fields: str) -> ErrorMatcher:
    """A required field absent, null or empty."""

    def matches(error: dict[str, Any]) -> bool:
        if _field(error) not in fields:
            return False
        return error["type"] == "missing" or error.get("input") in (None, "")

    return matches


def any_error(*fields: str) -> ErrorMatcher:
    """Any failure of these fields."""
    return lambda error: _field(error) in fields


def error_type(field: str, *types: str) -> ErrorMatcher:
    """A failure of `field` of one of these pydantic error types."""
    return lambda error: _field(error) == field and error["type"] in types


def text_error(*fields: str) -> ErrorMatcher:
    """A value of these fields that is not storable text."""
    return lambda error: _field(error) in fields and error["type"] in TEXT_ERRORS


def _title_rules(*, typed: ErrorMatcher) -> Rules:
    return [
        (MISSING, blank("title")),
        (INVALID_TYPES, typed),
        ("Title too long", error_type("title", *TOO_LONG)),
    ]


NOTE_RULES = _title_rules(typed=lambda e: text_error("title")(e) or any_error("body")(e))
POST_RULES = _title_rules(
    typed=lambda e: text_error("title")(e) or any_error("body", "published")(e)
)

RULES: dict[str, Rules] = {
    "create_user": [
        (MISSING, blank("username", "email", "password")),
        (INVALID_TYPES, text_error("username", "email", "password")),
        ("Username too long", error_type("username", *TOO_LONG)),
        ("Invalid email address", any_error("email")),
        ("Age must be an integer between 0 and 150", any_error("age")),
    ],
    "create_note": NOTE_RULES,
    "update_note": [("Missing version", any_error("version")), *NOTE_RULES],
    "create_post": POST_RULES,
    "update_post": POST_RULES,
    "create_comment": [
        (MISSING, blank("body")),
        (INVALID_TYPES, text_error("body")),
        ("Comment too long", error_type("body", *TOO_LONG)),
    ],
    "create_item": [
        (MISSING, blank("name", "price")),
        (INVALID_TYPES, lambda e: text_error("name")(e) or any_error("is_available", "tags")(e)),
        ("Name too long", error_type("name", *TOO_LONG)),
        ("Invalid price", any_error("price")),
    ],
}


def legacy_validation_message(request: Request, exc: RequestValidationError) -> str:
    """The message the legacy view would have answered for this invalid body."""
    route = request.scope.get("route")
    rules = RULES.get(getattr(route, "name", ""), ())
    errors = list(exc.errors())
    for message, matches in rules:
        if any(matches(error) for error in errors):
            return message
    return NO_DATA
