"""The same requests to gunicorn and to the bridge on uvicorn must look the same to a client."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.servers import Server, serve_gunicorn, serve_uvicorn

pytestmark = pytest.mark.slow

# Headers each server writes for itself, or that describe the connection rather than the resource.
CONNECTION_HEADERS = frozenset(("date", "server", "connection", "keep-alive", "transfer-encoding"))


@dataclass(frozen=True)
class Seen:
    """What a client can observe of a response, with the server's own port masked."""

    status: int
    headers: dict[str, list[str]]
    body: bytes


def observe(response: httpx.Response, port: int) -> Seen:
    """The comparable view of `response`, received from a server listening on `port`."""
    headers: dict[str, list[str]] = {}
    for name, value in response.headers.multi_items():
        name = name.lower()
        if name in CONNECTION_HEADERS:
            continue
        if name == "allow":
            # Werkzeug builds Allow from a set, so its order differs from process to process.
            value = ", ".join(sorted(value.split(", ")))
        headers.setdefault(name, []).append(value.replace(str(port), "PORT"))
    body = response.content.replace(str(port).encode(), b"PORT")
    if "content-length" in headers:
        headers["content-length"] = [str(len(body))]
    return Seen(response.status_code, headers, body)


def fetch(base_url: str, port: int, method: str, path: str, **kwargs: Any) -> Seen:
    """Send one request on a fresh connection and observe the response."""
    with httpx.Client(base_url=base_url, timeout=30, follow_redirects=False) as client:
        return observe(client.request(method, path, **kwargs), port)


def raw_exchange(port: int, request: bytes, responses: int = 1) -> list[bytes]:
    """Write `request` bytes on one socket and read back `responses` HTTP responses."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        buffer = b""
        found: list[bytes] = []
        while len(found) < responses:
            head_end = buffer.find(b"\r\n\r\n")
            if head_end >= 0:
                head = buffer[:head_end].decode("latin-1").lower()
                length = 0
                for line in head.split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name == "content-length":
                        length = int(value)
                total = head_end + 4 + length
                if len(buffer) >= total:
                    found.append(buffer[:total])
                    buffer = buffer[total:]
                    continue
            data = sock.recv(65536)
            if not data:
                break
            buffer += data
        return found


def status_and_body(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    """Split a raw response into its status line, lowercase headers and body."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers, body


FLASK = "tests.cutover.stub_apps:flask_app"
PLAIN = "tests.cutover.stub_apps:plain_wsgi_app"
# gunicorn trusts X-Forwarded-Proto from loopback by default; the bridge trusts nothing unless
# told to, so gunicorn is told its only trusted proxy is elsewhere (TEST-NET-1).
UNTRUSTING = ("--forwarded-allow-ips", "192.0.2.1")


# The bridge in each legacy mode: in the gateway's process, and in a worker process of its own.
BRIDGE_MODES = {"in-process": "bridged", "out-of-process": "remote"}


@pytest.fixture(scope="module", params=list(BRIDGE_MODES))
def flask_pair(request: pytest.FixtureRequest) -> Iterator[tuple[Server, Server]]:
    bridge = f"tests.cutover.stub_apps:{BRIDGE_MODES[request.param]}_flask"
    with (
        serve_gunicorn(FLASK, *UNTRUSTING) as direct,
        serve_uvicorn(bridge, "--factory") as bridged,
    ):
        yield direct, bridged


@pytest.fixture(scope="module", params=list(BRIDGE_MODES))
def plain_pair(request: pytest.FixtureRequest) -> Iterator[tuple[Server, Server]]:
    bridge = f"tests.cutover.stub_apps:{BRIDGE_MODES[request.param]}_plain"
    with (
        serve_gunicorn(PLAIN) as direct,
        serve_uvicorn(bridge, "--factory") as bridged,
    ):
        yield direct, bridged


MULTIPART_FILES = {"document": ("résumé.txt", "naïve text\n" * 50, "text/plain")}
# Above the bridge's buffered-body limit, so the app's thread streams it from the loop.
LARGE_MULTIPART_FILES = {"blob": ("blob.bin", bytes(range(256)) * 12288, "application/x-data")}
FLASK_CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("tiny-json", "GET", "/json", {}),
    ("non-ascii-json", "GET", "/unicode", {}),
    ("strict-slash-308", "GET", "/dir", {}),
    ("strict-slash-308-keeps-query", "GET", "/dir?a=1", {}),
    ("directory", "GET", "/dir/", {}),
    ("automatic-head", "HEAD", "/methods", {}),
    ("automatic-options", "OPTIONS", "/methods", {}),
    ("post", "POST", "/methods", {}),
    ("html-405", "PUT", "/methods", {}),
    ("html-404", "GET", "/missing", {}),
    ("multiple-set-cookie", "GET", "/cookies", {}),
    ("custom-headers-and-status", "GET", "/custom-headers", {}),
    ("relative-redirect-location-kept", "GET", "/relative-redirect", {}),
    ("urlencoded-form", "POST", "/form", {"data": {"name": "Zoë", "tag": ["a", "b"]}}),
    ("multipart-upload", "POST", "/upload", {"files": MULTIPART_FILES, "data": {"k": "v"}}),
    ("large-multipart-upload", "POST", "/upload", {"files": LARGE_MULTIPART_FILES}),
    ("json-body", "POST", "/echo-json", {"json": {"text": "日本語", "n": [1, 2]}}),
    (
        "chunked-json-body",
        "POST",
        "/echo-json",
        {
            "content": [b'{"chunked": ', b'"yes"}'],
            "headers": {"Content-Type": "application/json"},
        },
    ),
    ("repeated-query-params", "GET", "/query?tag=a&tag=b&x=%C3%A9&empty=", {}),
    ("percent-encoded-path", "GET", "/environ/caf%C3%A9/a%20b/%FF%2F", {}),
    ("app-500-on-exception", "GET", "/boom", {}),
    ("cookie-header", "GET", "/cookie-echo", {"headers": {"Cookie": "a=1; b=two"}}),
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [pytest.param(m, p, k, id=name) for name, m, p, k in FLASK_CASES],
)
def test_flask_responses_match_gunicorn(
    flask_pair: tuple[Server, Server], method: str, path: str, kwargs: dict[str, Any]
) -> None:
    direct, bridged = flask_pair
    expected = fetch(direct.url, direct.port, method, path, **_fresh(kwargs))
    seen = fetch(bridged.url, bridged.port, method, path, **_fresh(kwargs))
    assert seen == expected


def _fresh(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Request arguments with a chunk list turned into a fresh iterator (a chunked body)."""
    if "content" in kwargs and isinstance(kwargs["content"], list):
        return {**kwargs, "content": iter(kwargs["content"])}
    return kwargs


def test_chunked_request_body_reaches_flask(flask_pair: tuple[Server, Server]) -> None:
    _, bridged = flask_pair
    seen = fetch(
        bridged.url,
        bridged.port,
        "POST",
        "/echo-json",
        content=iter([b'{"a": ', b"[1, 2]}"]),
        headers={"Content-Type": "application/json"},
    )
    assert json.loads(seen.body)["received"] == {"a": [1, 2]}


ENVIRON_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("plain", "/environ", {}),
    ("query-and-path", "/environ/x%20y?b=2&a=1&b=3", {}),
    (
        "forwarded-headers-untouched",
        "/environ",
        {
            "headers": {
                "X-Forwarded-For": "203.0.113.7, 198.51.100.2",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "public.example",
            }
        },
    ),
    ("custom-host", "/environ", {"headers": {"Host": "legacy.example:8443"}}),
    ("host-without-port", "/environ", {"headers": {"Host": "legacy.example"}}),
    ("repeated-header", "/environ", {"headers": [("X-Repeated", "one"), ("X-Repeated", "two")]}),
    (
        "underscore-header-dropped",
        "/environ",
        {"headers": [("X-Forwarded-For", "198.51.100.1"), ("X_Forwarded_For", "10.0.0.1")]},
    ),
    ("form-content-headers", "/environ", {"data": {"a": "b"}}),
]


@pytest.mark.parametrize(
    ("path", "kwargs"), [pytest.param(p, k, id=name) for name, p, k in ENVIRON_CASES]
)
def test_environ_matches_gunicorn(
    flask_pair: tuple[Server, Server], path: str, kwargs: dict[str, Any]
) -> None:
    direct, bridged = flask_pair
    method = "POST" if "data" in kwargs else "GET"
    expected = fetch(direct.url, direct.port, method, path, **kwargs)
    seen = fetch(bridged.url, bridged.port, method, path, **kwargs)
    assert json.loads(seen.body) == json.loads(expected.body)
    assert seen == expected


def test_environ_carries_raw_uri_and_client(flask_pair: tuple[Server, Server]) -> None:
    _, bridged = flask_pair
    seen = fetch(bridged.url, bridged.port, "GET", "/environ/a%2Fb%FF?q=%20")
    environ = json.loads(seen.body)["environ"]
    assert environ["RAW_URI"] == "/environ/a%2Fb%FF?q=%20"
    assert environ["PATH_INFO"] == "/environ/a/b\u00ff"
    assert environ["REMOTE_ADDR"] == "127.0.0.1"
    assert environ["wsgi.input_terminated"] is True


@pytest.mark.parametrize(
    "path", ["/hop-by-hop", "/declared-length", "/missing", "/errors"], ids=lambda p: p[1:]
)
def test_plain_wsgi_responses_match_gunicorn(plain_pair: tuple[Server, Server], path: str) -> None:
    direct, bridged = plain_pair
    expected = fetch(direct.url, direct.port, "GET", path)
    seen = fetch(bridged.url, bridged.port, "GET", path)
    assert seen == expected


def test_app_exception_answers_gunicorn_500(plain_pair: tuple[Server, Server]) -> None:
    direct, bridged = plain_pair
    expected = fetch(direct.url, direct.port, "GET", "/raise")
    seen = fetch(bridged.url, bridged.port, "GET", "/raise")
    assert (seen.status, seen.body) == (500, expected.body)
    assert seen.headers["content-type"] == expected.headers["content-type"]
    assert fetch(bridged.url, bridged.port, "GET", "/declared-length").body == b"hello"


def test_buffered_response_without_length_is_chunked_as_gunicorn_sends_it(
    plain_pair: tuple[Server, Server],
) -> None:
    direct, bridged = plain_pair
    request = b"GET /no-length HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    expected_head, expected_body = raw_until_close(direct.port, request)
    seen_head, seen_body = raw_until_close(bridged.port, request)
    # Chunk boundaries carry no meaning: gunicorn writes one per WSGI item, the bridge fewer.
    assert dechunk(seen_body) == dechunk(expected_body) == b"hello world"
    for head in (expected_head, seen_head):
        assert head["transfer-encoding"] == "chunked"
        assert "content-length" not in head


def dechunk(body: bytes) -> bytes:
    """The payload of a chunked body, checking it ends with the last chunk."""
    payload = b""
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            assert body == b"\r\n"
            return payload
        payload += body[:size]
        assert body[size : size + 2] == b"\r\n"
        body = body[size + 2 :]


def raw_until_close(port: int, request: bytes) -> tuple[dict[str, str], bytes]:
    """Write `request` and read until the server closes: lowercase headers and the raw body."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        buffer = b""
        while data := sock.recv(65536):
            buffer += data
    _, headers, body = status_and_body(buffer)
    return headers, body


def test_declared_content_length_is_respected(plain_pair: tuple[Server, Server]) -> None:
    _, bridged = plain_pair
    [raw] = raw_exchange(
        bridged.port, b"GET /declared-length HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    _, headers, body = status_and_body(raw)
    assert headers["content-length"] == "5"
    assert "transfer-encoding" not in headers
    assert body == b"hello"


def test_http10_request_is_answered_and_closed(flask_pair: tuple[Server, Server]) -> None:
    direct, bridged = flask_pair
    request = b"GET /json HTTP/1.0\r\nHost: legacy\r\n\r\n"
    [expected] = raw_exchange(direct.port, request)
    [seen] = raw_exchange(bridged.port, request)
    expected_status, _, expected_body = status_and_body(expected)
    status, headers, body = status_and_body(seen)
    # uvicorn always answers with its own version, HTTP/1.1, which RFC 9110 allows.
    assert (status[9:], body) == (expected_status[9:], expected_body)
    assert headers.get("connection") == "close"


def test_keep_alive_serves_several_requests_on_one_connection(
    flask_pair: tuple[Server, Server],
) -> None:
    _, bridged = flask_pair
    request = b"GET /json HTTP/1.1\r\nHost: legacy\r\n\r\n"
    responses = raw_exchange(
        bridged.port,
        request * 2 + request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"),
        responses=3,
    )
    assert [status_and_body(r)[2] for r in responses] == [b'{"ok":true}\n'] * 3
    assert "connection" not in status_and_body(responses[0])[1]


def test_two_cookie_headers_are_joined_as_one_cookie_list(
    flask_pair: tuple[Server, Server],
) -> None:
    _, bridged = flask_pair
    seen = fetch(
        bridged.url,
        bridged.port,
        "GET",
        "/cookie-echo",
        headers=[("Cookie", "a=1"), ("Cookie", "b=2")],
    )
    assert json.loads(seen.body) == {"a": "1", "b": "2"}


def test_script_name_comes_from_root_path() -> None:
    # uvicorn's --root-path means a proxy stripped the prefix; gunicorn sees the whole path.
    with (
        serve_gunicorn(FLASK, *UNTRUSTING, env={"SCRIPT_NAME": "/legacy"}) as direct,
        serve_uvicorn(
            "tests.cutover.stub_apps:bridged_flask", "--factory", "--root-path", "/legacy"
        ) as bridged,
    ):
        expected = fetch(direct.url, direct.port, "GET", "/legacy/environ/x")
        seen = fetch(bridged.url, bridged.port, "GET", "/environ/x")
        environ = json.loads(seen.body)["environ"]
        assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == ("/legacy", "/environ/x")
        assert seen == expected
