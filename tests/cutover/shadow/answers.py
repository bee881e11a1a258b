"""Answers the shadow tests compare, built as an ASGI app would send them."""

from __future__ import annotations

import json
from typing import Any

from cutover.shadow import Answer

JSON = (b"content-type", b"application/json")


def json_answer(
    value: Any,
    status: int = 200,
    headers: list[tuple[bytes, bytes]] | None = None,
    *,
    sort_keys: bool = False,
) -> Answer:
    """An answer with `value` as its JSON body, Content-Type JSON unless `headers` is given."""
    body = json.dumps(value, sort_keys=sort_keys, separators=(",", ":")).encode()
    return Answer(status, [JSON] if headers is None else headers, body)


def text_answer(body: bytes, content_type: bytes = b"text/plain; charset=utf-8") -> Answer:
    """A 200 with a body that is not JSON."""
    return Answer(200, [(b"content-type", content_type)], body)
