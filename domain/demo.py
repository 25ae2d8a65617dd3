"""Demo data: agencies, a user per role, three fictional families and processes in progress.

DEMO ONLY. Every demo user has the password below; never load this into a live system.
Each step is idempotent and runs in its own unit of work (the caller commits per step), so a
missing or failing workflow skips only its own part.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from domain.agencies import service as agencies
from domain.agencies.models import Agency
from domain.context import Actor, Context
from domain.demo_families import FAMILIES, FamilySpec, create_demo_family
from domain.demo_processes import FormFacts, ProcessPlan, run_plan
from domain.families import service as families
from domain.families.ages import is_child, local_today
from domain.lanes import ADMIN, PRACTITIONER, PROCESS_OWNER, TEAM_MANAGER
from domain.processes import choices, definitions
from domain.processes.bundles import bundles_from_folder
from domain.users import service as users
from domain.users.models import User

DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - demo only, printed by the command
PROCESS_KEYS = ("referral", "early_help", "mdt_meeting", "escalation")

AGENCIES = (
    ("csc", "Shropshire Council Children's Social Care", "childrens_social_care"),
    ("police", "West Mercia Police", "police"),
    ("health", "Shropshire Community Health NHS Trust", "health"),
    ("school-a", "Meadow Primary School", "education"),
    ("school-b", "Castle Secondary School", "education"),
    ("early-help", "Shropshire Early Help", "early_help"),
    ("partnership", "Safeguarding Partnership Business Unit", "partnership"),
)

AGENCY_PARAMETERS = {
    "csc_agency": "csc",
    "early_help_agency": "early-help",
    "partnership_agency": "partnership",
}
"""The demo agency each `*_agency` process parameter names."""

USERS = (
    ("sw1", "Social worker (demo)", (PRACTITIONER,), "csc"),
    ("tm1", "CSC team manager (demo)", (TEAM_MANAGER,), "csc"),
    ("fd1", "Front door practitioner (demo)", (PRACTITIONER,), "csc"),
    ("police1", "Police officer (demo)", (PRACTITIONER,), "police"),
    ("tm-police", "Police sergeant (demo)", (TEAM_MANAGER,), "police"),
    ("health1", "Health visitor (demo)", (PRACTITIONER,), "health"),
    ("tm-health", "Health safeguarding lead (demo)", (TEAM_MANAGER,), "health"),
    ("teacher1", "Teacher (demo)", (PRACTITIONER,), "school-a"),
    ("tm-school", "Designated safeguarding lead (demo)", (TEAM_MANAGER,), "school-a"),
    ("teacher2", "Secondary teacher (demo)", (PRACTITIONER,), "school-b"),
    ("eh1", "Early help practitioner (demo)", (PRACTITIONER,), "early-help"),
    ("ehm1", "Early help manager (demo)", (TEAM_MANAGER,), "early-help"),
    ("pm1", "Partnership manager (demo)", (TEAM_MANAGER,), "partnership"),
    ("owner1", "Process owner (demo)", (PROCESS_OWNER,), "partnership"),
    ("admin1", "Administrator (demo)", (ADMIN,), "partnership"),
)
RECORDER = "sw1"
"""The demo user who records the family details."""


@dataclass(frozen=True)
class DemoStep:
    """One idempotent part of the demo data; `run` returns a line to print."""

    name: str
    run: Callable[[Context], str]
    optional: bool = False
    """Optional steps (deployment, processes) are skipped on failure."""


def demo_steps(*, workflows_dir: Path, forms_dir: Path) -> list[DemoStep]:
    """List the demo data steps in the order they must run."""
    steps = [
        DemoStep("agencies", _agencies),
        DemoStep("users", _users),
        *(DemoStep(f"family {spec.reference}", _family_step(spec)) for spec in FAMILIES),
    ]
    present = (
        {path.stem for path in workflows_dir.glob("*.bpmn")} if workflows_dir.is_dir() else set()
    )
    for key in PROCESS_KEYS:
        if key not in present:
            steps.append(DemoStep(key, _missing(workflows_dir / f"{key}.bpmn"), optional=True))
    for bundle in bundles_from_folder(workflows_dir, forms_dir) if present else []:
        steps.append(DemoStep(f"deploy {bundle.key}", _deploy(bundle), optional=True))
        steps.append(
            DemoStep(f"agencies of {bundle.key}", _agency_parameters(bundle.key), optional=True)
        )
    for spec in FAMILIES:
        for plan in spec.plans:
            if plan.key in present:
                name = f"{plan.key} for {spec.reference}"
                steps.append(DemoStep(name, _process_step(spec, plan), optional=True))
    return steps


def _missing(path: Path) -> Callable[[Context], str]:
    def run(ctx: Context) -> str:
        return f"skipped: {path.name} not found"

    return run


def _agencies(ctx: Context) -> str:
    created = 0
    for code, name, kind in AGENCIES:
        if agencies.find_agency(ctx, code) is None:
            agencies.create_agency(
                ctx, code=code, name=name, kind=kind, notification_email=f"demo-{code}@example.org"
            )
            created += 1
    return f"{created} created, {len(AGENCIES) - created} already there"


def _users(ctx: Context) -> str:
    created = 0
    for username, display_name, roles, agency in USERS:
        if ctx.session.scalar(select(User).where(User.username == username)) is None:
            users.create_user(
                ctx,
                username=username,
                password=DEMO_PASSWORD,
                roles=roles,
                agency_code=agency,
                display_name=display_name,
                email=f"{username}@example.org",
            )
            created += 1
    return f"{created} created, {len(USERS) - created} already there (password {DEMO_PASSWORD})"


def demo_actors(ctx: Context) -> dict[str, Actor]:
    """Return the actor of every demo user that exists, by username."""
    rows = ctx.session.scalars(select(User).where(User.username.in_([u[0] for u in USERS])))
    found = {user.username: users.actor_of(user) for user in rows}
    return {name: found[name] for name, *_ in USERS if name in found}


def _family_step(spec: FamilySpec) -> Callable[[Context], str]:
    def run(ctx: Context) -> str:
        if families.find_family_by_reference(ctx, spec.reference) is not None:
            return "already there"
        recorder = replace(ctx, actor=demo_actors(ctx)[RECORDER])
        family = create_demo_family(recorder, spec)
        return f"created with {len(family.memberships)} members"

    return run


def _deploy(bundle: Any) -> Callable[[Context], str]:
    def run(ctx: Context) -> str:
        version, created = definitions.deploy(
            ctx, key=bundle.key, bpmn_files=bundle.bpmn, forms=bundle.forms
        )
        return f"version {version.number} {'deployed' if created else 'unchanged'}"

    return run


def _agency_parameters(key: str) -> Callable[[Context], str]:
    """Point the process's agency parameters at the demo agencies, as a partnership's process
    owner would at set-up: the diagrams' defaults are other codes."""

    def run(ctx: Context) -> str:
        declared = definitions.latest_version(ctx, key).parameters or {}
        values = definitions.parameters_for(ctx, definitions.latest_version(ctx, key))
        changed = []
        for name in sorted(declared):
            code = AGENCY_PARAMETERS.get(name)
            if code is not None and values.get(name) != code:
                definitions.set_parameter(ctx, key=key, name=name, value=code)
                changed.append(f"{name}={code}")
        return ", ".join(changed) or "already set"

    return run


def _process_step(spec: FamilySpec, plan: ProcessPlan) -> Callable[[Context], str]:
    def run(ctx: Context) -> str:
        family = families.find_family_by_reference(ctx, spec.reference)
        if family is None:
            return "skipped: the family is missing"
        today = local_today(ctx)
        members = families.members_of(ctx, family.id)
        children = [p.id for p in members if is_child(p, today) and not p.is_unborn]
        facts = FormFacts(today=today, choices=_choices(ctx, [p.id for p in members]))
        start = {"family_id": family.id, "subject_person_ids": children, **_dates(today)}
        return run_plan(
            ctx, plan, family_id=family.id, start=start, actors=demo_actors(ctx), facts=facts
        )

    return run


def _choices(ctx: Context, person_ids: list[int]) -> Mapping[str, list[Any]]:
    codes = list(ctx.session.scalars(select(Agency.code).order_by(Agency.id)))
    workers = [username for username, _name in choices.practitioner_choices(ctx)]
    return {
        "agencies": codes,
        "other_agencies": codes,  # each plan names the agency a disagreement is with
        "people": person_ids,
        "family_members": person_ids,
        "practitioners": workers,
    }


def _dates(today: date) -> dict[str, str]:
    return {"meeting_date": (today + timedelta(days=7)).isoformat()}
