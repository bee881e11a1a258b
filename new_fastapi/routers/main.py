"""Greeting and site-wide counters."""

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from cutover.compat import slash_redirect
from new_fastapi.deps import SessionDep
from new_fastapi.pooled import PooledRoute
from new_fastapi.schemas import Message, Stats
from shared_models import Item, Post, User

router = APIRouter(tags=["main"], route_class=PooledRoute)


@router.get("/api/hello", response_model=Message)
async def hello() -> Message:
    return Message(message="Hello, World!")


@router.get("/api/stats/", response_model=Stats)
def stats(session: SessionDep) -> Stats:
    published = select(func.count()).select_from(Post).where(Post.published.is_(True))
    return Stats(
        items=session.scalar(select(func.count()).select_from(Item)) or 0,
        posts=session.scalar(published) or 0,
        users=session.scalar(select(func.count()).select_from(User)) or 0,
    )


@router.get("/api/stats", include_in_schema=False)
async def stats_without_slash(request: Request) -> Response:
    """Flask's strict-slashes redirect for a rule ending in a slash."""
    return slash_redirect(request)
