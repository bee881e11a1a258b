"""What reaches the legacy app, and what reaches the client, is what gunicorn would give them."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import pytest

from cutover.wsgi import SERVER_SOFTWARE
from tests.cutover.wsgi.test_differential import dechunk, status_and_body
from tests.servers import Server, serve_gunicorn, serve_uvicorn

pytestmark = pytest.mark.slow

FLASK = "tests.cutover.stub_apps:flask_app"
UNTRUSTING = ("--forwarded-allow-ips", "192.0.2.1")
WAIT = 15.0


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[Server, Server]]:
    with (
        serve_gunicorn(FLASK, *UNTRUSTING) as direct,
        serve_uvicorn("tests.cutover.stub_apps:bridged_flask", "--factory") as bridged,
    ):
        yield direct, bridged


def exchange(port: int, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Write raw `request` bytes (which must ask to close) and read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        sock.sendall(request)
        buffer = b""
        while data := sock.recv(65536):
            buffer += data
    return status_and_body(buffer)


def seen_header(port: int, raw_line: bytes) -> str | None:
    """The X-Custom value the app sees when the request carries `raw_line` verbatim."""
    request = b"GET /environ HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s\r\n\r\n" % raw_line
    _, _, body = exchange(port, request)
    value: str | None = json.loads(body)["environ"]["HTTP_X_CUSTOM"]
    return value


@pytest.mark.parametrize(
    "raw_line",
    [
        b"X-Custom:   padded value  ",
        b"X-Custom:\tpadded value\t \t",
        b"X-Custom: inner  space kept",
        b"X-Custom:    ",
    ],
    ids=["spaces", "tabs", "inner-whitespace", "only-whitespace"],
)
def test_header_value_whitespace_reaches_flask_as_gunicorn_gives_it(
    pair: tuple[Server, Server], raw_line: bytes
) -> None:
    direct, bridged = pair
    assert seen_header(bridged.port, raw_line) == seen_header(direct.port, raw_line)


def test_server_software_names_the_gateway(pair: tuple[Server, Server]) -> None:
    direct, bridged = pair
    gunicorn = httpx.get(f"{direct.url}/server-software", timeout=WAIT).json()
    ours = httpx.get(f"{bridged.url}/server-software", timeout=WAIT).json()
    assert gunicorn["SERVER_SOFTWARE"].startswith("gunicorn/")
    assert ours["SERVER_SOFTWARE"] == SERVER_SOFTWARE
    assert SERVER_SOFTWARE.startswith("cutover/")


def test_server_software_is_configurable_from_the_environment() -> None:
    env = {"CUTOVER_SERVER_SOFTWARE": "gunicorn/23.0.0"}
    with serve_uvicorn(
        "tests.cutover.stub_gateways:settings_gateway", "--factory", env=env
    ) as server:
        seen = httpx.get(f"{server.url}/server-software", timeout=WAIT).json()
    assert seen == {"SERVER_SOFTWARE": "gunicorn/23.0.0"}


@pytest.mark.parametrize("size", [5, 100_000], ids=["tiny", "within-the-buffer"])
def test_generator_response_without_length_stays_chunked_like_gunicorn(
    pair: tuple[Server, Server], size: int
) -> None:
    direct, bridged = pair
    request = b"GET /download?size=%d HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % size
    expected_status, expected, expected_body = exchange(direct.port, request)
    status, seen, body = exchange(bridged.port, request)
    assert status == expected_status == "HTTP/1.1 200 OK"
    for headers in (expected, seen):
        assert headers["transfer-encoding"] == "chunked"
        assert "content-length" not in headers
    assert dechunk(body) == dechunk(expected_body) == b"d" * size


def test_generator_response_to_http10_is_delimited_without_chunks(
    pair: tuple[Server, Server],
) -> None:
    # gunicorn closes to end the body; uvicorn would send chunks a 1.0 client cannot read, so
    # the bridge gives the length instead.
    direct, bridged = pair
    request = b"GET /download?size=5 HTTP/1.0\r\nHost: t\r\n\r\n"
    _, expected, expected_body = exchange(direct.port, request)
    _, seen, body = exchange(bridged.port, request)
    assert "transfer-encoding" not in expected
    assert "transfer-encoding" not in seen
    assert seen["content-length"] == "5"
    assert body == expected_body == b"ddddd"


def test_flask_responses_keep_their_own_content_length(pair: tuple[Server, Server]) -> None:
    direct, bridged = pair
    request = b"GET /json HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    _, expected, expected_body = exchange(direct.port, request)
    _, seen, body = exchange(bridged.port, request)
    assert seen["content-length"] == expected["content-length"] == str(len(body))
    assert "transfer-encoding" not in seen
    assert body == expected_body
