"""Greeting and site-wide counters."""

from flask import Blueprint, Response, jsonify
from sqlalchemy import func, select

from legacy_flask.extensions import db
from shared_models import Item, Post, User

bp = Blueprint("main", __name__)


@bp.get("/api/hello")
def hello() -> Response:
    return jsonify(message="Hello, World!")


@bp.get("/api/stats/")
def stats() -> Response:
    published = select(func.count()).select_from(Post).where(Post.published.is_(True))
    return jsonify(
        items=db.session.scalar(select(func.count()).select_from(Item)),
        posts=db.session.scalar(published),
        users=db.session.scalar(select(func.count()).select_from(User)),
    )
