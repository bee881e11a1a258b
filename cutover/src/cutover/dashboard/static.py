"""The dashboard's own assets (a stylesheet and a small script), read once from the package
and served by the gateway itself: nothing is loaded from anywhere else."""

from __future__ import annotations

from pathlib import Path

from starlette.types import Send

from cutover.dashboard.web import send_bytes

STATIC = Path(__file__).parent / "static"
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


class StaticFiles:
    """Every file of `static/` by name, in memory; anything else is 404."""

    def __init__(self, directory: Path = STATIC) -> None:
        self._files = {
            path.name: (path.read_bytes(), _TYPES[path.suffix])
            for path in directory.iterdir()
            if path.suffix in _TYPES
        }

    async def serve(self, name: str, method: str, send: Send) -> None:
        found = self._files.get(name)
        if found is None or method not in ("GET", "HEAD"):
            await send_bytes(send, 404, b"not found\n", "text/plain; charset=utf-8")
            return
        body, content_type = found
        cache = [(b"cache-control", b"max-age=300")]
        await send_bytes(send, 200, body if method == "GET" else b"", content_type, cache)
