"""A database of a run's own on a shared PostgreSQL server, created and dropped around its use,
so concurrent runs never collide; SQLAlchemy only, for the toolkit's suite and the bench too."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, make_url, text


@contextmanager
def private_postgres_database(server_url: str, prefix: str = "cutover_test") -> Iterator[str]:
    """The URL of a fresh database `<prefix>_<pid>_<random>` on `server_url`'s server."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    finally:
        admin.dispose()
