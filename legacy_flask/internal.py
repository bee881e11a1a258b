"""A pass-through to the upstream data service, with its failures mapped to 502s."""

from typing import Any

import httpx
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from legacy_flask.errors import json_error

bp = Blueprint("internal", __name__)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@bp.get("/fetch-data")
def fetch_data() -> ResponseReturnValue:
    try:
        with httpx.Client(timeout=current_app.config["UPSTREAM_TIMEOUT"]) as client:
            upstream = client.get(current_app.config["UPSTREAM_URL"])
    except httpx.TimeoutException:
        return json_error("Upstream timed out", 502)
    except httpx.HTTPError:
        return json_error("Upstream unavailable", 502)
    if not upstream.is_success:
        return json_error("Upstream error", 502)
    try:
        # NaN and Infinity are Python's extensions, not JSON; passing them on would break clients.
        data = upstream.json(parse_constant=_reject_constant)
    except ValueError:
        return json_error("Upstream returned invalid JSON", 502)
    return jsonify(data)
