"""Make a FastAPI port answer like the Flask route it replaces: same JSON bytes, errors and session.

Opt-in pieces, configured by the application, knowing nothing of its domain:

- `LegacyJSONResponse`: Flask's `jsonify` bytes (sorted keys, compact, trailing newline, RFC 822
  dates, Decimal and UUID as strings, dataclasses as objects, NaN written as Python does).
- `FlaskDateTime`: a pydantic datetime that serialises to JSON as Flask does, for response models.
- `ApiError`: raise it from a port for a legacy-shaped JSON error (`error_body(message)`).
- `install_legacy_errors`: validation errors in the legacy shape and message, Werkzeug's own HTML
  pages for 404/405/413/500 and anything else the framework itself answers.
- `flask_json_body`, `flask_form`, `flask_args` / `first_query_value`: read input the way
  Flask's request object does (Werkzeug's own form parser and its 413 limits).
- `AutomaticHeadOptions`, `slash_redirect`, `BodySizeLimit`: Flask's automatic HEAD/OPTIONS,
  strict-slash 308 and MAX_CONTENT_LENGTH 413, for a port served without the gateway.
- `FlaskSessionReader`: read Flask's signed session cookie (`SecureCookieSessionInterface`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from flask.json.tag import TaggedJSONSerializer
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import PlainSerializer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException as WerkzeugHTTPException
from werkzeug.exceptions import (
    InternalServerError,
    MethodNotAllowed,
    RequestEntityTooLarge,
    default_exceptions,
)
from werkzeug.formparser import FormDataParser
from werkzeug.http import http_date, parse_options_header
from werkzeug.urls import iri_to_uri  # also registers the "werkzeug.url_quote" error handler
from werkzeug.utils import redirect as werkzeug_redirect_response

from cutover.limits import LimitedReceive

__all__ = [
    "ApiError",
    "AutomaticHeadOptions",
    "BodySizeLimit",
    "ErrorBody",
    "FlaskDateTime",
    "FlaskSessionReader",
    "LegacyJSONResponse",
    "LimitedReceive",
    "ValidationMessage",
    "allowed_methods",
    "first_query_value",
    "flask_args",
    "flask_form",
    "flask_json_body",
    "flask_json_default",
    "install_legacy_errors",
    "is_flask_json_mimetype",
    "slash_redirect",
    "werkzeug_error_response",
    "werkzeug_redirect",
]

ErrorBody = Callable[[str], dict[str, Any]]
ValidationMessage = Callable[[Request, RequestValidationError], str]

FLASK_SESSION_SALT = "cookie-session"
FLASK_SESSION_LIFETIME = timedelta(days=31)
FLASK_MAX_FORM_MEMORY_SIZE = 500_000  # Flask's MAX_FORM_MEMORY_SIZE default
FLASK_MAX_FORM_PARTS = 1_000  # Flask's MAX_FORM_PARTS default
FORM_MIMETYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})


def flask_json_default(value: Any) -> Any:
    """`json.dumps` fallback for the types Flask's DefaultJSONProvider knows."""
    if isinstance(value, date):
        return http_date(value)
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class LegacyJSONResponse(JSONResponse):
    """JSON rendered byte for byte as Flask's `jsonify` renders it outside debug mode."""

    media_type = "application/json"
    ensure_ascii = False
    sort_keys = True

    def render(self, content: Any) -> bytes:
        text = json.dumps(
            content,
            default=flask_json_default,
            ensure_ascii=self.ensure_ascii,
            sort_keys=self.sort_keys,
            separators=(",", ":"),
        )
        return f"{text}\n".encode()


def _http_date(value: datetime) -> str:
    return http_date(value)


FlaskDateTime = Annotated[datetime, PlainSerializer(_http_date, return_type=str, when_used="json")]
"""A datetime a response model writes as Flask does: RFC 822 in GMT."""


class ApiError(Exception):
    """An error a port answers in the legacy JSON shape; `extra` adds fields beside the message."""

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.headers = dict(headers or {})
        self.extra = extra


def werkzeug_error_response(status_code: int, *, allow: Iterable[str] | None = None) -> Response:
    """The HTML page Werkzeug itself produces for `status_code` (Flask's framework errors)."""
    error: WerkzeugHTTPException
    if status_code == 405:
        error = MethodNotAllowed(valid_methods=list(allow or ()))
    else:
        error = default_exceptions.get(status_code, InternalServerError)()
    headers = dict(error.get_headers())
    content_type = headers.pop("Content-Type")
    return Response(
        error.get_body(),
        status_code=error.code or 500,
        headers=headers,
        media_type=content_type,
    )


def werkzeug_redirect(url: str, status_code: int = 308) -> Response:
    """The redirect Werkzeug sends (its HTML body included), e.g. for Flask's strict slashes."""
    legacy = werkzeug_redirect_response(url, status_code)
    return Response(
        legacy.get_data(),
        status_code=status_code,
        headers={"Location": legacy.headers["Location"]},
        media_type=legacy.headers["Content-Type"],
    )


def slash_redirect(request: Request) -> Response:
    """Flask's answer for a rule ending in a slash requested without it: 308 to the slash URL."""
    query = request.url.query
    url = f"{request.url.scheme}://{request.url.netloc}{request.url.path}/"
    return werkzeug_redirect(iri_to_uri(url + (f"?{query}" if query else "")))


def allowed_methods(routes: Sequence[BaseRoute], scope: Scope) -> set[str]:
    """Every method some route serves at this path, with HEAD and OPTIONS as Flask adds them."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :] or "/"
    methods: set[str] = set()
    for context in iter_route_contexts(routes):
        regex = getattr(context, "path_regex", None)
        route_methods = getattr(context, "methods", None)
        if regex is not None and route_methods and regex.match(path):
            methods.update(route_methods)
    if methods:
        methods.add("OPTIONS")
        if "GET" in methods:
            methods.add("HEAD")
    return methods


def _allow_header(methods: set[str]) -> str:
    return ", ".join(sorted(methods))


def install_legacy_errors(
    app: FastAPI,
    *,
    error_body: ErrorBody = lambda message: {"error": message},
    validation_message: ValidationMessage | str = "Bad Request",
    validation_status: int = 400,
    response_class: type[JSONResponse] = LegacyJSONResponse,
) -> None:
    """Answer errors as the legacy app did: JSON for the app's own, Werkzeug HTML for the rest.

    `validation_message` is the legacy message for a failed validation, or a callable choosing
    it from the request (e.g. its route) and the pydantic errors. A 405's `Allow` lists every
    route at the path plus HEAD and OPTIONS, as Flask's does.
    """

    def message_for(request: Request, exc: RequestValidationError) -> str:
        if isinstance(validation_message, str):
            return validation_message
        return validation_message(request, exc)

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        body = {**exc.extra, **error_body(exc.message)}
        return response_class(body, status_code=exc.status_code, headers=exc.headers)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        body = error_body(message_for(request, exc))
        return response_class(body, status_code=validation_status)

    async def framework_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        allow = None
        if exc.status_code == 405:
            allow = sorted(allowed_methods(request.app.router.routes, request.scope))
        return werkzeug_error_response(exc.status_code, allow=allow)

    async def unhandled_error(request: Request, exc: Exception) -> Response:
        return werkzeug_error_response(500)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, framework_error)
    app.add_exception_handler(Exception, unhandled_error)


def is_flask_json_mimetype(content_type: str | None) -> bool:
    """Flask's `Request.is_json`: application/json or any application/*+json."""
    mimetype = (content_type or "").split(";", 1)[0].strip().lower()
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


async def flask_json_body(request: Request) -> Any:
    """The body as Flask's `request.get_json(silent=True)` sees it: None unless JSON that parses."""
    if not is_flask_json_mimetype(request.headers.get("content-type")):
        return None
    try:
        return json.loads(await request.body())
    except ValueError:  # invalid JSON and invalid UTF-8 alike, as Flask's silent mode
        return None
    except RecursionError:  # nesting too deep to decode: Flask answers 500 here, a bug kept out
        return None


async def flask_form(
    request: Request,
    *,
    max_form_memory_size: int | None = FLASK_MAX_FORM_MEMORY_SIZE,
    max_form_parts: int | None = FLASK_MAX_FORM_PARTS,
) -> MultiDict[str, str]:
    """The text fields as Flask's `request.form`: Werkzeug's own parser, limits and 413s."""
    mimetype, options = parse_options_header(request.headers.get("content-type"))
    parser = FormDataParser(
        max_form_memory_size=max_form_memory_size, max_form_parts=max_form_parts
    )
    if mimetype not in FORM_MIMETYPES:
        return MultiDict()
    body = await request.body()
    try:
        _, form, files = parser.parse(io.BytesIO(body), mimetype, len(body), options)
    except RequestEntityTooLarge:
        raise StarletteHTTPException(413) from None
    for _, upload in files.items(multi=True):
        upload.close()
    return form


def flask_args(request: Request) -> MultiDict[str, str]:
    """The query as Flask's `request.args`: invalid UTF-8 stays percent-encoded, not U+FFFD."""
    query: bytes = request.scope.get("query_string", b"")
    return MultiDict(parse_qsl(query.decode(), keep_blank_values=True, errors="werkzeug.url_quote"))


def first_query_value(request: Request, name: str, default: str | None = None) -> str | None:
    """A query value as Flask's `request.args.get` reads it: the first one when repeated."""
    return flask_args(request).get(name, default)


class FlaskSessionReader:
    """Reads the session a Flask app with `secret_key` signed into its cookie.

    Mirrors `flask.sessions.SecureCookieSessionInterface`: itsdangerous' URL-safe timed
    serializer, salt "cookie-session", HMAC key derivation over SHA-1, Flask's tagged JSON.
    """

    def __init__(
        self,
        secret_key: str,
        *,
        fallback_keys: Sequence[str] = (),
        cookie_name: str = "session",
        max_age: timedelta = FLASK_SESSION_LIFETIME,
    ) -> None:
        self.cookie_name = cookie_name
        self.max_age = int(max_age.total_seconds())
        self._serializer = URLSafeTimedSerializer(
            [*fallback_keys, secret_key],
            salt=FLASK_SESSION_SALT,
            serializer=TaggedJSONSerializer(),
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
        )

    def load(self, cookie_value: str | None) -> dict[str, Any]:
        """The session data, or an empty session when the cookie is absent, forged or expired."""
        if not cookie_value:
            return {}
        try:
            data = self._serializer.loads(cookie_value, max_age=self.max_age)
        except BadSignature:
            return {}
        return dict(data) if isinstance(data, dict) else {}

    def from_request(self, request: Request) -> dict[str, Any]:
        """The session of `request`, read from its cookie."""
        return self.load(request.cookies.get(self.cookie_name))


class BodySizeLimit:
    """ASGI middleware answering Werkzeug's 413 page past `max_content_length`, as Flask does."""

    def __init__(self, app: ASGIApp, *, max_content_length: int) -> None:
        self.app = app
        self.max_content_length = max_content_length

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            too_large = value.isdigit() and int(value) > self.max_content_length
            if name == b"content-length" and too_large:
                await werkzeug_error_response(413)(scope, receive, send)
                return
        await self.app(scope, self._limited(receive), send)

    def _limited(self, receive: Receive) -> Callable[[], Awaitable[Message]]:
        return LimitedReceive(receive, self.max_content_length)


class AutomaticHeadOptions:
    """ASGI middleware giving routes Flask's automatic methods: HEAD runs GET without the body,
    OPTIONS answers 200 with `Allow`. `routes` are the app's, e.g. `fastapi_app.router.routes`.
    """

    def __init__(self, app: ASGIApp, *, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    def _served(self, scope: Scope) -> bool:
        return any(route.matches(scope)[0] is Match.FULL for route in self.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method")
        if scope["type"] != "http" or method not in ("HEAD", "OPTIONS") or self._served(scope):
            await self.app(scope, receive, send)
            return
        if method == "OPTIONS":
            methods = allowed_methods(self.routes, scope)
            if methods:
                response = Response(
                    b"",
                    headers={"Allow": _allow_header(methods)},
                    media_type="text/html; charset=utf-8",
                )
                await response(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        get_scope = {**scope, "method": "GET"}
        if not self._served(get_scope):
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app(get_scope, receive, send_headers_only)
