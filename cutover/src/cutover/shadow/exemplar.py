"""A mismatching request kept as an exemplar: recorded on the loop as plain references, turned
into redacted JSON (request, both answers, the diff) only in the writer's thread, and rebuilt
into an ASGI request by `cutover replay` (minus the credentials it no longer has)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from cutover.asgi import header_value
from cutover.shadow.answer import Answer
from cutover.shadow.compare import Comparison
from cutover.shadow.headers import is_json, media_type
from cutover.shadow.redact import REDACTED, is_secret_name, redact_headers, redact_json

MAX_STORED_BODY = 64 << 10  # bytes of each body kept; past it the body is cut (`truncated`)
_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class Exemplar:
    """One mismatch as the runner saw it, unredacted: kept in memory only until written."""

    route: str
    at: datetime
    method: str
    path: str
    query: bytes
    headers: Sequence[tuple[bytes, bytes]]
    body: bytes
    primary: Answer
    candidate: Answer
    comparison: Comparison

    @property
    def request_line(self) -> str:
        query = self.query.decode("latin-1")
        return f"{self.method} {self.path}" + (f"?{query}" if query else "")

    def row(self) -> dict[str, Any]:
        """The exemplar as a `cutover_shadow_exemplars` row, every credential redacted."""
        return {
            "route": self.route,
            "shape_id": self.comparison.shape_id,
            "at": self.at,
            "request": _dumps(request_document(self)),
            "primary_answer": _dumps(answer_document(self.primary)),
            "candidate_answer": _dumps(answer_document(self.candidate)),
            "comparison": _dumps(self.comparison.to_json()),
            "report": self.comparison.report(),
        }


def request_document(exemplar: Exemplar) -> dict[str, Any]:
    """Method, path, query, headers and body of the request, redacted."""
    content_type = header_value(exemplar.headers, b"content-type")
    return {
        "method": exemplar.method,
        "path": exemplar.path,
        "query": redact_query(exemplar.query.decode("latin-1")),
        "headers": _header_pairs(exemplar.headers),
        "body": body_document(exemplar.body, content_type),
    }


def answer_document(answer: Answer) -> dict[str, Any]:
    """Status, headers and body of one side's answer, redacted."""
    return {
        "status": answer.status,
        "headers": _header_pairs(answer.headers),
        "body": body_document(answer.body, header_value(answer.headers, b"content-type")),
    }


def redact_query(query: str) -> str:
    """A query string with the values of secret-named parameters redacted (else as it was)."""
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(is_secret_name(name) for name, _ in pairs):
        return query
    return urlencode([(name, REDACTED if is_secret_name(name) else v) for name, v in pairs])


def body_document(body: bytes, content_type: str | None) -> dict[str, Any]:
    """A body as JSON can hold it: text (JSON and forms with secret fields redacted) or, when
    it is not UTF-8, base64; at most MAX_STORED_BODY bytes of it."""
    document: dict[str, Any] = {"size": len(body), "truncated": len(body) > MAX_STORED_BODY}
    media = media_type(content_type)[0] if content_type else ""
    text: str | None = None
    if is_json(media) or (not media and body[:1] in (b"{", b"[")):
        try:
            text = json.dumps(redact_json(json.loads(body)), ensure_ascii=False)
        except (ValueError, RecursionError):
            text = None
    elif media == _FORM:
        text = redact_query(body.decode("latin-1"))
    if text is None:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            document["base64"] = base64.b64encode(body[:MAX_STORED_BODY]).decode("ascii")
            return document
    document["text"] = text[:MAX_STORED_BODY]
    return document


def body_bytes(document: dict[str, Any]) -> bytes:
    """The bytes of a stored body (as stored: redacted, perhaps cut)."""
    if "base64" in document:
        try:
            return base64.b64decode(document["base64"])
        except binascii.Error:
            return b""
    return str(document.get("text", "")).encode("utf-8")


def replay_headers(
    stored: Iterable[Sequence[str]], extra: Iterable[tuple[str, str]] = ()
) -> tuple[list[tuple[bytes, bytes]], list[str]]:
    """ASGI headers to replay a stored request with: the redacted ones left out (their values
    are gone) and `extra` added in their place; also the names of those left out."""
    extra = [(name.strip().lower(), value.strip()) for name, value in extra]
    given = {name for name, _ in extra}
    headers: list[tuple[bytes, bytes]] = []
    dropped: list[str] = []
    for name, value in stored:
        lowered = name.lower()
        if lowered in given or lowered in ("content-length", "transfer-encoding"):
            continue
        if is_secret_name(lowered):
            dropped.append(lowered)
            continue
        headers.append((lowered.encode("latin-1"), value.encode("latin-1")))
    headers.extend((name.encode("latin-1"), value.encode("latin-1")) for name, value in extra)
    return headers, sorted(set(dropped) - given)


def _header_pairs(headers: Iterable[tuple[bytes, bytes]]) -> list[list[str]]:
    return [
        [name.decode("latin-1"), value.decode("latin-1")] for name, value in redact_headers(headers)
    ]


def _dumps(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, default=repr)
