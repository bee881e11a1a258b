"""The FastAPI app's docs pages move under the gateway's own prefix (/_cutover by default), so
they never shadow the legacy app's /docs, /redoc or /openapi.json."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cutover import Gateway
from cutover.docs import relocate_docs
from tests.cutover.stub_routing_apps import call, call_wsgi, make_legacy, make_new

pytestmark = pytest.mark.anyio


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    """The legacy app after the port, behind the gateway with the FastAPI ports."""
    gateway = Gateway(make_legacy(), make_new())
    yield gateway
    gateway.bridge.close()


async def test_docs_move_under_the_prefix(gateway: Gateway) -> None:
    page = await call(gateway, "GET", "/_cutover/docs")
    assert page.status_code == 200
    assert "'/_cutover/openapi.json'" in page.text
    assert "/_cutover/docs/oauth2-redirect" in page.text
    redoc = await call(gateway, "GET", "/_cutover/redoc")
    assert redoc.status_code == 200
    assert '"/_cutover/openapi.json"' in redoc.text
    oauth = await call(gateway, "GET", "/_cutover/docs/oauth2-redirect")
    assert oauth.status_code == 200
    assert "oauth2" in oauth.text
    schema = (await call(gateway, "GET", "/_cutover/openapi.json")).json()
    assert "/items/{item_id}" in schema["paths"]
    assert not any(path.startswith("/_cutover") for path in schema["paths"])


async def test_old_docs_paths_fall_through_to_legacy(gateway: Gateway) -> None:
    assert (await call(gateway, "GET", "/docs")).json() == {"side": "legacy", "page": "docs"}
    openapi = await call(gateway, "GET", "/openapi.json")
    assert openapi.json() == {"side": "legacy", "page": "openapi"}
    expected = call_wsgi(make_legacy(), "GET", "/redoc")
    redoc = await call(gateway, "GET", "/redoc")
    assert (redoc.status_code, redoc.content) == (404, expected.content)


async def test_a_custom_docs_prefix() -> None:
    gateway = Gateway(make_legacy(), make_new(), docs_prefix="internal/api/")
    try:
        assert (await call(gateway, "GET", "/internal/api/openapi.json")).status_code == 200
        assert (await call(gateway, "GET", "/_cutover/openapi.json")).status_code == 404
    finally:
        gateway.bridge.close()


def test_relocating_docs_twice_changes_nothing() -> None:
    new = make_new()
    first = relocate_docs(new, "/_cutover")
    assert relocate_docs(new, "/_cutover") == first
    assert first == {
        "/_cutover/openapi.json",
        "/_cutover/docs",
        "/_cutover/redoc",
        "/_cutover/docs/oauth2-redirect",
    }
    paths = [getattr(route, "path", None) for route in new.router.routes]
    assert paths.count("/_cutover/docs") == 1
    assert "/docs" not in paths


def test_an_empty_docs_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="docs_prefix"):
        Gateway(make_legacy(), make_new(), docs_prefix="/")


def test_every_gateway_setting_has_a_row_in_the_readme_configuration_table() -> None:
    import re
    from pathlib import Path

    from cutover.settings import GatewaySettings

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = "\n".join(line for line in readme.splitlines() if line.startswith("| `CUTOVER_"))
    documented = set(re.findall(r"`(CUTOVER_[A-Z_]+)`", table))
    variables = {f"CUTOVER_{name.upper()}" for name in GatewaySettings.model_fields}
    assert {"CUTOVER_EVIDENCE_RETENTION", "CUTOVER_EVIDENCE_MAX_EXEMPLARS"} <= variables
    assert sorted(variables - documented) == []
