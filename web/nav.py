"""The service navigation: which sections a user sees, and which one they are in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.context import Actor
from domain.lanes import ADMIN, PRACTITIONER, PROCESS_OWNER, TEAM_MANAGER


@dataclass(frozen=True, slots=True)
class Section:
    """One navigation link, shown to users with any of `roles` (empty: every signed-in user)."""

    href: str
    text: str
    roles: frozenset[str] = frozenset()


SECTIONS: tuple[Section, ...] = (
    Section("/tasks", "Tasks"),
    Section("/start", "Start", frozenset({PRACTITIONER, TEAM_MANAGER})),
    Section("/families", "Families", frozenset({PRACTITIONER, TEAM_MANAGER, PROCESS_OWNER, ADMIN})),
    Section("/dashboard", "Dashboard", frozenset({TEAM_MANAGER, PROCESS_OWNER})),
    Section("/processes", "Processes", frozenset({TEAM_MANAGER, PROCESS_OWNER})),
    Section("/api/v1/docs", "API reference", frozenset({PROCESS_OWNER})),
)


def _within(path: str, href: str) -> bool:
    return path == href or path.startswith(href.rstrip("/") + "/")


def nav_items(actor: Actor | None, path: str) -> list[dict[str, Any]]:
    """Return the govukServiceNavigation items for this user, marking the section of `path`.

    The exact page gets `current` (aria-current="page"); a page inside a section gets `active`.
    Signed-out visitors get no navigation.
    """
    if actor is None:
        return []
    items: list[dict[str, Any]] = []
    for section in SECTIONS:
        if section.roles and not actor.has_role(*section.roles):
            continue
        item: dict[str, Any] = {"href": section.href, "text": section.text}
        if path == section.href:
            item["current"] = True
        elif _within(path, section.href):
            item["active"] = True
        items.append(item)
    return items
