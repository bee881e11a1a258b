"""Comments on published posts: anyone reads them, a signed-in user writes, the author deletes.

Finished by hand from the `cutover scaffold` draft of the legacy `comments` blueprint.
"""

from fastapi import APIRouter, Response

from new_fastapi import crud
from new_fastapi.deps import BearerToken, DatabaseDep, FlaskJSON, documented_body
from new_fastapi.pagination import WindowDep
from new_fastapi.responses import NO_CONTENT
from new_fastapi.schemas import CommentCreate, CommentList, CommentResponse

router = APIRouter(tags=["comments"])


@router.get(
    "/api/posts/{post_id:int}/comments",
    response_model=CommentList,
    openapi_extra={
        "parameters": [
            {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 20}},
            {"name": "offset", "in": "query", "schema": {"type": "integer", "default": 0}},
        ]
    },
)
async def list_comments(post_id: int, window: WindowDep, db: DatabaseDep) -> CommentList:
    return await db.run(crud.list_comments, post_id, window)


@router.post(
    "/api/posts/{post_id:int}/comments",
    status_code=201,
    response_model=CommentResponse,
    openapi_extra=documented_body(CommentCreate),
)
async def create_comment(
    post_id: int, token: BearerToken, body: FlaskJSON, db: DatabaseDep
) -> CommentResponse:
    return await db.run(crud.create_comment, token, post_id, body)


@router.delete("/api/comments/{comment_id:int}", status_code=204)
async def delete_comment(comment_id: int, token: BearerToken, db: DatabaseDep) -> Response:
    await db.run(crud.delete_comment, token, comment_id)
    return NO_CONTENT()
