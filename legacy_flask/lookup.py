"""Primary-key lookups that treat ids the database column cannot hold as unknown."""

from typing import TypeVar

from legacy_flask.extensions import db
from shared_models import Base

INT32_MAX = 2**31 - 1  # Flask's int converter accepts any size; PostgreSQL INTEGER does not.

ModelT = TypeVar("ModelT", bound=Base)


def get_by_id(model: type[ModelT], ident: int) -> ModelT | None:
    """The row with this id, or None (also for ids too big to exist)."""
    if ident > INT32_MAX:
        return None
    return db.session.get(model, ident)
