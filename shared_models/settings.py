"""Settings read from the environment (or `.env`), the same for both sides of the gateway."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "instance" / "cutover.db"


class Settings(BaseSettings):
    """Application settings; every field maps to an upper-case environment variable."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    secret_key: str = "dev-only-change-me"
    upstream_url: str = "http://127.0.0.1:8001/data"
    upstream_timeout: float = 5.0
    db_pool_size: int = 20
    db_max_overflow: int = 12
    # The FastAPI side's worker threads (default: one per connection of its pool) and its queue.
    endpoint_threads: int | None = None
    endpoint_queue_size: int = 1024
    endpoint_queue_timeout: float = 10.0
    token_ttl_seconds: int = 3600
    # The brake's fire drill (new_fastapi.drill): /_drill/fail answers 500 on a ported route.
    drill_enabled: bool = False


@lru_cache
def get_settings() -> Settings:
    """Settings are read once per process."""
    return Settings()
