"""A gateway process's view of the control plane: the mode of every route both sides serve, held
in memory and swapped whole when the state store's version moves, so a request reads one dict."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from starlette.types import Scope

from cutover.control.canary import bucket, canary_key, parse_keys
from cutover.control.modes import (
    LEGACY,
    NEW,
    Mode,
    ModeRefused,
    ModeState,
    RouteMode,
    RouteSides,
    route_id,
)
from cutover.inventory import Inventory
from cutover.routes import NewRoute, template_key

if TYPE_CHECKING:
    from cutover.control.follower import StateFollower
    from cutover.control.store import StateStore

logger = logging.getLogger("cutover.control")

# The side each mode answers with; canary chooses per client.
_ANSWERING_SIDE: dict[Mode, str | None] = {
    Mode.LEGACY: "legacy",
    Mode.NEW: "new",
    Mode.CANARY: None,
    Mode.SHADOW: "legacy",
    Mode.REVERSE_SHADOW: "new",
}


class Choice:
    """A route's mode as the request path needs it: the mode's name and the answering side."""

    __slots__ = ("label", "mode", "shadows", "side", "threshold")

    def __init__(self, mode: RouteMode) -> None:
        self.mode = mode
        self.label = mode.mode.value
        self.side = _ANSWERING_SIDE[mode.mode]
        self.threshold = mode.threshold
        self.shadows = mode.mode in (Mode.SHADOW, Mode.REVERSE_SHADOW)


def endpoint_defaults(new_side: Sequence[NewRoute]) -> dict[tuple[str, str], RouteMode]:
    """The modes endpoints were given with `cutover.default_mode`, by (method, template key)."""
    return {
        (method, template_key(route.template)): route.default_mode
        for route in new_side
        if route.default_mode is not None
        for method in route.methods or ()
    }


def _route_mode(mode: RouteMode | Mode | str) -> RouteMode:
    return mode if isinstance(mode, RouteMode) else RouteMode(Mode(mode))


def route_sides(
    inventory: Inventory,
    *,
    legacy_is_route_aware: bool,
    defaults: Mapping[str, RouteMode | Mode | str] | None = None,
    endpoint_defaults: Mapping[tuple[str, str], RouteMode] | None = None,
) -> list[RouteSides]:
    """Every route of the inventory with the sides serving it and its mode from code:
    `defaults` by route (`GET /items/{item_id}`), then `endpoint_defaults` by (method, template
    key) as `cutover.default_mode` set them on endpoints, else the new side where it has one.

    A plain WSGI app (no url_map) may serve any path, so it counts as having every route.
    """
    by_route = {route: _route_mode(mode) for route, mode in (defaults or {}).items()}
    by_endpoint = endpoint_defaults or {}
    found = []
    for row in inventory.rows:
        route = route_id(row.method, row.path)
        legacy = row.legacy_endpoint is not None or not legacy_is_route_aware
        new = row.new_endpoint is not None
        default = (
            by_route.pop(route, None)
            or by_endpoint.get((row.method, template_key(row.path)))
            or (NEW if new else LEGACY)
        )
        sides = RouteSides(route=route, legacy=legacy, new=new, default=default)
        sides.check(default)
        found.append(sides)
    if by_route:
        raise ModeRefused(f"default modes for routes the gateway does not have: {sorted(by_route)}")
    return found


class ControlPlane:
    """The modes a gateway process routes by, kept current from a state store when it has one."""

    def __init__(
        self,
        routes: Sequence[RouteSides],
        *,
        canary_keys: str | Sequence[str] = "bearer,client",
        state_url: str | None = None,
        poll_interval: float = 1.0,
    ) -> None:
        self.routes = {sides.route: sides for sides in routes}
        self._switchable = [sides for sides in routes if sides.legacy and sides.new]
        self.canary_keys = parse_keys(canary_keys)
        self.store: StateStore | None = None
        if state_url is not None:
            from cutover.control.store import StateStore

            self.store = StateStore(state_url)
        self.poll_interval = poll_interval
        self.follower: StateFollower | None = None
        self.version: int | None = None
        # Swapped whole by `apply` (from the follower's thread); requests only read it.
        self.choices: dict[str, Choice] = self._table({})

    def _table(self, overrides: Mapping[str, RouteMode]) -> dict[str, Choice]:
        return {
            sides.route: Choice(overrides.get(sides.route, sides.default))
            for sides in self._switchable
        }

    def serves_new(self, choice: Choice, scope: Scope) -> bool:
        """Whether this request goes to the new side under `choice` (canary: by client key)."""
        side = choice.side
        if side is not None:
            return side == "new"
        return bucket(canary_key(scope, self.canary_keys)) < choice.threshold

    def apply(self, state: ModeState) -> None:
        """Take a state read from the store: overrides this process cannot honour are logged."""
        overrides: dict[str, RouteMode] = {}
        for route, override in state.overrides.items():
            sides = self.routes.get(route)
            try:
                if sides is None:
                    raise ModeRefused(f"{route} is not a route of this gateway")
                sides.check(override.mode)
            except ModeRefused as exc:
                logger.warning("cutover: ignoring the mode of version %d: %s", state.version, exc)
                continue
            overrides[route] = override.mode
        self.choices = self._table(overrides)
        self.version = state.version
        logger.info("cutover: serving mode-state version %d", state.version)

    def start(self) -> None:
        """Create the store's tables, publish this gateway's routes and follow the version."""
        if self.store is None or self.follower is not None:
            return
        from cutover.control.follower import StateFollower

        try:
            self.store.create_tables()
            self.store.publish_routes(list(self.routes.values()))
        except Exception as exc:  # an unreachable store must not stop the gateway serving
            logger.warning("cutover: state store unavailable at startup (%s)", type(exc).__name__)
        self.follower = StateFollower(self.store, self.apply, poll_interval=self.poll_interval)
        self.follower.start()

    def stop(self) -> None:
        """Stop following; the modes in memory stay as they were."""
        if self.follower is not None:
            self.follower.stop()
            self.follower = None
        if self.store is not None:
            self.store.dispose()

    def readiness(self) -> tuple[str, bool, str]:
        """The state store's part of readiness: followed and current, or why not."""
        if self.store is None:
            return ("state", True, "no state store: modes from code")
        follower = self.follower
        if follower is None:
            return ("state", False, "not following the state store yet")
        if not follower.healthy:
            return ("state", False, f"unreachable; serving version {self.version}")
        return ("state", True, f"version {self.version}")
