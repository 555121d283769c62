"""What every command shares that needs no database: errors as one line on stderr with
exit status 2, and the collector paused for a batch run.

Split from :mod:`yibao.commands` so that commands working on files only (``yibao settle``,
``yibao batch``) start without loading SQLAlchemy and Pydantic.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import typer

from yibao.errors import YibaoError

P = ParamSpec("P")
R = TypeVar("R")


def say_error(message: str, code: str | None = None) -> None:
    """Write one error line on stderr: ``error: <code>: <message>`` (the one format)."""
    text = " ".join(message.split("\n"))
    typer.echo(f"error: {code}: {text}" if code else f"error: {text}", err=True)


def fail(error: YibaoError) -> typer.Exit:
    """Say ``error`` and return the exit (status 2) for the caller to raise."""
    say_error(error.message, error.code)
    return typer.Exit(2)


def reports_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Render a ``YibaoError`` as ``error: <code>: <message>`` on stderr, exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except YibaoError as exc:
            raise fail(exc) from None

    return wrapper


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a batch run, then restore it.

    A run of the engine allocates millions of small result objects, none of which can form
    a reference cycle (reference counting frees them); the cyclic collector would otherwise
    traverse the growing list of results again and again, which costs more than settling.
    A process-wide switch, so it belongs to the command that runs the batch, not the engine.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
