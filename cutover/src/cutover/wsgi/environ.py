"""Build the PEP 3333 environ gunicorn would build, from an ASGI HTTP scope."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import unquote_to_bytes

Environ = dict[str, Any]

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

    WSGIApp: TypeAlias = WSGIApplication
else:
    WSGIApp = Callable[..., Iterable[bytes]]

# Request headers that are not passed on as HTTP_* keys.
_SPECIAL_KEYS = {b"content-type": "CONTENT_TYPE", b"content-length": "CONTENT_LENGTH"}
_KEY_CACHE_LIMIT = 1024
_key_cache: dict[bytes, str | None] = {}


def _server_software() -> str:
    try:
        return f"cutover/{version('cutover')}"
    except PackageNotFoundError:
        return "cutover"


SERVER_SOFTWARE = _server_software()
"""The default `SERVER_SOFTWARE`: some apps sniff it, so it names what really serves them."""


def environ_key(name: bytes) -> str | None:
    """The environ key for a lowercase header name; None drops it, as gunicorn drops `_` names."""
    key = _key_cache.get(name)
    if key is not None or name in _key_cache:
        return key
    if b"_" in name:
        # X_Forwarded_For would otherwise merge into HTTP_X_FORWARDED_FOR and spoof it.
        key = None
    else:
        key = _SPECIAL_KEYS.get(name) or "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
    if len(_key_cache) < _KEY_CACHE_LIMIT:
        _key_cache[name] = key
    return key


def _path_info(scope: Mapping[str, Any], script_name: str) -> str:
    """PATH_INFO from the raw request path, percent-decoded to latin-1 as gunicorn does."""
    decoded: str = scope["path"]
    raw_path: bytes | None = scope.get("raw_path")
    path: str
    if raw_path is None:
        path = decoded.encode("utf-8").decode("latin-1")
    elif b"%" in raw_path:
        path = unquote_to_bytes(raw_path).decode("latin-1")
    else:
        path = raw_path.decode("latin-1")
        if path != decoded:
            # A middleware rewrote the path; the rewritten one is what the app must route.
            path = decoded.encode("utf-8").decode("latin-1")
    if script_name and path.startswith(script_name):
        return path[len(script_name) :]
    return path


def _split_host(host: str, scheme: str) -> tuple[str, str]:
    name, sep, port = host.rpartition(":")
    if sep and "]" not in port:
        return name, port
    return host, "443" if scheme == "https" else "80"


def build_environ(
    scope: Mapping[str, Any],
    trust_proxy_headers: bool = False,
    server_software: str = SERVER_SOFTWARE,
) -> Environ:
    """A WSGI environ for `scope`, without `wsgi.input` (the bridge supplies the body).

    Header values lose the optional whitespace around them (RFC 9110 5.5), which uvicorn's
    httptools parser leaves at the end and gunicorn strips.
    """
    scheme: str = scope.get("scheme", "http")
    root_path: str = scope.get("root_path", "")
    script_name = root_path.encode("utf-8").decode("latin-1") if root_path else ""
    query: str = scope["query_string"].decode("latin-1")
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
    raw_uri = raw_path.decode("latin-1")
    if query:
        raw_uri = raw_uri + "?" + query
    environ: Environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": script_name,
        "PATH_INFO": _path_info(scope, script_name),
        "QUERY_STRING": query,
        "RAW_URI": raw_uri,
        "REQUEST_URI": raw_uri,
        "SERVER_PROTOCOL": "HTTP/" + scope["http_version"],
        "SERVER_SOFTWARE": server_software,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
    }
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"] = client[0]
        environ["REMOTE_PORT"] = str(client[1])
    repeated: dict[str, list[str]] | None = None
    for name, value in scope["headers"]:
        key = environ_key(name)
        if key is None:
            continue
        text = value.decode("latin-1").strip(" \t")
        if key in environ:
            if repeated is None:
                repeated = {}
            repeated.setdefault(key, [environ[key]]).append(text)
        else:
            environ[key] = text
    if repeated:
        for key, values in repeated.items():
            # Cookie is the one field whose repeats join with "; " (RFC 9113 8.2.3).
            environ[key] = ("; " if key == "HTTP_COOKIE" else ",").join(values)
    server = scope.get("server")
    if server and server[1] is not None:
        environ["SERVER_NAME"] = server[0]
        environ["SERVER_PORT"] = str(server[1])
    else:
        host = environ.get("HTTP_HOST")
        if host:
            environ["SERVER_NAME"], environ["SERVER_PORT"] = _split_host(host, scheme)
        else:
            environ["SERVER_NAME"] = server[0] if server else "localhost"
            environ["SERVER_PORT"] = ""
    if trust_proxy_headers:
        apply_proxy_headers(environ)
    return environ


def apply_proxy_headers(environ: Environ) -> None:
    """Take client address and scheme from the nearest proxy's X-Forwarded-For/-Proto."""
    forwarded_for = environ.get("HTTP_X_FORWARDED_FOR")
    if forwarded_for:
        nearest = forwarded_for.rsplit(",", 1)[-1].strip()
        if nearest:
            environ["REMOTE_ADDR"] = nearest
            environ.pop("REMOTE_PORT", None)
    forwarded_proto = environ.get("HTTP_X_FORWARDED_PROTO")
    if forwarded_proto:
        proto = forwarded_proto.rsplit(",", 1)[-1].strip().lower()
        if proto in ("http", "https"):
            environ["wsgi.url_scheme"] = proto
