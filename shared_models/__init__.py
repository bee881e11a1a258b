"""Models, database wiring and settings shared by the legacy Flask app and the FastAPI ports."""

from shared_models.base import Base
from shared_models.database import create_engine_for, engine_options, make_sessionmaker
from shared_models.models import ApiToken, Comment, Item, Note, Post, User
from shared_models.settings import Settings, get_settings

__all__ = [
    "ApiToken",
    "Base",
    "Comment",
    "Item",
    "Note",
    "Post",
    "Settings",
    "User",
    "create_engine_for",
    "engine_options",
    "get_settings",
    "make_sessionmaker",
]
