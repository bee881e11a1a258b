"""A database that cannot be reached answers 503 + Retry-After on both sides, then recovers.

The outage test stops a PostgreSQL cluster of its own under the real gateways; the in-process
tests cover a pool checkout timeout, what counts as "unavailable" with the real drivers' errors,
and that a genuine SQL error still answers the 500 it did.
"""

import socket
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, closing
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
from fastapi import FastAPI
from flask import Flask
from sqlalchemy import Engine, create_engine, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from legacy_flask import create_app as create_legacy_app
from legacy_flask.extensions import db
from new_fastapi import create_app as create_new_app
from shared_models import Item, Settings, User, create_engine_for, make_sessionmaker
from shared_models.database import (
    POSTGRES_CONNECT_TIMEOUT_SECONDS,
    engine_options,
    install_engine_hooks,
    is_database_unavailable,
)
from shared_models.seed import DEMO_PASSWORD, seed
from shared_models.tokens import issue_token
from tests.database import reset_schema
from tests.reliability.pg_cluster import find_bin_dir, throwaway_cluster
from tests.servers import free_port, serve_uvicorn

UNAVAILABLE_BODY = b'{"error":"Database unavailable"}\n'
RETRY_AFTER = "1"
# How long the pool waits for a connection in the in-process tests (the default is 30 s).
SHORT_POOL_TIMEOUT = 0.1
LIMITED_POOL = {"pool_size": 1, "max_overflow": 0, "pool_timeout": SHORT_POOL_TIMEOUT}
# After the cluster is back, a route must answer 200 within this many tries, 0.1 s apart.
RECOVERY_ATTEMPTS = 100
# A connect that hangs past this is not bounded by connect_timeout (generous for a slow box).
HANG_BOUND_SECONDS = 30 * POSTGRES_CONNECT_TIMEOUT_SECONDS

PG_BIN = find_bin_dir()
needs_pg_binaries = pytest.mark.skipif(
    PG_BIN is None,
    reason="PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; set PG_BIN",
)


def assert_unavailable(response: httpx.Response) -> None:
    """The 503 both sides answer for an outage, exactly."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["retry-after"] == RETRY_AFTER
    assert response.content == UNAVAILABLE_BODY


# --- the outage, on real servers and a real cluster ----------------------------------------


def _seed(url: str) -> str:
    """The demo rows plus a bearer token for alice (user 1), on the cluster's fresh schema."""
    engine = create_engine_for(url)
    try:
        with make_sessionmaker(engine)() as session:
            seed(session)
            alice = session.scalars(select(User).where(User.username == "alice")).one()
            token, _ = issue_token(session, alice, 3600)
            session.commit()
    finally:
        engine.dispose()
    return token


Request = Callable[[httpx.Client], httpx.Response]


def _requests(token: str) -> dict[str, tuple[Request, int]]:
    """Routes that each need the database, and their status while it is up."""
    bearer = {"Authorization": f"Bearer {token}"}
    return {
        "GET /items/1": (lambda c: c.get("/items/1"), 200),
        "GET /api/users/1": (lambda c: c.get("/api/users/1"), 200),
        "GET /api/notes?since=0": (lambda c: c.get("/api/notes?since=0", headers=bearer), 200),
        "POST /api/notes": (
            lambda c: c.post("/api/notes", json={"title": "During"}, headers=bearer),
            201,
        ),
        "POST /items": (lambda c: c.post("/items", json={"name": "Bolt", "price": "1.50"}), 201),
        # Legacy-served on the reference gateway too: the login form looks the user up.
        "POST /admin/login": (
            lambda c: c.post("/admin/login", data={"username": "alice", "password": DEMO_PASSWORD}),
            302,
        ),
    }


def _answer_until_up(client: httpx.Client, request: Request, expected: int) -> int:
    """Tries until `request` answers `expected`; how many it took."""
    for attempt in range(1, RECOVERY_ATTEMPTS + 1):
        response = request(client)
        if response.status_code == expected:
            return attempt
        assert_unavailable(response)  # until then, only ever the outage answer
        time.sleep(0.1)
    raise AssertionError(f"still {response.status_code} after {RECOVERY_ATTEMPTS} tries")


@needs_pg_binaries
@pytest.mark.slow
def test_database_outage_answers_503_on_both_sides_and_recovers_without_restart() -> None:
    assert PG_BIN is not None
    with throwaway_cluster(PG_BIN) as cluster:
        reset_schema(cluster.url)
        token = _seed(cluster.url)
        requests = _requests(token)
        env = {"DATABASE_URL": cluster.url}
        with (
            serve_uvicorn("gateway:app", env=env) as reference,
            serve_uvicorn("tests.reliability.legacy_gateway:app", env=env) as legacy_only,
            httpx.Client(base_url=reference.url, timeout=30) as native,
            httpx.Client(base_url=legacy_only.url, timeout=30) as legacy,
        ):
            sides = {"reference gateway": native, "legacy-only gateway": legacy}
            for name, client in sides.items():
                for label, (request, expected) in requests.items():
                    assert request(client).status_code == expected, (name, label)
            ready = native.get("/readyz")
            assert (ready.status_code, ready.content) == (200, b'{"status":"ready"}\n')

            cluster.stop("fast")  # every pooled connection is now dead, new ones are refused
            for label, (request, _) in requests.items():
                legacy_answer, native_answer = request(legacy), request(native)
                assert_unavailable(legacy_answer)
                assert_unavailable(native_answer)
                assert native_answer.content == legacy_answer.content, label
            assert_unavailable(native.get("/readyz"))

            cluster.start()  # same port: the running gateways were never told anything
            assert _answer_until_up(native, lambda c: c.get("/readyz"), 200) >= 1
            for client in sides.values():
                for request, expected in requests.values():
                    assert _answer_until_up(client, request, expected) >= 1


# --- in process: the pool, and what counts as unavailable --------------------------------


@pytest.fixture
def item_id(db_session: Session) -> int:
    item = Item(name="Widget", price=Decimal("9.99"), is_available=True, tags=[])
    db_session.add(item)
    db_session.commit()
    return item.id


@asynccontextmanager
async def native_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the FastAPI app, run with its lifespan so its threads and engine are released."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://localhost") as client,
    ):
        yield client


@pytest.fixture
def limited_legacy(database_url: str) -> Iterator[Flask]:
    """The legacy app on a pool of one connection that waits SHORT_POOL_TIMEOUT for it."""
    options = {**engine_options(database_url), **LIMITED_POOL}
    app = create_legacy_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "SQLALCHEMY_ENGINE_OPTIONS": options}
    )
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def limited_native(database_url: str) -> Iterator[FastAPI]:
    """The FastAPI app with its engine drawing on a pool like `limited_legacy`'s."""
    app = create_new_app(Settings(database_url=database_url))
    limited = create_engine(database_url, **{**engine_options(database_url), **LIMITED_POOL})
    install_engine_hooks(limited)
    app.state.engine.pool.dispose()
    app.state.engine.pool = limited.pool  # the sessions are bound to this engine
    yield app
    limited.dispose()


def _legacy_engine(app: Flask) -> Engine:
    with app.app_context():
        engine: Engine = db.engine
        return engine


@pytest.mark.anyio
async def test_a_pool_checkout_timeout_answers_503_on_both_sides_then_recovers(
    item_id: int, limited_legacy: Flask, limited_native: FastAPI
) -> None:
    legacy = limited_legacy.test_client()
    path = f"/items/{item_id}"
    async with native_client(limited_native) as native:
        native_engine: Engine = limited_native.state.engine
        # The only connection of each pool is taken.
        with _legacy_engine(limited_legacy).connect(), native_engine.connect():
            legacy_answer = legacy.get(path)
            native_answer = await native.get(path)
            assert legacy_answer.status_code == native_answer.status_code == 503
            assert legacy_answer.headers["Retry-After"] == RETRY_AFTER
            assert legacy_answer.get_data() == native_answer.content == UNAVAILABLE_BODY
            assert_unavailable(native_answer)
            assert_unavailable(await native.get("/readyz"))
        legacy_answer = legacy.get(path)
        native_answer = await native.get(path)
        assert legacy_answer.status_code == native_answer.status_code == 200
        assert legacy_answer.get_data() == native_answer.content
        assert (await native.get("/readyz")).status_code == 200


def _raises(action: Callable[[], object]) -> DBAPIError:
    with pytest.raises(DBAPIError) as caught:
        action()
    return caught.value


def test_a_refused_connection_is_unavailable_only_with_the_shared_hooks() -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"  # nobody listens
    plain, shared = create_engine(url), create_engine_for(url)
    try:
        refused = _raises(shared.connect)
        assert isinstance(refused, OperationalError)
        assert "Connection refused" in str(refused.orig)
        assert is_database_unavailable(refused)
        # SQLAlchemy itself sees no disconnect in a connection that never opened.
        assert not is_database_unavailable(_raises(plain.connect))
    finally:
        plain.dispose()
        shared.dispose()


def test_a_server_that_never_answers_fails_the_connect_after_connect_timeout() -> None:
    outcome: list[BaseException] = []
    with socket.socket() as blackhole:  # accepts the TCP handshake, then never says a word
        blackhole.bind(("127.0.0.1", 0))
        blackhole.listen(8)
        host, port = blackhole.getsockname()
        engine = create_engine_for(f"postgresql+psycopg://postgres@{host}:{port}/test")

        def connect() -> None:
            try:
                engine.connect().close()
            except BaseException as exc:
                outcome.append(exc)

        attempt = threading.Thread(target=connect, daemon=True)
        attempt.start()
        attempt.join(HANG_BOUND_SECONDS)
        assert not attempt.is_alive(), "connect was not bounded by connect_timeout"
        engine.dispose()
    assert len(outcome) == 1 and isinstance(outcome[0], OperationalError)
    assert is_database_unavailable(outcome[0])


def test_a_connection_the_server_dropped_is_unavailable(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to drop a connection")
    with engine.connect() as victim, engine.connect() as admin:
        pid = victim.execute(text("SELECT pg_backend_pid()")).scalar_one()
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        dropped = _raises(lambda: victim.execute(text("SELECT 1")))
    assert isinstance(dropped, OperationalError)
    assert dropped.connection_invalidated
    assert is_database_unavailable(dropped)


def test_genuine_sql_errors_are_not_unavailable(clean_db: Engine) -> None:
    row = {"username": "dup", "email": "dup@example.com", "password_hash": "x"}
    with clean_db.begin() as connection:
        connection.execute(insert(User).values(**row))
    duplicate = _raises(lambda: _execute(clean_db, insert(User).values(**row)))
    assert isinstance(duplicate, IntegrityError)
    missing_table = _raises(lambda: _execute(clean_db, text("SELECT * FROM no_such_table")))
    assert not is_database_unavailable(duplicate)
    assert not is_database_unavailable(missing_table)  # OperationalError on SQLite


def _execute(engine: Engine, statement: Any) -> None:
    with engine.begin() as connection:
        connection.execute(statement)


def _sqlite_locked_errors(path: Path) -> list[DBAPIError]:
    """Real "database is locked" errors: from a statement, and from a connect's own pragmas."""
    with closing(sqlite3.connect(path, isolation_level=None)) as writer:
        writer.execute("CREATE TABLE t (x INTEGER)")
        writer.execute("BEGIN EXCLUSIVE")  # rollback-journal mode: nobody else may even read
        url = f"sqlite:///{path}"
        # Connecting runs `PRAGMA journal_mode=WAL`, which needs the lock: fails on connect.
        impatient = create_engine(url, connect_args={"timeout": 0})
        install_engine_hooks(impatient)
        at_connect = _raises(impatient.connect)
        impatient.dispose()
        # Without the hooks the connect succeeds and the statement fails.
        bare = create_engine(url, connect_args={"timeout": 0})
        at_statement = _raises(lambda: _execute(bare, text("SELECT * FROM t")))
        bare.dispose()
        writer.execute("ROLLBACK")
    return [at_connect, at_statement]


def test_sqlite_database_is_locked_is_not_unavailable(tmp_path: Path) -> None:
    for locked in _sqlite_locked_errors(tmp_path / "locked.db"):
        assert isinstance(locked, OperationalError)
        assert "database is locked" in str(locked.orig)
        assert not is_database_unavailable(locked)


@pytest.mark.anyio
async def test_a_genuine_database_error_still_answers_500_on_both_sides(tmp_path: Path) -> None:
    locked = _sqlite_locked_errors(tmp_path / "locked.db")[1]

    def fail() -> NoReturn:
        raise locked

    url = f"sqlite:///{tmp_path / 'app.db'}"
    legacy_app = create_legacy_app({"SQLALCHEMY_DATABASE_URI": url})
    legacy_app.add_url_rule("/locked", view_func=fail)
    native_app = create_new_app(Settings(database_url=url))
    native_app.add_api_route("/locked", fail, response_model=None)
    legacy_answer = legacy_app.test_client().get("/locked")
    async with native_client(native_app) as native:
        native_answer = await native.get("/locked")
    with legacy_app.app_context():
        db.engine.dispose()
    assert legacy_answer.status_code == native_answer.status_code == 500
    assert legacy_answer.headers["Content-Type"] == native_answer.headers["content-type"]
    assert legacy_answer.get_data() == native_answer.content
    assert native_answer.content.startswith(b"<!doctype html>")
    assert "retry-after" not in native_answer.headers


def test_engine_options_bound_postgres_connects_unless_the_url_says_otherwise() -> None:
    options = engine_options("postgresql+psycopg://u@h/db")
    assert options["connect_args"] == {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS}
    assert "connect_args" not in engine_options("postgresql+psycopg://u@h/db?connect_timeout=9")
    assert "connect_timeout" not in engine_options("sqlite:///x.db")["connect_args"]
