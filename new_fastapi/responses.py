"""Model-to-schema conversions and the empty answer, shaped as the legacy app sent them."""

from functools import partial

from fastapi import Response

from new_fastapi.schemas import CommentResponse, ItemResponse, NoteResponse, PostResponse
from shared_models import Comment, Item, Note, Post

# Flask's Response(status=204) still names its default mimetype.
NO_CONTENT = partial(Response, status_code=204, media_type="text/html; charset=utf-8")


def note_response(note: Note) -> NoteResponse:
    """A note as clients sync it; tombstones keep their last title and body."""
    return NoteResponse(
        body=note.body,
        created_at=note.created_at,
        deleted=note.deleted_at is not None,
        id=note.id,
        title=note.title,
        updated_at=note.updated_at,
        version=note.version,
    )


def post_response(post: Post) -> PostResponse:
    """A post with its author's username."""
    return PostResponse(
        author=post.author.username,
        author_id=post.author_id,
        body=post.body,
        created_at=post.created_at,
        id=post.id,
        published=post.published,
        title=post.title,
        updated_at=post.updated_at,
    )


def item_response(item: Item) -> ItemResponse:
    return ItemResponse.model_validate(item)


def comment_response(comment: Comment) -> CommentResponse:
    """A comment with its author's username."""
    return CommentResponse(
        author=comment.author.username,
        author_id=comment.author_id,
        body=comment.body,
        created_at=comment.created_at,
        id=comment.id,
        post_id=comment.post_id,
    )
