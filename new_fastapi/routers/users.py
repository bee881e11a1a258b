"""User sign-up and lookup."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from new_fastapi import crud, reads
from new_fastapi.database import Database
from new_fastapi.deps import DatabaseDep, body_of, documented_body
from new_fastapi.direct import DirectRoute
from new_fastapi.pagination import PageDep
from new_fastapi.schemas import UserCreate, UserPage, UserResponse

router = APIRouter(prefix="/api/users", tags=["users"])


@router.post(
    "", status_code=201, response_model=UserResponse, openapi_extra=documented_body(UserCreate)
)
async def create_user(
    payload: Annotated[UserCreate, Depends(body_of(UserCreate))],
    db: DatabaseDep,
    response: Response,
) -> UserResponse:
    user = await db.run(crud.create_user, payload)
    response.headers["Location"] = f"/api/users/{user.id}"
    return user


async def get_user(user_id: int, request: Request) -> Response:
    db: Database = request.app.state.database
    return await db.read(reads.get_user, user_id)


# The read answers the legacy bytes itself (new_fastapi.reads); the model documents it.
router.add_api_route(
    "/{user_id:int}",
    get_user,
    methods=["GET"],
    response_model=UserResponse,
    route_class_override=DirectRoute,
)


@router.get("", response_model=UserPage)
async def list_users(page: PageDep, db: DatabaseDep) -> UserPage:
    return await db.run(crud.list_users, page)
