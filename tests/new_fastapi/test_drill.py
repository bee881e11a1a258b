"""The brake's fire drill: off by default; on, a failed path answers 500 until the drill ends."""

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from new_fastapi import create_app
from shared_models import Settings

pytestmark = pytest.mark.anyio


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost")


def make_app(tmp_path: Path, *, drill: bool) -> FastAPI:
    return create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", drill_enabled=drill))


async def test_the_drill_is_off_unless_enabled(tmp_path: Path) -> None:
    app = make_app(tmp_path, drill=False)
    async with client(app) as http:
        answer = await http.post("/_drill/fail", json={"path": "/api/hello"})
    app.state.engine.dispose()
    assert answer.status_code == 404


async def test_a_drilled_path_fails_until_the_drill_ends(tmp_path: Path) -> None:
    app = make_app(tmp_path, drill=True)
    async with client(app) as http:
        before = await http.get("/api/hello")
        started = await http.post("/_drill/fail", json={"path": "/api/{name}"})
        failed = await http.get("/api/hello")
        other = await http.get("/health")
        ended = await http.delete("/_drill/fail")
        after = await http.get("/api/hello")
    app.state.engine.dispose()
    assert before.status_code == 200
    assert started.json() == {"failed": ["/api/{name}"]}
    assert (failed.status_code, failed.json()) == (500, {"error": "drill: failed on purpose"})
    assert other.status_code != 500
    assert ended.json() == {"failed": []}
    assert after.status_code == 200
