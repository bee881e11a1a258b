"""Blog posts: public when published, drafts visible to their author only."""

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import ColumnElement, or_, select

from legacy_flask.auth import current_user, optional_user, token_required
from legacy_flask.errors import json_error
from legacy_flask.extensions import db
from legacy_flask.lookup import get_by_id
from legacy_flask.pagination import paginate, parse_page
from legacy_flask.serializers import post_to_dict
from legacy_flask.validation import is_blank, is_text, json_object
from shared_models import Post, User
from shared_models.base import utcnow

bp = Blueprint("posts", __name__, url_prefix="/api/posts")

TITLE_MAX = 200


def _visible_post(post_id: int, viewer: User | None) -> Post | None:
    post = get_by_id(Post, post_id)
    if post is None or not (post.published or (viewer and post.author_id == viewer.id)):
        return None
    return post


def _post_fields(data: dict[str, Any], *, partial: bool) -> dict[str, Any] | tuple[Response, int]:
    """The validated title/body/published from `data`, or the error response."""
    fields: dict[str, Any] = {}
    if not partial or "title" in data:
        if is_blank(data.get("title")):
            return json_error("Missing required fields", 400)
        fields["title"] = data["title"]
    if "body" in data:
        fields["body"] = data["body"]
    if not all(is_text(value) for value in fields.values()):
        return json_error("Invalid field types", 400)
    if "published" in data:
        if not isinstance(data["published"], bool):
            return json_error("Invalid field types", 400)
        fields["published"] = data["published"]
    if len(fields.get("title", "")) > TITLE_MAX:
        return json_error("Title too long", 400)
    return fields


@bp.get("")
def list_posts() -> ResponseReturnValue:
    page = parse_page(request.args)
    if page is None:
        return json_error("Invalid pagination parameters", 400)
    viewer = optional_user()
    visible: ColumnElement[bool] = Post.published.is_(True)
    if viewer is not None:
        visible = or_(visible, Post.author_id == viewer.id)
    query = select(Post).where(visible).order_by(Post.created_at.desc(), Post.id.desc())
    posts, meta = paginate(query, page)
    return jsonify(posts=[post_to_dict(post) for post in posts], **meta)


@bp.post("")
@token_required
def create_post() -> ResponseReturnValue:
    data = json_object()
    if data is None:
        return json_error("No data provided", 400)
    fields = _post_fields(data, partial=False)
    if isinstance(fields, tuple):
        return fields
    post = Post(author=current_user(), **fields)
    db.session.add(post)
    db.session.commit()
    return jsonify(post_to_dict(post)), 201, {"Location": url_for(".get_post", post_id=post.id)}


@bp.get("/<int:post_id>")
def get_post(post_id: int) -> ResponseReturnValue:
    post = _visible_post(post_id, optional_user())
    if post is None:
        return json_error("Post not found", 404)
    return jsonify(post_to_dict(post))


def _editable_post(post_id: int) -> Post | tuple[Response, int]:
    user = current_user()
    post = _visible_post(post_id, user)
    if post is None:
        return json_error("Post not found", 404)
    if post.author_id != user.id:
        return json_error("Forbidden", 403)
    return post


@bp.put("/<int:post_id>")
@token_required
def update_post(post_id: int) -> ResponseReturnValue:
    post = _editable_post(post_id)
    if isinstance(post, tuple):
        return post
    data = json_object()
    if data is None:
        return json_error("No data provided", 400)
    fields = _post_fields(data, partial=True)
    if isinstance(fields, tuple):
        return fields
    for name, value in fields.items():
        setattr(post, name, value)
    post.updated_at = utcnow()
    db.session.commit()
    return jsonify(post_to_dict(post))


@bp.delete("/<int:post_id>")
@token_required
def delete_post(post_id: int) -> ResponseReturnValue:
    post = _editable_post(post_id)
    if isinstance(post, tuple):
        return post
    db.session.delete(post)
    db.session.commit()
    return Response(status=204)
