"""`CUTOVER_*` variables reach the parts they tune, and "none" lifts a limit."""

from __future__ import annotations

import pytest
from flask import Flask

from cutover import Gateway
from cutover.settings import GatewaySettings
from cutover.wsgi import DEFAULT_MAX_BODY, SERVER_SOFTWARE


def gateway_from(settings: GatewaySettings) -> Gateway:
    return Gateway(Flask("settings"), **settings.model_dump())


def test_defaults_bound_bodies_and_the_legacy_queue() -> None:
    gateway = gateway_from(GatewaySettings(_env_file=None))
    try:
        assert gateway.max_body_size == gateway.bridge.max_body_size == DEFAULT_MAX_BODY
        assert DEFAULT_MAX_BODY == 10 * 1024 * 1024
        pool = gateway.bridge.pool
        assert (pool.max_queue, pool.max_wait) == (1024, 10.0)
        assert gateway.bridge.server_software == SERVER_SOFTWARE
    finally:
        gateway.bridge.close()


def test_environment_tunes_the_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUTOVER_MAX_BODY_SIZE", "2048")
    monkeypatch.setenv("CUTOVER_LEGACY_QUEUE_SIZE", "8")
    monkeypatch.setenv("CUTOVER_LEGACY_QUEUE_TIMEOUT", "0.25")
    monkeypatch.setenv("CUTOVER_SERVER_SOFTWARE", "gunicorn/23.0.0")
    gateway = gateway_from(GatewaySettings(_env_file=None))
    try:
        assert (gateway.max_body_size, gateway.bridge.max_body_size) == (2048, 2048)
        assert (gateway.bridge.pool.max_queue, gateway.bridge.pool.max_wait) == (8, 0.25)
        assert gateway.bridge.server_software == "gunicorn/23.0.0"
    finally:
        gateway.bridge.close()


def test_none_lifts_each_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MAX_BODY_SIZE", "LEGACY_QUEUE_SIZE", "LEGACY_QUEUE_TIMEOUT"):
        monkeypatch.setenv(f"CUTOVER_{name}", "none")
    gateway = gateway_from(GatewaySettings(_env_file=None))
    try:
        assert (gateway.max_body_size, gateway.bridge.max_body_size) == (None, None)
        assert (gateway.bridge.pool.max_queue, gateway.bridge.pool.max_wait) == (None, None)
    finally:
        gateway.bridge.close()


def test_per_route_shadow_options_are_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUTOVER_SHADOW_SAMPLE_RATES", '{"GET /items": 0.05}')
    monkeypatch.setenv("CUTOVER_SHADOW_METHODS", '{"POST /search": ["POST"]}')
    settings = GatewaySettings()
    assert settings.shadow_sample_rates == {"GET /items": 0.05}
    assert settings.shadow_methods == {"POST /search": ["POST"]}
    gateway = Gateway.from_settings(Flask("settings_shadow"), settings=settings)
    assert gateway.shadow.sample_rates == {"GET /items": 0.05}
    assert gateway.shadow.methods == {"POST /search": frozenset({"POST"})}
