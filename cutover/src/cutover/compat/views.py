"""A Flask view's return values and JSON input as the view meant them, for code ported as it was
(the drafts of `cutover scaffold`): Flask's `make_response` rules and `request.get_json()`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from starlette.responses import Response
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, HTTPException, UnsupportedMediaType
from werkzeug.wrappers import Response as WerkzeugResponse

from cutover.compat.json import LegacyJSONResponse
from cutover.compat.request import is_flask_json_mimetype, parse_form

__all__ = [
    "FlaskBody",
    "flask_body",
    "flask_get_json",
    "flask_response",
    "werkzeug_exception_response",
]

_HTML = "text/html; charset=utf-8"


def werkzeug_exception_response(exc: HTTPException) -> Response:
    """The page a Werkzeug `HTTPException` (`abort(404)`, a missing `args[...]` key) renders."""
    legacy = exc.response  # `abort(response)`: a whole Werkzeug response
    if isinstance(legacy, WerkzeugResponse):
        return Response(
            legacy.get_data(), status_code=legacy.status_code, headers=dict(legacy.headers)
        )
    return Response(exc.get_body(), status_code=exc.code or 500, headers=dict(exc.get_headers()))


def _body_response(body: Any) -> Response:
    if isinstance(body, Response):
        return body
    if isinstance(body, dict | list):
        return LegacyJSONResponse(body)
    if isinstance(body, str | bytes):
        return Response(body, headers={"Content-Type": _HTML})
    raise TypeError(
        f"the view returned a {type(body).__name__}: Flask accepts a dict, list, str, bytes "
        "or a response"
    )


def flask_response(value: Any) -> Response:
    """What Flask's `make_response` makes of a view's return value: a dict or list as `jsonify`,
    a string as HTML, `(body, status)`, `(body, headers)` or `(body, status, headers)`."""
    status: int | None = None
    headers: Mapping[str, str] | list[tuple[str, str]] | None = None
    body = value
    if isinstance(value, tuple):
        if len(value) == 3:
            body, status, headers = value
        elif len(value) == 2:
            body, second = value
            if isinstance(second, Mapping | list):
                headers = second
            else:
                status = second
        else:
            raise TypeError("a view's tuple is (body, status), (body, headers) or all three")
    response = _body_response(body)
    if status is not None:
        response.status_code = int(status)
    if headers:
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        for name, header in pairs:
            response.headers[name] = str(header)
    return response


class FlaskBody:
    """The request body, read before the port runs but decoded only when it asks, so errors come
    in the order the Flask view raised them."""

    __slots__ = ("content_type", "data")

    def __init__(self, data: bytes, content_type: str | None) -> None:
        self.data = data
        self.content_type = content_type

    @property
    def is_json(self) -> bool:
        return is_flask_json_mimetype(self.content_type)

    @property
    def form(self) -> MultiDict[str, str]:
        """Flask's `request.form`: the text fields of a urlencoded or multipart body (its 413)."""
        return parse_form(self.data, self.content_type)

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """Flask's `request.get_json()`: 415 (400 before Werkzeug 2.3) unless the content type
        is JSON, 400 for JSON that does not parse; `silent=True` gives None instead."""
        if not (force or self.is_json):
            if silent:
                return None
            raise _not_json()
        try:
            return json.loads(self.data)
        except (ValueError, RecursionError):
            if silent:
                return None
            raise BadRequest() from None


async def flask_body(request: Request) -> FlaskBody:
    """The dependency giving a port the body as Flask's `request` reads it (`get_json`)."""
    return FlaskBody(await request.body(), request.headers.get("content-type"))


async def flask_get_json(request: Request, *, silent: bool = False, force: bool = False) -> Any:
    """The body as Flask's `request.get_json()`, read and decoded at once."""
    return (await flask_body(request)).get_json(force=force, silent=silent)


def _not_json() -> HTTPException:
    """The installed Werkzeug's error for a body that is not JSON (its own message)."""
    from werkzeug.wrappers import Request as WerkzeugRequest

    probe = WerkzeugRequest.from_values(data=b"", content_type="text/plain")
    try:
        probe.get_json()
    except BadRequest:  # Werkzeug before 2.3; Flask raises a plain BadRequest in its place
        return BadRequest()
    except HTTPException as exc:
        return exc
    return UnsupportedMediaType()  # pragma: no cover - every Werkzeug refuses it
