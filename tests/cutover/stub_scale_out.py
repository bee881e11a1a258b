"""A gateway on the routing stubs that follows the state store at $CUTOVER_SCALE_OUT_STATE_URL,
polling every $CUTOVER_SCALE_OUT_POLL_INTERVAL seconds (default 1, the gateway's own), with the
served-by header on: `uvicorn tests.cutover.stub_scale_out:gateway`, for the scale-out test
(tests/cutover/test_scale_out.py) and the propagation bench (bench/propagation.py).

Only uvicorn imports this module (it reads the environment at import)."""

from __future__ import annotations

import os

from cutover import Gateway
from tests.cutover.stub_routing_apps import make_legacy, make_new

STATE_URL_VARIABLE = "CUTOVER_SCALE_OUT_STATE_URL"
POLL_INTERVAL_VARIABLE = "CUTOVER_SCALE_OUT_POLL_INTERVAL"

gateway = Gateway(
    make_legacy(),
    make_new(),
    state_url=os.environ[STATE_URL_VARIABLE],
    state_poll_interval=float(os.environ.get(POLL_INTERVAL_VARIABLE, "1.0")),
    served_by_header=True,
    access_log=False,
)
