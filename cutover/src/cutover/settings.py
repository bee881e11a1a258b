"""Gateway options read from `CUTOVER_*` environment variables, so operators tune without code."""

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cutover.wsgi import (
    DEFAULT_MAX_BODY,
    DEFAULT_QUEUE_SIZE,
    DEFAULT_QUEUE_TIMEOUT,
    DEFAULT_THREADS,
)


class GatewaySettings(BaseSettings):
    """Operator settings for a `Gateway` (`Gateway.from_settings`); a limit of None is no limit.

    Read from the process environment only: the library reads no `.env` file of its own.
    """

    model_config = SettingsConfigDict(env_prefix="CUTOVER_", extra="ignore", populate_by_name=True)

    legacy_threads: int = DEFAULT_THREADS
    # Out of process: this many legacy worker processes (0: in the gateway's own), each loading
    # legacy_app ("module:attr" or "module:factory()"), run by legacy_python (else the gateway's)
    # at CPU priority nice legacy_nice (0: the gateway's; 10: the native routes first).
    legacy_processes: int = Field(default=0, ge=0)
    legacy_app: str | None = None
    legacy_python: str | None = None
    legacy_nice: int = Field(default=0, ge=0, le=19)
    # Limits on both sides; "none" in the environment lifts one.
    max_body_size: int | None = DEFAULT_MAX_BODY
    legacy_queue_size: int | None = DEFAULT_QUEUE_SIZE
    legacy_queue_timeout: float | None = DEFAULT_QUEUE_TIMEOUT
    server_software: str | None = None
    docs_prefix: str = "/_cutover"
    trust_proxy_headers: bool = False
    freeze_startup_heap: bool = False
    # The control plane: where the modes live (else DATABASE_URL; neither: modes from code only).
    state_url: str | None = Field(
        default=None, validation_alias=AliasChoices("CUTOVER_STATE_URL", "DATABASE_URL")
    )
    state_poll_interval: float = 1.0
    # How often each process writes its traffic counts and shadow evidence to the state store.
    publish_interval: float = Field(default=2.0, gt=0)
    # The admin API and every control-plane page are off while no token is set.
    admin_token: SecretStr | None = None
    canary_key: str = "bearer,client"
    served_by_header: bool = False
    access_log: bool = True
    # Shadow traffic (routes in shadow / reverse-shadow mode): the other side's replay.
    shadow_timeout: float = 2.0
    shadow_sample_rate: float = 1.0
    # Per route, as JSON: {"GET /items": 0.1} and {"POST /search": ["POST"]} (writes stay off).
    shadow_sample_rates: dict[str, float] = Field(default_factory=dict)
    shadow_methods: dict[str, list[str]] = Field(default_factory=dict)
    shadow_concurrency: int = 4
    shadow_queue_size: int = 256
    shadow_max_body_size: int = 64 << 10
    shadow_max_answer_size: int = 256 << 10
    shadow_budget: float = Field(default=1.0, gt=0, le=1)
    # Shadow evidence in the state store: kept this many seconds, this many exemplars a route.
    evidence_retention: float = Field(default=7 * 24 * 3600.0, gt=0)
    evidence_max_exemplars: int = Field(default=50, ge=1)
    # The OpenAPI document's learning: a route's first requests, then 1 in N (0: off); kept.
    openapi_sample_every: int = Field(default=100, ge=0)
    openapi_max_samples: int = Field(default=50, ge=1)

    @field_validator("max_body_size", "legacy_queue_size", "legacy_queue_timeout", mode="before")
    @classmethod
    def _none_lifts_the_limit(cls, value: object) -> object:
        """`CUTOVER_MAX_BODY_SIZE=none` and the like: a limit an operator turned off."""
        return None if isinstance(value, str) and value.strip().lower() == "none" else value
