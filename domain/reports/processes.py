"""Processes as their owners see them: each version deployed, its open cases, and the
parameters (timescales and switches) its diagrams read, with who last changed each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from domain.context import Context
from domain.processes import definitions
from domain.processes.models import (
    ProcessDefinition,
    ProcessInstance,
    ProcessParameter,
    ProcessVersion,
)
from domain.users import service as users_service

OPEN = ("active", "incident")


@dataclass(frozen=True, slots=True)
class VersionLine:
    """One deployed version and how many open cases run on it."""

    number: int
    deployed_at: datetime
    deployed_by: str | None
    open_cases: int


@dataclass(frozen=True, slots=True)
class ProcessLine:
    """One process: its latest version and its open cases across every version."""

    key: str
    title: str
    latest: VersionLine
    versions: int
    open_cases: int


@dataclass(frozen=True, slots=True)
class ParameterLine:
    """A parameter of the latest version: the diagram's default and the value in force."""

    name: str
    default: Any
    value: Any
    changed_at: datetime | None
    changed_by: str | None


@dataclass(frozen=True, slots=True)
class ProcessDetail:
    """A process with every version, newest first, and its parameters, by name."""

    key: str
    title: str
    versions: list[VersionLine]
    parameters: list[ParameterLine]


def process_lines(ctx: Context) -> list[ProcessLine]:
    """Every deployed process, by title."""
    lines = []
    for definition in definitions.list_definitions(ctx):
        versions = _versions(ctx, definition)
        if versions:
            lines.append(
                ProcessLine(
                    key=definition.key,
                    title=definition.title,
                    latest=versions[0],
                    versions=len(versions),
                    open_cases=sum(v.open_cases for v in versions),
                )
            )
    return sorted(lines, key=lambda line: line.title.lower())


def process_detail(ctx: Context, key: str) -> ProcessDetail:
    """One process's versions and its latest version's parameters (a 404 when unknown)."""
    definition = definitions.get_definition(ctx, key)
    latest = definitions.latest_version(ctx, key)
    rows = {
        row.name: row
        for row in ctx.session.scalars(
            select(ProcessParameter).where(ProcessParameter.process_key == key)
        )
    }
    names = users_service.display_names(ctx, (r.updated_by for r in rows.values()))
    parameters = []
    for name, default in sorted((latest.parameters or {}).items()):
        row = rows.get(name)
        parameters.append(
            ParameterLine(
                name=name,
                default=default,
                value=row.value if row is not None else default,
                changed_at=row.updated_at if row is not None else None,
                changed_by=names.get(row.updated_by) if row and row.updated_by else None,
            )
        )
    return ProcessDetail(key, definition.title, _versions(ctx, definition), parameters)


def parameter_line(ctx: Context, key: str, name: str) -> ParameterLine | None:
    """One parameter of the latest version, or None when it reads no parameter of that name."""
    for line in process_detail(ctx, key).parameters:
        if line.name == name:
            return line
    return None


def _versions(ctx: Context, definition: ProcessDefinition) -> list[VersionLine]:
    """The definition's versions, newest first, each with its open cases."""
    open_counts = dict(
        ctx.session.execute(
            select(ProcessInstance.version_id, func.count())
            .where(
                ProcessInstance.process_key == definition.key,
                ProcessInstance.status.in_(OPEN),
            )
            .group_by(ProcessInstance.version_id)
        ).all()
    )
    versions = ctx.session.execute(
        select(
            ProcessVersion.id,
            ProcessVersion.number,
            ProcessVersion.created_at,
            ProcessVersion.created_by,
        )
        .where(ProcessVersion.definition_id == definition.id)
        .order_by(ProcessVersion.number.desc())
    ).all()
    names = users_service.display_names(ctx, (v.created_by for v in versions))
    return [
        VersionLine(
            number=v.number,
            deployed_at=v.created_at,
            deployed_by=names.get(v.created_by) if v.created_by else None,
            open_cases=int(open_counts.get(v.id, 0)),
        )
        for v in versions
    ]
