"""Process heatmaps: how many open cases sit at each element of a process diagram."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select

from domain.context import Context
from domain.processes import definitions
from domain.processes.models import ProcessInstance, ProcessVersion
from domain.reports.workload import OPEN_STATUSES


@dataclass(frozen=True, slots=True)
class ElementCount:
    """Open cases at one element; `on_diagram` is False for elements only older versions have."""

    element_id: str
    name: str
    count: int
    on_diagram: bool


@dataclass(frozen=True, slots=True)
class Heatmap:
    """The latest version of a process and the open cases at each of its elements."""

    key: str
    title: str
    version: ProcessVersion
    open_cases: int
    counts: dict[str, int]
    rows: tuple[ElementCount, ...]


def heatmap(ctx: Context, key: str) -> Heatmap:
    """Count the open cases of every version of a process at each active element.

    Raises NotFoundError when the process is unknown or has no deployed version.
    """
    version = definitions.latest_version(ctx, key)
    instances = ctx.session.scalars(
        select(ProcessInstance).where(
            ProcessInstance.process_key == key, ProcessInstance.status.in_(OPEN_STATUSES)
        )
    ).all()
    counts: Counter[str] = Counter()
    names: dict[str, str] = {}
    for instance in instances:
        older = instance.version.element_names or {}
        for element_id in dict.fromkeys(instance.active_elements or []):
            counts[element_id] += 1
            if older.get(element_id) not in (None, "", element_id):
                names.setdefault(element_id, older[element_id])
    latest = {e: n for e, n in (version.element_names or {}).items() if n and n != e}
    # the table lists named steps; an unnamed gateway a case waits at is on the diagram only
    named = {e: c for e, c in counts.items() if e in latest or e in names}
    rows = tuple(
        ElementCount(
            element_id,
            latest.get(element_id) or names.get(element_id) or element_id,
            count,
            element_id in latest,
        )
        for element_id, count in sorted(
            named.items(), key=lambda item: (-item[1], latest.get(item[0], item[0]).lower())
        )
    )
    return Heatmap(
        key=key,
        title=version.definition.title,
        version=version,
        open_cases=len(instances),
        counts=dict(counts),
        rows=rows,
    )


def diagram_xml(version: ProcessVersion) -> str:
    """Return the stored BPMN XML of a version (the file named after the process if several)."""
    files = version.bpmn or {}
    if not files:
        return ""
    preferred = f"{version.definition.key}.bpmn"
    if preferred in files:
        return files[preferred]
    return files[sorted(files)[0]]
