"""The one per-request decision: which side answers (method, path), routed as Flask would."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import BaseConverter, Map, MapAdapter, RequestRedirect, Rule

from cutover.asgi import allow_header
from cutover.control.modes import route_id
from cutover.routes import STARLETTE_CONVERTERS, LegacyRoute, NewRoute, werkzeug_rule_string

DEFAULT_CACHE_SIZE = 10_000


class Action(enum.Enum):
    """What the gateway does with a request."""

    NEW = "new"
    NEW_HEAD = "new-head"  # run GET on the new app, send no body
    LEGACY = "legacy"
    OPTIONS = "options"  # Flask's automatic OPTIONS, for a path only the new app still has
    REDIRECT = "redirect"  # werkzeug's strict-slash/merge-slash redirect, likewise
    METHOD_NOT_ALLOWED = "method-not-allowed"  # werkzeug's 405, likewise


_SIDE = {
    Action.NEW: "new",
    Action.NEW_HEAD: "new",
    Action.LEGACY: "legacy",
    Action.OPTIONS: "gateway",
    Action.METHOD_NOT_ALLOWED: "gateway",
    Action.REDIRECT: "gateway",
}


@dataclass(frozen=True, slots=True)
class Decision:
    """An action; for 405/OPTIONS answers the `Allow` value listing both sides' methods; the
    route (`GET /items/{item_id}`) when one matched, and whether both sides serve it, so the
    control plane's mode for it may pick either."""

    action: Action
    allow: str | None = None
    route: str | None = None
    template: str | None = None
    both: bool = False
    native: Any = None  # where the new app's router starts for it (`cutover.dispatch`)
    side: str = field(init=False)  # who answers without a mode: new, legacy or the gateway

    def __post_init__(self) -> None:
        object.__setattr__(self, "side", _SIDE[self.action])


def _nowhere(method: str, path: str) -> None:
    return None


LEGACY = Decision(Action.LEGACY)
REDIRECT = Decision(Action.REDIRECT)


def _copy_rule(rule: Rule, endpoint: str, methods: Sequence[str] | None = None) -> Rule:
    options = dict(rule.get_empty_kwargs())
    options["endpoint"] = endpoint
    if methods is not None:
        options["methods"] = methods
    return Rule(rule.rule, merge_slashes=rule.merge_slashes, **options)


class Router:
    """Decides per (method, path) which side answers, caching decisions in a bounded dict.

    A combined werkzeug Map holds the legacy rules plus a rule for every new route the
    legacy app lacks, so strict slashes, automatic HEAD/OPTIONS and 405s follow Flask's rules
    even for routes whose legacy code was deleted.
    """

    def __init__(
        self,
        new: Sequence[NewRoute],
        legacy: Sequence[LegacyRoute] | None = None,
        legacy_map: Map | None = None,
        *,
        automatic_options: bool = True,
        cache_size: int = DEFAULT_CACHE_SIZE,
        locate: Callable[[str, str], Any] | None = None,
    ) -> None:
        self._locate = locate or _nowhere
        self._new_methods: dict[str, set[str] | None] = {}
        for route in new:
            known = self._new_methods.get(route.key, set())
            self._new_methods[route.key] = (
                None if route.methods is None or known is None else known | route.methods
            )
        self._new_matchers = [(route.path_regex.match, route.methods) for route in new]
        self._templates: dict[str, str] = {route.key: route.template for route in new}
        self._templates.update((route.key, route.template) for route in legacy or ())
        self.legacy_map = legacy_map
        self.combined_map = self._combined_map(new, legacy or (), legacy_map, automatic_options)
        self._combined = self.combined_map.bind("localhost", subdomain=self._subdomain())
        self._legacy: MapAdapter | None = None
        if legacy_map is not None:
            self._legacy = legacy_map.bind("localhost", subdomain=self._subdomain())
        self._cache: dict[tuple[str, str], Decision] = {}
        self.decisions: Mapping[tuple[str, str], Decision] = self._cache  # read-only view
        self.cache_size = cache_size

    def _subdomain(self) -> str:
        return (self.legacy_map.default_subdomain if self.legacy_map else "") or ""

    @staticmethod
    def _combined_map(
        new: Sequence[NewRoute],
        legacy: Sequence[LegacyRoute],
        legacy_map: Map | None,
        automatic_options: bool,
    ) -> Map:
        rules = [_copy_rule(route.rule, route.key) for route in legacy]
        legacy_by_key: dict[str, list[LegacyRoute]] = {}
        for route in legacy:
            legacy_by_key.setdefault(route.key, []).append(route)
        for new_route in new:
            same_template = legacy_by_key.get(new_route.key)
            if not same_template:
                methods = None
                if new_route.methods is not None:
                    automatic = {"OPTIONS"} if automatic_options else set()
                    methods = sorted(new_route.methods | automatic)
                rules.append(
                    Rule(
                        werkzeug_rule_string(new_route.path),
                        endpoint=new_route.key,
                        methods=methods,
                    )
                )
                continue
            covered: set[str] = set()
            for route in same_template:
                covered |= route.methods
            if new_route.methods is None:
                extra = None
            else:
                extra = sorted(new_route.methods - covered)
                if not extra:
                    continue
            # The legacy converters decide which paths the template matches.
            rules.append(_copy_rule(same_template[0].rule, new_route.key, extra))
        converters: dict[str, type[BaseConverter]] = dict(STARLETTE_CONVERTERS)
        if legacy_map is None:
            # A plain WSGI app: no slash conventions of its own to imitate.
            return Map(rules, converters=converters, strict_slashes=False, merge_slashes=False)
        converters.update(legacy_map.converters)
        return Map(
            rules,
            converters=converters,
            default_subdomain=legacy_map.default_subdomain,
            strict_slashes=legacy_map.strict_slashes,
            merge_slashes=legacy_map.merge_slashes,
            redirect_defaults=legacy_map.redirect_defaults,
            host_matching=legacy_map.host_matching,
        )

    @property
    def cached_decisions(self) -> int:
        """How many decisions the cache holds (never more than `cache_size`)."""
        return len(self._cache)

    def decide(self, method: str, path: str) -> Decision:
        """The decision for (method, path); cached, so the hot path is one dict lookup."""
        cache_key = (method, path)
        decision = self._cache.get(cache_key)
        if decision is None:
            decision = self._decide(method, path)
            if len(self._cache) >= self.cache_size:
                del self._cache[next(iter(self._cache))]
            self._cache[cache_key] = decision
        return decision

    def _new_serves(self, method: str, path: str) -> bool:
        return any(
            match(path) is not None and (methods is None or method in methods)
            for match, methods in self._new_matchers
        )

    def _decide(self, method: str, path: str) -> Decision:
        try:
            key, _ = self._combined.match(path, method)
        except RequestRedirect:
            if self._legacy is None or self._legacy_redirects(path, method):
                return LEGACY
            return REDIRECT
        except MethodNotAllowed as exc:
            return self._not_allowed(path, list(exc.valid_methods or ()))
        except HTTPException:
            return LEGACY
        new_methods = self._new_methods.get(key, set())
        template = self._templates.get(key, key)
        if (new_methods is None or method in new_methods) and self._new_serves(method, path):
            listed = "GET" if method == "HEAD" and self._new_serves("GET", path) else method
            return Decision(
                Action.NEW,
                route=route_id(listed, template),
                template=template,
                both=self._legacy_serves(path, method),
                native=self._locate(method, path),
            )
        if (
            method == "HEAD"
            and new_methods is not None
            and "GET" in new_methods
            and self._new_serves("GET", path)
        ):
            return Decision(
                Action.NEW_HEAD,
                route=route_id("GET", template),
                template=template,
                both=self._legacy_serves(path, method),
                native=self._locate("GET", path),
            )
        if method == "OPTIONS" and self._legacy is not None:
            return self._options(path)
        listed = "GET" if method == "HEAD" else method
        return Decision(Action.LEGACY, route=route_id(listed, template), template=template)

    def _legacy_serves(self, path: str, method: str) -> bool:
        """Whether the legacy app has a route for (method, path); a plain WSGI app has all."""
        if self._legacy is None:
            return True
        try:
            self._legacy.match(path, method)
        except HTTPException:
            return False
        return True

    def _legacy_redirects(self, path: str, method: str) -> bool:
        assert self._legacy is not None
        try:
            self._legacy.match(path, method)
        except RequestRedirect:
            return True
        except HTTPException:
            return False
        return False

    def _union_allow(self, path: str) -> tuple[list[str], list[str]]:
        assert self._legacy is not None
        return list(self._combined.allowed_methods(path)), list(self._legacy.allowed_methods(path))

    def _not_allowed(self, path: str, valid_methods: list[str]) -> Decision:
        if self._legacy is None:
            return LEGACY
        combined, legacy = self._union_allow(path)
        if not legacy:
            return Decision(Action.METHOD_NOT_ALLOWED, allow_header(valid_methods))
        if set(combined) == set(legacy):
            return LEGACY
        return Decision(Action.LEGACY, allow_header(combined))

    def _options(self, path: str) -> Decision:
        assert self._legacy is not None
        combined, legacy = self._union_allow(path)
        if "OPTIONS" not in legacy:
            return Decision(Action.OPTIONS, allow_header(combined))
        if set(combined) == set(legacy):
            return LEGACY
        return Decision(Action.LEGACY, allow_header(combined))

    def redirect(
        self, environ: Mapping[str, Any], server_name: str | None
    ) -> RequestRedirect | None:
        """The redirect werkzeug raises for this request, bound to it as Flask binds."""
        if self.legacy_map is not None and self.legacy_map.host_matching:
            server_name = None
        adapter = self.combined_map.bind_to_environ(
            dict(environ), server_name=server_name, subdomain=self._subdomain()
        )
        try:
            adapter.match()
        except RequestRedirect as redirect:
            return redirect
        except HTTPException:
            return None
        return None
