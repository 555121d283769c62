"""Helpers for commands: one transaction per command, errors as one line and exit 2."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import typer
from sqlalchemy.orm import Session

from yibao.config import Settings
from yibao.db import make_engine, session_scope
from yibao.errors import YibaoError

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def command_session(settings: Settings | None = None) -> Iterator[Session]:
    """A session on ``YIBAO_DATABASE_URL`` that commits when the command succeeds."""
    engine = make_engine((settings or Settings()).database_url)
    try:
        with session_scope(engine) as session:
            yield session
    finally:
        engine.dispose()


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def reports_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Render a ``YibaoError`` as ``error: <code>: <message>`` on stderr, exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except YibaoError as exc:
            raise fail(f"{exc.code}: {exc.message}") from None

    return wrapper
