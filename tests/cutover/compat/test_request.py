"""Input read as Flask's request object reads it: JSON body, query arguments and forms."""

import math
from importlib.metadata import version
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from flask import Flask, jsonify
from flask import request as flask_request
from packaging.version import Version

from cutover.compat import (
    LegacyJSONResponse,
    first_query_value,
    flask_form,
    flask_json_body,
    install_legacy_errors,
)
from tests.cutover.compat.client import call

pytestmark = pytest.mark.anyio

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
    async def echo(request: Request) -> LegacyJSONResponse:
        # Rendered as jsonify does, NaN included; Starlette's JSONResponse refuses NaN.
        return LegacyJSONResponse({"data": await flask_json_body(request)})

    got = (await call(app, "POST", "/", content=body, headers=headers)).json()["data"]
    if isinstance(expected, dict) and isinstance(expected.get("n"), float):
        assert math.isnan(expected["n"]) and math.isnan(got["n"])  # NaN equals nothing
    else:
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


# Flask 3.1 added MAX_FORM_MEMORY_SIZE (500 kB): before it, werkzeug's Request reads a form part
# of any size. MAX_FORM_PARTS (1000 parts) is werkzeug's own since 2.2.3, the lowest supported.
FLASK_LIMITS_PART_SIZE = Version(version("flask")) >= Version("3.1")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (
            b'--XX\r\nContent-Disposition: form-data; name="a"\r\n\r\n'
            + b"x" * 500_001
            + b"\r\n--XX--\r\n",
            413 if FLASK_LIMITS_PART_SIZE else 200,
        ),
        (
            b"".join(
                b'--XX\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nv\r\n' % n
                for n in range(1_001)
            )
            + b"--XX--\r\n",
            413,
        ),
    ],
    ids=["part-too-large", "too-many-parts"],
)
async def test_form_limits_are_flasks(body: bytes, status: int) -> None:
    content_type = "multipart/form-data; boundary=XX"
    flask_app = Flask("form_limit_reference")

    @flask_app.post("/form-limit-test")
    def read_form() -> Any:
        return jsonify({name: flask_request.form.getlist(name) for name in flask_request.form})

    expected = flask_app.test_client().post(
        "/form-limit-test", data=body, headers={"Content-Type": content_type}
    )
    response = await _native_form(content_type, body)
    assert response.status_code == expected.status_code == status
    if status == 413:
        assert response.content == expected.get_data()
    else:
        assert response.json() == expected.get_json()
