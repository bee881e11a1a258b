"""What `start_response` accepts: a status and headers HTTP can carry, as gunicorn checks them.

A status or header the app gives that HTTP cannot carry (CR, LF, NUL, a name that is not a
token) fails the request before anything is sent, so the client gets the bridge's 500 and the
error is logged. Hop-by-hop headers are dropped; the rest are converted to bytes once, here.
"""

from __future__ import annotations

import re

HOP_BY_HOP = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
    )
)

# What gunicorn accepts from start_response (RFC 9110 5.1, 5.5, 5.6.2), within what uvicorn sends.
STATUS_RE = re.compile(r"[1-5][0-9]{2}(?: [ \t\x21-\x7e\x80-\xff]*)?")
TOKEN_RE = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
FIELD_VALUE_RE = re.compile(r"[ \t\x21-\x7e\x80-\xff]*")
_CACHE_LIMIT = 1024
# What start_response already accepted, so the common case is one lookup and no regex.
_valid_names: set[str] = set()
_status_codes: dict[str, int] = {}


def check_response(
    status: str, headers: list[tuple[str, str]]
) -> tuple[int, list[tuple[bytes, bytes]], int | None]:
    """The status code, the headers as bytes and the Content-Length; ValueError if invalid."""
    code = _status_codes.get(status)
    if code is None:
        code = _status_code(status)
    converted: list[tuple[bytes, bytes]] = []
    content_length = None
    for name, value in headers:
        if name not in _valid_names:
            _check_name(name)
        if not value.isprintable() and not FIELD_VALUE_RE.fullmatch(value):
            # The name only: the value may carry a secret.
            raise ValueError(f"invalid value for response header {name!r}")
        lower = name.lower()
        if lower in HOP_BY_HOP:
            continue
        value = value.strip(" \t")
        if lower == "content-length":
            content_length = int(value)
        converted.append((name.encode("latin-1"), value.encode("latin-1")))
    return code, converted, content_length


def _check_name(name: str) -> None:
    if not (isinstance(name, str) and TOKEN_RE.fullmatch(name)):
        raise ValueError(f"invalid response header name {name!r}")
    if len(_valid_names) < _CACHE_LIMIT:
        _valid_names.add(name)


def _status_code(status: str) -> int:
    if not (isinstance(status, str) and STATUS_RE.fullmatch(status)):
        raise ValueError(f"invalid status {status!r}")
    code = int(status[:3])
    if len(_status_codes) < _CACHE_LIMIT:
        _status_codes[status] = code
    return code
