"""FlaskSessionReader reads the session Flask signed into its cookie, and nothing else."""

from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any

import pytest
from fastapi import FastAPI, Request
from flask import Flask, session

from cutover.compat import FlaskSessionReader
from tests.cutover.compat.client import call

pytestmark = pytest.mark.anyio


def _flask_session_cookie(app: Flask, data: dict[str, Any]) -> str:
    @app.get("/set-session-for-test")
    def set_session() -> str:
        session.update(data)
        return "ok"

    response = app.test_client().get("/set-session-for-test")
    # From the Set-Cookie header Flask sent: the test client's get_cookie is Werkzeug 2.3+.
    cookies = SimpleCookie()
    for header in response.headers.getlist("Set-Cookie"):
        cookies.load(header)
    assert "session" in cookies
    return cookies["session"].value


@pytest.fixture
def session_app() -> Flask:
    app = Flask("session_reference")
    app.secret_key = "compat-secret"
    return app


def test_session_reader_reads_what_flask_signed(session_app: Flask) -> None:
    data = {
        "user_id": 7,
        "pair": (1, "two"),
        "raw": b"\x00\xff",
        "when": datetime(2026, 1, 2, tzinfo=UTC),
    }
    cookie = _flask_session_cookie(session_app, data)
    assert FlaskSessionReader("compat-secret").load(cookie) == data


def test_session_reader_accepts_a_rotated_key(session_app: Flask) -> None:
    cookie = _flask_session_cookie(session_app, {"user_id": 1})
    reader = FlaskSessionReader("new-secret", fallback_keys=["compat-secret"])
    assert reader.load(cookie) == {"user_id": 1}


@pytest.mark.parametrize(
    "reader",
    [
        FlaskSessionReader("another-secret"),
        FlaskSessionReader("compat-secret", max_age=timedelta(seconds=-1)),
    ],
    ids=["wrong-secret", "expired"],
)
def test_session_reader_gives_an_empty_session_when_flask_would(
    session_app: Flask, reader: FlaskSessionReader
) -> None:
    cookie = _flask_session_cookie(session_app, {"user_id": 1})
    assert reader.load(cookie) == {}


@pytest.mark.parametrize("cookie", [None, "", "garbage", "eyJ1c2VyX2lkIjoxfQ.bad.sig"])
def test_session_reader_ignores_missing_and_forged_cookies(cookie: str | None) -> None:
    assert FlaskSessionReader("compat-secret").load(cookie) == {}


async def test_session_reader_from_request(session_app: Flask) -> None:
    cookie = _flask_session_cookie(session_app, {"user_id": 3})
    app = FastAPI()
    reader = FlaskSessionReader("compat-secret")

    @app.get("/whoami")
    async def whoami(request: Request) -> dict[str, Any]:
        return reader.from_request(request)

    assert (await call(app, "GET", "/whoami", headers={"Cookie": f"session={cookie}"})).json() == {
        "user_id": 3
    }
