"""Gateway options read from `CUTOVER_*` environment variables, so operators tune without code."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    """Operator settings for a `Gateway`; `None` means the toolkit's measured default."""

    model_config = SettingsConfigDict(env_prefix="CUTOVER_", env_file=".env", extra="ignore")

    legacy_threads: int | None = None
    max_body_size: int | None = None
    docs_prefix: str = "/_cutover"
    trust_proxy_headers: bool = False
