"""Input read as Flask's `request` reads it, so a port sees what the legacy route saw."""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import parse_qsl

import werkzeug.urls  # noqa: F401  registers the "werkzeug.url_quote" codec error handler
from fastapi import Request
from flask import Flask
from starlette.exceptions import HTTPException as StarletteHTTPException
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.http import parse_options_header
from werkzeug.wrappers import Request as WerkzeugRequest

__all__ = [
    "FLASK_MAX_FORM_MEMORY_SIZE",
    "FLASK_MAX_FORM_PARTS",
    "first_query_value",
    "flask_args",
    "flask_form",
    "flask_json_body",
    "is_flask_json_mimetype",
    "parse_form",
]

# The installed Flask's form limits: MAX_FORM_MEMORY_SIZE (500 kB) and MAX_FORM_PARTS (1000) from
# Flask 3.1; before it, Werkzeug's Request defaults (no memory limit, 1000 parts from 2.2.3).
FLASK_MAX_FORM_MEMORY_SIZE: int | None = Flask.default_config.get(
    "MAX_FORM_MEMORY_SIZE", WerkzeugRequest.max_form_memory_size
)
FLASK_MAX_FORM_PARTS: int | None = Flask.default_config.get(
    "MAX_FORM_PARTS", WerkzeugRequest.max_form_parts
)
_FORM_MIMETYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})


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
    content_type = request.headers.get("content-type")
    if parse_options_header(content_type)[0] not in _FORM_MIMETYPES:
        return MultiDict()
    try:
        return parse_form(await request.body(), content_type, max_form_memory_size, max_form_parts)
    except RequestEntityTooLarge:
        raise StarletteHTTPException(413) from None


def parse_form(
    body: bytes,
    content_type: str | None,
    max_form_memory_size: int | None = FLASK_MAX_FORM_MEMORY_SIZE,
    max_form_parts: int | None = FLASK_MAX_FORM_PARTS,
) -> MultiDict[str, str]:
    """A body's text fields as Werkzeug parses them (RequestEntityTooLarge past the limits)."""
    mimetype, options = parse_options_header(content_type)
    if mimetype not in _FORM_MIMETYPES:
        return MultiDict()
    parser = FormDataParser(
        max_form_memory_size=max_form_memory_size, max_form_parts=max_form_parts
    )
    _, form, files = parser.parse(io.BytesIO(body), mimetype, len(body), options)
    for _, upload in files.items(multi=True):
        upload.close()
    return form


# How the installed Werkzeug decodes invalid UTF-8 in a query: kept percent-encoded from 2.3,
# U+FFFD before. Asked of Werkzeug itself, once.
_QUERY_ERRORS = (
    "werkzeug.url_quote"
    if WerkzeugRequest.from_values(query_string="q=%FF").args["q"] == "%FF"
    else "replace"
)


def flask_args(request: Request) -> MultiDict[str, str]:
    """The query as Flask's `request.args`, invalid UTF-8 decoded as the installed Werkzeug does."""
    query: bytes = request.scope.get("query_string", b"")
    return MultiDict(parse_qsl(query.decode(), keep_blank_values=True, errors=_QUERY_ERRORS))


def first_query_value(request: Request, name: str, default: str | None = None) -> str | None:
    """A query value as Flask's `request.args.get` reads it: the first one when repeated."""
    return flask_args(request).get(name, default)
