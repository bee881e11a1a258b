"""The dashboard's session cookies: signed with a key derived from the admin token, so any
process with the token accepts them; forged, expired or other-token cookies are refused."""

from __future__ import annotations

from cutover.dashboard.session import SESSION_SECONDS, Sessions, cookie_header, read_cookie


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_issued_by_one_process_is_accepted_by_another_with_the_token() -> None:
    cookie = Sessions("token-a").issue()
    session = Sessions("token-a").verify(cookie)
    assert session is not None
    assert Sessions("token-a").verify(cookie) == session  # the same CSRF token everywhere
    assert session.csrf and session.csrf not in cookie


def test_forged_tampered_and_other_token_cookies_are_refused() -> None:
    sessions = Sessions("token-a")
    cookie = sessions.issue()
    session_id, expiry, signature = cookie.split(".")
    assert sessions.verify(None) is None
    assert sessions.verify("") is None
    assert sessions.verify("garbage") is None
    assert sessions.verify(f"{session_id}.{int(expiry) + 10**6}.{signature}") is None
    assert sessions.verify(f"other.{expiry}.{signature}") is None
    assert sessions.verify(f"{session_id}.{expiry}.{signature[:-1]}x") is None
    assert Sessions("token-b").verify(cookie) is None  # a new token ends every session


def test_a_session_ends_after_its_lifetime() -> None:
    clock = Clock()
    sessions = Sessions("token", clock=clock)
    cookie = sessions.issue()
    clock.now += SESSION_SECONDS - 1
    assert sessions.verify(cookie) is not None
    clock.now += 1
    assert sessions.verify(cookie) is None


def test_csrf_tokens_are_per_session_and_compared_exactly() -> None:
    sessions = Sessions("token")
    first = sessions.verify(sessions.issue())
    second = sessions.verify(sessions.issue())
    assert first is not None and second is not None
    assert first.csrf != second.csrf
    assert sessions.csrf_matches(first, first.csrf)
    assert not sessions.csrf_matches(first, second.csrf)
    assert not sessions.csrf_matches(first, "")


def test_the_token_check() -> None:
    sessions = Sessions("right")
    assert sessions.token_matches("right")
    assert not sessions.token_matches("wrong")
    assert not sessions.token_matches("")


def test_cookie_attributes_and_reading() -> None:
    name, value = cookie_header("cutover_session", "abc", "/_cutover/", 60)
    assert name == b"set-cookie"
    parts = value.decode().split("; ")
    assert parts[0] == "cutover_session=abc"
    assert {"Path=/_cutover/", "Max-Age=60", "Secure", "HttpOnly", "SameSite=Strict"} <= set(parts)
    headers = [(b"cookie", b"a=1; cutover_session=xyz; b=2")]
    assert read_cookie(headers, "cutover_session") == "xyz"
    assert read_cookie(headers, "missing") is None
