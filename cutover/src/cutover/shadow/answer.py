"""A recorded answer in the form an ASGI app sends it, so both sides of a shadowed request are
compared (and stored) the same way whatever framework produced them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Answer:
    """Status, raw headers (names in any case) and the whole body of one response."""

    status: int
    headers: Sequence[tuple[bytes, bytes]] = ()
    body: bytes = b""

    @classmethod
    def from_asgi(cls, messages: Iterable[Mapping[str, Any]]) -> Answer:
        """The answer an ASGI app sent as `messages` (`http.response.start`, then bodies)."""
        status, headers, chunks = 0, [], []
        for message in messages:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [
                    (bytes(name), bytes(value)) for name, value in message.get("headers", ())
                ]
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
        if not status:
            raise ValueError("no http.response.start among the messages")
        return cls(status, headers, b"".join(chunks))

    def header_values(self) -> dict[str, list[str]]:
        """Every header's values by lowercased name, in the order sent, decoded as latin-1."""
        values: dict[str, list[str]] = {}
        for name, value in self.headers:
            values.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
        return values
