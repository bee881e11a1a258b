"""Helpers for a project's own tests: replay a route's stored shadow exemplars against the port
and fail, with the readable diff, while any of them still differs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cutover.gateway import Gateway
    from cutover.shadow.replay import ReplayReport


async def assert_replay_matches(
    gateway: Gateway,
    route: str,
    *,
    state_url: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    lifespan: bool = False,
) -> ReplayReport:
    """Replay `route`'s exemplars (`GET /items/{item_id}`) from the state store at `state_url`
    (default: the gateway's) on both sides of `gateway`; AssertionError if any still differs.

    `headers` replace the credentials that were redacted when stored; `lifespan` runs the new
    app's startup and shutdown around the replay (leave it off when the test already runs it).
    """
    from cutover.control.store import StateStore
    from cutover.shadow.replay import app_lifespan, replay_route

    own = gateway.control.store
    store = StateStore(state_url) if state_url is not None else own
    if store is None:
        raise ValueError("no state store: pass state_url or give the gateway one")
    try:
        async with app_lifespan(gateway.new if lifespan else None):
            report = await replay_route(gateway, route, store, headers=headers)
    finally:
        if store is not own:
            store.dispose()
    if report.still_differs:
        raise AssertionError(f"the replay of {route} still differs:\n{report.text()}")
    return report
