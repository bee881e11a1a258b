"""A native JSON view of the legacy admin login, read from Flask's own session cookie.

The admin HTML pages stay on the legacy app; this shows a port sharing its login.
"""

from fastapi import APIRouter

from cutover.compat import ApiError
from new_fastapi.deps import SessionUser
from new_fastapi.pooled import PooledRoute
from new_fastapi.schemas import UserResponse
from shared_models import User

router = APIRouter(prefix="/api/admin", tags=["admin"], route_class=PooledRoute)


@router.get("/me", response_model=UserResponse)
def admin_me(user: SessionUser) -> User:
    """Who is logged in to the admin pages (401 when nobody is)."""
    if user is None:
        raise ApiError(401, "Not logged in", headers={"Vary": "Cookie"})
    return user
