"""One ASGI app serving ported routes natively and falling through to the legacy WSGI app."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Mapping, Sequence
from time import perf_counter
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send
from werkzeug.routing import Map
from werkzeug.wrappers import Response

from cutover.asgi import AnsweringSend, route_path, without_body
from cutover.control.modes import Mode, RouteMode
from cutover.control.plane import ControlPlane, endpoint_defaults, route_sides
from cutover.dispatch import HINT, NativeDispatch
from cutover.docs import normalise_prefix, relocate_docs
from cutover.flask_answers import method_not_allowed, options_response, send_response, with_allow
from cutover.inventory import Inventory, build_inventory, log_findings
from cutover.lifespan import run_lifespan
from cutover.limits import serve_within
from cutover.observe import (
    LOGGER_NAME,
    GatewayMetrics,
    configure_access_log,
    log_access,
    tag_request,
)
from cutover.openapi.sampling import ResponseSampler
from cutover.openapi.serve import OpenAPISource
from cutover.own_paths import own_paths
from cutover.publish import Publisher
from cutover.routes import LegacyRoute, legacy_routes, new_routes
from cutover.routing import Action, Decision, Router
from cutover.settings import GatewaySettings
from cutover.shadow.compare import CompareRules
from cutover.shadow.runner import DEFAULT_MAX_ANSWER, ShadowRunner
from cutover.shadow.serve import serve_shadowed, side_apps
from cutover.wsgi import (
    DEFAULT_MAX_BODY,
    DEFAULT_QUEUE_SIZE,
    DEFAULT_QUEUE_TIMEOUT,
    DEFAULT_THREADS,
    RemoteBridge,
    WSGIBridge,
    build_environ,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication
    from fastapi import FastAPI

logger = logging.getLogger("cutover")


class Gateway:
    """ASGI app: each route goes to the side its mode picks, everything else to the legacy app.

    `legacy` is any WSGI callable; one with a werkzeug `url_map` (a Flask app) is routed as
    Flask routes (converters, strict slashes, automatic HEAD/OPTIONS, 405s). `new` is the FastAPI
    app of the ported routes; its docs move under `docs_prefix` (`cutover.docs`). A route both
    sides have is served by its mode (`cutover.control`), from code or switched at run time
    through the state store at `state_url`. Options: README's table; for every limit None means
    no limit. freeze_startup_heap (off unless asked) calls `gc.freeze()` once startup completes
    (tiny-route p99 ~20 ms -> ~6 ms, bench/README.md); cyclic garbage made before is never freed.
    """

    def __init__(
        self,
        legacy: WSGIApplication,
        new: FastAPI | None = None,
        *,
        docs_prefix: str = "/_cutover",
        legacy_threads: int = DEFAULT_THREADS,
        legacy_processes: int = 0,
        legacy_app: str | None = None,
        legacy_python: str | None = None,
        legacy_nice: int = 0,
        max_body_size: int | None = DEFAULT_MAX_BODY,
        trust_proxy_headers: bool = False,
        freeze_startup_heap: bool = False,
        legacy_queue_size: int | None = DEFAULT_QUEUE_SIZE,
        legacy_queue_timeout: float | None = DEFAULT_QUEUE_TIMEOUT,
        server_software: str | None = None,
        state_url: str | None = None,
        state_poll_interval: float = 1.0,
        publish_interval: float = 2.0,
        admin_token: str | None = None,
        canary_key: str = "bearer,client",
        served_by_header: bool = False,
        access_log: bool = True,
        default_modes: Mapping[str, RouteMode | Mode | str] | None = None,
        shadow_timeout: float = 2.0,
        shadow_sample_rate: float = 1.0,
        shadow_sample_rates: Mapping[str, float] | None = None,
        shadow_methods: Mapping[str, Sequence[str]] | None = None,
        shadow_concurrency: int = 4,
        shadow_queue_size: int = 256,
        shadow_max_body_size: int = 64 << 10,
        shadow_max_answer_size: int = DEFAULT_MAX_ANSWER,
        shadow_budget: float = 1.0,
        shadow_rules: Mapping[str, CompareRules] | None = None,
        evidence_retention: float = 7 * 24 * 3600.0,
        evidence_max_exemplars: int = 50,
        openapi_sample_every: int = 100,
        openapi_max_samples: int = 50,
        readiness_checks: Sequence[Callable[[], tuple[str, bool, str]]] = (),
    ) -> None:
        self.legacy = legacy
        self.new = new
        self.bridge: WSGIBridge | RemoteBridge
        if legacy_processes:
            if not legacy_app:
                raise ValueError(
                    "legacy_processes needs legacy_app, the import string the legacy workers "
                    "load (CUTOVER_LEGACY_APP, e.g. 'myapp:create_app()')"
                )
            self.bridge = RemoteBridge(
                legacy_app,
                processes=legacy_processes,
                per_worker=legacy_threads,
                python=legacy_python,
                nice=legacy_nice,
                max_body_size=max_body_size,
                trust_proxy_headers=trust_proxy_headers,
                queue_size=legacy_queue_size,
                queue_timeout=legacy_queue_timeout,
                server_software=server_software,
            )
        else:
            self.bridge = WSGIBridge(
                legacy,
                threads=legacy_threads,
                max_body_size=max_body_size,
                trust_proxy_headers=trust_proxy_headers,
                freeze_startup_heap=False,  # the gateway freezes once, for both sides
                queue_size=legacy_queue_size,
                queue_timeout=legacy_queue_timeout,
                server_software=server_software,
            )
        self.max_body_size = max_body_size
        # NEW decisions exist only when there is a new app; typed as always there.
        self._new_app: ASGIApp = new if new is not None else self.bridge
        self.docs_prefix = normalise_prefix(docs_prefix)
        self._freeze_pending = freeze_startup_heap

        url_map = getattr(legacy, "url_map", None)
        legacy_map = url_map if isinstance(url_map, Map) else None
        config = getattr(legacy, "config", None)
        self._server_name: str | None = config.get("SERVER_NAME") if config else None
        self._response_class: type[Response] = getattr(legacy, "response_class", Response)

        legacy_side: list[LegacyRoute] = legacy_routes(legacy_map) if legacy_map else []
        docs_paths: frozenset[str] = frozenset()
        if new is not None:
            docs_paths = relocate_docs(new, self.docs_prefix)
        new_side = new_routes(new.router.routes) if new is not None else []
        self.native = NativeDispatch(new) if new is not None else None
        automatic_options = True
        if config and "PROVIDE_AUTOMATIC_OPTIONS" in getattr(legacy, "default_config", ()):
            # Flask 3.1 added the setting; older Flask always adds OPTIONS, whatever it says.
            automatic_options = bool(config.get("PROVIDE_AUTOMATIC_OPTIONS", True))
        self.router = Router(
            new_side,
            legacy_side,
            legacy_map,
            automatic_options=automatic_options,
            locate=self.native.locate if self.native is not None else None,
        )
        self._decisions = self.router.decisions  # read first, so a cached decision is one lookup
        documented = [route for route in new_side if route.path not in docs_paths]
        self.inventory: Inventory = build_inventory(legacy_side, documented)
        log_findings(self.inventory, legacy_map, docs_paths)
        sides = route_sides(
            self.inventory,
            legacy_is_route_aware=legacy_map is not None,
            defaults=default_modes,
            endpoint_defaults=endpoint_defaults(new_side),
        )
        self.control = ControlPlane(
            sides, canary_keys=canary_key, state_url=state_url, poll_interval=state_poll_interval
        )
        control = self.control
        # Traffic, promotions and evidence reach the state store from here (`cutover.collectors`).
        self.publisher = Publisher(publish_interval)
        self.metrics = GatewayMetrics(pool=self.bridge.pool, state_version=lambda: control.version)
        self._own_prefix = self.docs_prefix + "/"
        self.served_by_header = served_by_header
        self.shadow = ShadowRunner(
            concurrency=shadow_concurrency,
            queue_size=shadow_queue_size,
            timeout=shadow_timeout,
            sample_rate=shadow_sample_rate,
            sample_rates=shadow_sample_rates,
            methods=shadow_methods,
            max_body_size=shadow_max_body_size,
            max_answer_size=shadow_max_answer_size,
            budget=shadow_budget,
            rules=shadow_rules,
        )
        # The OpenAPI document of both sides, and the answers it learns from (cutover.openapi).
        self.openapi = OpenAPISource(legacy, new, self.inventory, self.control)
        self.samples = ResponseSampler(openapi_sample_every)
        self._sample_due = self.samples.due
        if control.store is not None:
            from cutover.collectors import Intervals, add_collectors

            self.evidence = add_collectors(
                self.publisher,
                control.store,
                tally=self.metrics.tally,
                shadow=self.shadow,
                samples=self.samples,
                intervals=Intervals(state_poll_interval, publish_interval),
                evidence_retention=evidence_retention,
                evidence_max_exemplars=evidence_max_exemplars,
                openapi_max_samples=openapi_max_samples,
            )
        self._own: dict[str, ASGIApp] = own_paths(
            self.docs_prefix,
            self.control,
            self.metrics,
            admin_token,
            [self.control.readiness, *readiness_checks],
            self.openapi,
        )
        self.access_log = access_log

    @classmethod
    def from_settings(
        cls,
        legacy: WSGIApplication,
        new: FastAPI | None = None,
        settings: GatewaySettings | None = None,
        **overrides: Any,
    ) -> Gateway:
        """A gateway configured by `settings`, read from the `CUTOVER_*` variables when omitted;
        `overrides` win over both (e.g. `freeze_startup_heap=True`)."""
        options = (settings or GatewaySettings()).model_dump()
        token = options["admin_token"]
        options["admin_token"] = token.get_secret_value() if token is not None else None
        return cls(legacy, new, **{**options, **overrides})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._other(scope, receive, send)
            return
        started = perf_counter()
        if self._freeze_pending:
            self._freeze_startup_heap()
        path = route_path(scope) if scope.get("root_path") else scope["path"]
        if path.startswith(self._own_prefix):
            own = self._own.get(path) or self._own.get(path.rsplit("/", 1)[0] + "/")
            if own is not None:
                await own(scope, receive, send)
                return
        method = scope["method"]
        decision = self._decisions.get((method, path)) or self.router.decide(method, path)
        action = decision.action
        side = mode = decision.side
        shadowed = False
        if decision.both and (choice := self.control.choices.get(decision.route or "")):
            mode = choice.label
            if not self.control.serves_new(choice, scope):
                action = _LEGACY
                side = "legacy"
            shadowed = choice.shadows and self.shadow.wants(decision.route or "", method)
        rid, declares_body = tag_request(scope)
        if left := self._sample_due.get(decision.route, 0):  # 0: this one is sampled
            self._sample_due[decision.route] = left - 1
        else:
            receive, send = self.samples.start(decision.route, scope, receive, send)
        answer = AnsweringSend(send, rid, _SERVED_BY[side] if self.served_by_header else None)
        try:
            if shadowed:
                apps = side_apps(
                    self.bridge,
                    self._new_app,
                    self.max_body_size,
                    head=decision.action is Action.NEW_HEAD,
                )
                primary, candidate = apps if side == "legacy" else apps[::-1]
                await serve_shadowed(
                    self.shadow,
                    decision.route or "",
                    scope,
                    receive,
                    answer.send,
                    primary,
                    candidate,
                )
                return
            # `is` against module constants: an Enum member looked up on its class costs more.
            if action is _NEW:
                if decision.native is not None:
                    scope[HINT] = decision.native
                if not declares_body or self.max_body_size is None:
                    await self._new_app(scope, receive, answer.send)
                else:
                    await serve_within(
                        self._new_app, self.max_body_size, scope, receive, answer.send
                    )
            elif action is _LEGACY:
                allow = decision.allow
                await self.bridge(
                    scope, receive, answer.send if allow is None else with_allow(answer.send, allow)
                )
            elif action is _NEW_HEAD:
                await serve_within(
                    self._new_app,
                    self.max_body_size,
                    {**scope, "method": "GET", HINT: decision.native},
                    receive,
                    without_body(answer.send),
                )
            else:  # OPTIONS, 405, strict-slash redirect
                await self._answer_as_flask(decision, scope, receive, answer.send)
        finally:
            seconds = perf_counter() - started
            route = decision.template
            self.metrics.observe(route, method, side, mode, answer.status, seconds)
            if _access_logged(_INFO):
                log_access(method, route, answer.status, seconds, side, mode, rid)

    async def _other(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Lifespan, and websockets (the new app's, else closed)."""
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(scope, receive, send)
        elif self.new is not None:
            await self.new(scope, receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})

    async def _answer_as_flask(
        self, decision: Decision, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """OPTIONS, 405 or the strict-slash redirect, answered as Flask would have."""
        bridge = self.bridge
        environ = build_environ(scope, bridge.trust_proxy_headers, bridge.server_software)
        response: Response
        if decision.action is Action.OPTIONS:
            response = options_response(self._response_class, decision.allow or "")
        elif decision.action is Action.METHOD_NOT_ALLOWED:
            response = method_not_allowed(decision.allow or "", environ)
        else:
            redirect = self.router.redirect(environ, self._server_name)
            if redirect is None:
                await self.bridge(scope, receive, send)
                return
            response = redirect.get_response(environ)
        await send_response(response, environ, send)

    def _freeze_startup_heap(self) -> None:
        self._freeze_pending = False
        gc.freeze()

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The new app's lifespan, with the control plane following the state store while the
        server runs (started before the server is told startup completed)."""

        async def started() -> None:
            configure_access_log(self.access_log)
            if isinstance(self.bridge, RemoteBridge):
                await anyio.to_thread.run_sync(self.bridge.start)
            await anyio.to_thread.run_sync(self.control.start)
            self.publisher.start()
            if self._freeze_pending:
                self._freeze_startup_heap()

        async def stopped() -> None:
            await self.shadow.stop()
            await self.publisher.stop()
            await anyio.to_thread.run_sync(self.control.stop)
            await anyio.to_thread.run_sync(self.bridge.close)

        await run_lifespan(self.new, scope, receive, send, started, stopped)


_NEW, _LEGACY, _NEW_HEAD = Action.NEW, Action.LEGACY, Action.NEW_HEAD
_INFO = logging.INFO
_access_logged = logging.getLogger(LOGGER_NAME).isEnabledFor


_SERVED_BY = {"new": b"new", "legacy": b"legacy", "gateway": b"gateway"}
