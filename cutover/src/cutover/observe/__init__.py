"""What the gateway shows of each request and of itself: request ids, the access log, Prometheus
metrics, liveness and readiness; each cheap enough for the request path."""

from cutover.observe.access_log import (
    LOGGER_NAME,
    AccessFields,
    AccessFormatter,
    configure_access_log,
    log_access,
    stop_access_log,
)
from cutover.observe.health import Check, healthz, readyz, redact
from cutover.observe.metrics import (
    LATENCY_BUCKETS,
    MULTIPROC_ENV,
    OTHER_METHOD,
    UNMATCHED,
    GatewayMetrics,
    PoolStats,
    multiprocess_dir,
)
from cutover.observe.request_id import (
    new_request_id,
    request_id,
    response_with_request_id,
    send_with_request_id,
    tag_request,
    with_request_id,
)

__all__ = [
    "LATENCY_BUCKETS",
    "LOGGER_NAME",
    "MULTIPROC_ENV",
    "OTHER_METHOD",
    "UNMATCHED",
    "AccessFields",
    "AccessFormatter",
    "Check",
    "GatewayMetrics",
    "PoolStats",
    "configure_access_log",
    "healthz",
    "log_access",
    "multiprocess_dir",
    "new_request_id",
    "readyz",
    "redact",
    "request_id",
    "response_with_request_id",
    "send_with_request_id",
    "stop_access_log",
    "tag_request",
    "with_request_id",
]
