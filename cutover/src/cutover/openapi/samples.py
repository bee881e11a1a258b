"""The sampled answers reach `cutover_openapi_samples` through the gateway's publisher, so every
process's learning feeds one document: parsed, schema-inferred and redacted in the write's
thread, and kept bounded (the newest few per route and status, `max_per_route` a route)."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select

from cutover.control.engine import translated
from cutover.control.modes import route_id
from cutover.control.store import StateStore, now
from cutover.control.tables import openapi_samples_table
from cutover.observe.tally import RequestTally
from cutover.openapi.infer import infer
from cutover.openapi.sampling import RawSample, ResponseSampler
from cutover.publish import Write
from cutover.shadow.redact import redact_json

PER_STATUS = 3  # newest samples kept per route and status


@dataclass(frozen=True, slots=True)
class StoredSample:
    """One sample as kept: status, content types, inferred schemas, redacted examples."""

    route: str
    status: int
    content_type: str | None
    response_schema: dict[str, Any] | None
    response_example: Any
    request_content_type: str | None
    request_schema: dict[str, Any] | None
    request_example: Any


class SampleCollector:
    """A publisher collector: the samples finished since the last round, and the routes to
    sample next because the tally counted a status they have no sample of yet."""

    def __init__(
        self,
        sampler: ResponseSampler,
        store: StateStore,
        tally: RequestTally | None = None,
        max_per_route: int = 50,
    ) -> None:
        self.sampler = sampler
        self.store = store
        self.tally = tally
        self.max_per_route = max_per_route
        self._sampled: set[tuple[str, int]] = set()
        self._counted: dict[tuple[str, int], int] = {}

    def __call__(self) -> Write | None:
        samples = self.sampler.take()
        self._sampled.update((s.route, s.status) for s in samples)
        self._arm_unsampled_statuses()
        if not samples:
            return None
        return functools.partial(write_samples, self.store, samples, self.max_per_route)

    def _arm_unsampled_statuses(self) -> None:
        if self.tally is None:
            return
        counted: dict[tuple[str, int], int] = {}
        for (template, method, _side, _mode, status), (count, _, _) in self.tally.totals().items():
            if template is not None and method not in ("HEAD", "OPTIONS"):
                key = (route_id(method, template), status)
                counted[key] = counted.get(key, 0) + count
        for key, count in counted.items():
            if key not in self._sampled and count > self._counted.get(key, 0):
                self.sampler.arm(key[0])
        self._counted = counted


def _json(body: bytearray, content_type: str | None) -> tuple[bool, Any]:
    if not body or content_type is None or "json" not in content_type:
        return False, None
    try:
        return True, json.loads(bytes(body))
    except ValueError:
        return False, None


def _row(sample: RawSample, at: Any) -> dict[str, Any]:
    has_response, response = _json(sample.response_body, sample.content_type)
    has_request, request = _json(sample.request_body, sample.request_content_type)
    return {
        "route": sample.route,
        "status": sample.status,
        "at": at,
        "content_type": sample.content_type,
        "response_schema": json.dumps(infer(response)) if has_response else None,
        "response_example": json.dumps(redact_json(response)) if has_response else None,
        "request_content_type": sample.request_content_type,
        "request_schema": json.dumps(infer(request)) if has_request else None,
        "request_example": json.dumps(redact_json(request)) if has_request else None,
    }


def write_samples(store: StateStore, samples: Sequence[RawSample], max_per_route: int) -> None:
    """Insert the samples, then keep the newest PER_STATUS per (route, status) and
    `max_per_route` per route of the routes written; one transaction."""
    at = now()
    rows = [_row(sample, at) for sample in samples]
    c = openapi_samples_table.c
    with translated(), store.engine.begin() as connection:
        connection.execute(insert(openapi_samples_table), rows)
        for route, status in sorted({(row["route"], row["status"]) for row in rows}):
            _prune(connection, (c.route == route) & (c.status == status), PER_STATUS)
        for route in sorted({row["route"] for row in rows}):
            _prune(connection, c.route == route, max_per_route)


def _prune(connection: Any, which: Any, keep: int) -> None:
    """Delete the rows `which` selects but the newest `keep`."""
    c = openapi_samples_table.c
    newest = select(c.id).where(which).order_by(c.id.desc()).limit(keep)
    ids = list(connection.execute(newest).scalars())
    connection.execute(delete(openapi_samples_table).where(which, c.id.not_in(ids)))


def read_samples(store: StateStore) -> dict[str, list[StoredSample]]:
    """Every kept sample by route, newest first (blocking: call it off the event loop)."""
    c = openapi_samples_table.c
    query = select(openapi_samples_table).order_by(c.route, c.id.desc())
    with translated(), store.engine.connect() as connection:
        rows = connection.execute(query).all()
    found: dict[str, list[StoredSample]] = {}
    for row in rows:
        found.setdefault(row.route, []).append(
            StoredSample(
                route=row.route,
                status=int(row.status),
                content_type=row.content_type,
                response_schema=_loads(row.response_schema),
                response_example=_loads(row.response_example),
                request_content_type=row.request_content_type,
                request_schema=_loads(row.request_schema),
                request_example=_loads(row.request_example),
            )
        )
    return found


def _loads(text: str | None) -> Any:
    return json.loads(text) if text is not None else None
