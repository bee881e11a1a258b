"""Make a FastAPI port answer like the Flask route it replaces: same JSON bytes, errors and session.

Opt-in pieces, configured by the application, knowing nothing of its domain:

- `LegacyJSONResponse` (json): Flask's `jsonify` bytes (sorted keys, compact, trailing newline).
- `flask_json_bytes` (json): those bytes for a value, without a response.
- `flask_json_default` (json): the `json.dumps` fallback for RFC 822 dates, Decimal, UUID, ....
- `FlaskDateTime` (json): a pydantic datetime that serialises to JSON as Flask does.
- `ApiError` (errors): raise it from a port for a legacy-shaped JSON error.
- `ErrorBody` (errors): the type of `error_body`, a message to the legacy JSON error body.
- `ValidationMessage` (errors): the type of a callable choosing a failed validation's message.
- `install_legacy_errors` (errors): legacy JSON errors, Werkzeug's pages for framework errors.
- `werkzeug_error_response` (errors): the HTML page Werkzeug produces for a status code.
- `werkzeug_redirect` (errors): the redirect Werkzeug sends, its HTML body included.
- `flask_json_body` (request): the body as Flask's `request.get_json(silent=True)`.
- `flask_form` (request): the text fields as Flask's `request.form`, with its 413 limits.
- `flask_args` (request): the query as Flask's `request.args`.
- `first_query_value` (request): a query value as Flask's `request.args.get`.
- `is_flask_json_mimetype` (request): Flask's `Request.is_json`.
- `flask_response` (views): a view's return value as Flask's `make_response` makes it.
- `flask_get_json` (views): the body as Flask's `request.get_json()`, its 400/415 included.
- `flask_body` (views): a dependency giving `FlaskBody`, whose `get_json()` decodes when asked.
- `werkzeug_exception_response` (views): the page a raised Werkzeug `HTTPException` renders.
- `FlaskSessionReader` (sessions): read Flask's signed session cookie.
- `AutomaticHeadOptions` (behaviour): Flask's automatic HEAD and OPTIONS, as ASGI middleware.
- `slash_redirect` (behaviour): Flask's strict-slash 308 to the URL with the slash.
- `BodySizeLimit` (behaviour): Flask's MAX_CONTENT_LENGTH 413, as ASGI middleware.
- `allowed_methods` (methods): every method Flask would list for a path.
- `LimitedReceive` (from `cutover.limits`): a `receive` raising 413 past a body-size limit.
"""

from cutover.compat.behaviour import AutomaticHeadOptions, BodySizeLimit, slash_redirect
from cutover.compat.errors import (
    ApiError,
    ErrorBody,
    ValidationMessage,
    install_legacy_errors,
    werkzeug_error_response,
    werkzeug_redirect,
)
from cutover.compat.json import (
    FlaskDateTime,
    LegacyJSONResponse,
    flask_json_bytes,
    flask_json_default,
)
from cutover.compat.methods import allowed_methods
from cutover.compat.request import (
    first_query_value,
    flask_args,
    flask_form,
    flask_json_body,
    is_flask_json_mimetype,
)
from cutover.compat.sessions import FlaskSessionReader
from cutover.compat.views import (
    FlaskBody,
    flask_body,
    flask_get_json,
    flask_response,
    werkzeug_exception_response,
)
from cutover.limits import LimitedReceive

__all__ = [
    "ApiError",
    "AutomaticHeadOptions",
    "BodySizeLimit",
    "ErrorBody",
    "FlaskBody",
    "FlaskDateTime",
    "FlaskSessionReader",
    "LegacyJSONResponse",
    "LimitedReceive",
    "ValidationMessage",
    "allowed_methods",
    "first_query_value",
    "flask_args",
    "flask_body",
    "flask_form",
    "flask_get_json",
    "flask_json_body",
    "flask_json_bytes",
    "flask_json_default",
    "flask_response",
    "install_legacy_errors",
    "is_flask_json_mimetype",
    "slash_redirect",
    "werkzeug_error_response",
    "werkzeug_exception_response",
    "werkzeug_redirect",
]
