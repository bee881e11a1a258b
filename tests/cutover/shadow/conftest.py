"""The control tests' state stores (SQLite always, PostgreSQL with TEST_DATABASE_URL) for the
shadow evidence tests, which keep their evidence there."""

from tests.cutover.control.conftest import postgres_database, state_url

__all__ = ["postgres_database", "state_url"]
