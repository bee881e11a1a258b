"""The dashboard's controls: switch a route's mode (canary with its percent), start or stop
its promotion; each posted twice: once to see what it will do and confirm, once to do it,
always with a reason; the history records the actor `dashboard`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.types import Send

from cutover.control.modes import Mode, ModeRefused, RouteMode
from cutover.control.promote import Promotions
from cutover.control.promotion import DEFAULT_STEPS, parse_duration, parse_steps, steps_text
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
        self.promotions = Promotions(dashboard.store)

    async def _detail(
        self, request: Request, session: Session, send: Send
    ) -> data.RouteDetail | None:
        """The posted route's page data; None when an error page was sent instead."""
        board = self.dashboard
        route = request.field("route")
        try:
            detail = await board.run(data.route_detail, board.store, route)
        except StoreUnavailable as exc:
            await board.unavailable(request, session, send, exc)
            return None
        if detail is None:
            await board.error(request, session, send, 404, f"No gateway publishes {route!r}.")
        return detail

    async def switch(self, request: Request, session: Session, send: Send) -> None:
        board = self.dashboard
        detail = await self._detail(request, session, send)
        if detail is None:
            return
        route = detail.row.route
        name = request.field("mode")
        reason = request.field("reason").strip()
        try:
            mode = target_mode(name, request.field("percent"))
            if name not in detail.modes:
                raise ModeRefused(f"{route} cannot be switched to {name!r}")
            _need(reason)
        except ModeRefused as exc:
            await board.route_page(request, session, send, detail, 400, str(exc))
            return
        target = DEFAULT if mode is None else str(mode)
        title = f"Switch {route} from {detail.row.label} to {target}?"
        fields = {"mode": name, "percent": request.field("percent")}
        if await self._confirmed(request, session, send, detail, "/switch", title, fields):
            await self._apply(
                request,
                session,
                send,
                detail,
                lambda: board.store.switch(route, mode, actor=ACTOR, reason=reason),
                lambda change: f"Switched to {change.after} (version {change.version}).",
            )

    async def promote(self, request: Request, session: Session, send: Send) -> None:
        detail = await self._detail(request, session, send)
        if detail is None:
            return
        route = detail.row.route
        reason = request.field("reason").strip()
        action = request.field("action")
        promotions = self.promotions
        try:
            _need(reason)
            if action == "stop":
                title = f"Stop the promotion of {route} where it is?"
                fields: dict[str, str] = {"action": "stop"}
                run: Any = lambda: promotions.cancel(route, actor=ACTOR, reason=reason)  # noqa: E731
            elif action == "start":
                steps = parse_steps(request.field("steps") or steps_text(DEFAULT_STEPS))
                interval = parse_duration(request.field("interval") or "60")
                title = (
                    f"Promote {route} through canary {steps_text(steps)} %, "
                    f"a step every {interval:g} s while the evidence holds?"
                )
                fields = {
                    "action": "start",
                    "steps": steps_text(steps),
                    "interval": f"{interval:g}",
                }
                run = lambda: promotions.start(  # noqa: E731
                    route, steps=steps, interval=interval, actor=ACTOR, reason=reason
                )
            else:
                raise ModeRefused(f"a promotion is started or stopped, not {action!r}")
        except ModeRefused as exc:
            await self.dashboard.route_page(request, session, send, detail, 400, str(exc))
            return
        if await self._confirmed(request, session, send, detail, "/promote", title, fields):
            await self._apply(
                request,
                session,
                send,
                detail,
                run,
                lambda promotion: f"Promotion {promotion.state}: {promotion.message}.",
            )

    async def _confirmed(
        self,
        request: Request,
        session: Session,
        send: Send,
        detail: data.RouteDetail,
        action: str,
        title: str,
        fields: dict[str, str],
    ) -> bool:
        """True once the form came back confirmed; else the confirmation page is sent."""
        if request.field("confirm") == "yes":
            return True
        reason = request.field("reason").strip()
        html = self.dashboard.render(
            "confirm.html",
            request,
            session,
            row=detail.row,
            action=action,
            title=title,
            fields={"route": detail.row.route, **fields, "reason": reason},
        )
        await send_html(send, 200, html)
        return False

    async def _apply(
        self,
        request: Request,
        session: Session,
        send: Send,
        detail: data.RouteDetail,
        call: Callable[[], Any],
        said: Callable[[Any], str],
    ) -> None:
        board = self.dashboard
        try:
            result = await board.run(call)
        except ModeRefused as exc:
            await board.route_page(request, session, send, detail, 400, str(exc))
            return
        except StoreUnavailable as exc:
            await board.unavailable(request, session, send, exc)
            return
        await send_redirect(send, route_link(request.base, detail.row.route, said(result)))


def _need(reason: str) -> None:
    if not reason:
        raise ModeRefused("A reason is needed: it goes into the history.")


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
