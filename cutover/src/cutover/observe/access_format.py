"""What one access-log line is: a request's fields, a LogRecord carrying them that is built in
about a microsecond, and the formatter that writes them as one JSON line."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from json.encoder import encode_basestring_ascii as _json_str
from typing import Any

LOGGER_NAME = "cutover.access"
FIELDS = ("method", "route", "status", "duration_ms", "side", "mode", "request_id")

_START = getattr(logging, "_startTime", time.time())  # what LogRecord.relativeCreated counts from
_pid = os.getpid()
_process_name: tuple[int, str] = (0, "MainProcess")
# Where a record says it was made: in `log_access`, which lives in access_log.py.
_LOG_ACCESS_FILE = os.path.join(os.path.dirname(__file__), "access_log.py")


class AccessFields(dict[str, Any]):
    """A request's fields, as a log record's message: any formatter prints them as JSON."""

    __slots__ = ()

    def __str__(self) -> str:
        return json.dumps(self)


def access_fields(
    method: str,
    route: str | None,
    status: int,
    seconds: float,
    side: str,
    mode: str,
    request_id: bytes | str,
) -> AccessFields:
    """One request's fields as the line shows them (duration in ms, the id as text)."""
    if isinstance(request_id, bytes):
        request_id = request_id.decode("ascii", "replace")
    return AccessFields(
        method=method,
        route=route,
        status=status,
        duration_ms=round(seconds * 1000, 3),
        side=side,
        mode=mode,
        request_id=request_id,
    )


class AccessRecord(logging.LogRecord):
    """A LogRecord built in about a microsecond: what a LogRecord learns by walking the stack
    or asking the OS is fixed or cached here. Every attribute is an instance attribute, as
    formatters read `record.__dict__`."""

    def __init__(self, fields: AccessFields, created: float | None = None) -> None:
        # No super().__init__(): its stack walk and OS calls are the cost this class avoids.
        if created is None:
            created = time.time()
        self.__dict__.update(_RECORD_CONSTANTS)
        self.msg = fields
        self.created = created
        self.msecs = (created - int(created)) * 1000
        self.relativeCreated = (created - _START) * 1000
        self.thread = threading.get_ident()
        self.threadName = threading.current_thread().name
        self.process = _pid
        self.processName = _current_process_name()


_RECORD_CONSTANTS: dict[str, object] = {
    "name": LOGGER_NAME,
    "levelno": logging.INFO,
    "levelname": "INFO",
    "args": (),
    "exc_info": None,
    "exc_text": None,
    "stack_info": None,
    "pathname": _LOG_ACCESS_FILE,
    "filename": os.path.basename(_LOG_ACCESS_FILE),
    "module": "access_log",
    "lineno": 0,
    "funcName": "log_access",
    "taskName": None,
}


def _current_process_name() -> str:
    global _process_name
    if _process_name[0] != _pid:
        multiprocessing = sys.modules.get("multiprocessing")
        name = multiprocessing.current_process().name if multiprocessing else "MainProcess"
        _process_name = (_pid, name)
    return _process_name[1]


class AccessFormatter(logging.Formatter):
    """`{"ts": "2025-01-31T12:00:00.123Z", "level": "INFO", "method": ..., ...}`: the fields
    after a UTC timestamp, on one line (strings JSON-escaped, duration_ms with 3 decimals)."""

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._stamp = ""
        self._parts: dict[tuple[str, str, str | None, str, str], tuple[str, str]] = {}

    def timestamp(self, created: float) -> str:
        """ISO 8601 UTC with milliseconds; the seconds part is formatted once per second."""
        second = int(created)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._stamp}.{int((created - second) * 1000):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        fields = record.msg
        if isinstance(fields, AccessFields) and fields.keys() == _FIELD_SET:
            return self.line(
                record.created,
                fields["method"],
                fields["route"],
                fields["status"],
                fields["duration_ms"] / 1000,
                fields["side"],
                fields["mode"],
                fields["request_id"],
                record.levelname,
            )
        ts = self.timestamp(record.created)
        message = _json_str(record.getMessage())
        return f'{{"ts": "{ts}", "level": {_json_str(record.levelname)}, "message": {message}}}'

    def line(
        self,
        created: float,
        method: str,
        route: str | None,
        status: int,
        seconds: float,
        side: str,
        mode: str,
        request_id: bytes | str,
        level: str = "INFO",
    ) -> str:
        """One access line from the values `log_access` was given."""
        key = (level, method, route, side, mode)
        parts = self._parts.get(key)
        if parts is None:
            parts = _line_parts(*key)
            if len(self._parts) < _MAX_CACHED_PARTS:  # methods are the client's choice
                self._parts[key] = parts
        rid = request_id.decode("ascii", "replace") if isinstance(request_id, bytes) else request_id
        head, tail = parts
        ts = self.timestamp(created)
        return (
            f'{{"ts": "{ts}", {head}{int(status)}, "duration_ms": {seconds * 1000:.3f}'
            f"{tail}{_json_str(rid)}}}"
        )


_MAX_CACHED_PARTS = 4096


def _line_parts(
    level: str, method: str, route: str | None, side: str, mode: str
) -> tuple[str, str]:
    """The escaped text around a line's status and request id, the same for a route's lines."""
    route_json = "null" if route is None else _json_str(route)
    return (
        f'"level": {_json_str(level)}, "method": {_json_str(method)}, '
        f'"route": {route_json}, "status": ',
        f', "side": {_json_str(side)}, "mode": {_json_str(mode)}, "request_id": ',
    )


_FIELD_SET = frozenset(FIELDS)


def _after_fork_in_child() -> None:
    global _pid
    _pid = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
