"""The dashboard's login session: a cookie any gateway process can verify, signed with a key
derived from the admin token, so no session storage is shared (and a new token ends them all).

A session is `<id>.<expiry>.<signature>`; its CSRF token is another HMAC of the id, so every
form of the session carries the same hidden value and nothing is stored either."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

SESSION_COOKIE = "cutover_session"
LOGIN_COOKIE = "cutover_login"  # the login form's own CSRF nonce (before there is a session)
SESSION_SECONDS = 12 * 3600
LOGIN_SECONDS = 3600
_KEY_LABEL = b"cutover dashboard session v1"

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Session:
    """A verified session: its id, when it ends, and the CSRF token its forms carry."""

    id: str
    expires: int
    csrf: str


class Sessions:
    """Issues and verifies session cookies and CSRF tokens for bearers of `token`."""

    def __init__(self, token: str, *, clock: Clock = time.time) -> None:
        self._key = hmac.new(token.encode(), _KEY_LABEL, hashlib.sha256).digest()
        self._token = token.encode()
        self._clock = clock

    def token_matches(self, given: str) -> bool:
        """Constant-time: whatever was typed takes the same path as the right token."""
        return hmac.compare_digest(given.encode(), self._token)

    def issue(self) -> str:
        """A new session cookie value, valid for SESSION_SECONDS."""
        session_id = secrets.token_urlsafe(18)
        expires = int(self._clock()) + SESSION_SECONDS
        payload = f"{session_id}.{expires}"
        return f"{payload}.{self._sign('session', payload)}"

    def verify(self, cookie: str | None) -> Session | None:
        """The session of a cookie value, or None when it is missing, forged or expired."""
        if not cookie:
            return None
        session_id, _, rest = cookie.partition(".")
        expiry, _, signature = rest.partition(".")
        payload = f"{session_id}.{expiry}"
        if not hmac.compare_digest(signature.encode(), self._sign("session", payload).encode()):
            return None
        if not expiry.isdigit() or int(expiry) <= self._clock():
            return None
        return Session(session_id, int(expiry), self._sign("csrf", session_id))

    def csrf_matches(self, session: Session, given: str) -> bool:
        return hmac.compare_digest(given.encode(), session.csrf.encode())

    def nonce_matches(self, cookie: str, given: str) -> bool:
        """The login form's hidden nonce is the one its cookie holds (double submit)."""
        return hmac.compare_digest(given.encode(), cookie.encode())

    def login_nonce(self) -> str:
        """A fresh nonce for the login form: in its cookie and in its hidden field."""
        return secrets.token_urlsafe(18)

    def _sign(self, purpose: str, payload: str) -> str:
        digest = hmac.new(self._key, f"{purpose}:{payload}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def cookie_header(name: str, value: str, path: str, max_age: int) -> tuple[bytes, bytes]:
    """A Set-Cookie header: Secure, HttpOnly, SameSite=Strict, scoped to the dashboard's path
    (browsers keep Secure cookies of http://localhost and 127.0.0.1: secure contexts)."""
    attributes = [f"{name}={value}", f"Path={path}", f"Max-Age={max_age}"]
    attributes += ["Secure", "HttpOnly", "SameSite=Strict"]
    return b"set-cookie", "; ".join(attributes).encode("latin-1")


def read_cookie(headers: list[tuple[bytes, bytes]], name: str) -> str | None:
    """The value of cookie `name` in the request headers (the first one sent)."""
    wanted = name.encode("latin-1")
    for header, value in headers:
        if header != b"cookie":
            continue
        for part in value.split(b";"):
            key, _, found = part.strip().partition(b"=")
            if key == wanted:
                return found.decode("latin-1")
    return None
