"""The PostgreSQL LISTEN on `cutover_state` that wakes a follower's poll early: only a doorbell,
as a NOTIFY is lost while nobody listens and never passes PgBouncer in transaction mode."""

from __future__ import annotations

import contextlib
import inspect
from typing import Any

from cutover.control.store import NOTIFY_CHANNEL, StateStore


def doorbell_supported(store: StateStore) -> bool:
    """PostgreSQL through psycopg 3.2+ (whose `notifies` takes a timeout)."""
    if store.dialect != "postgresql" or store.driver != "psycopg":
        return False
    import psycopg

    return "timeout" in inspect.signature(psycopg.Connection.notifies).parameters


class Doorbell:
    """A dedicated psycopg 3 connection LISTENing on `cutover_state`, outside the pool."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    @classmethod
    def open(cls, store: StateStore) -> Doorbell:
        raw = store.engine.raw_connection()  # the store's URL and connect timeout
        connection = raw.driver_connection
        if connection is None:
            raise RuntimeError("the pool gave no driver connection")
        raw.detach()  # ours alone from now on: closed by `close`, never returned to the pool
        try:
            connection.rollback()  # the pool's pre-ping may have opened a transaction
            connection.autocommit = True
            connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
        except BaseException:
            connection.close()
            raise
        return cls(connection)

    def fileno(self) -> int:
        fileno: int = self._connection.fileno()
        return fileno

    def drain(self) -> int:
        """Consume the notifications that arrived; raises when the connection is gone."""
        return sum(1 for _ in self._connection.notifies(timeout=0))

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a broken connection: nothing left to do
            self._connection.close()
