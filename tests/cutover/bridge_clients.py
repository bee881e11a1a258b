"""Client helpers for the bridge tests: comparable responses and raw HTTP/1.x exchanges."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

import httpx

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
