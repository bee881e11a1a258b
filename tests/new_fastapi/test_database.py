"""Each request's database work runs as one job on the endpoint pool, its session opened and
closed inside it, so no request holds a connection while it waits for a thread."""

import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import anyio
import anyio.to_thread
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from cutover import Gateway
from legacy_flask import create_app as create_legacy_app
from legacy_flask.extensions import db
from new_fastapi import create_app
from new_fastapi.database import BUSY_MESSAGE
from shared_models import Item, Note, Settings
from tests.legacy.helpers import Account, create_account

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://localhost") as client,
    ):
        yield client


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


@pytest.fixture
def account(db_session: Session) -> Account:
    account = create_account(db_session, "alice")
    db_session.add(Note(owner_id=account.id, change_seq=1, title="Call Bob", body=""))
    db_session.add(Item(name="Widget", price=Decimal("9.99"), tags=["tools"]))
    db_session.commit()
    return account


class ConnectionLog:
    """Which thread checked each connection out and in, and which ran each statement."""

    def __init__(self, engine: Engine) -> None:
        self.events: list[tuple[str, str]] = []
        for name in ("checkout", "checkin"):
            event.listen(engine.pool, name, self._recorder(name))
        event.listen(engine, "before_cursor_execute", self._recorder("execute"))

    def _recorder(self, name: str) -> Any:
        def record(*_args: Any, **_kwargs: Any) -> None:
            self.events.append((name, threading.current_thread().name))

        return record


async def test_an_authenticated_write_is_one_job_holding_one_connection(
    database_url: str, account: Account, thread_hops: list[object]
) -> None:
    app = create_app(Settings(database_url=database_url))
    log = ConnectionLog(app.state.engine)
    async with running(app) as client:
        response = await client.put(
            "/api/notes/1", headers=account.headers, json={"version": 1, "title": "Call Carol"}
        )
        assert response.status_code == 200, response.text
        assert app.state.engine.pool.checkedout() == 0
    kinds = [kind for kind, _ in log.events]
    # The token lookup, the note, the counter and the update: one checkout, given back in-job.
    assert kinds[0] == "checkout" and kinds[-1] == "checkin" and kinds.count("checkout") == 1
    assert kinds.count("execute") >= 4
    [thread] = {thread for _, thread in log.events}
    assert thread.startswith("cutover-endpoints")
    assert thread_hops == []


async def test_reads_take_no_anyio_hop_and_give_the_connection_back(
    database_url: str, account: Account, thread_hops: list[object]
) -> None:
    app = create_app(Settings(database_url=database_url))
    async with running(app) as client:
        for path, status in (("/items/1", 200), ("/api/users/1", 200), ("/items/2", 404)):
            response = await client.get(path)
            assert response.status_code == status
            assert app.state.engine.pool.checkedout() == 0
        response = await client.get("/api/notes?since=0", headers=account.headers)
        assert response.json()["cursor"] == "1"
    assert thread_hops == []


@pytest.fixture
def one_thread_app(database_url: str) -> Iterator[FastAPI]:
    """The ports on one endpoint thread, a queue of one and a short wait, to overload at will."""
    settings = Settings(
        database_url=database_url,
        endpoint_threads=1,
        endpoint_queue_size=1,
        endpoint_queue_timeout=0.5,
    )
    yield create_app(settings)


async def test_work_the_pool_cannot_take_is_answered_503_with_retry_after(
    one_thread_app: FastAPI, account: Account
) -> None:
    release = threading.Event()
    pool = one_thread_app.state.database.pool
    async with running(one_thread_app) as client:
        assert pool.submit(release.wait)  # the only thread is busy
        try:
            async with anyio.create_task_group() as group:
                answers: list[httpx.Response] = []

                async def get(path: str) -> None:
                    answers.append(await client.get(path))

                group.start_soon(get, "/items/1")  # queued: expires after the wait
                await anyio.sleep(0.1)
                shed = await client.get("/api/users/1")  # the queue is full: shed at once
        finally:
            release.set()
        [expired] = answers
        for response in (shed, expired):
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "1"
            assert response.json() == {"error": BUSY_MESSAGE}
        assert (pool.shed_count, pool.expired_count) == (1, 1)
        assert (await client.get("/items/1")).status_code == 200


def test_every_worker_thread_on_either_side_can_hold_a_connection(database_url: str) -> None:
    """Threads and connections are sized together, so no thread ever waits for a connection."""
    native = create_app(Settings(database_url=database_url))
    legacy = create_legacy_app({"SQLALCHEMY_DATABASE_URI": database_url})
    gateway = Gateway.from_settings(legacy, native)
    try:
        native_pool = native.state.engine.pool
        assert native.state.database.pool.size == native_pool.size() + native_pool._max_overflow
        with legacy.app_context():
            legacy_pool = db.engine.pool
            assert gateway.bridge.pool.size <= legacy_pool.size() + legacy_pool._max_overflow
    finally:
        gateway.bridge.close()
        native.state.database.pool.close()
        native.state.engine.dispose()
        with legacy.app_context():
            db.engine.dispose()
