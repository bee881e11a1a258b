"""Composition root: the legacy Flask app behind the gateway, with the FastAPI ports native."""

import legacy_flask
import new_fastapi
from cutover import Gateway
from cutover.settings import GatewaySettings


def create_gateway(options: GatewaySettings | None = None) -> Gateway:
    """Both apps read the shared settings from the environment; `CUTOVER_*` tunes the gateway."""
    options = options or GatewaySettings()
    return Gateway(legacy_flask.create_app(), new_fastapi.create_app(), **options.model_dump())


app = create_gateway()
