"""Blog posts: public when published, drafts visible to their author only."""

from fastapi import APIRouter, Response

from new_fastapi import crud
from new_fastapi.deps import BearerToken, DatabaseDep, FlaskJSON, OptionalBearer, documented_body
from new_fastapi.pagination import PageDep
from new_fastapi.responses import NO_CONTENT
from new_fastapi.schemas import PostCreate, PostPage, PostResponse, PostUpdate

router = APIRouter(prefix="/api/posts", tags=["posts"])


@router.get("", response_model=PostPage)
async def list_posts(page: PageDep, token: OptionalBearer, db: DatabaseDep) -> PostPage:
    return await db.run(crud.list_posts, token, page)


@router.post(
    "", status_code=201, response_model=PostResponse, openapi_extra=documented_body(PostCreate)
)
async def create_post(
    token: BearerToken, body: FlaskJSON, db: DatabaseDep, response: Response
) -> PostResponse:
    post = await db.run(crud.create_post, token, body)
    response.headers["Location"] = f"/api/posts/{post.id}"
    return post


@router.get("/{post_id:int}", response_model=PostResponse)
async def get_post(post_id: int, token: OptionalBearer, db: DatabaseDep) -> PostResponse:
    return await db.run(crud.get_post, token, post_id)


@router.put(
    "/{post_id:int}", response_model=PostResponse, openapi_extra=documented_body(PostUpdate)
)
async def update_post(
    post_id: int, token: BearerToken, body: FlaskJSON, db: DatabaseDep
) -> PostResponse:
    return await db.run(crud.update_post, token, post_id, body)


@router.delete("/{post_id:int}", status_code=204)
async def delete_post(post_id: int, token: BearerToken, db: DatabaseDep) -> Response:
    await db.run(crud.delete_post, token, post_id)
    return NO_CONTENT()
