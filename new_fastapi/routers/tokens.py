"""Bearer tokens: minted with HTTP Basic credentials, revoked with themselves; and the profile."""

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from werkzeug.datastructures import Authorization

from cutover.compat import ApiError
from new_fastapi.deps import CurrentToken, CurrentUser, SessionDep, SettingsDep
from new_fastapi.pooled import PooledRoute
from new_fastapi.responses import NO_CONTENT
from new_fastapi.schemas import TokenResponse, UserResponse
from new_fastapi.validation import is_storable_text
from shared_models import User
from shared_models.passwords import verify_password
from shared_models.tokens import issue_token, revoke_token

router = APIRouter(tags=["tokens"], route_class=PooledRoute)

BASIC_CHALLENGE = 'Basic realm="api"'


def _user_for_basic_auth(request: Request, session: SessionDep) -> User | None:
    # Werkzeug's parser, so credentials decode (UTF-8, lenient base64) as the legacy app saw them.
    auth = Authorization.from_header(request.headers.get("authorization"))
    if auth is None or auth.type != "basic" or not auth.username or auth.password is None:
        return None
    if not is_storable_text(auth.username):
        return None
    user = session.scalar(select(User).where(User.username == auth.username))
    if user is None or not verify_password(user.password_hash, auth.password):
        return None
    return user


@router.post("/api/tokens", response_model=TokenResponse)
def create_token(request: Request, session: SessionDep, settings: SettingsDep) -> TokenResponse:
    user = _user_for_basic_auth(request, session)
    if user is None:
        raise ApiError(
            401, "Invalid credentials", headers={"WWW-Authenticate": 'Basic realm="api"'}
        )
    token, row = issue_token(session, user, settings.token_ttl_seconds)
    session.commit()
    return TokenResponse(expires_at=row.expires_at, token=token)


@router.delete("/api/tokens", status_code=204)
def delete_token(token: CurrentToken, session: SessionDep) -> Response:
    revoke_token(session, token)
    session.commit()
    return NO_CONTENT()


@router.get("/profile", response_model=UserResponse)
def profile(user: CurrentUser) -> User:
    return user
