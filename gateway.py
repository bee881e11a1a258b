"""Composition root: the legacy Flask app behind the gateway, with the FastAPI ports served new."""

from collections.abc import Callable

from sqlalchemy import Engine

import legacy_flask
import new_fastapi
from cutover import Gateway
from cutover.settings import GatewaySettings
from shared_models.database import check_database, unavailable_reason
from shared_models.settings import get_settings


def _database_check(engine: Engine) -> Callable[[], tuple[str, bool, str]]:
    def database() -> tuple[str, bool, str]:
        try:
            check_database(engine)
        except Exception as exc:  # readiness reports any failure instead of raising it
            return ("database", False, unavailable_reason(exc))
        return ("database", True, "SELECT 1")

    return database


def create_gateway(settings: GatewaySettings | None = None) -> Gateway:
    """Both apps read the shared settings from the environment; `CUTOVER_*` tunes the gateway.

    The modes live beside the data (the app's DATABASE_URL) unless CUTOVER_STATE_URL says
    otherwise; readiness includes the app's database. The reference app takes the startup-heap
    freeze (`Gateway` docs) for its tail latency. With CUTOVER_LEGACY_PROCESSES the workers load
    `legacy_flask:create_app()` unless CUTOVER_LEGACY_APP names another.
    """
    settings = settings or GatewaySettings()
    if settings.state_url is None:
        settings = settings.model_copy(update={"state_url": get_settings().database_url})
    if settings.legacy_processes and settings.legacy_app is None:
        settings = settings.model_copy(update={"legacy_app": "legacy_flask:create_app()"})
    new_app = new_fastapi.create_app()
    return Gateway.from_settings(
        legacy_flask.create_app(),
        new_app,
        settings,
        freeze_startup_heap=True,
        readiness_checks=[_database_check(new_app.state.engine)],
    )


app = create_gateway()
