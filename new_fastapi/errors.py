"""The ports answer a database outage as the legacy app does: the same 503 bytes and header."""

import logging

from fastapi import FastAPI, Request
from starlette.responses import Response

from cutover.compat import LegacyJSONResponse
from shared_models.database import (
    UNAVAILABLE_ERRORS,
    UNAVAILABLE_MESSAGE,
    UNAVAILABLE_RETRY_AFTER_SECONDS,
    is_database_unavailable,
    unavailable_reason,
)

logger = logging.getLogger(__name__)


def database_unavailable_response() -> Response:
    """`legacy_flask.errors.database_unavailable`'s answer, rendered as Flask renders it."""
    return LegacyJSONResponse(
        {"error": UNAVAILABLE_MESSAGE},
        status_code=503,
        headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_SECONDS)},
    )


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """503 for a database that cannot be reached; anything else re-raises into the app's 500
    handler (Werkzeug's page, logged by the server), as before."""
    if not is_database_unavailable(exc):
        raise exc
    logger.warning("database unavailable: %s", unavailable_reason(exc))
    return database_unavailable_response()


def install_database_errors(app: FastAPI) -> None:
    """Register the outage handler; `install_legacy_errors` keeps every other error."""
    for error_class in UNAVAILABLE_ERRORS:
        app.add_exception_handler(error_class, database_unavailable)
