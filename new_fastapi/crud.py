"""Units of work: what each endpoint does with the database, as plain sync functions.

Each runs whole in one pool job through `Database.run` with the session first, and returns
the response model built while the session is open, so nothing lazy-loads on the event loop.
They check in the order the legacy views did (authentication, then the object, then the body),
because clients see which error comes first.
"""

from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.datastructures import Authorization

from cutover.compat import ApiError
from new_fastapi.deps import parse_body
from new_fastapi.pagination import PageRequest, WindowRequest, paginate
from new_fastapi.responses import comment_response, item_response, note_response, post_response
from new_fastapi.schemas import (
    CommentCreate,
    CommentList,
    CommentResponse,
    ItemCreate,
    ItemResponse,
    NoteCreate,
    NoteResponse,
    NoteUpdate,
    PostCreate,
    PostPage,
    PostResponse,
    PostUpdate,
    Stats,
    TokenResponse,
    UserCreate,
    UserPage,
    UserResponse,
)
from new_fastapi.validation import INT32_MAX, is_storable_text
from shared_models import Comment, Item, Note, Post, User
from shared_models.base import utcnow
from shared_models.notes_sync import next_change_seq
from shared_models.passwords import hash_password, verify_password
from shared_models.tokens import issue_token, revoke_token, user_for_token

MAX_ITEMS_PER_PAGE = 100
BASIC_CHALLENGE = 'Basic realm="api"'

# --- callers --------------------------------------------------------------------------------


def authenticate(session: Session, token: str | None) -> User:
    """The owner of a live bearer token, else the legacy 401 with its challenge."""
    user = user_for_token(session, token) if token else None
    if user is None:
        raise ApiError(
            401, "Invalid token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )
    return user


def optional_user(session: Session, token: str | None) -> User | None:
    """The bearer's user when the token is live; anything else is an anonymous request."""
    return user_for_token(session, token) if token else None


def _get(session: Session, model: type[Any], key: int) -> Any:
    """The row with primary key `key`; ids past INTEGER's range exist nowhere."""
    return session.get(model, key) if key <= INT32_MAX else None


# --- users ----------------------------------------------------------------------------------


def _taken_error(session: Session, username: str, email: str) -> ApiError | None:
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        return ApiError(400, "Username already exists")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        return ApiError(400, "Email already registered")
    return None


def create_user(session: Session, payload: UserCreate) -> UserResponse:
    if (taken := _taken_error(session, payload.username, payload.email)) is not None:
        raise taken
    user = User(
        username=payload.username,
        email=payload.email,
        password_hash=hash_password(payload.password),
        age=payload.age,
    )
    session.add(user)
    try:
        session.commit()
    except IntegrityError:  # another request registered the same name or email meanwhile
        session.rollback()
        raise _taken_error(session, payload.username, payload.email) or ApiError(
            400, "Username already exists"
        ) from None
    return UserResponse.model_validate(user)


def list_users(session: Session, page: PageRequest) -> UserPage:
    users, meta = paginate(session, select(User).order_by(User.id), page)
    return UserPage(users=[UserResponse.model_validate(user) for user in users], **meta)


def admin_user(session: Session, user_id: Any) -> UserResponse:
    """The user an admin session cookie names, else the 401 (the cookie's value is untrusted)."""
    valid = isinstance(user_id, int) and not isinstance(user_id, bool) and user_id > 0
    user = _get(session, User, user_id) if valid else None
    if user is None:
        raise ApiError(401, "Not logged in", headers={"Vary": "Cookie"})
    return UserResponse.model_validate(user)


# --- tokens ---------------------------------------------------------------------------------


def _user_for_basic_auth(session: Session, header: str | None) -> User | None:
    # Werkzeug's parser, so credentials decode (UTF-8, lenient base64) as the legacy app saw them.
    auth = Authorization.from_header(header)
    if auth is None or auth.type != "basic" or not auth.username or auth.password is None:
        return None
    if not is_storable_text(auth.username):
        return None
    user = session.scalar(select(User).where(User.username == auth.username))
    if user is None or not verify_password(user.password_hash, auth.password):
        return None
    return user


def create_token(session: Session, authorization: str | None, ttl_seconds: int) -> TokenResponse:
    user = _user_for_basic_auth(session, authorization)
    if user is None:
        raise ApiError(401, "Invalid credentials", headers={"WWW-Authenticate": BASIC_CHALLENGE})
    token, row = issue_token(session, user, ttl_seconds)
    session.commit()
    return TokenResponse(expires_at=row.expires_at, token=token)


def revoke_own_token(session: Session, token: str | None) -> None:
    authenticate(session, token)
    assert token is not None
    revoke_token(session, token)
    session.commit()


def profile(session: Session, token: str | None) -> UserResponse:
    return UserResponse.model_validate(authenticate(session, token))


# --- notes ----------------------------------------------------------------------------------


def _own_live_note(session: Session, user: User, note_id: int) -> Note:
    """The caller's note unless it is someone else's, deleted or unknown (all 404)."""
    note: Note | None = _get(session, Note, note_id)
    if note is None or note.owner_id != user.id or note.deleted_at is not None:
        raise ApiError(404, "Note not found")
    return note


def create_note(session: Session, token: str | None, body: Any) -> NoteResponse:
    user = authenticate(session, token)
    payload = parse_body(NoteCreate, body)
    note = Note(
        owner_id=user.id,
        change_seq=next_change_seq(session, user.id),
        title=payload.title,
        body=payload.body,
    )
    session.add(note)
    session.commit()
    return note_response(note)


def get_note(session: Session, token: str | None, note_id: int) -> NoteResponse:
    return note_response(_own_live_note(session, authenticate(session, token), note_id))


def update_note(session: Session, token: str | None, note_id: int, body: Any) -> NoteResponse:
    note = _own_live_note(session, authenticate(session, token), note_id)
    payload = parse_body(NoteUpdate, body)
    seq = next_change_seq(session, note.owner_id)
    # Bumping the counter locked the owner's row; re-read the note so the version check
    # sees any edit that committed while this request waited.
    session.refresh(note)
    if note.deleted_at is not None:
        session.rollback()
        raise ApiError(404, "Note not found")
    if note.version != payload.version:
        current = note_response(note).model_dump(mode="json")
        session.rollback()
        raise ApiError(409, "Version conflict", note=current)
    for name in payload.model_fields_set - {"version"}:
        setattr(note, name, getattr(payload, name))
    note.version += 1
    note.change_seq = seq
    note.updated_at = utcnow()
    session.commit()
    return note_response(note)


def delete_note(session: Session, token: str | None, note_id: int) -> None:
    note = _own_live_note(session, authenticate(session, token), note_id)
    seq = next_change_seq(session, note.owner_id)
    session.refresh(note)
    if note.deleted_at is None:
        now = utcnow()
        note.deleted_at = now
        note.updated_at = now
        note.version += 1
        note.change_seq = seq
        session.commit()
    else:  # a concurrent delete won; deleting twice changes nothing
        session.rollback()


# --- posts ----------------------------------------------------------------------------------


def _visible_post(session: Session, post_id: int, viewer: User | None) -> Post:
    post: Post | None = _get(session, Post, post_id)
    if post is None or not (post.published or (viewer and post.author_id == viewer.id)):
        raise ApiError(404, "Post not found")
    return post


def _editable_post(session: Session, token: str | None, post_id: int) -> Post:
    """The caller's own post: 404 when they cannot see it, 403 when it is someone else's."""
    user = authenticate(session, token)
    post = _visible_post(session, post_id, user)
    if post.author_id != user.id:
        raise ApiError(403, "Forbidden")
    return post


def list_posts(session: Session, token: str | None, page: PageRequest) -> PostPage:
    viewer = optional_user(session, token)
    visible: ColumnElement[bool] = Post.published.is_(True)
    if viewer is not None:
        visible = or_(visible, Post.author_id == viewer.id)
    query = select(Post).where(visible).order_by(Post.created_at.desc(), Post.id.desc())
    posts, meta = paginate(session, query, page)
    return PostPage(posts=[post_response(post) for post in posts], **meta)


def create_post(session: Session, token: str | None, body: Any) -> PostResponse:
    user = authenticate(session, token)
    payload = parse_body(PostCreate, body)
    post = Post(author=user, title=payload.title, body=payload.body, published=payload.published)
    session.add(post)
    session.commit()
    return post_response(post)


def get_post(session: Session, token: str | None, post_id: int) -> PostResponse:
    return post_response(_visible_post(session, post_id, optional_user(session, token)))


def update_post(session: Session, token: str | None, post_id: int, body: Any) -> PostResponse:
    post = _editable_post(session, token, post_id)
    payload = parse_body(PostUpdate, body)
    for name in payload.model_fields_set:
        setattr(post, name, getattr(payload, name))
    post.updated_at = utcnow()
    session.commit()
    return post_response(post)


def delete_post(session: Session, token: str | None, post_id: int) -> None:
    session.delete(_editable_post(session, token, post_id))
    session.commit()


# --- items ----------------------------------------------------------------------------------


def create_item(session: Session, payload: ItemCreate) -> ItemResponse:
    item = Item(
        name=payload.name, price=payload.price, is_available=payload.is_available, tags=payload.tags
    )
    session.add(item)
    session.commit()
    return item_response(item)


# --- site -----------------------------------------------------------------------------------


def stats(session: Session) -> Stats:
    published = select(func.count()).select_from(Post).where(Post.published.is_(True))
    return Stats(
        items=session.scalar(select(func.count()).select_from(Item)) or 0,
        posts=session.scalar(published) or 0,
        users=session.scalar(select(func.count()).select_from(User)) or 0,
    )


# --- comments -------------------------------------------------------------------------------


def _published_post(session: Session, post_id: int) -> Post:
    """Comments exist on published posts only: a draft is "not found" even to its author."""
    post: Post | None = _get(session, Post, post_id)
    if post is None or not post.published:
        raise ApiError(404, "Post not found")
    return post


def list_comments(session: Session, post_id: int, window: WindowRequest) -> CommentList:
    post = _published_post(session, post_id)
    if not window.valid:
        raise ApiError(400, "Invalid limit or offset")
    query = select(Comment).where(Comment.post_id == post.id)
    comments = session.scalars(query.order_by(Comment.id).limit(window.limit).offset(window.offset))
    total = session.scalar(select(func.count()).where(Comment.post_id == post.id))
    return CommentList(comments=[comment_response(c) for c in comments], total=total or 0)


def create_comment(session: Session, token: str | None, post_id: int, body: Any) -> CommentResponse:
    user = authenticate(session, token)
    post = _published_post(session, post_id)
    payload = parse_body(CommentCreate, body)
    comment = Comment(post_id=post.id, author=user, body=payload.body)
    session.add(comment)
    session.commit()
    return comment_response(comment)


def delete_comment(session: Session, token: str | None, comment_id: int) -> None:
    user = authenticate(session, token)
    comment: Comment | None = _get(session, Comment, comment_id)
    if comment is None:
        raise ApiError(404, "Comment not found")
    if comment.author_id != user.id:
        raise ApiError(403, "Forbidden")
    session.delete(comment)
    session.commit()
