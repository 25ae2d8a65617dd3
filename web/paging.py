"""Numbered pages of a long list: reading `?page=` and the GOV.UK pagination component's
parameters."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain import errors


def read_page(args: Mapping[str, str]) -> int:
    """The page number asked for (1 when none is); anything but a whole number from 1 is a 404."""
    raw = args.get("page", "1")
    if not raw.isdigit() or raw.startswith("0") or len(raw) > 9:
        raise errors.NotFoundError("There is no such page.")
    return int(raw)


def check_page(page: int, pages: int) -> None:
    """A page after the last is a 404 (a list that is empty still has its one, empty, page)."""
    if page > pages:
        raise errors.NotFoundError("There is no such page.")


def pagination(
    page: int, pages: int, href: Callable[[int], str], label: str
) -> dict[str, Any] | None:
    """govukPagination parameters: previous and next, the first and last pages, and the pages
    either side of this one, with ellipses between (None when there is only one page)."""
    if pages <= 1:
        return None
    shown = sorted({1, pages, page - 1, page, page + 1} & set(range(1, pages + 1)))
    items: list[dict[str, Any]] = []
    for number in shown:
        if items and number - items[-1].get("number", number) > 1:
            items.append({"ellipsis": True})
        items.append({"number": number, "href": href(number), "current": number == page})
    return {
        "previous": {"href": href(page - 1)} if page > 1 else None,
        "next": {"href": href(page + 1)} if page < pages else None,
        "items": items,
        "landmarkLabel": label,
    }
