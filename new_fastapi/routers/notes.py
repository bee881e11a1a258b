"""Per-user notes with optimistic versioning and a change cursor for offline sync."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select

from cutover.compat import ApiError, first_query_value
from new_fastapi.deps import CurrentUser, SessionDep, body_of, documented_body
from new_fastapi.pooled import PooledRoute
from new_fastapi.responses import NO_CONTENT, note_response
from new_fastapi.schemas import NoteChanges, NoteCreate, NoteResponse, NoteUpdate
from new_fastapi.validation import INT32_MAX, parse_digits
from shared_models import Note
from shared_models.base import utcnow
from shared_models.notes_sync import next_change_seq

router = APIRouter(prefix="/api/notes", tags=["notes"], route_class=PooledRoute)


def own_live_note(note_id: int, user: CurrentUser, session: SessionDep) -> Note:
    """The caller's note unless it is someone else's, deleted or unknown (all 404)."""
    note = session.get(Note, note_id) if note_id <= INT32_MAX else None
    if note is None or note.owner_id != user.id or note.deleted_at is not None:
        raise ApiError(404, "Note not found")
    return note


OwnNote = Annotated[Note, Depends(own_live_note)]


@router.get("", response_model=NoteChanges)
def list_changes(request: Request, user: CurrentUser, session: SessionDep) -> NoteChanges:
    since = parse_digits(first_query_value(request, "since", "0"))
    if since is None:
        raise ApiError(400, "Invalid cursor")
    changes: list[Note] = []
    if since < INT32_MAX:  # change counters are INTEGER columns; nothing lies beyond
        changes = list(
            session.scalars(
                select(Note)
                .where(Note.owner_id == user.id, Note.change_seq > since)
                .order_by(Note.change_seq)
            )
        )
    cursor = changes[-1].change_seq if changes else since
    return NoteChanges(changes=[note_response(note) for note in changes], cursor=str(cursor))


@router.post(
    "", status_code=201, response_model=NoteResponse, openapi_extra=documented_body(NoteCreate)
)
def create_note(
    user: CurrentUser,
    payload: Annotated[NoteCreate, Depends(body_of(NoteCreate))],
    session: SessionDep,
    response: Response,
) -> NoteResponse:
    note = Note(
        owner_id=user.id,
        change_seq=next_change_seq(session, user.id),
        title=payload.title,
        body=payload.body,
    )
    session.add(note)
    session.commit()
    response.headers["Location"] = f"/api/notes/{note.id}"
    return note_response(note)


@router.get("/{note_id:int}", response_model=NoteResponse)
def get_note(note: OwnNote) -> NoteResponse:
    return note_response(note)


@router.put(
    "/{note_id:int}", response_model=NoteResponse, openapi_extra=documented_body(NoteUpdate)
)
def update_note(
    note: OwnNote,
    payload: Annotated[NoteUpdate, Depends(body_of(NoteUpdate))],
    session: SessionDep,
) -> NoteResponse:
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


@router.delete("/{note_id:int}", status_code=204)
def delete_note(note: OwnNote, session: SessionDep) -> Response:
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
    return NO_CONTENT()
