"""The access log: one JSON line per request with exactly the fields it promises and never a
secret, free while disabled, written off the request path, and polite to a logging config."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import tempfile
import time
import warnings
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.types import Message, Receive, Scope, Send

from cutover.observe import log_writer
from cutover.observe.access_log import (
    AccessFields,
    AccessFormatter,
    configure_access_log,
    log_access,
    stop_access_log,
)
from cutover.observe.request_id import request_id, with_request_id

KEYS = ["ts", "level", "method", "route", "status", "duration_ms", "side", "mode", "request_id"]
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
SECRETS = ("secret-query", "secret-token", "secret-cookie", "secret-body", "api_key")


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """The lines written so far, each parsed as one JSON object."""
    stop_access_log()  # writes what is queued
    text = stream.getvalue()
    assert text.endswith("\n") or not text
    return [json.loads(line) for line in text.splitlines()]


def logged_app() -> Any:
    """A FastAPI app behind the per-request steps the gateway takes: id in, answer logged."""
    app = FastAPI()

    @app.post("/items/{item_id}")
    async def item(item_id: int, request: Request) -> dict[str, Any]:
        await request.body()
        return {"item_id": item_id}

    async def gateway(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = request_id(scope["headers"])
        status = 500

        async def noting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(with_request_id(scope, rid), receive, noting)
        finally:
            seconds = time.perf_counter() - started
            log_access(scope["method"], "/items/{item_id}", status, seconds, "new", "new", rid)

    return gateway


@pytest.mark.anyio
async def test_a_request_with_secrets_logs_one_line_of_the_promised_fields_only(
    access_logger: logging.Logger,
) -> None:
    stream = io.StringIO()
    configure_access_log(True, stream=stream)
    transport = httpx.ASGITransport(app=logged_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post(
            "/items/7?api_key=secret-query&x=1",
            headers={
                "Authorization": "Bearer secret-token",
                "Cookie": "session=secret-cookie",
                "X-Request-ID": "trace-42",
            },
            content=b"password=secret-body",
        )
    assert response.status_code == 200
    [line] = lines(stream)
    assert list(line) == KEYS
    assert TS.fullmatch(line["ts"])
    assert line["level"] == "INFO"
    assert (line["method"], line["route"], line["status"]) == ("POST", "/items/{item_id}", 200)
    assert (line["side"], line["mode"], line["request_id"]) == ("new", "new", "trace-42")
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    text = stream.getvalue()
    for secret in SECRETS:
        assert secret not in text
    assert "Authorization" not in text and "Cookie" not in text and "?" not in text


def test_the_duration_has_three_decimals_and_an_unmatched_route_is_null(
    access_logger: logging.Logger,
) -> None:
    stream = io.StringIO()
    configure_access_log(True, stream=stream)
    log_access("GET", None, 404, 0.0123456, "legacy", "legacy", b"abc")
    log_access("OPTIONS", "/items", 200, 2.0, "gateway", "new", "def")
    first, second = lines(stream)
    raw = stream.getvalue().splitlines()
    assert '"duration_ms": 12.346' in raw[0]
    assert '"duration_ms": 2000.000' in raw[1]
    assert first["route"] is None and first["request_id"] == "abc"
    assert second["side"] == "gateway" and second["request_id"] == "def"


def test_odd_values_stay_on_one_line_of_valid_json(access_logger: logging.Logger) -> None:
    stream = io.StringIO()
    configure_access_log(True, stream=stream)
    log_access('GE"T\n{', '/a\\b"\n', 200, 0.001, "new", "canary 10%", b"x\xff")
    [line] = lines(stream)
    assert line["method"] == 'GE"T\n{' and line["route"] == '/a\\b"\n'
    assert line["request_id"] == "x\ufffd"
    assert len(stream.getvalue().splitlines()) == 1


def test_disabled_it_writes_nothing_and_sits_above_info(access_logger: logging.Logger) -> None:
    stream = io.StringIO()
    configure_access_log(True, stream=stream)
    configure_access_log(False)
    assert access_logger.level > logging.INFO
    assert not access_logger.isEnabledFor(logging.INFO)
    log_access("GET", "/", 200, 0.001, "new", "new", b"abc")
    assert lines(stream) == []
    assert access_logger.handlers == []


def test_enabled_twice_attaches_one_writer_that_does_not_propagate(
    access_logger: logging.Logger,
) -> None:
    configure_access_log(True, stream=io.StringIO())
    configure_access_log(True, stream=io.StringIO())
    assert len(access_logger.handlers) == 1
    assert access_logger.level == logging.INFO
    assert access_logger.propagate is False
    stop_access_log()
    assert access_logger.handlers == [] and access_logger.propagate is True


def test_a_deployments_own_handler_is_kept_and_gets_records(
    access_logger: logging.Logger,
) -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    access_logger.addHandler(Keep())
    configure_access_log(True, stream=io.StringIO())
    log_access("GET", "/items/{item_id}", 201, 0.0015, "legacy", "canary 5%", b"abc")
    assert len(access_logger.handlers) == 1
    [record] = records
    assert record.name == "cutover.access" and record.levelno == logging.INFO
    assert isinstance(record.msg, AccessFields)
    expected = {
        "method": "GET",
        "route": "/items/{item_id}",
        "status": 201,
        "duration_ms": 1.5,
        "side": "legacy",
        "mode": "canary 5%",
        "request_id": "abc",
    }
    assert json.loads(record.getMessage()) == expected
    # Whatever a formatter asks of a record is there.
    plain = logging.Formatter(
        "%(asctime)s %(name)s %(levelname)s %(process)d %(processName)s %(thread)d "
        "%(threadName)s %(filename)s %(module)s %(funcName)s %(lineno)d %(pathname)s "
        "%(relativeCreated)d %(msecs)d %(message)s"
    )
    assert plain.format(record).endswith(json.dumps(expected))
    assert f" {os.getpid()} " in plain.format(record)
    line = json.loads(AccessFormatter().format(record))
    assert list(line) == KEYS and line["duration_ms"] == 1.5


def test_other_messages_on_the_logger_are_json_too() -> None:
    record = logging.LogRecord("cutover.access", logging.WARNING, __file__, 1, "x %s", ("y",), None)
    assert json.loads(AccessFormatter().format(record))["message"] == "x y"


def test_past_the_queue_bound_lines_are_dropped_and_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(log_writer, "MAX_PENDING", 3)
    monkeypatch.setattr(log_writer, "WRITE_INTERVAL", 3600.0)  # no batch meanwhile
    stream = io.StringIO()
    handler = log_writer.BatchedStreamHandler(stream)
    handler.setFormatter(AccessFormatter())
    try:
        for index in range(5):
            handler.queue_line((time.time(), "GET", "/", 200, 0.001, "new", "new", str(index)))
        assert handler.dropped == 2
        assert stream.getvalue() == ""  # nothing written on the caller's thread
    finally:
        handler.close()
    assert [json.loads(line)["request_id"] for line in stream.getvalue().splitlines()] == [
        "0",
        "1",
        "2",
    ]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_writes_its_own_lines_only(access_logger: logging.Logger) -> None:
    with tempfile.TemporaryFile("w+") as stream:
        configure_access_log(True, stream=stream)
        log_access("GET", "/", 200, 0.001, "new", "new", "queued-in-parent")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads, on 3.12+
            pid = os.fork()
        if pid == 0:
            try:
                log_access("GET", "/", 200, 0.001, "new", "new", "from-child")
                stop_access_log()
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        stop_access_log()
        stream.seek(0)
        ids = [json.loads(line)["request_id"] for line in stream.read().splitlines()]
    assert sorted(ids) == ["from-child", "queued-in-parent"]


def test_by_default_lines_go_to_stderr_as_it_is_when_written(
    access_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_access_log(True)
    log_access("GET", "/", 200, 0.001, "new", "new", b"to-stderr")
    stop_access_log()
    captured = capsys.readouterr()
    assert json.loads(captured.err)["request_id"] == "to-stderr"
    assert captured.out == ""
