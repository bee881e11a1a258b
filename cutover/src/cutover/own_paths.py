"""The paths the gateway answers itself under its prefix: health, readiness, metrics, admin API,
the OpenAPI document and its docs page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from cutover.control.plane import ControlPlane
from cutover.observe import GatewayMetrics, healthz, readyz

if TYPE_CHECKING:
    from cutover.openapi.serve import OpenAPISource

Check = Callable[[], tuple[str, bool, str]]


def own_paths(
    prefix: str,
    control: ControlPlane,
    metrics: GatewayMetrics,
    admin_token: str | None,
    checks: Sequence[Check],
    openapi: OpenAPISource | None = None,
) -> dict[str, ASGIApp]:
    """Exact paths, and `{prefix}/api/` for everything one level under it (only with a token)."""
    paths: dict[str, ASGIApp] = {
        f"{prefix}/healthz": healthz,
        f"{prefix}/readyz": readyz(list(checks)),
        f"{prefix}/metrics": _metrics_endpoint(metrics),
    }
    if openapi is not None:  # public, as FastAPI's docs are: cutover.openapi
        from cutover.openapi.serve import docs_paths

        paths.update(docs_paths(prefix, openapi))
    if admin_token and control.store is not None:
        from cutover.control.api import AdminAPI
        from cutover.control.promote_api import add_promotion_routes
        from cutover.shadow.report import diffs_endpoint

        api = AdminAPI(control.store, admin_token, prefix=f"{prefix}/api")
        # Every process's shadow evidence, from the shared database.
        api.add_route("/diffs", "GET", diffs_endpoint(control.store))
        add_promotion_routes(api)
        paths[f"{prefix}/api/"] = api
        # Two levels under the API: the gateway looks up exact paths and one level's prefix.
        paths[f"{prefix}/api/promote/cancel"] = api
        # The dashboard's pages at `{prefix}/`, behind a login with the same token.
        from cutover.dashboard import Dashboard

        fallback = openapi.new if openapi is not None else None
        paths.update(Dashboard(control.store, admin_token, prefix, fallback).paths())
    return paths


def _metrics_endpoint(metrics: GatewayMetrics) -> ASGIApp:
    async def serve_metrics(scope: Scope, receive: Receive, send: Send) -> None:
        # A scrape reads every worker's files in multi-process mode: off the event loop.
        body, content_type = await anyio.to_thread.run_sync(metrics.render)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", content_type.encode("latin-1"))],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return serve_metrics
