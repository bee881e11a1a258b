"""`cutover.observe` re-exports each module's public names, the objects themselves."""

from __future__ import annotations

import importlib

import cutover.observe

MODULES = ("request_id", "access_log", "metrics", "health")


def test_every_exported_name_is_a_module_s_own_object() -> None:
    modules = [importlib.import_module(f"cutover.observe.{name}") for name in MODULES]
    for name in cutover.observe.__all__:
        exported = getattr(cutover.observe, name)
        assert any(getattr(module, name, None) is exported for module in modules), name


def test_the_hot_path_functions_are_exported() -> None:
    for name in ("request_id", "with_request_id", "log_access", "GatewayMetrics", "readyz"):
        assert name in cutover.observe.__all__
