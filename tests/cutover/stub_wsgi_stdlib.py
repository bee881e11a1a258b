"""A WSGI app on the standard library alone, for a legacy worker under another interpreter."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterable
from typing import Any


def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """Says which interpreter runs it and whether cutover and Flask are importable there."""
    body = json.dumps(
        {
            "executable": sys.executable,
            "prefix": sys.prefix,
            "cutover": importlib.util.find_spec("cutover.wsgi") is not None,
            "flask": importlib.util.find_spec("flask") is not None,
            "path": environ["PATH_INFO"],
            "body": environ["wsgi.input"].read().decode(),
        }
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
