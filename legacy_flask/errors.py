"""The one shape every error a view produces takes: JSON `{"error": "..."}`."""

from flask import Response, jsonify


def json_error(message: str, status: int, **extra: object) -> tuple[Response, int]:
    """An error response; `extra` adds fields next to `error` (e.g. the current note on 409)."""
    return jsonify(error=message, **extra), status
