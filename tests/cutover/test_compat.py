"""The compat layer answers with the bytes Flask and Werkzeug themselves produce."""

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Body, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from flask import Flask, jsonify, session
from flask import request as flask_request
from markupsafe import Markup
from pydantic import BaseModel

from cutover.compat import (
    ApiError,
    AutomaticHeadOptions,
    BodySizeLimit,
    FlaskDateTime,
    FlaskSessionReader,
    LegacyJSONResponse,
    first_query_value,
    flask_form,
    flask_json_body,
    install_legacy_errors,
    slash_redirect,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def call(app: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request to an ASGI app, exceptions answered by the app, redirects not followed."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        return await client.request(method, path, **kwargs)


@dataclass
class Point:
    x: int
    label: str


PAYLOADS: list[Any] = [
    {"b": 1, "a": [True, False, None], "é": "zoë ✓ 😀", "nested": {"z": 1, "y": {"k": "v"}}},
    {"aware": datetime(2026, 11, 25, 14, 36, 2, tzinfo=timezone(timedelta(hours=1)))},
    {"naive": datetime(2026, 11, 25, 13, 36, 2), "day": date(2026, 1, 2)},
    {"price": Decimal("9.90"), "tiny": Decimal("1E-7"), "id": uuid.UUID(int=7)},
    {"point": Point(1, "p"), "html": Markup("<b>x</b>")},
    {"nan": math.nan, "inf": math.inf, "neg": -math.inf, "big": 10**30, "f": 0.1},
    ["a", 1, {"z": None}],
    "just a string",
    None,
    {"escapes": '"\\/\n\t\x00\u2028'},
]


@pytest.fixture(scope="module")
def flask_app() -> Flask:
    app = Flask("compat_reference")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.secret_key = "compat-secret"
    return app


@pytest.mark.parametrize("payload", PAYLOADS)
def test_legacy_json_is_flask_jsonify_byte_for_byte(flask_app: Flask, payload: Any) -> None:
    with flask_app.app_context():
        expected = jsonify(payload)
    response = LegacyJSONResponse(payload)
    assert response.body == expected.get_data()
    assert response.headers["content-type"] == expected.headers["Content-Type"]


def test_ascii_escaping_is_a_class_switch_like_flask_default() -> None:
    class AsciiJSONResponse(LegacyJSONResponse):
        ensure_ascii = True

    flask_default = Flask("ascii_reference")
    with flask_default.app_context():
        expected = jsonify(word="zoë")
    assert (
        AsciiJSONResponse({"word": "zoë"}).body == expected.get_data() == b'{"word":"zo\\u00eb"}\n'
    )


def test_unknown_types_fail_like_flask() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        LegacyJSONResponse({"x": object()})


class Stamped(BaseModel):
    at: FlaskDateTime
    price: Decimal


async def test_flask_datetime_in_a_response_model(flask_app: Flask) -> None:
    app = FastAPI(default_response_class=LegacyJSONResponse)
    at = datetime(2026, 11, 25, 13, 36, 2, tzinfo=UTC)

    @app.get("/stamped", response_model=Stamped)
    async def stamped() -> Stamped:
        return Stamped(at=at, price=Decimal("24.50"))

    with flask_app.app_context():
        expected = jsonify(at=at, price=Decimal("24.50")).get_data()
    assert (await call(app, "GET", "/stamped")).content == expected
    assert expected == b'{"at":"Wed, 25 Nov 2026 13:36:02 GMT","price":"24.50"}\n'


# --- Flask's session cookie ------------------------------------------------------------


def _flask_session_cookie(app: Flask, data: dict[str, Any]) -> str:
    @app.get("/set-session-for-test")
    def set_session() -> str:
        session.update(data)
        return "ok"

    client = app.test_client()
    client.get("/set-session-for-test")
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


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


# --- errors ------------------------------------------------------------------------------


class Thing(BaseModel):
    name: str


def _errors_app(**options: Any) -> FastAPI:
    app = FastAPI(redirect_slashes=False)
    install_legacy_errors(app, **options)

    @app.get("/things/{thing_id:int}")
    async def get_thing(thing_id: int) -> dict[str, int]:
        if thing_id == 0:
            raise ApiError(409, "Conflict", headers={"X-Why": "zero"}, current={"id": 0})
        return {"id": thing_id}

    @app.post("/things")
    async def create_thing(thing: Annotated[Thing, Body()]) -> dict[str, str]:
        return {"name": thing.name}

    @app.delete("/things")
    async def boom() -> None:
        raise RuntimeError("unhandled")

    return app


@pytest.fixture(scope="module")
def flask_reference() -> Flask:
    app = Flask("errors_reference")

    @app.get("/things/<int:thing_id>")
    def get_thing(thing_id: int) -> Any:
        return jsonify(id=thing_id)

    @app.delete("/things")
    def boom() -> Any:
        raise RuntimeError("unhandled")

    return app


async def test_api_error_is_the_legacy_json_shape() -> None:
    response = await call(_errors_app(), "GET", "/things/0")
    assert response.status_code == 409
    assert response.content == b'{"current":{"id":0},"error":"Conflict"}\n'
    assert response.headers["x-why"] == "zero"


async def test_error_body_is_the_apps_choice() -> None:
    app = _errors_app(error_body=lambda message: {"detail": {"msg": message}})
    assert (await call(app, "GET", "/things/0")).json() == {
        "current": {"id": 0},
        "detail": {"msg": "Conflict"},
    }


async def test_validation_errors_get_the_legacy_status_and_message() -> None:
    app = _errors_app(validation_message="Invalid input")
    response = await call(app, "POST", "/things", json={"name": 5})
    assert response.status_code == 400
    assert response.content == b'{"error":"Invalid input"}\n'


async def test_validation_message_callable_sees_route_and_errors() -> None:
    seen: list[tuple[str, list[str]]] = []

    def message(request: Request, exc: RequestValidationError) -> str:
        route_name = request.scope["route"].name
        seen.append((route_name, [error["type"] for error in exc.errors()]))
        return f"bad {route_name}"

    app = _errors_app(validation_message=message, validation_status=422)
    headers = {"Content-Type": "application/json"}
    response = await call(app, "POST", "/things", content=b"{", headers=headers)
    assert response.status_code == 422
    assert response.json() == {"error": "bad create_thing"}
    assert seen == [("create_thing", ["json_invalid"])]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nowhere"), ("GET", "/things/x"), ("GET", "/things/1/"), ("PUT", "/things/1")],
)
async def test_framework_errors_are_werkzeugs_pages(
    flask_reference: Flask, method: str, path: str
) -> None:
    expected = flask_reference.test_client().open(path, method=method)
    response = await call(_errors_app(), method, path)
    assert response.status_code == expected.status_code
    assert response.content == expected.get_data()
    assert response.headers["content-type"] == expected.headers["Content-Type"]
    if expected.status_code == 405:
        allowed = {m.strip() for m in expected.headers["Allow"].split(",")}
        assert {m.strip() for m in response.headers["allow"].split(",")} == allowed


async def test_unhandled_exception_is_flasks_500_page(flask_reference: Flask) -> None:
    expected = flask_reference.test_client().delete("/things")
    response = await call(_errors_app(), "DELETE", "/things")
    assert response.status_code == expected.status_code == 500
    assert response.content == expected.get_data()
    assert response.headers["content-type"] == expected.headers["Content-Type"]


# --- reading input as Flask does --------------------------------------------------------

BODIES = [
    ("application/json", b'{"a": 1}'),
    ("application/json; charset=utf-8", b'{"a": 1}'),
    ("APPLICATION/JSON", b"[1, 2]"),
    ("application/merge-patch+json", b'"s"'),
    ("application/json", b"{broken"),
    ("application/json", b'{"a": "\xff"}'),
    ("application/json", b'\xef\xbb\xbf{"bom": true}'),
    ("application/json", b'{"n": NaN}'),
    ("application/json", b""),
    ("text/plain", b'{"a": 1}'),
    ("application/x-www-form-urlencoded", b"a=1"),
    (None, b'{"a": 1}'),
]


@pytest.mark.parametrize(("content_type", "body"), BODIES)
async def test_json_body_as_flask_silent_get_json(
    flask_app: Flask, content_type: str | None, body: bytes
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    with flask_app.test_request_context("/", method="POST", data=body, headers=headers):
        expected = flask_request.get_json(silent=True)

    app = FastAPI()

    @app.post("/")
    async def echo(request: Request) -> dict[str, Any]:
        return {"data": await flask_json_body(request)}

    got = (await call(app, "POST", "/", content=body, headers=headers)).json()["data"]
    if isinstance(expected, dict) and isinstance(expected.get("n"), float):
        assert math.isnan(expected["n"])  # NaN reaches both; JSON can't carry it back here
        expected = got = None
    assert got == expected


@pytest.mark.parametrize("query", ["", "q=1", "q=1&q=2", "q=&q=2", "q", "x=1", "q=%C3%A9+a"])
async def test_first_query_value_as_flask_args_get(flask_app: Flask, query: str) -> None:
    with flask_app.test_request_context(f"/?{query}"):
        expected = flask_request.args.get("q", "default")
    app = FastAPI()

    @app.get("/")
    async def read(request: Request) -> dict[str, str | None]:
        return {"q": first_query_value(request, "q", "default")}

    assert (await call(app, "GET", f"/?{query}")).json() == {"q": expected}


# --- methods, redirects and size limits ---------------------------------------------------


def _methods_app() -> FastAPI:
    app = FastAPI()

    @app.get("/res")
    async def read() -> dict[str, int]:
        return {"n": 1}

    @app.post("/res")
    async def write() -> dict[str, int]:
        return {"n": 2}

    @app.get("/dir/")
    async def directory() -> dict[str, str]:
        return {"at": "dir"}

    @app.get("/dir", include_in_schema=False)
    async def directory_without_slash(request: Request) -> Any:
        return slash_redirect(request)

    app.add_middleware(AutomaticHeadOptions, routes=app.router.routes)
    return app


async def test_head_runs_get_without_a_body() -> None:
    get = await call(_methods_app(), "GET", "/res")
    head = await call(_methods_app(), "HEAD", "/res")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]


async def test_options_answers_like_flask() -> None:
    response = await call(_methods_app(), "OPTIONS", "/res")
    assert response.status_code == 200
    assert response.content == b""
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    assert (await call(_methods_app(), "OPTIONS", "/nowhere")).status_code == 404


async def test_slash_redirect_is_werkzeugs() -> None:
    flask_reference = Flask("redirect_reference")
    flask_reference.add_url_rule("/dir/", "dir", lambda: "x")
    expected = flask_reference.test_client().get("/dir?a=1&b=%C3%A9")
    response = await call(_methods_app(), "GET", "/dir?a=1&b=%C3%A9")
    assert response.status_code == expected.status_code == 308
    assert response.headers["location"] == expected.headers["Location"]
    assert response.content == expected.get_data()


async def test_body_over_the_limit_is_werkzeugs_413() -> None:
    flask_reference = Flask("limit_reference")
    flask_reference.config["MAX_CONTENT_LENGTH"] = 10

    @flask_reference.post("/")
    def upload() -> Any:
        return jsonify(size=len(flask_request.get_data()))

    app = FastAPI()

    @app.post("/")
    async def upload_native(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    limited = BodySizeLimit(app, max_content_length=10)
    expected = flask_reference.test_client().post("/", data=b"x" * 11)
    response = await call(limited, "POST", "/", content=b"x" * 11)
    assert response.status_code == expected.status_code == 413
    assert response.content == expected.get_data()
    assert (await call(limited, "POST", "/", content=b"x" * 10)).json() == {"size": 10}


async def test_json_nested_too_deep_is_no_data_instead_of_flasks_500() -> None:
    app = FastAPI()

    @app.post("/")
    async def echo(request: Request) -> dict[str, Any]:
        return {"data": await flask_json_body(request)}

    headers = {"Content-Type": "application/json"}
    response = await call(app, "POST", "/", content=b"[" * 100_000, headers=headers)
    assert response.json() == {"data": None}


FORMS: list[tuple[str, bytes]] = [
    ("application/x-www-form-urlencoded", b"a=1&a=2&b=&c=%FF%zz+x&d=%E2%9C%93"),
    ("application/x-www-form-urlencoded; charset=utf-8", b"a"),
    ("text/plain", b"a=1"),
    (
        "multipart/form-data; boundary=XX",
        b'--XX\r\nContent-Disposition: form-data; name="a"\r\n\r\nzo\xc3\xab\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="f"; filename="f.txt"\r\n\r\ndata\r\n'
        b"--XX--\r\n",
    ),
    ("multipart/form-data; boundary=XX", b"--XX\r\nbroken"),
]


async def _native_form(content_type: str, body: bytes) -> httpx.Response:
    app = FastAPI()

    @app.post("/")
    async def form(request: Request) -> dict[str, list[str]]:
        parsed = await flask_form(request)
        return {name: parsed.getlist(name) for name in parsed}

    install_legacy_errors(app)
    return await call(app, "POST", "/", content=body, headers={"Content-Type": content_type})


@pytest.mark.parametrize(("content_type", "body"), FORMS)
async def test_form_as_flask_request_form(flask_app: Flask, content_type: str, body: bytes) -> None:
    with flask_app.test_request_context(
        "/", method="POST", data=body, headers={"Content-Type": content_type}
    ):
        expected = {name: flask_request.form.getlist(name) for name in flask_request.form}
    assert (await _native_form(content_type, body)).json() == expected


@pytest.mark.parametrize(
    "body",
    [
        b'--XX\r\nContent-Disposition: form-data; name="a"\r\n\r\n'
        + b"x" * 500_001
        + b"\r\n--XX--\r\n",
        b"".join(
            b'--XX\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nv\r\n' % n
            for n in range(1_001)
        )
        + b"--XX--\r\n",
    ],
    ids=["part-too-large", "too-many-parts"],
)
async def test_form_limits_are_flasks_413(body: bytes) -> None:
    content_type = "multipart/form-data; boundary=XX"
    flask_app = Flask("form_limit_reference")

    @flask_app.post("/form-limit-test")
    def read_form() -> Any:
        return jsonify(dict(flask_request.form))

    expected = flask_app.test_client().post(
        "/form-limit-test", data=body, headers={"Content-Type": content_type}
    )
    response = await _native_form(content_type, body)
    assert response.status_code == expected.status_code == 413
    assert response.content == expected.get_data()
