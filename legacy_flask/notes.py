"""Per-user notes with optimistic versioning and a change cursor for offline sync."""

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from legacy_flask.auth import current_user, token_required
from legacy_flask.errors import json_error
from legacy_flask.extensions import db
from legacy_flask.lookup import INT32_MAX, get_by_id
from legacy_flask.serializers import note_to_dict
from legacy_flask.validation import is_blank, is_int, is_text, json_object, parse_digits
from shared_models import Note
from shared_models.base import utcnow
from shared_models.notes_sync import next_change_seq

bp = Blueprint("notes", __name__, url_prefix="/api/notes")

TITLE_MAX = 200


def _own_live_note(note_id: int) -> Note | None:
    note = get_by_id(Note, note_id)
    if note is None or note.owner_id != current_user().id or note.deleted_at is not None:
        return None
    return note


def _note_fields(data: dict[str, Any], *, partial: bool) -> dict[str, Any] | tuple[Response, int]:
    """The validated title/body from `data`, or the error response; PUT may leave either out."""
    fields: dict[str, Any] = {}
    if not partial or "title" in data:
        if is_blank(data.get("title")):
            return json_error("Missing required fields", 400)
        fields["title"] = data["title"]
    if "body" in data:
        fields["body"] = data["body"]
    if not all(is_text(value) for value in fields.values()):
        return json_error("Invalid field types", 400)
    if len(fields.get("title", "")) > TITLE_MAX:
        return json_error("Title too long", 400)
    return fields


@bp.get("")
@token_required
def list_changes() -> ResponseReturnValue:
    since = parse_digits(request.args.get("since", "0"))
    if since is None:
        return json_error("Invalid cursor", 400)
    changes: list[Note] = []
    if since < INT32_MAX:  # change counters are INTEGER columns; nothing lies beyond
        changes = list(
            db.session.scalars(
                select(Note)
                .where(Note.owner_id == current_user().id, Note.change_seq > since)
                .order_by(Note.change_seq)
            )
        )
    cursor = changes[-1].change_seq if changes else since
    return jsonify(changes=[note_to_dict(note) for note in changes], cursor=str(cursor))


@bp.post("")
@token_required
def create_note() -> ResponseReturnValue:
    data = json_object()
    if data is None:
        return json_error("No data provided", 400)
    fields = _note_fields(data, partial=False)
    if isinstance(fields, tuple):
        return fields
    user_id = current_user().id
    note = Note(owner_id=user_id, change_seq=next_change_seq(db.session(), user_id), **fields)
    db.session.add(note)
    db.session.commit()
    return jsonify(note_to_dict(note)), 201, {"Location": url_for(".get_note", note_id=note.id)}


@bp.get("/<int:note_id>")
@token_required
def get_note(note_id: int) -> ResponseReturnValue:
    note = _own_live_note(note_id)
    if note is None:
        return json_error("Note not found", 404)
    return jsonify(note_to_dict(note))


@bp.put("/<int:note_id>")
@token_required
def update_note(note_id: int) -> ResponseReturnValue:
    note = _own_live_note(note_id)
    if note is None:
        return json_error("Note not found", 404)
    data = json_object()
    if data is None:
        return json_error("No data provided", 400)
    version = data.get("version")
    if not is_int(version):
        return json_error("Missing version", 400)
    fields = _note_fields(data, partial=True)
    if isinstance(fields, tuple):
        return fields

    seq = next_change_seq(db.session(), note.owner_id)
    # Bumping the counter locked the owner's row; re-read the note so the version check
    # sees any edit that committed while this request waited.
    db.session.refresh(note)
    if note.deleted_at is not None:
        db.session.rollback()
        return json_error("Note not found", 404)
    if note.version != version:
        current = note_to_dict(note)
        db.session.rollback()
        return json_error("Version conflict", 409, note=current)
    for name, value in fields.items():
        setattr(note, name, value)
    note.version += 1
    note.change_seq = seq
    note.updated_at = utcnow()
    db.session.commit()
    return jsonify(note_to_dict(note))


@bp.delete("/<int:note_id>")
@token_required
def delete_note(note_id: int) -> ResponseReturnValue:
    note = _own_live_note(note_id)
    if note is None:
        return json_error("Note not found", 404)
    seq = next_change_seq(db.session(), note.owner_id)
    db.session.refresh(note)
    if note.deleted_at is None:
        now = utcnow()
        note.deleted_at = now
        note.updated_at = now
        note.version += 1
        note.change_seq = seq
        db.session.commit()
    else:  # a concurrent delete won; deleting twice changes nothing
        db.session.rollback()
    return Response(status=204)
