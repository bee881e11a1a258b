"""Move a FastAPI app's docs pages under a prefix, so they never shadow the legacy app's paths."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.routing import Route

if TYPE_CHECKING:
    from fastapi import FastAPI

DOCS_URL_ATTRIBUTES = ("openapi_url", "docs_url", "redoc_url", "swagger_ui_oauth2_redirect_url")


def _is_docs_route(route: Any, docs_paths: set[str]) -> bool:
    from fastapi.routing import APIRoute  # only a gateway with a FastAPI app gets here

    return (
        isinstance(route, Route)
        and not isinstance(route, APIRoute)
        and route.path in docs_paths
        and getattr(route.endpoint, "__qualname__", "").startswith("FastAPI.setup.")
    )


def normalise_prefix(prefix: str) -> str:
    """`prefix` as `/name` (no trailing slash); raises on an empty one."""
    stripped = prefix.strip("/")
    if not stripped:
        raise ValueError("docs_prefix must name a path segment, e.g. '/_cutover'")
    return "/" + stripped


def relocate_docs(app: FastAPI, prefix: str) -> frozenset[str]:
    """Serve `app`'s docs, ReDoc, OpenAPI schema and OAuth2 redirect under `prefix`.

    FastAPI's own page handlers are reused: they read the app's URL attributes at request time,
    so the pages link to the moved schema. Idempotent. Returns the paths now served.
    """
    prefix = normalise_prefix(prefix)
    urls: dict[str, str | None] = {name: getattr(app, name) for name in DOCS_URL_ATTRIBUTES}
    current = {url for url in urls.values() if url}
    app.router.routes[:] = [r for r in app.router.routes if not _is_docs_route(r, current)]
    for name, url in urls.items():
        if url and not url.startswith(prefix + "/"):
            setattr(app, name, prefix + url)
    app.setup()
    return frozenset(url for name in DOCS_URL_ATTRIBUTES if (url := getattr(app, name)))
