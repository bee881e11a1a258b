"""The access log's writer: a logging handler whose `emit` only queues, and a thread that formats
and writes the queue in one write per batch; in a forked child, a writer thread of its own."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections import deque
from typing import TextIO

from cutover.observe.access_format import (
    LOGGER_NAME,
    AccessFormatter,
    AccessRecord,
    access_fields,
)

MAX_PENDING = 10_000  # lines waiting for the writer; past that they are dropped and counted
WRITE_INTERVAL = 0.05  # seconds between the writer's batches

# What handleError is given when a batch write fails (it reports a record; there are many).
_NO_RECORD = logging.LogRecord(
    LOGGER_NAME, logging.ERROR, __file__, 0, "access-log write", (), None
)


# What log_access queues for the writer: created, method, route, status, seconds, side, mode, id.
_Line = tuple[float, str, "str | None", int, float, str, str, "bytes | str"]


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
                        lines.append(self.format(AccessRecord(access_fields(*item[1:]), item[0])))
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


def _after_fork_in_child() -> None:
    for handler in list(_handlers):
        handler.after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
