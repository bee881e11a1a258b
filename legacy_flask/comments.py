"""Comments on published posts: anyone reads them, a signed-in user writes, the author deletes."""

from flask import Blueprint, Response, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from legacy_flask.auth import token_required
from legacy_flask.extensions import db
from legacy_flask.lookup import INT32_MAX
from legacy_flask.serializers import comment_to_dict
from legacy_flask.validation import is_text
from shared_models import Comment, Post

bp = Blueprint("comments", __name__)

BODY_MAX = 500
LIMIT_MAX = 100


def _published_post(post_id: int) -> Post | None:
    post = db.session.get(Post, post_id) if post_id <= INT32_MAX else None
    if post is None or not post.published:
        return None
    return post


@bp.get("/api/posts/<int:post_id>/comments")
def list_comments(post_id: int) -> ResponseReturnValue:
    post = _published_post(post_id)
    if post is None:
        return jsonify(error="Post not found"), 404
    limit = request.args.get("limit", 20, type=int)
    offset = request.args.get("offset", 0, type=int)
    if not 1 <= limit <= LIMIT_MAX or not 0 <= offset <= INT32_MAX:
        return jsonify(error="Invalid limit or offset"), 400
    comments = db.session.scalars(
        select(Comment)
        .where(Comment.post_id == post.id)
        .order_by(Comment.id)
        .limit(limit)
        .offset(offset)
    )
    total = db.session.scalar(select(func.count()).where(Comment.post_id == post.id))
    return jsonify(comments=[comment_to_dict(comment) for comment in comments], total=total)


@bp.post("/api/posts/<int:post_id>/comments")
@token_required
def create_comment(post_id: int) -> ResponseReturnValue:
    post = _published_post(post_id)
    if post is None:
        return jsonify(error="Post not found"), 404
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # JSON nested too deep escapes `silent`
        data = None
    if not isinstance(data, dict) or not data:
        return jsonify(error="No data provided"), 400
    body = data.get("body")
    if body is None or body == "":
        return jsonify(error="Missing required fields"), 400
    if not is_text(body):
        return jsonify(error="Invalid field types"), 400
    if len(body) > BODY_MAX:
        return jsonify(error="Comment too long"), 400
    comment = Comment(post_id=post.id, author_id=g.current_user.id, body=body)
    db.session.add(comment)
    db.session.commit()
    return jsonify(comment_to_dict(comment)), 201


@bp.delete("/api/comments/<int:comment_id>")
@token_required
def delete_comment(comment_id: int) -> ResponseReturnValue:
    comment = db.session.get(Comment, comment_id) if comment_id <= INT32_MAX else None
    if comment is None:
        return jsonify(error="Comment not found"), 404
    if comment.author_id != g.current_user.id:
        return jsonify(error="Forbidden"), 403
    db.session.delete(comment)
    db.session.commit()
    return Response(status=204)
