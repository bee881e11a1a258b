"""cutover.uvicorn_protocol: slow and oversized request headers are cut off by the recommended
uvicorn invocation (`make run`'s SERVE_FLAGS, with GuardedHttpToolsProtocol)."""

from __future__ import annotations

import http.client
import re
import selectors
import shlex
import socket
import time
from collections.abc import Iterator

import pytest

from cutover.uvicorn_protocol import ServerSettings
from tests.servers import PROJECT_ROOT, Server, serve_uvicorn

pytestmark = pytest.mark.slow

APP = "tests.cutover.stub_asgi:app"
HEADER_TIMEOUT = 1.0
# Generous: the timer, event-loop lag on a loaded machine and this test's 0.1 s polling.
CLOSE_BOUND = 3 * HEADER_TIMEOUT + 1.0
TRICKLE_INTERVAL = 0.1
SLOW_HEADERS = b"GET / HTTP/1.1\r\nHost: test\r\nX-Slow: " + b"a" * 1000


def recommended_serve_flags() -> list[str]:
    """The uvicorn flags of `make run` (SERVE_FLAGS), so the test serves what operators run."""
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    match = re.search(r"^SERVE_FLAGS\s*:=((?:.*\\\n)*.*)$", makefile, re.MULTILINE)
    assert match is not None, "Makefile defines no SERVE_FLAGS"
    return shlex.split(match.group(1).replace("\\\n", " "))


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """The stub app on the recommended invocation, with a short header timeout for fast tests."""
    env = {"CUTOVER_HEADER_TIMEOUT": str(HEADER_TIMEOUT)}
    with serve_uvicorn(APP, *recommended_serve_flags(), env=env) as running:
        yield running


def connect(server: Server) -> socket.socket:
    """A raw loopback connection, to send exactly the bytes a test needs when it needs them."""
    return socket.create_connection(("127.0.0.1", server.port), timeout=CLOSE_BOUND)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response with a Content-Length body off a connection, leaving it usable."""
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a complete response: {buffer!r}")
        buffer += chunk
    head, _, body = buffer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    fields = (line.split(":", 1) for line in lines)
    headers = {name.lower(): value.strip() for name, value in fields}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the middle of the body")
        body += chunk
    return int(status_line.split()[1]), headers, body


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends before it closes, proving it does close."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def trickle(
    socks: list[socket.socket], start: float, until: float, closed: dict[socket.socket, float]
) -> None:
    """Trickle one header byte per interval on each open connection; note when each is closed."""
    selector = selectors.DefaultSelector()
    for sock in socks:
        if sock not in closed:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
    offset = int((time.monotonic() - start) / TRICKLE_INTERVAL)
    next_send = time.monotonic()
    while len(closed) < len(socks) and time.monotonic() < until:
        if time.monotonic() >= next_send:
            for sock in socks:
                if sock not in closed:
                    try:
                        sock.send(SLOW_HEADERS[offset : offset + 1])
                    except OSError:
                        closed[sock] = time.monotonic() - start
                        selector.unregister(sock)
            offset += 1
            next_send += TRICKLE_INTERVAL
        for key, _ in selector.select(TRICKLE_INTERVAL / 2):
            ready = key.fileobj
            assert isinstance(ready, socket.socket)
            try:
                data = ready.recv(65536)
            except OSError:
                data = b""
            assert data == b"", f"the server answered a trickling client: {data!r}"
            closed[ready] = time.monotonic() - start
            selector.unregister(ready)
    selector.close()


def request(server: Server, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send one raw request on a fresh connection and read its response."""
    with connect(server) as sock:
        sock.sendall(raw)
        return read_response(sock)


def test_default_limits_are_gunicorns_and_a_ten_second_header_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ServerSettings.model_fields:
        monkeypatch.delenv(f"CUTOVER_{name.upper()}", raising=False)
    defaults = ServerSettings(_env_file=None)
    assert defaults.header_timeout == 10.0
    assert (defaults.max_header_field_size, defaults.max_header_fields) == (8190, 100)
    assert defaults.max_header_bytes == 65536


def test_connection_trickling_header_bytes_is_closed_after_the_header_timeout(
    server: Server,
) -> None:
    sock = connect(server)
    start = time.monotonic()
    closed: dict[socket.socket, float] = {}
    with sock:
        trickle([sock], start, start + CLOSE_BOUND, closed)
    assert sock in closed, f"still open after {CLOSE_BOUND}s of trickled headers"
    assert HEADER_TIMEOUT / 2 <= closed[sock] <= CLOSE_BOUND


def test_connection_that_sends_nothing_is_closed_after_the_header_timeout(
    server: Server,
) -> None:
    with connect(server) as sock:
        start = time.monotonic()
        assert read_until_closed(sock) == b""
        assert HEADER_TIMEOUT / 2 <= time.monotonic() - start <= CLOSE_BOUND


def test_fifty_trickling_connections_are_all_closed_while_a_fresh_request_is_served(
    server: Server,
) -> None:
    socks = [connect(server) for _ in range(50)]
    start = time.monotonic()
    closed: dict[socket.socket, float] = {}
    try:
        trickle(socks, start, start + HEADER_TIMEOUT / 2, closed)
        assert closed == {}, "trickling connections were closed before the header timeout"
        status, _, body = request(server, b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        assert (status, body) == (200, b"ok")
        trickle(socks, start, start + CLOSE_BOUND, closed)
    finally:
        for sock in socks:
            sock.close()
    assert len(closed) == len(socks), f"{len(socks) - len(closed)} still open after {CLOSE_BOUND}s"
    assert max(closed.values()) <= CLOSE_BOUND


def header_line(name: bytes, line_size: int) -> bytes:
    """A `name: value` field line of `line_size` bytes counting its CRLF, as gunicorn counts."""
    return name + b": " + b"v" * (line_size - len(name) - 4) + b"\r\n"


def assert_refused_with_431(server: Server, raw: bytes) -> None:
    """431 with a small plain body and `Connection: close`, and then the server closes."""
    with connect(server) as sock:
        sock.sendall(raw)
        status, headers, body = read_response(sock)
        assert status == 431
        assert headers["connection"] == "close"
        assert headers["content-type"].startswith("text/plain")
        assert body == b"Request Header Fields Too Large"
        assert read_until_closed(sock) == b""


@pytest.mark.parametrize(("line_size", "status"), [(8190, 200), (8191, 431)])
def test_header_field_line_above_8190_bytes_gets_431_as_on_gunicorn(
    server: Server, line_size: int, status: int
) -> None:
    raw = b"GET / HTTP/1.1\r\nHost: test\r\n" + header_line(b"X-Big", line_size) + b"\r\n"
    if status == 431:
        assert_refused_with_431(server, raw)
    else:
        assert request(server, raw)[0] == status


@pytest.mark.parametrize(("fields", "status"), [(100, 200), (101, 431)])
def test_more_than_100_header_fields_get_431_as_on_gunicorn(
    server: Server, fields: int, status: int
) -> None:
    extra = b"".join(b"X-Field-%d: v\r\n" % index for index in range(fields - 1))
    raw = b"GET / HTTP/1.1\r\nHost: test\r\n" + extra + b"\r\n"
    if status == 431:
        assert_refused_with_431(server, raw)
    else:
        assert request(server, raw)[0] == status


def test_64_kib_header_field_gets_431(server: Server) -> None:
    assert_refused_with_431(
        server, b"GET / HTTP/1.1\r\nHost: test\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n"
    )


def test_header_block_above_max_header_bytes_gets_431_though_each_field_is_within_limits(
    server: Server,
) -> None:
    fields = b"".join(header_line(b"X-Field-%d" % index, 8000) for index in range(10))
    assert_refused_with_431(server, b"GET / HTTP/1.1\r\nHost: test\r\n" + fields + b"\r\n")


def test_oversized_headers_still_being_sent_get_the_431_not_a_reset(server: Server) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n")
        for index in range(200):  # 1.6 MB of valid fields, far past every limit
            sock.sendall(header_line(b"X-Field-%d" % index, 8000))
        status, headers, _ = read_response(sock)
        assert (status, headers["connection"]) == (431, "close")


def test_keep_alive_requests_with_slow_headers_each_get_a_fresh_header_timeout(
    server: Server,
) -> None:
    raw = b"GET / HTTP/1.1\r\nHost: test\r\nX-Request: slow\r\n\r\n"
    pieces = [raw[:10], raw[10:30], raw[30:]]
    start = time.monotonic()
    with connect(server) as sock:
        for _ in range(4):
            for piece in pieces:  # each request's headers take 0.6 x the timeout
                sock.sendall(piece)
                time.sleep(HEADER_TIMEOUT * 0.3)
            status, _, body = read_response(sock)
            assert (status, body) == (200, b"ok")
    assert time.monotonic() - start > 2 * HEADER_TIMEOUT


def test_slow_app_and_slow_response_body_are_not_cut_by_the_header_timeout(
    server: Server,
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=CLOSE_BOUND * 2)
    try:
        connection.request("GET", f"/sleep?seconds={2 * HEADER_TIMEOUT}")
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"slept")
        connection.request("GET", f"/stream?chunks=4&delay={HEADER_TIMEOUT / 2}")
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"0;1;2;3;")
    finally:
        connection.close()


def test_slow_request_body_is_not_cut_by_the_header_timeout(server: Server) -> None:
    body = b"12345678"
    with connect(server) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 8\r\n\r\n")
        for byte in body:  # 2.4 x the timeout
            time.sleep(HEADER_TIMEOUT * 0.3)
            sock.sendall(bytes([byte]))
        assert read_response(sock)[::2] == (200, body)


def test_malformed_request_still_gets_uvicorns_400(server: Server) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\nBad Header\r\n\r\n")
        assert read_response(sock)[0] == 400


def test_limits_follow_the_cutover_environment_variables() -> None:
    env = {
        "CUTOVER_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
        "CUTOVER_MAX_HEADER_FIELD_SIZE": "1000",
        "CUTOVER_MAX_HEADER_FIELDS": "10",
        "CUTOVER_MAX_HEADER_BYTES": "4000",
    }
    start = b"GET / HTTP/1.1\r\nHost: test\r\n"
    with serve_uvicorn(APP, *recommended_serve_flags(), env=env) as configured:
        assert request(configured, start + header_line(b"X-A", 1000) + b"\r\n")[0] == 200
        assert_refused_with_431(configured, start + header_line(b"X-A", 1001) + b"\r\n")
        fields = b"".join(b"X-F%d: v\r\n" % index for index in range(10))
        assert_refused_with_431(configured, start + fields + b"\r\n")
        block = b"".join(header_line(b"X-F%d" % index, 900) for index in range(5))
        assert_refused_with_431(configured, start + block + b"\r\n")
