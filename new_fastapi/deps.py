"""Request dependencies: settings, the database runner, the caller's credentials, the body.

All of them are `async def` and do no I/O: whatever needs the database happens in the
endpoint's one unit of work (`new_fastapi.database`), never in a dependency of its own.
"""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar

import httpx
from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, ValidationError

from cutover.compat import ApiError, FlaskSessionReader, flask_json_body
from new_fastapi.database import Database
from new_fastapi.messages import NO_DATA
from shared_models import Settings

ModelT = TypeVar("ModelT", bound=BaseModel)

bearer_scheme = HTTPBearer(auto_error=False)
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


DatabaseDep = Annotated[Database, Depends(get_database)]


async def get_http_client(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.http_client
    return client


HttpClientDep = Annotated[httpx.AsyncClient, Depends(get_http_client)]


async def required_bearer(request: Request, credentials: BearerCredentials) -> str | None:
    """The bearer token to check in the unit of work; no Authorization at all is the legacy 401."""
    if "authorization" not in request.headers:
        raise ApiError(401, "Authentication required", headers={"WWW-Authenticate": "Bearer"})
    return credentials.credentials if credentials else None


def request_bearer(request: Request) -> str | None:
    """`required_bearer` for an endpoint without dependencies: the same token, the same 401."""
    authorization = request.headers.get("authorization")
    if authorization is None:
        raise ApiError(401, "Authentication required", headers={"WWW-Authenticate": "Bearer"})
    scheme, credentials = get_authorization_scheme_param(authorization)
    return credentials if scheme.lower() == "bearer" and credentials else None


BEARER_SECURITY: dict[str, Any] = {"security": [{bearer_scheme.scheme_name: []}]}
"""`openapi_extra` documenting `request_bearer`'s scheme, as `BearerToken` documents itself."""


async def optional_bearer(credentials: BearerCredentials) -> str | None:
    """The bearer token, if the request carries one; checking it is the unit of work's job."""
    return credentials.credentials if credentials else None


BearerToken = Annotated[str | None, Depends(required_bearer)]
OptionalBearer = Annotated[str | None, Depends(optional_bearer)]


async def get_flask_session(request: Request, response: Response) -> dict[str, Any]:
    """The legacy app's signed cookie session; reading it varies the answer by cookie, as Flask."""
    reader: FlaskSessionReader = request.app.state.flask_session
    response.headers["Vary"] = "Cookie"
    return reader.from_request(request)


FlaskSession = Annotated[dict[str, Any], Depends(get_flask_session)]
FlaskJSON = Annotated[Any, Depends(flask_json_body)]


def validate_body(model: type[ModelT], data: dict[str, Any]) -> ModelT:
    """`data` as `model`, or a RequestValidationError the app maps to the legacy message."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors, body=data) from None


def parse_body(model: type[ModelT], data: Any) -> ModelT:
    """The JSON body as `model`; anything but a non-empty object counts as no data."""
    if not isinstance(data, dict) or not data:
        raise ApiError(400, NO_DATA)
    return validate_body(model, data)


def documented_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` documenting a body read from `FlaskJSON`, since FastAPI cannot see it."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def body_of(model: type[ModelT]) -> Callable[[Any], Coroutine[Any, Any, ModelT]]:
    """A dependency validating the JSON object body as `model`, for routes without a caller."""

    async def dependency(data: FlaskJSON) -> ModelT:
        return parse_body(model, data)

    return dependency
