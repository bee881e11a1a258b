"""Model to JSON-ready dict conversions; `jsonify` turns datetimes and Decimals into strings."""

from typing import Any

from shared_models import Comment, Item, Note, Post, User


def user_to_dict(user: User) -> dict[str, Any]:
    """The public view of a user (never the password hash)."""
    return {
        "age": user.age,
        "created_at": user.created_at,
        "email": user.email,
        "id": user.id,
        "username": user.username,
    }


def note_to_dict(note: Note) -> dict[str, Any]:
    """A note as clients sync it; tombstones keep their last title and body."""
    return {
        "body": note.body,
        "created_at": note.created_at,
        "deleted": note.deleted_at is not None,
        "id": note.id,
        "title": note.title,
        "updated_at": note.updated_at,
        "version": note.version,
    }


def post_to_dict(post: Post) -> dict[str, Any]:
    """A post with its author's username."""
    return {
        "author": post.author.username,
        "author_id": post.author_id,
        "body": post.body,
        "created_at": post.created_at,
        "id": post.id,
        "published": post.published,
        "title": post.title,
        "updated_at": post.updated_at,
    }


def comment_to_dict(comment: Comment) -> dict[str, Any]:
    """A comment with its author's username."""
    return {
        "author": comment.author.username,
        "author_id": comment.author_id,
        "body": comment.body,
        "created_at": comment.created_at,
        "id": comment.id,
        "post_id": comment.post_id,
    }


def item_to_dict(item: Item) -> dict[str, Any]:
    """A catalogue item; the Decimal price is serialised as a string."""
    return {
        "id": item.id,
        "is_available": item.is_available,
        "name": item.name,
        "price": item.price,
        "tags": item.tags,
    }
