"""BPMN lanes and who works in them. Every lane in a shipped or uploaded diagram must be here."""

from __future__ import annotations

from dataclasses import dataclass

PRACTITIONER = "practitioner"
TEAM_MANAGER = "team_manager"
PROCESS_OWNER = "process_owner"
ADMIN = "admin"
ROLES = frozenset({PRACTITIONER, TEAM_MANAGER, PROCESS_OWNER, ADMIN})

CSC = "childrens_social_care"
POLICE = "police"
HEALTH = "health"
EDUCATION = "education"
EARLY_HELP = "early_help"
PARTNERSHIP = "partnership"
OTHER = "other"
AGENCY_KINDS = frozenset({CSC, POLICE, HEALTH, EDUCATION, EARLY_HELP, PARTNERSHIP, OTHER})


@dataclass(frozen=True, slots=True)
class Lane:
    """Who may work a lane's tasks: users with one of `roles` in an agency of one of `kinds`."""

    name: str
    title: str
    roles: frozenset[str]
    kinds: frozenset[str] | None
    """None: any agency (the task's own agency property then narrows it)."""


_BOTH = frozenset({PRACTITIONER, TEAM_MANAGER})
_MANAGER = frozenset({TEAM_MANAGER})

LANES: dict[str, Lane] = {
    lane.name: lane
    for lane in (
        Lane("practitioner", "Any practitioner", _BOTH, None),
        Lane("team_manager", "Any team manager", _MANAGER, None),
        Lane("referrer", "Referring practitioner", _BOTH, None),
        Lane("front_door", "Front door screening", _BOTH, frozenset({CSC})),
        Lane("front_door_manager", "Front door manager", _MANAGER, frozenset({CSC})),
        Lane("social_worker", "Children's social care social worker", _BOTH, frozenset({CSC})),
        Lane("csc_manager", "Children's social care team manager", _MANAGER, frozenset({CSC})),
        Lane("conference_chair", "Conference chair", _MANAGER, frozenset({CSC})),
        Lane("police", "Police", _BOTH, frozenset({POLICE})),
        Lane("health", "Health", _BOTH, frozenset({HEALTH})),
        Lane("education", "Education", _BOTH, frozenset({EDUCATION})),
        Lane("early_help", "Early help practitioner", _BOTH, frozenset({EARLY_HELP})),
        Lane("early_help_manager", "Early help manager", _MANAGER, frozenset({EARLY_HELP})),
        Lane("lead_practitioner", "Lead practitioner", _BOTH, None),
        Lane("convenor", "Convening practitioner", _BOTH, None),
        Lane("invitee", "Invited agency", _BOTH, None),
        Lane("action_owner", "Action owner", _BOTH, None),
        Lane("raiser", "Practitioner raising the concern", _BOTH, None),
        Lane("respondent", "Responding agency", _BOTH, None),
        Lane("agency_manager", "Agency manager or DSL", _MANAGER, None),
        Lane("senior_manager", "Senior manager", _MANAGER, None),
        Lane("partnership", "Safeguarding partnership", _MANAGER, frozenset({PARTNERSHIP})),
    )
}
KNOWN_LANES = frozenset(LANES)


def lanes_for(roles: frozenset[str], agency_kind: str) -> frozenset[str]:
    """Return the lanes whose tasks a user with these roles in this kind of agency may work."""
    return frozenset(
        lane.name
        for lane in LANES.values()
        if lane.roles & roles and (lane.kinds is None or agency_kind in lane.kinds)
    )
