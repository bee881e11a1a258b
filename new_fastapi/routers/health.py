"""Readiness for the control plane: ready only while the database answers."""

import anyio.to_thread
from fastapi import APIRouter, Request
from sqlalchemy import Engine

from shared_models.database import check_database

router = APIRouter(tags=["health"])


@router.get("/readyz")
async def readyz(request: Request) -> dict[str, str]:
    """200 while `SELECT 1` succeeds; an unreachable database raises into the 503 handler.

    The check runs on anyio's threads, not the endpoint pool, so a busy pool cannot fail it."""
    engine: Engine = request.app.state.engine
    await anyio.to_thread.run_sync(check_database, engine)
    return {"status": "ready"}
