"""Redaction of what the shadow keeps: credentials in headers and secret-named JSON fields are
replaced by `[redacted]` before an exemplar or a difference is stored or logged."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
# Matched against a name lowercased with everything but letters and digits removed, so
# `api_key`, `X-Api-Key` and `apiKey` all read `apikey`. Over-redacting is the safe mistake.
_SECRET_PART = re.compile(
    r"passw(?:or)?d|passphrase|pwd|secret|token|apikey|accesskey|privatekey"
    r"|authorization|cookie|session|credential|csrf|xsrf"
)
_SECRET_WHOLE = frozenset({"auth", "pass"})
_NOT_ALNUM = re.compile(r"[^a-z0-9]")


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a field or header called `name` may hold a credential (password, token...)."""
    flat = _NOT_ALNUM.sub("", name.lower())
    return flat in _SECRET_WHOLE or _SECRET_PART.search(flat) is not None


def redact_json(value: Any) -> Any:
    """A copy of JSON `value` with the value of every secret-named field, at any depth, replaced
    by `[redacted]` (a null stays null: it hides nothing and tells a missing value apart)."""
    if isinstance(value, dict):
        return {
            key: REDACTED if item is not None and is_secret_name(key) else redact_json(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_json(item) for item in value]
    return value


def redact_header_value(name: str, value: str) -> str:
    """`value` of header `name` as it may be kept: cookie names and auth schemes stay readable,
    credentials do not; a header whose name is not secret-like is returned as it is."""
    lowered = name.lower()
    if lowered in ("cookie", "set-cookie"):
        return _redact_cookies(lowered, value)
    if lowered in ("authorization", "proxy-authorization"):
        scheme, space, _ = value.strip().partition(" ")
        return f"{scheme} {REDACTED}" if space else REDACTED
    return REDACTED if is_secret_name(lowered) else value


def _redact_cookies(name: str, value: str) -> str:
    """`a=1; b=2` -> `a=[redacted]; b=[redacted]`; for Set-Cookie only the first pair is the
    cookie, the attributes after it (Path, Max-Age, HttpOnly...) are kept."""
    pairs = value.split(";")
    count = len(pairs) if name == "cookie" else 1
    for number in range(count):
        cookie, equals, _ = pairs[number].partition("=")
        pairs[number] = f"{cookie}={REDACTED}" if equals else REDACTED
    return ";".join(pairs)


def redact_headers(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """ASGI `headers` with Authorization, Cookie, Set-Cookie values, Proxy-Authorization and any
    header named like a secret (X-Api-Key, X-Auth-Token, X-CSRF-Token...) redacted."""
    kept: list[tuple[bytes, bytes]] = []
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1")
        if not is_secret_name(name):
            kept.append((raw_name, raw_value))
            continue
        value = redact_header_value(name, raw_value.decode("latin-1"))
        kept.append((raw_name, value.encode("latin-1")))
    return kept
