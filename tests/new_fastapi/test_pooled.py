"""Sync endpoints run in one job on the app's worker pool, which also closes their session."""

import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Annotated, Any

import anyio.to_thread
import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from cutover.compat import ApiError, install_legacy_errors
from cutover.worker_pool import WorkerPool
from new_fastapi import create_app
from new_fastapi.pooled import PooledRoute
from shared_models import Item, Settings, User

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def get(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        return await client.get(path)


@pytest.fixture
def thread_hops(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The functions sent to anyio's thread pool while the test runs."""
    hops: list[object] = []
    run_sync = anyio.to_thread.run_sync

    async def recording(function: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(function)
        return await run_sync(function, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", recording)
    return hops


async def test_db_reads_take_no_anyio_hop_and_give_the_connection_back(
    database_url: str, db_session: Session, thread_hops: list[object]
) -> None:
    db_session.add(User(username="alice", email="alice@example.com", password_hash="x"))
    db_session.add(Item(name="Widget", price=Decimal("9.99"), tags=["tools"]))
    db_session.commit()
    app = create_app(Settings(database_url=database_url))
    async with app.router.lifespan_context(app):
        for path in ("/items/1", "/api/users/1", "/items/2"):
            response = await get(app, path)
            assert response.status_code == (404 if path == "/items/2" else 200)
            assert app.state.engine.pool.checkedout() == 0
    assert thread_hops == []


@pytest.fixture
def memory_engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    yield engine
    engine.dispose()


@pytest.fixture
def pooled_app(memory_engine: Engine) -> Iterator[FastAPI]:
    """An app whose sync endpoints say which thread ran them and whether a session is open."""
    opened: list[Session] = []

    async def session() -> Session:
        opened.append(Session(memory_engine))
        return opened[-1]

    router = APIRouter(route_class=PooledRoute)

    @router.get("/thread")
    def thread(db: Annotated[Session, Depends(session)]) -> dict[str, Any]:
        db.execute(text("SELECT 1"))
        return {"name": threading.current_thread().name, "open": db.in_transaction()}

    @router.get("/own-request/{value}")
    def own_request(value: int, request: Request) -> dict[str, Any]:
        return {"value": value, "path": request.url.path}

    @router.get("/missing")
    def missing() -> None:
        raise ApiError(404, "Nothing here")

    app = FastAPI()
    install_legacy_errors(app)
    app.include_router(router)
    app.state.worker_pool = WorkerPool(4, name="test-endpoints")
    app.state.opened = opened
    yield app
    app.state.worker_pool.close()


async def test_sync_endpoint_runs_on_the_app_pool_and_closes_its_session(
    pooled_app: FastAPI, thread_hops: list[object]
) -> None:
    response = await get(pooled_app, "/thread")
    assert response.json() == {"name": "test-endpoints-0", "open": True}
    [session] = pooled_app.state.opened
    assert not session.in_transaction()
    assert thread_hops == []


async def test_an_endpoint_keeps_its_own_request_and_parameters(pooled_app: FastAPI) -> None:
    response = await get(pooled_app, "/own-request/7")
    assert response.json() == {"value": 7, "path": "/own-request/7"}


async def test_errors_raised_in_the_pool_reach_the_handlers(pooled_app: FastAPI) -> None:
    response = await get(pooled_app, "/missing")
    assert (response.status_code, response.json()) == (404, {"error": "Nothing here"})


async def test_the_added_request_parameter_is_not_documented(pooled_app: FastAPI) -> None:
    operation = (await get(pooled_app, "/openapi.json")).json()["paths"]["/thread"]["get"]
    assert "parameters" not in operation
    assert operation["operationId"] == "thread_thread_get"
