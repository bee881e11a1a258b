"""User sign-up and lookup."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from new_fastapi import crud
from new_fastapi.deps import DatabaseDep, body_of, documented_body
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


@router.get("/{user_id:int}", response_model=UserResponse)
async def get_user(user_id: int, db: DatabaseDep) -> UserResponse:
    return await db.run(crud.get_user, user_id)


@router.get("", response_model=UserPage)
async def list_users(page: PageDep, db: DatabaseDep) -> UserPage:
    return await db.run(crud.list_users, page)
