"""Routes answering a finished Response: documented by FastAPI, served without its per-request
machinery.

A `DirectRoute` endpoint is `async def` taking the `Request` and path parameters only, and returns
the Response itself (the legacy bytes, rendered from rows it trusts). FastAPI still builds its
OpenAPI operation from the signature, `response_model` and `openapi_extra`; per request the route
resolves no dependencies, validates no response and opens no exit stacks: the endpoint is called
with the request and the path parameters Starlette's convertors already typed. Errors it raises
reach the app's exception handlers as from any route.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.convertors import (
    Convertor,
    FloatConvertor,
    IntegerConvertor,
    PathConvertor,
    StringConvertor,
    UUIDConvertor,
)
from starlette.types import Receive, Scope, Send

DirectEndpoint = Callable[..., Coroutine[Any, Any, Response]]

_CONVERTED_TYPES: dict[type[Convertor[Any]], type] = {
    IntegerConvertor: int,
    FloatConvertor: float,
    StringConvertor: str,
    PathConvertor: str,
    UUIDConvertor: uuid.UUID,
}


class DirectRoute(APIRoute):
    """An APIRoute whose endpoint is called as `endpoint(request, **path_params)`.

    Refused at definition, with TypeError, for an endpoint that needs what FastAPI would solve:
    dependencies, query/header/cookie/body parameters, or a path parameter whose annotation is
    not the type its convertor produces.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self._request_name = _direct_request_name(self)
        self.app = self._serve

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The handler FastAPI wraps when the route is reached through an included router."""
        endpoint: DirectEndpoint = self.endpoint
        name = _direct_request_name(self)

        async def handler(request: Request) -> Response:
            return await endpoint(**{name: request}, **request.path_params)

        return handler

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        endpoint: DirectEndpoint = self.endpoint
        response = await endpoint(**{self._request_name: request}, **scope["path_params"])
        await response(scope, receive, send)


def include_router(app: FastAPI, router: APIRouter) -> None:
    """`app.include_router(router)`, but `router`'s direct routes are the app's own: a request
    then matches that one route, not the included router and then its routes, twice over (their
    paths carry the router's prefix and tags already; no other route answers their method and
    path, so matching them first changes no answer)."""
    rest = APIRouter()
    for route in router.routes:
        (app.router.routes if isinstance(route, DirectRoute) else rest.routes).append(route)
    app.include_router(rest)


def _direct_request_name(route: APIRoute) -> str:
    dependant = route.dependant
    where = f"{route.path}: {getattr(route.endpoint, '__qualname__', route.endpoint)}"
    if not inspect.iscoroutinefunction(route.endpoint):
        raise TypeError(f"{where}: a direct endpoint is async def")
    solved = (
        dependant.dependencies,
        dependant.query_params,
        dependant.header_params,
        dependant.cookie_params,
        dependant.body_params,
        dependant.response_param_name,
        dependant.background_tasks_param_name,
        dependant.http_connection_param_name,
        dependant.security_scopes_param_name,
    )
    if any(solved) or dependant.request_param_name is None:
        raise TypeError(f"{where}: a direct endpoint takes the Request and path parameters only")
    for field in dependant.path_params:
        convertor = route.param_convertors.get(field.name)
        produced = _CONVERTED_TYPES.get(type(convertor)) if convertor is not None else None
        if produced is None or field.field_info.annotation is not produced:
            raise TypeError(f"{where}: path parameter {field.name} is not typed by its convertor")
    return dependant.request_param_name
