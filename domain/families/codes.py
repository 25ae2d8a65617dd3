"""Code lists for people and families (domain brief §9, §10, §5.1, §12). Codes only, no data."""

from __future__ import annotations

from collections.abc import Mapping

SEXES: Mapping[str, str] = {"F": "Female", "M": "Male", "U": "Not known or not stated"}
"""CIN census `Sex` (N00783)."""

# --- Ethnicity (§9) -------------------------------------------------------------------------

REFUSED = "REFU"
NOT_OBTAINED = "NOBT"

ETHNICITY_CODES: Mapping[str, str] = {
    "WBRI": "White British",
    "WIRI": "White Irish",
    "WIRT": "Traveller of Irish heritage",
    "WOTH": "Any other White background",
    "WROM": "Gypsy/Roma",
    "MWBC": "White and Black Caribbean",
    "MWBA": "White and Black African",
    "MWAS": "White and Asian",
    "MOTH": "Any other mixed background",
    "AIND": "Indian",
    "APKN": "Pakistani",
    "ABAN": "Bangladeshi",
    "AOTH": "Any other Asian background",
    "BCRB": "Caribbean",
    "BAFR": "African",
    "BOTH": "Any other Black background",
    "CHNE": "Chinese",
    "OOTH": "Any other ethnic group",
    REFUSED: "Refused",
    NOT_OBTAINED: "Information not yet obtained",
}
"""DfE main codes (CIN `ethnicitytype`, rule 4220): the 20 valid values."""

EXTENDED_CODES: Mapping[str, str] = {
    "WENG": "WBRI",
    "WSCO": "WBRI",
    "WWEL": "WBRI",
    "WCOR": "WBRI",
    "WNIR": "WBRI",
    "WALB": "WOTH",
    "WPOR": "WOTH",
    "WTUR": "WOTH",
    "WEEU": "WOTH",
}
"""Extended codes and the main code each rolls up to."""

ONS_2021: Mapping[str, tuple[str, str, frozenset[str]]] = {
    # key: (group, category, DfE main codes it may be recorded as)
    "asian_bangladeshi": ("Asian", "Bangladeshi", frozenset({"ABAN"})),
    "asian_chinese": ("Asian", "Chinese", frozenset({"CHNE"})),
    "asian_indian": ("Asian", "Indian", frozenset({"AIND"})),
    "asian_pakistani": ("Asian", "Pakistani", frozenset({"APKN"})),
    "asian_other": ("Asian", "Other Asian", frozenset({"AOTH"})),
    "black_african": ("Black", "African", frozenset({"BAFR"})),
    "black_caribbean": ("Black", "Caribbean", frozenset({"BCRB"})),
    "black_other": ("Black", "Other Black", frozenset({"BOTH"})),
    "mixed_white_asian": ("Mixed", "White and Asian", frozenset({"MWAS"})),
    "mixed_white_black_african": ("Mixed", "White and Black African", frozenset({"MWBA"})),
    "mixed_white_black_caribbean": ("Mixed", "White and Black Caribbean", frozenset({"MWBC"})),
    "mixed_other": ("Mixed", "Other Mixed", frozenset({"MOTH"})),
    "white_british": (
        "White",
        "English, Welsh, Scottish, Northern Irish or British",
        frozenset({"WBRI"}),
    ),
    "white_irish": ("White", "Irish", frozenset({"WIRI"})),
    "white_gypsy_irish_traveller": (
        "White",
        "Gypsy or Irish Traveller",
        frozenset({"WIRT", "WROM"}),
    ),
    "white_roma": ("White", "Roma", frozenset({"WROM"})),
    "white_other": ("White", "Other White", frozenset({"WOTH"})),
    "other_arab": ("Other", "Arab", frozenset({"OOTH"})),
    "other_any": ("Other", "Any other ethnic group", frozenset({"OOTH"})),
}
"""ONS Census 2021 categories. Not one-to-one with DfE codes (§9 requirement 5)."""

SELF = "self"
PARENT_CARER = "parent_carer"
PRACTITIONER_OBSERVED = "practitioner_observed"
ETHNICITY_SOURCES = frozenset({SELF, PARENT_CARER, PRACTITIONER_OBSERVED})

STATUS_RECORDED = "recorded"
STATUS_REFUSED = "refused"
STATUS_NOT_OBTAINED = "not_yet_obtained"


def ethnicity_status(code: str | None) -> str:
    """Return recorded, refused (REFU, closed) or not_yet_obtained (NOBT or nothing, open)."""
    if code is None or code == NOT_OBTAINED:
        return STATUS_NOT_OBTAINED
    if code == REFUSED:
        return STATUS_REFUSED
    return STATUS_RECORDED


# --- Disability (CIN ChildCharacteristics, rule 8790) -----------------------------------------

NO_DISABILITY = "NONE"
DISABILITY_CODES: Mapping[str, str] = {
    NO_DISABILITY: "No disability",
    "MOB": "Mobility",
    "HAND": "Hand function",
    "PC": "Personal care",
    "INC": "Incontinence",
    "COMM": "Communication",
    "LD": "Learning",
    "HEAR": "Hearing",
    "VIS": "Vision",
    "BEH": "Behaviour",
    "CON": "Consciousness",
    "AUT": "Autism or Asperger syndrome",
    "DDA": "Other DDA",
}

# --- Relationships ------------------------------------------------------------------------------

PARENT = "parent"
STEP_PARENT = "step_parent"
OTHER_CARER = "other_carer"
SIBLING = "sibling"
HALF_SIBLING = "half_sibling"
STEP_SIBLING = "step_sibling"
STORED_KINDS = frozenset({PARENT, STEP_PARENT, OTHER_CARER, SIBLING, HALF_SIBLING, STEP_SIBLING})
"""Kinds stored on a relationship row: `person` is <kind> of `related_person`."""

INVERSE: Mapping[str, str] = {
    PARENT: "child",
    STEP_PARENT: "step_child",
    OTHER_CARER: "cared_for_child",
    SIBLING: SIBLING,
    HALF_SIBLING: HALF_SIBLING,
    STEP_SIBLING: STEP_SIBLING,
}
"""What `related_person` is of `person` for each stored kind."""

RELATIONSHIP_KINDS = frozenset(STORED_KINDS | set(INVERSE.values()))
"""Every kind a caller may name, including the inverses."""

CARING_KINDS = frozenset({PARENT, STEP_PARENT, OTHER_CARER})
"""Kinds where the carer may hold parental responsibility for the other person."""

# --- Consent (§4 step 3, §5.1) and information sharing (§12) ----------------------------------

CONSENT_GIVEN = "given"
CONSENT_REFUSED = "refused"
CONSENT_NOT_SOUGHT = "not_sought"
CONSENT_STATUSES = frozenset({CONSENT_GIVEN, CONSENT_REFUSED, CONSENT_NOT_SOUGHT})
CONSENT_SCOPES = frozenset({"share", "refer", "taf"})
CONSENT_METHODS = frozenset({"verbal", "written", "electronic"})

SHARING_CONSENT_STATUSES = frozenset(
    {"given", "refused", "not_sought", "withdrawn", "not_required_risk_of_harm"}
)
"""Consent status on an information-sharing decision (golden rules: consent is not needed
where a child is at risk of harm)."""
