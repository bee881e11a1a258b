"""Request dependencies: settings, a database session per request, the caller, the body."""

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any, TypeVar

import httpx
from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session, sessionmaker

from cutover.compat import ApiError, FlaskSessionReader, flask_json_body
from new_fastapi.messages import NO_DATA
from new_fastapi.validation import INT32_MAX
from shared_models import Settings, User
from shared_models.tokens import user_for_token

ModelT = TypeVar("ModelT", bound=BaseModel)

bearer_scheme = HTTPBearer(auto_error=False)
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A session per request; only closing one that began a transaction is I/O, done off-loop."""
    make_session: sessionmaker[Session] = request.app.state.sessionmaker
    session = make_session()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_db)]


async def get_http_client(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.http_client
    return client


HttpClientDep = Annotated[httpx.AsyncClient, Depends(get_http_client)]


def get_current_user(request: Request, session: SessionDep, credentials: BearerCredentials) -> User:
    """The owner of a live bearer token, else the legacy 401 with its challenge."""
    if "authorization" not in request.headers:
        raise ApiError(401, "Authentication required", headers={"WWW-Authenticate": "Bearer"})
    user = user_for_token(session, credentials.credentials) if credentials else None
    if user is None:
        raise ApiError(
            401, "Invalid token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )
    return user


def get_optional_user(session: SessionDep, credentials: BearerCredentials) -> User | None:
    """The bearer's user when the token is live; anything else is an anonymous request."""
    return user_for_token(session, credentials.credentials) if credentials else None


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_current_token(credentials: BearerCredentials, _user: CurrentUser) -> str:
    """The bearer token `get_current_user` accepted."""
    assert credentials is not None
    return credentials.credentials


CurrentToken = Annotated[str, Depends(get_current_token)]
OptionalUser = Annotated[User | None, Depends(get_optional_user)]


async def get_flask_session(request: Request, response: Response) -> dict[str, Any]:
    """The legacy app's signed cookie session; reading it varies the answer by cookie, as Flask."""
    reader: FlaskSessionReader = request.app.state.flask_session
    response.headers["Vary"] = "Cookie"
    return reader.from_request(request)


FlaskSession = Annotated[dict[str, Any], Depends(get_flask_session)]


def get_session_user(flask_session: FlaskSession, session: SessionDep) -> User | None:
    """The user logged in to the legacy admin pages, if any."""
    user_id = flask_session.get("user_id")
    if not isinstance(user_id, int) or isinstance(user_id, bool) or not 0 < user_id <= INT32_MAX:
        return None
    return session.get(User, user_id)


SessionUser = Annotated[User | None, Depends(get_session_user)]


async def json_object(data: Annotated[Any, Depends(flask_json_body)]) -> dict[str, Any]:
    """The JSON body when it is a non-empty object; anything else counts as no data."""
    if not isinstance(data, dict) or not data:
        raise ApiError(400, NO_DATA)
    return data


JSONObject = Annotated[dict[str, Any], Depends(json_object)]


def validate_body(model: type[ModelT], data: dict[str, Any]) -> ModelT:
    """`data` as `model`, or a RequestValidationError the app maps to the legacy message."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors, body=data) from None


def documented_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` documenting a body that `body_of` reads, since FastAPI cannot see it."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def body_of(model: type[ModelT]) -> Callable[[dict[str, Any]], Coroutine[Any, Any, ModelT]]:
    """A dependency validating the JSON object body as `model`."""

    async def dependency(data: JSONObject) -> ModelT:
        return validate_body(model, data)

    return dependency
