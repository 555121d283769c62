"""Typed settings, read once at start-up from the environment (prefix ``YIBAO_``).

Nothing connects at import time: the settings object is built by the edge (CLI, API
factory, tests) and passed in.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YIBAO_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./var/yibao.db"
    upload_dir: Path = Path("./var/uploads")
    # Largest uploaded document, in bytes.
    upload_max_bytes: int = 10 * 1024 * 1024
    # Signs values the platform hands out (certificate verification codes and the like).
    secret_key: str = DEFAULT_SECRET
    # National rule since 2022: a person with a long-term filing may still use the card at
    # home. Seed 001 suspends local use while filed; regions choose (policy switch).
    policy_local_use_while_filed: bool = True
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET:
            raise ValueError("YIBAO_SECRET_KEY must be set in production")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read from the environment the first time)."""
    return Settings()
