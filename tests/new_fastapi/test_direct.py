"""Direct routes: the endpoint's own Response, errors through the app's handlers, documented as
any route, served alike from the app's top level and from an included router; refused when
the endpoint needs what FastAPI would have to solve."""

from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from pydantic import BaseModel

from cutover.compat import ApiError, LegacyJSONResponse, install_legacy_errors
from new_fastapi.direct import DirectRoute, include_router

pytestmark = pytest.mark.anyio


class Thing(BaseModel):
    id: int


async def get_thing(thing_id: int, request: Request) -> Response:
    if thing_id == 0:
        raise ApiError(404, "Thing not found")
    q = request.query_params.get("q", "")
    return Response(f'{{"id":{thing_id},"q":"{q}"}}', media_type="application/json")


async def get_plain() -> dict[str, bool]:
    return {"plain": True}


def things_router() -> APIRouter:
    router = APIRouter(prefix="/things", tags=["things"])
    router.add_api_route(
        "/{thing_id:int}",
        get_thing,
        methods=["GET"],
        response_model=Thing,
        route_class_override=DirectRoute,
    )
    router.add_api_route("/plain", get_plain, methods=["GET"])
    return router


def make_app(*, direct_at_top: bool) -> FastAPI:
    app = FastAPI(default_response_class=LegacyJSONResponse)
    install_legacy_errors(app)
    if direct_at_top:
        include_router(app, things_router())
    else:
        app.include_router(things_router())
    return app


async def call(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        return await client.get(path)


@pytest.mark.parametrize("direct_at_top", [True, False])
async def test_direct_route_answers_its_own_response(direct_at_top: bool) -> None:
    app = make_app(direct_at_top=direct_at_top)
    ok = await call(app, "/things/7?q=x")
    assert (ok.status_code, ok.content) == (200, b'{"id":7,"q":"x"}')
    missing = await call(app, "/things/0")
    assert (missing.status_code, missing.json()) == (404, {"error": "Thing not found"})
    assert (await call(app, "/things/abc")).status_code == 404  # the :int convertor's miss
    plain = await call(app, "/things/plain")  # the router's other route, served by FastAPI
    assert plain.content == b'{"plain":true}\n'


async def test_include_router_puts_direct_routes_at_the_top_and_documents_them() -> None:
    app = make_app(direct_at_top=True)
    assert any(isinstance(route, DirectRoute) for route in app.router.routes)
    reference = make_app(direct_at_top=False)
    assert app.openapi()["paths"] == reference.openapi()["paths"]
    operation = app.openapi()["paths"]["/things/{thing_id}"]["get"]
    assert operation["tags"] == ["things"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Thing"}


async def _with_query(request: Request, page: int) -> Response:
    return Response()


async def _with_dependency(request: Request, page: Annotated[int, Depends(lambda: 1)]) -> Response:
    return Response()


def _sync(request: Request) -> Response:
    return Response()


async def _untyped(request: Request, thing_id: int) -> Response:
    return Response()


@pytest.mark.parametrize(
    ("path", "endpoint", "message"),
    [
        ("/q", _with_query, "Request and path parameters only"),
        ("/d", _with_dependency, "Request and path parameters only"),
        ("/s", _sync, "async def"),
        ("/u/{thing_id}", _untyped, "not typed by its convertor"),  # a str convertor
    ],
)
def test_direct_route_refuses_what_fastapi_would_solve(
    path: str, endpoint: object, message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        DirectRoute(path, endpoint, methods=["GET"])  # type: ignore[arg-type]
