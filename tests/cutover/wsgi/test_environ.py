"""The environ gunicorn would build: URIs, server name and port, repeated headers, proxies."""

from __future__ import annotations

from cutover.wsgi import build_environ
from tests.cutover.wsgi.inprocess import http_scope


def test_environ_has_raw_uri_and_request_uri() -> None:
    environ = build_environ(http_scope(path="/a%2Fb/%C3%A9?x=%20&y"))
    assert environ["RAW_URI"] == environ["REQUEST_URI"] == "/a%2Fb/%C3%A9?x=%20&y"
    assert environ["PATH_INFO"] == "/a/b/\xc3\xa9"


def test_environ_on_a_unix_socket_takes_server_name_from_host() -> None:
    scope = http_scope(headers=[("Host", "legacy.example:8443")])
    scope["server"] = ("/run/app.sock", None)
    environ = build_environ(scope)
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("legacy.example", "8443")
    scope["headers"] = [(b"host", b"legacy.example")]
    assert build_environ(scope)["SERVER_PORT"] == "80"


def test_environ_joins_cookies_and_drops_underscored_names() -> None:
    headers = [("Cookie", "a=1"), ("Cookie", "b=2"), ("X-Real", "1"), ("X_Real", "2")]
    environ = build_environ(http_scope(headers=headers))
    assert environ["HTTP_COOKIE"] == "a=1; b=2"
    assert environ["HTTP_X_REAL"] == "1"


def test_environ_trusting_proxies_uses_the_nearest_hop() -> None:
    headers = [("X-Forwarded-For", "198.51.100.1, 203.0.113.5"), ("X-Forwarded-Proto", "https")]
    trusted = build_environ(http_scope(headers=headers), trust_proxy_headers=True)
    untrusted = build_environ(http_scope(headers=headers))
    assert (trusted["REMOTE_ADDR"], trusted["wsgi.url_scheme"]) == ("203.0.113.5", "https")
    assert (untrusted["REMOTE_ADDR"], untrusted["wsgi.url_scheme"]) == ("127.0.0.1", "http")
