"""Serve a WSGI app from ASGI the way gunicorn would (`WSGIBridge`), and the parts it is made of."""

from cutover.wsgi.bridge import (
    DEFAULT_MAX_BODY,
    DEFAULT_QUEUE_SIZE,
    DEFAULT_QUEUE_TIMEOUT,
    DEFAULT_THREADS,
    WSGIBridge,
)
from cutover.wsgi.environ import SERVER_SOFTWARE, build_environ
from cutover.wsgi.pool import WorkerPool
from cutover.wsgi.remote import RemoteBridge

__all__ = [
    "DEFAULT_MAX_BODY",
    "DEFAULT_QUEUE_SIZE",
    "DEFAULT_QUEUE_TIMEOUT",
    "DEFAULT_THREADS",
    "SERVER_SOFTWARE",
    "RemoteBridge",
    "WSGIBridge",
    "WorkerPool",
    "build_environ",
]
