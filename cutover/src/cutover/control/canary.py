"""Canary assignment: a client's stable key hashed into one of 10,000 buckets, the same in every
process and on every machine, so a client stays on one side and the split matches the percent."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from starlette.types import Scope

BUCKETS = 10_000
DEFAULT_KEYS = ("bearer", "client")


def bucket(key: bytes) -> int:
    """The key's bucket in [0, BUCKETS): blake2b, so it is the same in every interpreter."""
    digest = hashlib.blake2b(key, digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def parse_keys(spec: str | Sequence[str]) -> tuple[tuple[str, bytes], ...]:
    """`bearer,cookie:session,header:X-User,client` as (kind, name) pairs, first present wins."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    keys = []
    for item in (part.strip() for part in items):
        if not item:
            continue
        kind, _, name = item.partition(":")
        kind = kind.lower()
        if kind in ("bearer", "client") and not name:
            keys.append((kind, b""))
        elif kind in ("cookie", "header") and name:
            keys.append(
                (kind, name.lower().encode("latin-1") if kind == "header" else name.encode())
            )
        else:
            raise ValueError(
                f"a canary key is bearer, client, cookie:NAME or header:NAME, not {item!r}"
            )
    if not keys:
        raise ValueError("at least one canary key is needed")
    return tuple(keys)


def canary_key(scope: Scope, keys: Sequence[tuple[str, bytes]]) -> bytes:
    """The first of `keys` the request carries; the client address when it carries none."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for kind, name in keys:
        if kind == "client":
            break
        for header, value in headers:
            if kind == "bearer" and header == b"authorization":
                scheme, _, token = value.partition(b" ")
                if scheme.lower() == b"bearer" and token.strip():
                    return b"bearer:" + token.strip()
            elif kind == "header" and header == name:
                if value:
                    return b"header:" + value
            elif kind == "cookie" and header == b"cookie":
                found = _cookie(value, name)
                if found:
                    return b"cookie:" + found
    client = scope.get("client")
    return b"client:" + (client[0].encode() if client else b"")


def _cookie(header: bytes, name: bytes) -> bytes | None:
    for part in header.split(b";"):
        key, _, value = part.strip().partition(b"=")
        if key == name:
            return value
    return None
