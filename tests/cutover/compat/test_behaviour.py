"""Flask's automatic HEAD and OPTIONS, strict-slash redirect and body-size 413."""

from typing import Any

import pytest
from fastapi import FastAPI, Request
from flask import Flask, jsonify
from flask import request as flask_request

from cutover.compat import AutomaticHeadOptions, BodySizeLimit, slash_redirect
from tests.cutover.compat.client import call

pytestmark = pytest.mark.anyio


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

    # The reference reads a form: werkzeug before 2.3 enforces MAX_CONTENT_LENGTH only when it
    # parses one, werkzeug 2.3+ whenever the body is read.
    @flask_reference.post("/")
    def upload() -> Any:
        return jsonify(fields=len(flask_request.form))

    app = FastAPI()

    @app.post("/")
    async def upload_native(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    limited = BodySizeLimit(app, max_content_length=10)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    expected = flask_reference.test_client().post("/", data=b"x" * 11, headers=form)
    response = await call(limited, "POST", "/", content=b"x" * 11, headers=form)
    assert response.status_code == expected.status_code == 413
    assert response.content == expected.get_data()
    assert (await call(limited, "POST", "/", content=b"x" * 10)).json() == {"size": 10}
