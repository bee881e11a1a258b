"""The reference gateway with a second, legacy-served copy of every route under `/legacy`.

The same write can then race through the native port and the Flask view, in one process, on
one database, as it does while a route is being cut over.
"""

from werkzeug.middleware.dispatcher import DispatcherMiddleware

import legacy_flask
import new_fastapi
from cutover import Gateway

LEGACY_PREFIX = "/legacy"

legacy = legacy_flask.create_app()
app = Gateway.from_settings(
    DispatcherMiddleware(legacy, {LEGACY_PREFIX: legacy}), new_fastapi.create_app()
)
