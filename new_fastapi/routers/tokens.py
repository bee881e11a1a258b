"""Bearer tokens: minted with HTTP Basic credentials, revoked with themselves; and the profile."""

from fastapi import APIRouter, Request, Response

from new_fastapi import crud
from new_fastapi.deps import BearerToken, DatabaseDep, SettingsDep
from new_fastapi.responses import NO_CONTENT
from new_fastapi.schemas import TokenResponse, UserResponse

router = APIRouter(tags=["tokens"])


@router.post("/api/tokens", response_model=TokenResponse)
async def create_token(request: Request, db: DatabaseDep, settings: SettingsDep) -> TokenResponse:
    authorization = request.headers.get("authorization")
    return await db.run(crud.create_token, authorization, settings.token_ttl_seconds)


@router.delete("/api/tokens", status_code=204)
async def delete_token(token: BearerToken, db: DatabaseDep) -> Response:
    await db.run(crud.revoke_own_token, token)
    return NO_CONTENT()


@router.get("/profile", response_model=UserResponse)
async def profile(token: BearerToken, db: DatabaseDep) -> UserResponse:
    return await db.run(crud.profile, token)
