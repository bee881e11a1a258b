"""The one shape every error a view produces takes: JSON `{"error": "..."}`."""

from flask import Flask, Response, current_app, jsonify

from shared_models.database import (
    UNAVAILABLE_ERRORS,
    UNAVAILABLE_MESSAGE,
    UNAVAILABLE_RETRY_AFTER_SECONDS,
    is_database_unavailable,
    unavailable_reason,
)


def json_error(message: str, status: int, **extra: object) -> tuple[Response, int]:
    """An error response; `extra` adds fields next to `error` (e.g. the current note on 409)."""
    return jsonify(error=message, **extra), status


def database_unavailable(error: Exception) -> tuple[Response, int]:
    """A database that cannot be reached is a 503 to retry, not a 500; anything else re-raises
    into Flask's own 500 handling (logged with its traceback)."""
    if not is_database_unavailable(error):
        raise error
    current_app.logger.warning("database unavailable: %s", unavailable_reason(error))
    response, status = json_error(UNAVAILABLE_MESSAGE, 503)
    response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER_SECONDS)
    return response, status


def register_error_handlers(app: Flask) -> None:
    """Errors the views leave to the app: database outages."""
    for error_class in UNAVAILABLE_ERRORS:
        app.register_error_handler(error_class, database_unavailable)
