"""What each parameter of the shipped diagrams means, as a process owner reads it.

A parameter a diagram reads with `param(name, default)` is shown on the Processes pages by its
title here, with its name beside it; one not listed (in a diagram a process owner deployed) is
shown by its name, spaced out.
"""

from __future__ import annotations

PARAMETER_TITLES = {
    # agencies
    "csc_agency": "Children's social care agency (front door, social workers, chairs)",
    "early_help_agency": "Early help hub agency",
    "partnership_agency": "Safeguarding partnership agency",
    # referral and child protection (working days unless said)
    "screening_days": "Working days to screen a contact and decide",
    "feedback_days": "Working days to give the referrer feedback",
    "referrer_response_days": "Working days for the referrer to say if they agree",
    "assessment_days": "Working days to complete an assessment",
    "icpc_days": "Working days from strategy discussion to initial conference",
    "first_review_days": "Calendar days to the first review conference",
    "review_interval_days": "Calendar days between later review conferences",
    "cin_plan_meeting_days": "Working days to the first child in need meeting",
    "cin_review_weeks": "Weeks between child in need reviews",
    "manager_notice_days": "Working days overdue before the manager is told",
    "cp_direct_step_down_to_early_help": "Child protection plans may step down to early help",
    # early help
    "request_days": "Working days to record a request for early help",
    "consent_days": "Working days to record the family's consent",
    "lead_practitioner_days": "Working days to agree a lead practitioner",
    "first_taf_weeks": "Weeks from consent to the first Team Around the Family meeting",
    "review_weeks": "Weeks between Team Around the Family reviews",
    "review_preparation_days": "Calendar days before a review that its task opens",
    "support_assessment_days": "Working days to assess a disabled child's support",
    "support_review_weeks": "Weeks between reviews of a disabled child's support",
    "action_chase_days": "Working days past an action's due date before it is chased",
    # multi-agency meetings
    "response_days": "Working days for an invited agency to reply",
    "notes_days": "Working days after the meeting to record it",
    "endorsement_days": "Working days for a manager to endorse a request",
    "dsl_endorsement_required": "A manager or DSL must endorse a meeting request",
    "action_manager_notice_days": "Working days an action is overdue before the manager is told",
    "action_chair_notice_days": "Working days more before the convenor is told",
    # escalation
    "stage1_days": "Working days for stage 1 (practitioners)",
    "stage2_days": "Working days for stage 2 (managers or DSLs)",
    "stage3_days": "Working days for stage 3 (senior managers)",
    "stage4_days": "Working days for stage 4 (the partnership)",
    "stage4_chase_days": "Working days between chases of a stage 4 decision",
    "immediate_risk_days": "Working days for an escalation at immediate risk",
    "dissent_raise_hours": "Hours after a conference to put a dissent in writing",
    "dissent_response_days": "Working days to respond to a formal dissent",
}


def parameter_title(name: str) -> str:
    """A parameter's title: from the list above, else its name spaced out ("Stage5 days")."""
    return PARAMETER_TITLES.get(name) or name.replace("_", " ").strip().capitalize() or name
