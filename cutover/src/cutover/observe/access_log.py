"""One JSON access-log line per request on the `cutover.access` logger, written off the request
path: the line never holds the query string, headers, cookies or bodies, which carry secrets."""

from __future__ import annotations

import logging
import time
from typing import TextIO

from cutover.observe.access_format import (
    FIELDS,
    LOGGER_NAME,
    AccessFields,
    AccessFormatter,
    AccessRecord,
    access_fields,
)
from cutover.observe.log_writer import MAX_PENDING, WRITE_INTERVAL, BatchedStreamHandler

# What this module has always offered, wherever it is defined now.
__all__ = [
    "FIELDS",
    "LOGGER_NAME",
    "MAX_PENDING",
    "WRITE_INTERVAL",
    "AccessFields",
    "AccessFormatter",
    "AccessRecord",
    "BatchedStreamHandler",
    "configure_access_log",
    "log_access",
    "logger",
    "stop_access_log",
]

logger = logging.getLogger(LOGGER_NAME)
_INFO = logging.INFO


def log_access(
    method: str,
    route: str | None,
    status: int,
    seconds: float,
    side: str,
    mode: str,
    request_id: bytes | str,
) -> None:
    """Log one answered request; next to free while `cutover.access` is not enabled for INFO.

    route is the matched template (None when nothing matched); side is legacy, new or gateway
    (an answer the gateway made itself); seconds is the time to the end of the answer.
    """
    if not logger.isEnabledFor(_INFO):
        return
    writer = _attached
    handlers = logger.handlers
    if writer is not None and len(handlers) == 1 and handlers[0] is writer and not logger.filters:
        # Only the writer configure_access_log attached listens: queue the values, no record.
        writer.queue_line((time.time(), method, route, status, seconds, side, mode, request_id))
        return
    logger.handle(
        AccessRecord(access_fields(method, route, status, seconds, side, mode, request_id))
    )


_attached: BatchedStreamHandler | None = None


def configure_access_log(enabled: bool, *, stream: TextIO | None = None) -> None:
    """Turn the access log on (INFO) or off (WARNING, and the writer attached here closed).
    On, and with no handler yet, `cutover.access` gets a batched JSON-line writer to `stream`
    (default: sys.stderr as it is at each write) and stops propagating; a deployment's own
    handlers, attached first, are kept."""
    global _attached
    if not enabled:
        logger.setLevel(logging.WARNING)
        stop_access_log()
        return
    logger.setLevel(_INFO)
    if logger.handlers:
        return
    handler = BatchedStreamHandler(stream)
    handler.setLevel(_INFO)
    handler.setFormatter(AccessFormatter())
    logger.addHandler(handler)
    logger.propagate = False
    _attached = handler


def stop_access_log() -> None:
    """Write the queued lines and detach the writer `configure_access_log` attached."""
    global _attached
    handler, _attached = _attached, None
    if handler is not None:
        logger.removeHandler(handler)
        logger.propagate = True
        handler.close()
