"""`{prefix}/openapi.json` and its Swagger UI at `{prefix}/docs`, answered by the gateway itself:
the document is built off the event loop (it reads the state store) and kept a few seconds."""

from __future__ import annotations

import html
import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from cutover.control.plane import ControlPlane
from cutover.inventory import Inventory
from cutover.openapi.legacy import legacy_operations
from cutover.openapi.merge import Paths, build_document

if TYPE_CHECKING:
    from fastapi import FastAPI

logger = logging.getLogger("cutover")
CACHE_SECONDS = 5.0
# Swagger UI as FastAPI's own docs page loads it (FastAPI's default asset URLs).
SWAGGER_JS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"
SWAGGER_CSS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"


class OpenAPISource:
    """What the document is made of: both apps, the inventory, the modes and the store."""

    def __init__(
        self,
        legacy: object,
        new: FastAPI | None,
        inventory: Inventory,
        control: ControlPlane,
        *,
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        self.new = new
        self.inventory = inventory
        self.control = control
        self.cache_seconds = cache_seconds
        self._legacy_source = legacy
        self._legacy: Paths | None = None
        self._cached: tuple[float, str, bytes] | None = None
        self._store_failing = False

    def document(self, root_path: str = "") -> dict[str, Any]:
        """The merged document now (blocking: reads the state store when there is one)."""
        if self._legacy is None:
            self._legacy = legacy_operations(self._legacy_source)
        native = self.new.openapi() if self.new is not None else None
        evidence, samples = self._learned()
        return build_document(
            native,
            self._legacy,
            self.inventory,
            self.control,
            evidence=evidence,
            samples=samples,
            root_path=root_path,
        )

    def _learned(self) -> tuple[dict[str, Any], dict[str, Any]]:
        store = self.control.store
        if store is None:
            return {}, {}
        from cutover.openapi.samples import read_samples
        from cutover.shadow.evidence import EvidenceStore

        try:
            evidence, samples = EvidenceStore(store).totals(), read_samples(store)
        except Exception as exc:  # the document still lists every route without the store
            if not self._store_failing:
                logger.warning("cutover: openapi without the state store (%s)", type(exc).__name__)
            self._store_failing = True
            return {}, {}
        self._store_failing = False
        return evidence, samples

    def body(self, root_path: str = "") -> bytes:
        """The document as JSON bytes, rebuilt at most every `cache_seconds`."""
        cached = self._cached
        if cached is not None and cached[1] == root_path and time.monotonic() < cached[0]:
            return cached[2]
        body = json.dumps(self.document(root_path), separators=(",", ":")).encode()
        self._cached = (time.monotonic() + self.cache_seconds, root_path, body)
        return body


async def _answer(send: Send, status: int, content_type: bytes, body: bytes, head: bool) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if status == 405:
        headers.append((b"allow", b"GET, HEAD"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


def _method_guard(scope: Scope) -> bool | None:
    """True for HEAD, False for GET, None for any other method (405)."""
    method = scope["method"]
    return {"GET": False, "HEAD": True}.get(method)


def openapi_endpoint(source: OpenAPISource) -> ASGIApp:
    async def serve_openapi(scope: Scope, receive: Receive, send: Send) -> None:
        head = _method_guard(scope)
        if head is None:
            await _answer(send, 405, b"text/plain", b"Method Not Allowed", False)
            return
        root_path = scope.get("root_path", "")
        body = await anyio.to_thread.run_sync(source.body, root_path)
        await _answer(send, 200, b"application/json", body, head)

    return serve_openapi


def swagger_page(openapi_url: str, oauth2_redirect_url: str, title: str) -> bytes:
    """A Swagger UI page over `openapi_url`, as FastAPI's `/docs` is."""
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<link type="text/css" rel="stylesheet" href="{SWAGGER_CSS}"></head>
<body><div id="swagger-ui"></div>
<script src="{SWAGGER_JS}"></script>
<script>
const ui = SwaggerUIBundle({{
    url: {json.dumps(openapi_url).replace('"', "'")},
    dom_id: '#swagger-ui',
    layout: 'BaseLayout',
    deepLinking: true,
    showExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    oauth2RedirectUrl: window.location.origin + {json.dumps(oauth2_redirect_url)},
}})
</script></body></html>
""".encode()


def docs_endpoint(prefix: str, title: Callable[[], str]) -> ASGIApp:
    async def serve_docs(scope: Scope, receive: Receive, send: Send) -> None:
        head = _method_guard(scope)
        if head is None:
            await _answer(send, 405, b"text/plain", b"Method Not Allowed", False)
            return
        root = scope.get("root_path", "")
        page = swagger_page(
            f"{root}{prefix}/openapi.json", f"{root}{prefix}/docs/oauth2-redirect", title()
        )
        await _answer(send, 200, b"text/html; charset=utf-8", page, head)

    return serve_docs


def docs_paths(prefix: str, source: OpenAPISource) -> dict[str, ASGIApp]:
    """The gateway's own paths for the document and its page."""

    def title() -> str:
        return f"{source.new.title if source.new is not None else 'API'} (cutover)"

    return {
        f"{prefix}/openapi.json": openapi_endpoint(source),
        f"{prefix}/docs": docs_endpoint(prefix, title),
    }
