"""Typed settings, read once at start-up from the environment (prefix ``YIBAO_``).

Nothing connects at import time: the settings object is built by the edge (CLI, API
factory, tests) and passed in. Which database and uploads directory by default:
:mod:`yibao.locations`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from yibao.limits import Limits
from yibao.locations import (
    DATABASE_URL_VARIABLE,
    DEMO_DATABASE_FILE,
    DEMO_DATABASE_URL,
    DEMO_UPLOAD_DIR,
    PLATFORM_DATABASE_FILE,
    PLATFORM_DATABASE_URL,
    PLATFORM_UPLOAD_DIR,
    database_choice,
    default_database_url,
    default_upload_dir,
    demo_is_the_default,
    sqlite_file,
)

__all__ = [
    "DATABASE_URL_VARIABLE",
    "DEFAULT_SECRET",
    "DEMO_DATABASE_FILE",
    "DEMO_DATABASE_URL",
    "DEMO_UPLOAD_DIR",
    "PLATFORM_DATABASE_FILE",
    "PLATFORM_DATABASE_URL",
    "PLATFORM_UPLOAD_DIR",
    "Settings",
    "database_choice",
    "default_database_url",
    "demo_is_the_default",
    "get_settings",
    "sqlite_file",
]

DEFAULT_SECRET = "change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YIBAO_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(default_factory=default_database_url)
    # The owner of the schema, for `yibao db upgrade`, `grant-app-role`, `backup` and
    # `restore` (YIBAO_MIGRATION_DATABASE_URL); unset: database_url. On PostgreSQL the
    # application's own database_url then names a role that owns nothing (docs/operations.md).
    migration_database_url: str | None = None
    upload_dir: Path = Field(default_factory=default_upload_dir)
    # Largest uploaded document, in bytes.
    upload_max_bytes: int = 10 * 1024 * 1024
    # Signs values the platform hands out (certificate verification codes and the like).
    secret_key: str = DEFAULT_SECRET
    # National rule since 2022: a person with a long-term filing may still use the card at
    # home. Seed 001 suspends local use while filed; regions choose (policy switch).
    policy_local_use_while_filed: bool = True
    log_level: str = "INFO"
    # Operations (docs/operations.md). One JSON object per log line, or text for a terminal.
    log_format: Literal["json", "text"] = "json"
    # /docs, /redoc, /openapi.json: public, signed_in (a token or a page session), or off;
    # unset: signed_in in production, public otherwise (see api_docs_access).
    api_docs: Literal["public", "signed_in", "off"] | None = None
    # /metrics answers loopback clients, and others presenting this bearer token.
    metrics_token: str | None = None
    # Addresses of reverse proxies whose X-Forwarded-Proto is believed (comma-separated):
    # HSTS is sent when the request came over TLS to Yibao or to such a proxy.
    trusted_proxies: str = ""
    # Sizes, counts, failed sign-ins and token lifetime: YIBAO_LIMIT_* (yibao.limits).
    limits: Limits = Field(default_factory=Limits)

    @property
    def api_docs_access(self) -> Literal["public", "signed_in", "off"]:
        if self.api_docs is not None:
            return self.api_docs
        return "signed_in" if self.environment == "production" else "public"

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET:
            raise ValueError("YIBAO_SECRET_KEY must be set in production")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read from the environment the first time)."""
    return Settings()
