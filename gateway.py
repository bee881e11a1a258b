"""Composition root: the legacy Flask app behind the gateway, with the FastAPI ports served new."""

import legacy_flask
import new_fastapi
from cutover import Gateway
from cutover.settings import GatewaySettings


def create_gateway(settings: GatewaySettings | None = None) -> Gateway:
    """Both apps read the shared settings from the environment; `CUTOVER_*` tunes the gateway.

    The reference app takes the startup-heap freeze (`Gateway` docs) for its tail latency.
    """
    return Gateway.from_settings(
        legacy_flask.create_app(), new_fastapi.create_app(), settings, freeze_startup_heap=True
    )


app = create_gateway()
