"""What the gateway saw a route answer, as OpenAPI responses and a request body marked
`x-cutover-inferred: true`: evidence of the traffic, not a contract the route declared."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cutover.openapi.infer import merge
from cutover.openapi.samples import StoredSample

INFERRED = "x-cutover-inferred"
_STRING: dict[str, Any] = {"type": "string"}


def media_type(content_type: str | None) -> str | None:
    """`application/json; charset=utf-8` -> `application/json`."""
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def _media(entries: Sequence[tuple[dict[str, Any] | None, Any]], kind: str) -> dict[str, Any]:
    """A media type object from (schema, example) pairs, newest first."""
    schemas = [schema for schema, _ in entries if schema is not None]
    if not schemas:
        return {"schema": dict(_STRING) if "json" not in kind else {}, INFERRED: True}
    merged: dict[str, Any] | None = None
    for schema in schemas:
        merged = merge(merged, schema) if merged is not None else schema
    found: dict[str, Any] = {"schema": merged or {}, INFERRED: True}
    example = next((example for schema, example in entries if schema is not None), None)
    if example is not None:
        found["example"] = example
    return found


def learned_responses(samples: Sequence[StoredSample]) -> dict[str, Any]:
    """`{status: response}` of every status sampled (newest samples first)."""
    by_status: dict[int, dict[str | None, list[tuple[dict[str, Any] | None, Any]]]] = {}
    for sample in samples:
        kinds = by_status.setdefault(sample.status, {})
        entry = (sample.response_schema, sample.response_example)
        kinds.setdefault(media_type(sample.content_type), []).append(entry)
    responses: dict[str, Any] = {}
    for status in sorted(by_status):
        response: dict[str, Any] = {"description": "Observed by the gateway", INFERRED: True}
        content = {
            kind: _media(entries, kind) for kind, entries in by_status[status].items() if kind
        }
        if content:
            response["content"] = content
        responses[str(status)] = response
    return responses


def learned_request_body(samples: Sequence[StoredSample]) -> dict[str, Any] | None:
    """The JSON request bodies sampled, as an optional request body (None: none seen)."""
    by_kind: dict[str, list[tuple[dict[str, Any] | None, Any]]] = {}
    for sample in samples:
        kind = media_type(sample.request_content_type)
        if kind and sample.request_schema is not None:
            by_kind.setdefault(kind, []).append((sample.request_schema, sample.request_example))
    if not by_kind:
        return None
    content = {kind: _media(entries, kind) for kind, entries in sorted(by_kind.items())}
    return {"required": False, "content": content, INFERRED: True}


def add_learned(operation: dict[str, Any], samples: Sequence[StoredSample], native: bool) -> None:
    """Add what was learned to `operation`: every sampled status the route does not declare
    (a legacy route's placeholder `default` goes once one is learned), and a request body to
    a legacy route that declares none."""
    learned = learned_responses(samples)
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if learned and not native:
        responses.pop("default", None)
    for status, response in learned.items():
        responses.setdefault(status, response)
    if not native and "requestBody" not in operation:
        body = learned_request_body(samples)
        if body is not None:
            operation["requestBody"] = body
