"""Arranging users and tokens for the legacy API tests, and checks the tests share."""

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx
from sqlalchemy.orm import Session

from shared_models import User
from shared_models.passwords import hash_password
from shared_models.tokens import issue_token

PASSWORD = "correct horse"
HTTP_DATE = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT")


@dataclass(frozen=True)
class Account:
    """A user arranged in the database, with a live bearer token."""

    id: int
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@cache
def _password_hash() -> str:
    # Hashing is deliberately slow; one hash serves every arranged user.
    return hash_password(PASSWORD)


def create_account(session: Session, username: str, *, ttl_seconds: int = 3600) -> Account:
    """Insert a user (password PASSWORD) and a token for it, committed."""
    user = User(username=username, email=f"{username}@example.com", password_hash=_password_hash())
    session.add(user)
    token, _ = issue_token(session, user, ttl_seconds)
    session.commit()
    return Account(id=user.id, username=username, token=token)


def assert_error(response: httpx.Response, status: int, message: str) -> None:
    """A view's JSON error, exactly."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": message}


def assert_html(response: httpx.Response, status: int) -> None:
    """Werkzeug's own HTML error page, as for URLs and methods no view handles."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text.startswith("<!doctype html>")


def assert_http_date(value: Any) -> None:
    assert isinstance(value, str)
    assert HTTP_DATE.fullmatch(value), value


def send_json(
    client: httpx.Client, method: str, url: str, payload: Any, **kwargs: Any
) -> httpx.Response:
    """Send `payload` as Python's json module writes it: ASCII escapes (so lone surrogates
    survive) and NaN/Infinity literals, which httpx's own encoder refuses."""
    headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
    return client.request(method, url, content=json.dumps(payload), headers=headers, **kwargs)
