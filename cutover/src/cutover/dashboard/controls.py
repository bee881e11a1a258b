"""The dashboard's controls: switch a route's mode (canary with its percent), each posted
twice: once to see what it will do and confirm, once to do it, always with a reason; the
history records the actor `dashboard`."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from starlette.types import Send

from cutover.control.modes import Mode, ModeRefused, RouteMode
from cutover.control.store import StoreUnavailable
from cutover.dashboard import data
from cutover.dashboard.session import Session
from cutover.dashboard.web import Request, send_html, send_redirect

if TYPE_CHECKING:
    from cutover.dashboard.app import Dashboard

ACTOR = "dashboard"
DEFAULT = "default"


class Controls:
    """The POST actions of a route's page."""

    def __init__(self, dashboard: Dashboard) -> None:
        self.dashboard = dashboard
        self.promotions_enabled = False

    async def switch(self, request: Request, session: Session, send: Send) -> None:
        board = self.dashboard
        route = request.field("route")
        try:
            detail = await board.run(data.route_detail, board.store, route)
        except StoreUnavailable as exc:
            await board.unavailable(request, session, send, exc)
            return
        if detail is None:
            await board.error(request, session, send, 404, f"No gateway publishes {route!r}.")
            return
        name = request.field("mode")
        reason = request.field("reason").strip()
        try:
            mode = target_mode(name, request.field("percent"))
            if name not in detail.modes:
                raise ModeRefused(f"{route} cannot be switched to {name!r}")
            if not reason:
                raise ModeRefused("A switch needs a reason: it goes into the history.")
        except ModeRefused as exc:
            await board.route_page(request, session, send, detail, 400, str(exc))
            return
        target = DEFAULT if mode is None else str(mode)
        if request.field("confirm") != "yes":
            html = board.render(
                "confirm.html",
                request,
                session,
                row=detail.row,
                action="/switch",
                title=f"Switch {route} from {detail.row.label} to {target}?",
                fields={
                    "route": route,
                    "mode": name,
                    "percent": request.field("percent"),
                    "reason": reason,
                },
            )
            await send_html(send, 200, html)
            return
        try:
            change = await board.run(
                lambda: board.store.switch(route, mode, actor=ACTOR, reason=reason)
            )
        except ModeRefused as exc:
            await board.route_page(request, session, send, detail, 400, str(exc))
            return
        except StoreUnavailable as exc:
            await board.unavailable(request, session, send, exc)
            return
        done = f"Switched to {change.after} (version {change.version})."
        await send_redirect(send, route_link(request.base, route, done))

    async def promote(self, request: Request, session: Session, send: Send) -> None:
        await self.dashboard.error(request, session, send, 404, "Promotions are not available.")


def target_mode(name: str, percent_text: str) -> RouteMode | None:
    """The mode a form asks for (None: back to the default from code); ModeRefused if none."""
    if name == DEFAULT:
        return None
    try:
        mode = Mode(name)
    except ValueError:
        raise ModeRefused(f"{name!r} is not a mode") from None
    if mode is not Mode.CANARY:
        return RouteMode(mode)
    try:
        percent = float(percent_text)
    except ValueError:
        raise ModeRefused("A canary needs its percentage of clients on new (0-100).") from None
    return RouteMode(mode, percent)


def route_link(base: str, route: str, done: str = "") -> str:
    fields = {"route": route, **({"done": done} if done else {})}
    return f"{base}/route?{urlencode(fields)}"
