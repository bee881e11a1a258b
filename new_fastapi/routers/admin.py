"""A native JSON view of the legacy admin login, read from Flask's own session cookie.

The admin HTML pages stay on the legacy app; this shows a port sharing its login.
"""

from fastapi import APIRouter

from new_fastapi import crud
from new_fastapi.deps import DatabaseDep, FlaskSession
from new_fastapi.schemas import UserResponse

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.get("/me", response_model=UserResponse)
async def admin_me(flask_session: FlaskSession, db: DatabaseDep) -> UserResponse:
    """Who is logged in to the admin pages (401 when nobody is)."""
    return await db.run(crud.admin_user, flask_session.get("user_id"))
