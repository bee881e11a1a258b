"""Errors as the legacy app answered them: its JSON shape for its own, Werkzeug's pages else."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from werkzeug.exceptions import HTTPException as WerkzeugHTTPException
from werkzeug.exceptions import InternalServerError, MethodNotAllowed, default_exceptions
from werkzeug.utils import redirect as werkzeug_redirect_response

from cutover.compat.json import LegacyJSONResponse
from cutover.compat.methods import allowed_methods
from cutover.compat.views import werkzeug_exception_response

__all__ = [
    "ApiError",
    "ErrorBody",
    "ValidationMessage",
    "install_legacy_errors",
    "werkzeug_error_response",
    "werkzeug_redirect",
]

ErrorBody = Callable[[str], dict[str, Any]]
ValidationMessage = Callable[[Request, RequestValidationError], str]


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
    # Content-Type as a header, not media_type: Starlette before 0.37 appends a second charset.
    headers = dict(error.get_headers())
    return Response(error.get_body(), status_code=error.code or 500, headers=headers)


def werkzeug_redirect(url: str, status_code: int = 308) -> Response:
    """The redirect Werkzeug sends (its HTML body included), e.g. for Flask's strict slashes."""
    legacy = werkzeug_redirect_response(url, status_code)
    headers = {name: legacy.headers[name] for name in ("Location", "Content-Type")}
    return Response(legacy.get_data(), status_code=status_code, headers=headers)


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
    route at the path plus HEAD and OPTIONS, as Flask's does. A Werkzeug `HTTPException` raised
    by a port (`abort(404)`, a missing `args[...]` key) answers the page Flask would render.
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

    async def werkzeug_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, WerkzeugHTTPException)
        return werkzeug_exception_response(exc)

    async def unhandled_error(request: Request, exc: Exception) -> Response:
        return werkzeug_error_response(500)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, framework_error)
    app.add_exception_handler(WerkzeugHTTPException, werkzeug_error)
    app.add_exception_handler(Exception, unhandled_error)
