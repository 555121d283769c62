"""Lists a page at a time (newest first, as the services order them): the page's number in
the address (``?page=2``), and one row more asked of the service than is shown, which says
whether there is a next page, with no count of the whole list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Query

T = TypeVar("T")

PageNumber = Annotated[int, Query(alias="page", ge=1, le=100_000)]


@dataclass(frozen=True, slots=True)
class Paging:
    """Page ``number`` (from 1) of a list shown ``size`` rows at a time."""

    number: int
    size: int

    @property
    def limit(self) -> int:
        """How many rows to ask the service for: one more than shown."""
        return self.size + 1

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    def split(self, rows: Sequence[T]) -> tuple[list[T], int | None]:
        """The rows to show (of those asked with :attr:`limit` and :attr:`offset`, or of a
        whole list from :attr:`offset` on) and the next page's number (none: the last)."""
        return list(rows[: self.size]), self.number + 1 if len(rows) > self.size else None
