"""The FastAPI app: wiring only; the endpoints live in `routers/`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from cutover.compat import (
    AutomaticHeadOptions,
    FlaskSessionReader,
    LegacyJSONResponse,
    install_legacy_errors,
)
from cutover.wsgi import WorkerPool
from new_fastapi.database import Database
from new_fastapi.direct import include_router
from new_fastapi.drill import install_drill
from new_fastapi.errors import install_database_errors
from new_fastapi.messages import legacy_validation_message
from new_fastapi.routers import (
    admin,
    comments,
    health,
    internal,
    items,
    main,
    notes,
    posts,
    tokens,
    users,
)
from shared_models import Settings, create_engine_for, get_settings, make_sessionmaker


def create_app(settings: Settings | None = None) -> FastAPI:
    """An app with its own engine, upstream client and threads, usable with or without lifespan."""
    settings = settings or get_settings()
    engine = create_engine_for(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    http_client = httpx.AsyncClient(timeout=settings.upstream_timeout)
    # Each thread holds at most one connection, so as many threads as connections never wait.
    connections = settings.db_pool_size + settings.db_max_overflow
    worker_pool = WorkerPool(
        settings.endpoint_threads or connections,
        max_queue=settings.endpoint_queue_size,
        max_wait=settings.endpoint_queue_timeout,
        name="cutover-endpoints",
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await http_client.aclose()
        worker_pool.close()
        engine.dispose()

    app = FastAPI(
        title="cutover ports",
        lifespan=lifespan,
        redirect_slashes=False,  # Flask answers 404 for an extra slash, never a redirect
        default_response_class=LegacyJSONResponse,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.database = Database(make_sessionmaker(engine), worker_pool)
    app.state.http_client = http_client
    app.state.flask_session = FlaskSessionReader(settings.secret_key)
    install_legacy_errors(app, validation_message=legacy_validation_message)
    install_database_errors(app)
    app.add_middleware(AutomaticHeadOptions, routes=app.router.routes)
    for module in (main, users, tokens, notes, posts, comments, items, internal, admin, health):
        include_router(app, module.router)
    if settings.drill_enabled:
        install_drill(app)
    return app
