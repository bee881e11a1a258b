"""One JSON access-log line per request on the `cutover.access` logger, written off the request
path: the line never holds the query string, headers, cookies or bodies, which carry secrets."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections import deque
from json.encoder import encode_basestring_ascii as _json_str
from typing import Any, TextIO

LOGGER_NAME = "cutover.access"
MAX_PENDING = 10_000  # lines waiting for the writer; past that they are dropped and counted
WRITE_INTERVAL = 0.05  # seconds between the writer's batches
FIELDS = ("method", "route", "status", "duration_ms", "side", "mode", "request_id")

logger = logging.getLogger(LOGGER_NAME)
_INFO = logging.INFO
_START = getattr(logging, "_startTime", time.time())  # what LogRecord.relativeCreated counts from
_pid = os.getpid()
_process_name: tuple[int, str] = (0, "MainProcess")


class AccessFields(dict[str, Any]):
    """A request's fields, as a log record's message: any formatter prints them as JSON."""

    __slots__ = ()

    def __str__(self) -> str:
        return json.dumps(self)


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
    "levelno": _INFO,
    "levelname": "INFO",
    "args": (),
    "exc_info": None,
    "exc_text": None,
    "stack_info": None,
    "pathname": __file__,
    "filename": os.path.basename(__file__),
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
    rid = request_id.decode("ascii", "replace") if isinstance(request_id, bytes) else request_id
    fields = AccessFields(
        method=method,
        route=route,
        status=status,
        duration_ms=round(seconds * 1000, 3),
        side=side,
        mode=mode,
        request_id=rid,
    )
    logger.handle(AccessRecord(fields))


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
# What handleError is given when a batch write fails (it reports a record; there are many).
_NO_RECORD = logging.LogRecord(
    LOGGER_NAME, logging.ERROR, __file__, 0, "access-log write", (), None
)


# What log_access queues for the writer: created, method, route, status, seconds, side, mode, id.
_Line = tuple[float, str, "str | None", int, float, str, str, "bytes | str"]


def _fields(values: _Line) -> AccessFields:
    _, method, route, status, seconds, side, mode, rid = values
    if isinstance(rid, bytes):
        rid = rid.decode("ascii", "replace")
    return AccessFields(
        method=method,
        route=route,
        status=status,
        duration_ms=round(seconds * 1000, 3),
        side=side,
        mode=mode,
        request_id=rid,
    )


class BatchedStreamHandler(logging.StreamHandler[TextIO]):
    """A StreamHandler whose `emit` only queues the record: a thread formats and writes the
    queue every WRITE_INTERVAL seconds in one write, so neither a slow stderr nor a write per
    request lands on the event loop. Past MAX_PENDING queued records new ones are dropped."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._follows_stderr = stream is None  # whatever sys.stderr is when a batch is written
        self.pending: deque[logging.LogRecord | _Line] = deque()
        self.dropped = 0
        self._write_lock = threading.Lock()  # the writer and flush(); emit never takes it
        self._stop = threading.Event()
        self._writer: threading.Thread | None = None
        _handlers.add(self)
        self._start()

    def _start(self) -> None:
        self._stop = threading.Event()
        self._writer = threading.Thread(
            target=self._write_batches, args=(self._stop,), name="cutover-access-log", daemon=True
        )
        self._writer.start()

    def _write_batches(self, stop: threading.Event) -> None:
        while not stop.wait(WRITE_INTERVAL):
            self.flush()

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.pending) >= MAX_PENDING:
            self.dropped += 1
            return
        self.pending.append(record)

    def queue_line(self, values: _Line) -> None:
        """`log_access`'s values, formatted by the writer: the request path makes no record."""
        if len(self.pending) >= MAX_PENDING:
            self.dropped += 1
            return
        self.pending.append(values)

    def flush(self) -> None:
        """Format and write every queued record now (also at exit: logging.shutdown calls it)."""
        with self._write_lock:
            pending = self.pending
            formatter = self.formatter
            lines = []
            while pending:
                item = pending.popleft()
                try:
                    if isinstance(item, logging.LogRecord):
                        lines.append(self.format(item))
                    elif isinstance(formatter, AccessFormatter):
                        lines.append(formatter.line(*item))
                    else:
                        lines.append(self.format(AccessRecord(_fields(item), item[0])))
                except Exception:
                    self.handleError(item if isinstance(item, logging.LogRecord) else _NO_RECORD)
            if not lines:
                return
            lines.append("")
            stream = sys.stderr if self._follows_stderr else self.stream
            try:
                stream.write(self.terminator.join(lines))
                stream.flush()
            except Exception:
                self.handleError(_NO_RECORD)

    def close(self) -> None:
        """Stop the writer thread after writing what is queued."""
        self._stop.set()
        writer, self._writer = self._writer, None
        if writer is not None and writer is not threading.current_thread():
            writer.join()
        self.flush()
        _handlers.discard(self)
        super().close()

    def after_fork(self) -> None:
        """In a forked child: the parent writes its own queue; a writer thread of our own."""
        self.pending.clear()
        self._write_lock = threading.Lock()
        if self._writer is not None:
            self._start()


_handlers: set[BatchedStreamHandler] = set()
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


def _after_fork_in_child() -> None:
    global _pid
    _pid = os.getpid()
    for handler in list(_handlers):
        handler.after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
