"""The legacy app alone behind the gateway, so its JSON routes can be reached over HTTP too."""

import legacy_flask
from cutover import Gateway

app = Gateway(legacy_flask.create_app())
