"""Greeting and site-wide counters."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cutover.compat import slash_redirect
from new_fastapi import crud
from new_fastapi.deps import DatabaseDep
from new_fastapi.schemas import Message, Stats

router = APIRouter(tags=["main"])


@router.get("/api/hello", response_model=Message)
async def hello() -> Message:
    return Message(message="Hello, World!")


@router.get("/api/stats/", response_model=Stats)
async def stats(db: DatabaseDep) -> Stats:
    return await db.run(crud.stats)


@router.get("/api/stats", include_in_schema=False)
async def stats_without_slash(request: Request) -> Response:
    """Flask's strict-slashes redirect for a rule ending in a slash."""
    return slash_redirect(request)
