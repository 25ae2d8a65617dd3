"""The ethnicity form of the family pages: one person's own answer, a refusal, or not asked yet.

Ethnicity is asked of each person separately and never defaulted from a relative (domain brief
§9). "They preferred not to say" (REFU, a complete answer) and "Not asked yet" (NOBT, an open
data-quality item) are distinct answers; an observation by a practitioner is clearly marked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.families import codes
from web.people_forms import DIALECT

SOURCE_LABELS: dict[str, str] = {
    codes.SELF: "The person themselves",
    codes.PARENT_CARER: "A parent or carer, on the child's behalf",
    codes.PRACTITIONER_OBSERVED: "Nobody: recorded by a practitioner as observed",
}
ANSWER_RECORDED = "recorded"
ANSWER_REFUSED = "refused"
ANSWER_NOT_OBTAINED = "not_obtained"
ETHNICITY_FIELDS = {
    "source": "source",
    "ons2021": "ons2021",
    "code": "ons2021",
    "extended_code": "ons2021",
    "self_description": "self_description",
}
"""Domain pointer names mapped to the question that answers them."""


def ethnicity_schema() -> dict[str, Any]:
    """The ethnicity form: one person's own answer, a refusal, or not asked yet."""
    options: list[tuple[str, str]] = []
    for key, (group, category, allowed) in sorted(
        codes.ONS_2021.items(), key=lambda item: (item[1][0], item[1][1])
    ):
        if len(allowed) == 1:
            options.append((key, f"{group}: {category}"))
        else:
            for code in sorted(allowed):
                label = codes.ETHNICITY_CODES[code]
                options.append((f"{key}:{code}", f"{group}: {category} ({label})"))
    recorded = {"property": "answer", "value": ANSWER_RECORDED}
    return {
        "$schema": DIALECT,
        "type": "object",
        "title": "Ethnicity",
        "properties": {
            "answer": {
                "type": "string",
                "title": "What is the answer?",
                "enum": [ANSWER_RECORDED, ANSWER_REFUSED, ANSWER_NOT_OBTAINED],
                "x-enum-labels": [
                    "Their ethnicity is recorded below",
                    "They preferred not to say (refused)",
                    "Not asked yet (not yet obtained)",
                ],
                "x-widget": "radios",
                "x-error-messages": {"required": "Select what the answer is"},
            },
            "source": {
                "type": "string",
                "title": "Who gave the answer?",
                "description": "Ethnicity is what the person says it is. Only record an "
                "observation when nobody can be asked: it is marked as observed.",
                "enum": list(SOURCE_LABELS),
                "x-enum-labels": list(SOURCE_LABELS.values()),
                "x-widget": "radios",
                "x-reveal-when": recorded,
                "x-error-messages": {"required": "Select who gave the answer"},
            },
            "ons2021": {
                "type": "string",
                "title": "Ethnic group (2021 census categories)",
                "enum": [value for value, _ in options],
                "x-enum-labels": [label for _, label in options],
                "x-widget": "select",
                "x-reveal-when": recorded,
                "x-error-messages": {"required": "Select the ethnic group"},
            },
            "self_description": {
                "type": "string",
                "title": "How they describe their ethnicity, in their own words (optional)",
                "description": "Leave this blank when the ethnicity was observed.",
                "maxLength": 200,
                "x-reveal-when": recorded,
            },
            "refused_by": {
                "type": "string",
                "title": "Who preferred not to say?",
                "enum": [codes.SELF, codes.PARENT_CARER],
                "x-enum-labels": [SOURCE_LABELS[codes.SELF], SOURCE_LABELS[codes.PARENT_CARER]],
                "x-widget": "radios",
                "x-reveal-when": {"property": "answer", "value": ANSWER_REFUSED},
                "x-error-messages": {"required": "Select who preferred not to say"},
            },
        },
        "required": ["answer"],
        "allOf": [
            {
                "if": {
                    "properties": {"answer": {"const": ANSWER_RECORDED}},
                    "required": ["answer"],
                },
                "then": {"required": ["source", "ons2021"]},
            },
            {
                "if": {"properties": {"answer": {"const": ANSWER_REFUSED}}, "required": ["answer"]},
                "then": {"required": ["refused_by"]},
            },
        ],
    }


def ethnicity_arguments(data: Mapping[str, Any]) -> dict[str, Any]:
    """Turn checked answers into record_ethnicity's keyword arguments."""
    answer = data["answer"]
    if answer == ANSWER_NOT_OBTAINED:
        return {"code": codes.NOT_OBTAINED, "source": None}
    if answer == ANSWER_REFUSED:
        return {"code": codes.REFUSED, "source": data.get("refused_by")}
    key, _, code = str(data["ons2021"]).partition(":")
    return {
        "ons2021": key,
        "code": code or None,
        "source": data.get("source"),
        "self_description": data.get("self_description") or None,
    }
