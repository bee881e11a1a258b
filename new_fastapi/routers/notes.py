"""Per-user notes with optimistic versioning and a change cursor for offline sync."""

from fastapi import APIRouter, Request, Response

from cutover.compat import first_query_value
from new_fastapi import crud, reads
from new_fastapi.database import Database
from new_fastapi.deps import (
    BEARER_SECURITY,
    BearerToken,
    DatabaseDep,
    FlaskJSON,
    documented_body,
    request_bearer,
)
from new_fastapi.direct import DirectRoute
from new_fastapi.responses import NO_CONTENT
from new_fastapi.schemas import NoteChanges, NoteCreate, NoteResponse, NoteUpdate

router = APIRouter(prefix="/api/notes", tags=["notes"])


async def list_changes(request: Request) -> Response:
    token = request_bearer(request)
    db: Database = request.app.state.database
    return await db.read(reads.list_note_changes, token, first_query_value(request, "since", "0"))


# The read answers the legacy bytes itself (new_fastapi.reads); the model documents it.
router.add_api_route(
    "",
    list_changes,
    methods=["GET"],
    response_model=NoteChanges,
    openapi_extra=BEARER_SECURITY,
    route_class_override=DirectRoute,
)


@router.post(
    "", status_code=201, response_model=NoteResponse, openapi_extra=documented_body(NoteCreate)
)
async def create_note(
    token: BearerToken, body: FlaskJSON, db: DatabaseDep, response: Response
) -> NoteResponse:
    note = await db.run(crud.create_note, token, body)
    response.headers["Location"] = f"/api/notes/{note.id}"
    return note


@router.get("/{note_id:int}", response_model=NoteResponse)
async def get_note(note_id: int, token: BearerToken, db: DatabaseDep) -> NoteResponse:
    return await db.run(crud.get_note, token, note_id)


@router.put(
    "/{note_id:int}", response_model=NoteResponse, openapi_extra=documented_body(NoteUpdate)
)
async def update_note(
    note_id: int, token: BearerToken, body: FlaskJSON, db: DatabaseDep
) -> NoteResponse:
    return await db.run(crud.update_note, token, note_id, body)


@router.delete("/{note_id:int}", status_code=204)
async def delete_note(note_id: int, token: BearerToken, db: DatabaseDep) -> Response:
    await db.run(crud.delete_note, token, note_id)
    return NO_CONTENT()
