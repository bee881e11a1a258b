"""The shadow's evidence on its way to the shared database: the publisher's collector takes what
the runner counted since the last round (on the loop, where the runner counts without locks),
and the write (in a thread) adds delta rows, increments groups and noise across processes, keeps
a few exemplars per group, and now and then prunes what is older than the retention."""

from __future__ import annotations

import functools
import json
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from time import monotonic
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from cutover.control.engine import translated
from cutover.control.store import StateStore
from cutover.control.tables import (
    shadow_counts_table,
    shadow_exemplars_table,
    shadow_groups_table,
    shadow_noise_table,
)
from cutover.publish import Write
from cutover.shadow.compare import shape_id as _shape_id
from cutover.shadow.exemplar import Exemplar
from cutover.shadow.runner import MAX_EXEMPLARS, ShadowCounts, ShadowRunner

DEFAULT_RETENTION = 7 * 24 * 3600.0  # seconds evidence is kept
DEFAULT_MAX_EXEMPLARS = 50  # exemplars kept per route, over all its groups
PRUNE_INTERVAL = 60.0  # seconds between a writer's prunes
_NAMES: tuple[str, ...] = ShadowCounts.__slots__


@dataclass(slots=True)
class _Batch:
    """What one round hands to the thread: plain values, no reference into the runner's dicts
    (the pending exemplars are lists the runner no longer holds)."""

    counts: list[dict[str, Any]] = field(default_factory=list)
    groups: dict[tuple[str, str], tuple[tuple[str, ...], int]] = field(default_factory=dict)
    exemplars: list[Exemplar] = field(default_factory=list)
    noise: dict[tuple[str, str], int] = field(default_factory=dict)
    prune: bool = False


class EvidenceWriter:
    """The collector (`Publisher.add("shadow evidence", writer.collect)`) of one process."""

    def __init__(
        self,
        runner: ShadowRunner,
        store: StateStore,
        *,
        retention: float = DEFAULT_RETENTION,
        max_exemplars: int = DEFAULT_MAX_EXEMPLARS,
        prune_interval: float = PRUNE_INTERVAL,
    ) -> None:
        if retention <= 0 or max_exemplars < 1:
            raise ValueError("evidence retention is above 0 seconds, max_exemplars at least 1")
        self.runner = runner
        self.store = store
        self.retention = timedelta(seconds=retention)
        self.max_exemplars = max_exemplars
        self.prune_interval = prune_interval
        self._token = uuid.uuid4().hex[:8]
        self._counts: dict[str, tuple[int, ...]] = {}
        self._groups: dict[tuple[str, tuple[str, ...]], int] = {}
        self._noise: dict[tuple[str, str], int] = {}
        self._pruned_at: float | None = None  # None: never yet, so the first round prunes
        self._wrote_since_prune = False

    @property
    def process_id(self) -> str:
        """This process, as its delta rows name it (the pid read now: workers fork)."""
        return f"{socket.gethostname()}:{os.getpid()}:{self._token}"

    def collect(self) -> Write | None:
        """On the loop: the deltas since the last round, and the write that stores them."""
        batch = _Batch()
        at = datetime.now(UTC)
        for route, counts in self.runner.counts.items():
            current = tuple(getattr(counts, name) for name in _NAMES)
            last = self._counts.get(route)
            if current != last:
                self._counts[route] = current
                before = last or (0,) * len(_NAMES)
                deltas = {n: now - was for n, now, was in zip(_NAMES, current, before, strict=True)}
                batch.counts.append({"route": route, "at": at, **deltas})
        for key, group in self.runner.groups.items():
            if group.count != (last_count := self._groups.get(key, 0)):
                self._groups[key] = group.count
                route, shape = key
                shape_id = _shape_id(shape)
                batch.groups[(route, shape_id)] = (shape, group.count - last_count)
            if group.pending:
                batch.exemplars.extend(group.pending)
                group.pending = []
        for route, paths in self.runner.noise.items():
            for path, seen in paths.items():
                if seen != (last_seen := self._noise.get((route, path), 0)):
                    self._noise[(route, path)] = seen
                    batch.noise[(route, path)] = seen - last_seen
        wrote = bool(batch.counts or batch.groups or batch.exemplars or batch.noise)
        self._wrote_since_prune |= wrote
        tick = monotonic()
        if self._pruned_at is None or (
            self._wrote_since_prune and tick - self._pruned_at >= self.prune_interval
        ):
            batch.prune, self._pruned_at, self._wrote_since_prune = True, tick, False
        if not wrote and not batch.prune:
            return None
        return functools.partial(self.write, batch)

    def write(self, batch: _Batch) -> None:
        """In a thread: one transaction of the batch's rows (and the prune, when due)."""
        at = datetime.now(UTC)
        process_id = self.process_id
        with translated(), self.store.engine.begin() as connection:
            if batch.counts:
                rows = [{"process_id": process_id, **row} for row in batch.counts]
                connection.execute(insert(shadow_counts_table), rows)
            groups = [
                {"route": route, "shape_id": shape_id, "shape": json.dumps(list(shape)), "count": n}
                for (route, shape_id), (shape, n) in sorted(batch.groups.items())
            ]
            _increment(connection, shadow_groups_table, groups, ("route", "shape_id"), "count", at)
            noise = [
                {"route": route, "path": path, "seen": n}
                for (route, path), n in sorted(batch.noise.items())
            ]
            _increment(connection, shadow_noise_table, noise, ("route", "path"), "seen", at)
            if batch.exemplars:
                connection.execute(
                    insert(shadow_exemplars_table), [item.row() for item in batch.exemplars]
                )
                self._trim(connection, batch.exemplars)
            if batch.prune:
                self._prune(connection, at - self.retention)

    def _trim(self, connection: Connection, added: Sequence[Exemplar]) -> None:
        """Keep the newest MAX_EXEMPLARS of each group written to, `max_exemplars` per route."""
        e = shadow_exemplars_table.c
        for route, shape_id in sorted({(x.route, x.comparison.shape_id) for x in added}):
            _keep_newest(connection, MAX_EXEMPLARS, e.route == route, e.shape_id == shape_id)
        for route in sorted({x.route for x in added}):
            _keep_newest(connection, self.max_exemplars, e.route == route)

    def _prune(self, connection: Connection, cutoff: datetime) -> None:
        for table, column in (
            (shadow_counts_table, "at"),
            (shadow_exemplars_table, "at"),
            (shadow_groups_table, "last_seen"),
            (shadow_noise_table, "last_seen"),
        ):
            connection.execute(delete(table).where(table.c[column] < cutoff))


def _keep_newest(connection: Connection, keep: int, *where: Any) -> None:
    e = shadow_exemplars_table.c
    old = connection.execute(
        select(e.id).where(*where).order_by(e.id.desc()).offset(keep)
    ).scalars()
    ids = list(old)
    if ids:
        connection.execute(delete(shadow_exemplars_table).where(e.id.in_(ids)))


def _increment(
    connection: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    keys: tuple[str, ...],
    counter: str,
    at: datetime,
) -> None:
    """Add each row's `counter` to the stored one (a new row starts at it), one statement on
    dialects with ON CONFLICT, so processes writing at once never lose an increment."""
    if not rows:
        return
    stamped = [{**row, "first_seen": at, "last_seen": at} for row in rows]
    name = connection.dialect.name
    if name in ("postgresql", "sqlite"):
        dialect_insert = postgresql.insert if name == "postgresql" else sqlite.insert
        statement = dialect_insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={
                counter: table.c[counter] + statement.excluded[counter],
                "last_seen": statement.excluded.last_seen,
            },
        )
        connection.execute(statement, stamped)
        return
    for row in stamped:
        match = [table.c[key] == row[key] for key in keys]
        changed = connection.execute(
            update(table)
            .where(*match)
            .values({counter: table.c[counter] + row[counter], "last_seen": at})
        )
        if changed.rowcount == 0:
            connection.execute(insert(table).values(**row))
