"""Flask's signed session cookie read by a port, so a user stays logged in across the cutover."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from fastapi import Request
from flask.json.tag import TaggedJSONSerializer
from itsdangerous import BadSignature, URLSafeTimedSerializer

__all__ = ["FLASK_SESSION_LIFETIME", "FlaskSessionReader"]

FLASK_SESSION_LIFETIME = timedelta(days=31)  # Flask's PERMANENT_SESSION_LIFETIME default
_FLASK_SESSION_SALT = "cookie-session"


class FlaskSessionReader:
    """Reads the session a Flask app with `secret_key` signed into its cookie.

    Mirrors `flask.sessions.SecureCookieSessionInterface`: itsdangerous' URL-safe timed
    serializer, salt "cookie-session", HMAC key derivation over SHA-1, Flask's tagged JSON.
    """

    def __init__(
        self,
        secret_key: str,
        *,
        fallback_keys: Sequence[str] = (),
        cookie_name: str = "session",
        max_age: timedelta = FLASK_SESSION_LIFETIME,
    ) -> None:
        self.cookie_name = cookie_name
        self.max_age = int(max_age.total_seconds())
        self._serializer = URLSafeTimedSerializer(
            [*fallback_keys, secret_key],
            salt=_FLASK_SESSION_SALT,
            serializer=TaggedJSONSerializer(),
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
        )

    def load(self, cookie_value: str | None) -> dict[str, Any]:
        """The session data, or an empty session when the cookie is absent, forged or expired."""
        if not cookie_value:
            return {}
        try:
            data = self._serializer.loads(cookie_value, max_age=self.max_age)
        except BadSignature:
            return {}
        return dict(data) if isinstance(data, dict) else {}

    def from_request(self, request: Request) -> dict[str, Any]:
        """The session of `request`, read from its cookie."""
        return self.load(request.cookies.get(self.cookie_name))
