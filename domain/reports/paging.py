"""Parts of long oldest-first lists (a case's timeline, audit trail and records): the latest
few for the case page, or one numbered page of them all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Span:
    """Which part of an oldest-first list to read.

    No `size`: all of it. A `size` and no `page`: the latest `size` entries. Both: page `page`
    (1 is the oldest) of pages of `size` entries.
    """

    size: int | None = None
    page: int | None = None

    def bounds(self, total: int) -> tuple[int, int | None]:
        """(index of the first entry to read, how many at most) in a list of `total`."""
        if self.size is None:
            return 0, None
        if self.page is None:
            return max(0, total - self.size), self.size
        return (self.page - 1) * self.size, self.size


@dataclass(frozen=True, slots=True)
class Window(Generic[T]):
    """The entries read, where they start in the whole list, and how long the list is."""

    items: list[T]
    start: int
    total: int

    @property
    def earlier(self) -> int:
        """Entries before those read."""
        return self.start

    @property
    def later(self) -> int:
        """Entries after those read."""
        return max(0, self.total - self.start - len(self.items))


def page_count(total: int, size: int) -> int:
    """How many pages of `size` a list of `total` fills (an empty list has one, empty, page)."""
    return max(1, -(-total // size))


ALL = Span()
"""The whole list."""
