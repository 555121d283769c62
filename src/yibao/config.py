"""Typed settings, read once at start-up from the environment (prefix ``YIBAO_``).

Nothing connects at import time: the settings object is built by the edge (CLI, API
factory, tests) and passed in.

Which database: ``YIBAO_DATABASE_URL`` when it is set. Otherwise the platform's own,
``./var/yibao.db`` (created by ``yibao db upgrade``) — unless only a demo has been run here:
when ``./var/yibao.db`` does not exist and ``./var/demo.db`` (written by ``yibao demo`` /
``make demo``) does, the demo's database and its uploads are the default, so the commands
work on what the demo's guide shows. The platform's database, once created, always wins.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

DEFAULT_SECRET = "change-me"

DATABASE_URL_VARIABLE = "YIBAO_DATABASE_URL"
PLATFORM_DATABASE_FILE = "./var/yibao.db"
PLATFORM_DATABASE_URL = f"sqlite:///{PLATFORM_DATABASE_FILE}"
PLATFORM_UPLOAD_DIR = Path("./var/uploads")
# What `yibao demo` writes with its default --var-dir (the demo's guide names it).
DEMO_DATABASE_FILE = "./var/demo.db"
DEMO_DATABASE_URL = f"sqlite:///{DEMO_DATABASE_FILE}"
DEMO_UPLOAD_DIR = Path("./var/demo-uploads")


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names; None for another database or an in-memory one."""
    try:
        parsed = make_url(url)
    except Exception:  # an unreadable URL is reported when the engine is made
        return None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    return Path(database)


def demo_is_the_default() -> bool:
    """True when only a demo has been run here: ./var/demo.db exists, ./var/yibao.db does not."""
    return not Path(PLATFORM_DATABASE_FILE).exists() and Path(DEMO_DATABASE_FILE).exists()


def default_database_url() -> str:
    """The platform's database, or the demo's after a demo (see the module's docstring)."""
    return DEMO_DATABASE_URL if demo_is_the_default() else PLATFORM_DATABASE_URL


def _default_upload_dir(data: dict[str, Any]) -> Path:
    return DEMO_UPLOAD_DIR if data.get("database_url") == DEMO_DATABASE_URL else PLATFORM_UPLOAD_DIR


def database_choice(url: str) -> str:
    """Why ``url`` is the database, in words (``yibao db status``, ``yibao --help``)."""
    if any(name.upper() == DATABASE_URL_VARIABLE for name in os.environ):
        return f"set by {DATABASE_URL_VARIABLE}"
    other = f"set {DATABASE_URL_VARIABLE} to choose another"
    if url == DEMO_DATABASE_URL:
        return f"the demo's, as {PLATFORM_DATABASE_FILE} does not exist; {other}"
    if url == PLATFORM_DATABASE_URL:
        return f"the platform's default; {other}"
    return "given to the command"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YIBAO_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(default_factory=default_database_url)
    upload_dir: Path = Field(default_factory=_default_upload_dir)
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
