"""A fire drill for the cut-over's brake: while a route is failed here, the FastAPI side answers
it with a 500, so a promotion's gate can be watched switching the route back to legacy (README:
"The whole loop"). Off unless `DRILL_ENABLED=true`; per process, in memory."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Body, FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from cutover.compat import LegacyJSONResponse

PREFIX = "/_drill"
_PARAM = re.compile(r"\{[^}/]+\}")
_PARAM_SPLIT = re.compile(r"(\{[^}/]+\})")


class Drill:
    """The paths failed now, as the templates a route is named by (`/items/{item_id}`)."""

    def __init__(self) -> None:
        self.failed: dict[str, re.Pattern[str]] = {}

    def fail(self, template: str) -> None:
        pattern = "".join(
            "[^/]+" if _PARAM.fullmatch(part) else re.escape(part)
            for part in _PARAM_SPLIT.split(template)
        )
        self.failed[template] = re.compile(pattern)

    def fails(self, path: str) -> bool:
        return any(pattern.fullmatch(path) for pattern in self.failed.values())


class _FailDrilled:
    """Pure ASGI: a drilled path gets a 500 before the app sees it."""

    def __init__(self, app: ASGIApp, drill: Drill) -> None:
        self.app = app
        self.drill = drill

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.drill.failed and self.drill.fails(scope["path"]):
            response = LegacyJSONResponse({"error": "drill: failed on purpose"}, status_code=500)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def install_drill(app: FastAPI) -> Drill:
    """`POST /_drill/fail {"path": "/items/{item_id}"}` fails a path, `DELETE /_drill/fail`
    ends the drill."""
    drill = Drill()
    router = APIRouter(prefix=PREFIX, tags=["drill"])

    @router.post("/fail")
    async def fail(path: Annotated[str, Body(embed=True)]) -> dict[str, list[str]]:
        drill.fail(path)
        return {"failed": sorted(drill.failed)}

    @router.delete("/fail")
    async def recover() -> dict[str, list[str]]:
        drill.failed.clear()
        return {"failed": []}

    app.include_router(router)
    app.add_middleware(_FailDrilled, drill=drill)
    return drill
