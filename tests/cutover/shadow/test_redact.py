"""Redaction before anything is stored: credentials in headers, secret-named fields at any
depth, and the values of differences found under such fields."""

from __future__ import annotations

from typing import Any

import pytest

from cutover.shadow import (
    REDACTED,
    CompareRules,
    Difference,
    compare,
    is_secret_name,
    redact_header_value,
    redact_headers,
    redact_json,
)
from tests.cutover.shadow.answers import json_answer


def test_redact_headers() -> None:
    """Authorization keeps its scheme, cookies their names and attributes, the rest as is."""
    headers = [
        (b"Authorization", b"Bearer eyJhbGciOi"),
        (b"proxy-authorization", b"Basic dXNlcjpwYXNz"),
        (b"Cookie", b"session=abc; theme=dark"),
        (b"Set-Cookie", b"session=abc; Path=/; HttpOnly"),
        (b"X-Api-Key", b"k-123"),
        (b"x-auth-token", b"t"),
        (b"X-CSRFToken", b"c"),
        (b"authorization", b"opaque"),
        (b"Accept", b"application/json"),
        (b"WWW-Authenticate", b'Bearer realm="api"'),
        (b"Content-Length", b"12"),
    ]
    assert redact_headers(headers) == [
        (b"Authorization", b"Bearer [redacted]"),
        (b"proxy-authorization", b"Basic [redacted]"),
        (b"Cookie", b"session=[redacted]; theme=[redacted]"),
        (b"Set-Cookie", b"session=[redacted]; Path=/; HttpOnly"),
        (b"X-Api-Key", b"[redacted]"),
        (b"x-auth-token", b"[redacted]"),
        (b"X-CSRFToken", b"[redacted]"),
        (b"authorization", b"[redacted]"),
        (b"Accept", b"application/json"),
        (b"WWW-Authenticate", b'Bearer realm="api"'),
        (b"Content-Length", b"12"),
    ]
    assert redact_header_value("cookie", "flag") == REDACTED


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "new_password",
        "passwd",
        "userPassword",
        "secret",
        "client_secret",
        "token",
        "access_token",
        "refreshToken",
        "api_key",
        "apiKey",
        "X-Api-Key",
        "authorization",
        "cookie",
        "session",
        "session_id",
        "csrf_token",
        "private_key",
        "credentials",
        "auth",
    ],
)
def test_secret_names(name: str) -> None:
    """Spelled in snake, camel or header case, a secret-like name is one."""
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["id", "name", "author", "price", "www-authenticate", "passage"])
def test_ordinary_names(name: str) -> None:
    """Fields that only resemble a secret's name stay readable."""
    assert not is_secret_name(name)


def test_redact_json_at_any_depth() -> None:
    """Secret-named fields in objects, in lists of objects, holding objects; null stays null."""
    value: dict[str, Any] = {
        "user": {"name": "ann", "password": "hunter2", "profile": {"apiKey": "k"}},
        "sessions": [{"id": 1}],
        "items": [{"id": 1, "token": "t1"}, {"id": 2, "token": None}],
        "auth": {"type": "bearer"},
        "tags": ["token"],
    }
    assert redact_json(value) == {
        "user": {"name": "ann", "password": REDACTED, "profile": {"apiKey": REDACTED}},
        "sessions": REDACTED,
        "items": [{"id": 1, "token": REDACTED}, {"id": 2, "token": None}],
        "auth": REDACTED,
        "tags": ["token"],
    }
    assert value["user"]["password"] == "hunter2"  # a copy, the original untouched
    assert redact_json([1, "x", None]) == [1, "x", None]


def test_differences_on_secret_fields_show_redacted_values() -> None:
    """A token that differs is reported, at its path, without its value."""
    result = compare(
        json_answer({"user": {"id": 1, "access_token": "old"}}),
        json_answer({"user": {"id": 1, "access_token": "new"}}),
    )
    assert result.differences == (Difference("$.user.access_token", "changed", REDACTED, REDACTED),)
    assert "old" not in result.report()
    assert "new" not in result.report()


def test_differences_below_a_secret_field_and_containing_one() -> None:
    """Under `credentials` everything is hidden; an added object hides its own secrets."""
    result = compare(
        json_answer({"credentials": {"user": "a", "pw": "1"}, "items": [1]}),
        json_answer({"credentials": {"user": "b", "pw": "2"}, "items": [1, {"secret": "s"}]}),
    )
    assert result.differences == (
        Difference("$.credentials.pw", "changed", REDACTED, REDACTED),
        Difference("$.credentials.user", "changed", REDACTED, REDACTED),
        Difference("$.items[1]", "added", None, {"secret": REDACTED}),
    )


def test_redacted_type_changes_keep_null_visible() -> None:
    """A token that became null: the kind and the null tell what happened, not the token."""
    result = compare(json_answer({"token": "abc"}), json_answer({"token": None}))
    assert result.differences == (Difference("$.token", "type", REDACTED, None),)


def test_unordered_items_are_redacted_too() -> None:
    """Multiset differences under a secret field, or holding one, are redacted."""
    rules = CompareRules(unordered=("$.tokens", "$.users"))
    result = compare(
        json_answer({"tokens": ["a"], "users": [{"n": 1, "password": "p"}]}),
        json_answer({"tokens": ["b"], "users": [{"n": 2, "password": "p"}]}),
        rules,
    )
    assert [d.to_json() for d in result.differences] == [
        {"path": "$.tokens[*]", "kind": "removed", "primary": REDACTED, "candidate": None},
        {"path": "$.tokens[*]", "kind": "added", "primary": None, "candidate": REDACTED},
        {
            "path": "$.users[*]",
            "kind": "removed",
            "primary": {"n": 1, "password": REDACTED},
            "candidate": None,
        },
        {
            "path": "$.users[*]",
            "kind": "added",
            "primary": None,
            "candidate": {"n": 2, "password": REDACTED},
        },
    ]
