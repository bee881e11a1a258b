"""User sign-up and lookup."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cutover.compat import ApiError
from new_fastapi.deps import SessionDep, body_of, documented_body
from new_fastapi.pagination import PageDep, paginate
from new_fastapi.pooled import PooledRoute
from new_fastapi.schemas import UserCreate, UserPage, UserResponse
from new_fastapi.validation import INT32_MAX
from shared_models import User
from shared_models.passwords import hash_password

router = APIRouter(prefix="/api/users", tags=["users"], route_class=PooledRoute)


def _taken_error(session: Session, username: str, email: str) -> ApiError | None:
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        return ApiError(400, "Username already exists")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        return ApiError(400, "Email already registered")
    return None


@router.post(
    "", status_code=201, response_model=UserResponse, openapi_extra=documented_body(UserCreate)
)
def create_user(
    payload: Annotated[UserCreate, Depends(body_of(UserCreate))],
    session: SessionDep,
    response: Response,
) -> User:
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
    response.headers["Location"] = f"/api/users/{user.id}"
    return user


@router.get("/{user_id:int}", response_model=UserResponse)
def get_user(user_id: int, session: SessionDep) -> User:
    user = session.get(User, user_id) if user_id <= INT32_MAX else None
    if user is None:
        raise ApiError(404, "User not found")
    return user


@router.get("", response_model=UserPage)
def list_users(page: PageDep, session: SessionDep) -> UserPage:
    users, meta = paginate(session, select(User).order_by(User.id), page)
    return UserPage(users=[UserResponse.model_validate(user) for user in users], **meta)
