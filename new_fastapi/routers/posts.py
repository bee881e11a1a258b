"""Blog posts: public when published, drafts visible to their author only."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy import ColumnElement, or_, select

from cutover.compat import ApiError
from new_fastapi.deps import CurrentUser, OptionalUser, SessionDep, body_of, documented_body
from new_fastapi.pagination import PageDep, paginate
from new_fastapi.pooled import PooledRoute
from new_fastapi.responses import NO_CONTENT, post_response
from new_fastapi.schemas import PostCreate, PostPage, PostResponse, PostUpdate
from new_fastapi.validation import INT32_MAX
from shared_models import Post, User
from shared_models.base import utcnow

router = APIRouter(prefix="/api/posts", tags=["posts"], route_class=PooledRoute)


def _visible_post(session: SessionDep, post_id: int, viewer: User | None) -> Post:
    post = session.get(Post, post_id) if post_id <= INT32_MAX else None
    if post is None or not (post.published or (viewer and post.author_id == viewer.id)):
        raise ApiError(404, "Post not found")
    return post


def editable_post(post_id: int, user: CurrentUser, session: SessionDep) -> Post:
    """The caller's own post: 404 when they cannot see it, 403 when it is someone else's."""
    post = _visible_post(session, post_id, user)
    if post.author_id != user.id:
        raise ApiError(403, "Forbidden")
    return post


EditablePost = Annotated[Post, Depends(editable_post)]


@router.get("", response_model=PostPage)
def list_posts(page: PageDep, viewer: OptionalUser, session: SessionDep) -> PostPage:
    visible: ColumnElement[bool] = Post.published.is_(True)
    if viewer is not None:
        visible = or_(visible, Post.author_id == viewer.id)
    query = select(Post).where(visible).order_by(Post.created_at.desc(), Post.id.desc())
    posts, meta = paginate(session, query, page)
    return PostPage(posts=[post_response(post) for post in posts], **meta)


@router.post(
    "", status_code=201, response_model=PostResponse, openapi_extra=documented_body(PostCreate)
)
def create_post(
    user: CurrentUser,
    payload: Annotated[PostCreate, Depends(body_of(PostCreate))],
    session: SessionDep,
    response: Response,
) -> PostResponse:
    post = Post(author=user, title=payload.title, body=payload.body, published=payload.published)
    session.add(post)
    session.commit()
    response.headers["Location"] = f"/api/posts/{post.id}"
    return post_response(post)


@router.get("/{post_id:int}", response_model=PostResponse)
def get_post(post_id: int, viewer: OptionalUser, session: SessionDep) -> PostResponse:
    return post_response(_visible_post(session, post_id, viewer))


@router.put(
    "/{post_id:int}", response_model=PostResponse, openapi_extra=documented_body(PostUpdate)
)
def update_post(
    post: EditablePost,
    payload: Annotated[PostUpdate, Depends(body_of(PostUpdate))],
    session: SessionDep,
) -> PostResponse:
    for name in payload.model_fields_set:
        setattr(post, name, getattr(payload, name))
    post.updated_at = utcnow()
    session.commit()
    return post_response(post)


@router.delete("/{post_id:int}", status_code=204)
def delete_post(post: EditablePost, session: SessionDep) -> Response:
    session.delete(post)
    session.commit()
    return NO_CONTENT()
