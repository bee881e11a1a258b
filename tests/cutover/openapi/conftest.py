"""The control tests' state stores (SQLite always, PostgreSQL with TEST_DATABASE_URL), where the
OpenAPI document's samples are kept."""

from tests.cutover.control.conftest import postgres_database, state_url

__all__ = ["postgres_database", "state_url"]
