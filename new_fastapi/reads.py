"""The hot reads as units of work on a Connection: Core rows straight to the legacy bytes.

Each selects only the columns the legacy serializer (`legacy_flask.serializers`) puts in the
answer, builds the same dict from them and renders it as `jsonify` does (`flask_json_bytes`), in
the pool job: no ORM objects, no response models, no second validation pass on the event loop.
The statements are built once; the legacy views' checks and errors are kept in their order.
"""

from typing import Any

from sqlalchemy import Connection, bindparam, select
from starlette.responses import Response

from cutover.compat import ApiError, flask_json_bytes
from new_fastapi.crud import MAX_ITEMS_PER_PAGE
from new_fastapi.validation import INT32_MAX, parse_digits
from shared_models import Item, Note, User
from shared_models.base import utcnow
from shared_models.models import ApiToken
from shared_models.tokens import hash_token

JSON_TYPE = "application/json"

_ITEM_COLUMNS = (Item.id, Item.is_available, Item.name, Item.price, Item.tags)
_ITEM = select(*_ITEM_COLUMNS).where(Item.id == bindparam("item_id"))
_ITEM_PAGE = (
    select(*_ITEM_COLUMNS)
    .order_by(Item.id)
    .offset(bindparam("skip", type_=Item.id.type))
    .limit(bindparam("limit", type_=Item.id.type))
)
_USER = select(User.age, User.created_at, User.email, User.id, User.username).where(
    User.id == bindparam("user_id")
)
_TOKEN = select(ApiToken.user_id, ApiToken.revoked_at, ApiToken.expires_at).where(
    ApiToken.token_hash == bindparam("token_hash")
)
_NOTE_CHANGES = (
    select(
        Note.body,
        Note.created_at,
        Note.deleted_at,
        Note.id,
        Note.title,
        Note.updated_at,
        Note.version,
        Note.change_seq,
    )
    .where(Note.owner_id == bindparam("owner_id"), Note.change_seq > bindparam("since"))
    .order_by(Note.change_seq)
)


def json_answer(value: Any) -> Response:
    """`value` as the legacy app's 200 JSON answer."""
    return Response(flask_json_bytes(value), media_type=JSON_TYPE)


def _item(row: Any) -> dict[str, Any]:
    item_id, is_available, name, price, tags = row
    # str(): the encoder's fallback for a Decimal, done here once per row instead of by callback.
    price = str(price) if price is not None else None
    return {"id": item_id, "is_available": is_available, "name": name, "price": price, "tags": tags}


def get_item(connection: Connection, item_id: int, q: str | None) -> Response:
    row = connection.execute(_ITEM, {"item_id": item_id}).first() if item_id <= INT32_MAX else None
    if row is None:
        raise ApiError(404, "Item not found")
    return json_answer({"q": q, **_item(row)})


def list_items(connection: Connection, skip: int, limit: int) -> Response:
    rows: list[Any] = []
    if skip < INT32_MAX:  # ids are INTEGER, so no table holds more rows than that
        page = {"skip": skip, "limit": min(limit, MAX_ITEMS_PER_PAGE)}
        rows = list(connection.execute(_ITEM_PAGE, page))
    return json_answer([_item(row) for row in rows])


def get_user(connection: Connection, user_id: int) -> Response:
    row = connection.execute(_USER, {"user_id": user_id}).first() if user_id <= INT32_MAX else None
    if row is None:
        raise ApiError(404, "User not found")
    age, created_at, email, user_id, username = row
    user = {"age": age, "created_at": created_at, "email": email, "id": user_id}
    return json_answer({**user, "username": username})


def authenticated_id(connection: Connection, token: str | None) -> int:
    """`crud.authenticate` reading the token's row only: its owner's id, else the same 401."""
    row = connection.execute(_TOKEN, {"token_hash": hash_token(token)}).first() if token else None
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        raise ApiError(
            401, "Invalid token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )
    user_id: int = row.user_id
    return user_id


def list_note_changes(
    connection: Connection, token: str | None, since_text: str | None
) -> Response:
    owner_id = authenticated_id(connection, token)
    since = parse_digits(since_text)
    if since is None:
        raise ApiError(400, "Invalid cursor")
    changes: list[dict[str, Any]] = []
    cursor = since
    if since < INT32_MAX:  # change counters are INTEGER columns; nothing lies beyond
        for row in connection.execute(_NOTE_CHANGES, {"owner_id": owner_id, "since": since}):
            body, created_at, deleted_at, note_id, title, updated_at, version, cursor = row
            note = {"body": body, "created_at": created_at, "deleted": deleted_at is not None}
            note.update(id=note_id, title=title, updated_at=updated_at, version=version)
            changes.append(note)
    return json_answer({"changes": changes, "cursor": str(cursor)})
