"""REST: families, people, ethnicity, disabilities, consent, information sharing and agencies."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from api.common.context import base_context
from domain.audit.models import AuditEvent
from domain.db import unit_of_work
from domain.processes import definitions
from tests.api.test_definitions_api import assert_problem
from tests.conftest import FakeClock, make_agency, make_user, token_for
from tests.domain.test_families import CHECK_BPMN

API = "/api/v1"
NAME = "Zephyrine"
SURNAME = "Quillfeather"
Headers = dict[str, str]


ROLES = {
    "sw": (["practitioner"], "csc", "childrens_social_care"),
    "tm": (["team_manager"], "csc", "childrens_social_care"),
    "owner": (["process_owner"], "partnership", "partnership"),
    "admin": (["admin"], "partnership", "partnership"),
}


class Tokens:
    """Bearer headers by user, each user created on first use (password hashing is slow)."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self.app, self.client, self.made = app, client, dict[str, Headers]()

    def __getitem__(self, name: str) -> Headers:
        if name not in self.made:
            roles, agency, kind = ROLES[name]
            make_user(self.app, name, roles, agency=agency, kind=kind)
            self.made[name] = token_for(self.client, name)
        return self.made[name]


@pytest.fixture
def tokens(app: Flask, client: FlaskClient) -> Tokens:
    make_agency(app, "police", "police")
    return Tokens(app, client)


def call(
    client: FlaskClient, method: str, path: str, headers: Headers, body: Any = None
) -> tuple[int, Any]:
    response = client.open(path, method=method.upper(), headers=headers, json=body)
    return response.status_code, response.get_json()


def created(client: FlaskClient, path: str, headers: Headers, body: Any) -> dict[str, Any]:
    status, data = call(client, "post", path, headers, body)
    assert status == 201, data
    assert isinstance(data, dict)
    return data


def person(given: str, born: str | None = None, **more: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"given_name": given, "family_name": SURNAME, "sex": "F", **more}
    if born is not None:
        body["date_of_birth"] = born
    return body


@pytest.fixture
def family(client: FlaskClient, tokens: Tokens) -> dict[str, int]:
    """A family with a parent and a child, a consent record: ids by name."""
    sw = tokens["sw"]
    fam = created(client, f"{API}/families", sw, {"name": f"{SURNAME} household"})
    mum = created(
        client, f"{API}/families/{fam['id']}/members", sw, {"person": person(NAME, "1990-02-03")}
    )
    kid = created(
        client,
        f"{API}/families/{fam['id']}/members",
        sw,
        {
            "person": person("Kid", "2019-05-06"),
            "relationships": [
                {"person_id": mum["id"], "relationship": "child", "parental_responsibility": True}
            ],
        },
    )
    consent = created(
        client,
        f"{API}/families/{fam['id']}/consents",
        sw,
        {
            "scope": "share",
            "status": "given",
            "given_by_person_id": mum["id"],
            "obtained_on": "2026-12-18",
            "method": "written",
        },
    )
    return {"family": fam["id"], "mum": mum["id"], "kid": kid["id"], "consent": consent["id"]}


ENDPOINTS: list[tuple[str, str, Any]] = [
    ("get", "/families", None),
    ("post", "/families", {"name": "x"}),
    ("get", "/families/{family}", None),
    (
        "post",
        "/families/{family}/members",
        {"person": {"given_name": "A", "family_name": "B", "sex": "F", "is_child": True}},
    ),
    ("get", "/families/{family}/possible-matches?given_name=A&family_name=B", None),
    ("get", "/people/{kid}", None),
    ("patch", "/people/{kid}", {"given_name": "Renamed"}),
    ("post", "/people/{kid}/ethnicity", {"code": "WBRI", "source": "parent_carer"}),
    ("post", "/people/{kid}/disabilities", {"codes": ["NONE"]}),
    (
        "post",
        "/families/{family}/consents",
        {"scope": "refer", "status": "not_sought", "not_sought_reason": "Risk of harm."},
    ),
    ("post", "/consents/{consent}/withdraw", {}),
    (
        "post",
        "/families/{family}/information-sharing",
        {"shared": False, "purpose": "Not needed.", "consent_status": "not_sought"},
    ),
    ("get", "/agencies", None),
    ("post", "/agencies", {"code": "school-z", "name": "School Z", "kind": "education"}),
]
WRITES = [e for e in ENDPOINTS if e[0] != "get" and e[1] != "/agencies"]


def _url(path: str, ids: dict[str, int]) -> str:
    return API + path.format(**ids)


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_every_endpoint_needs_a_token(
    client: FlaskClient, family: dict[str, int], method: str, path: str, body: Any
) -> None:
    status, data = call(client, method, _url(path, family), {}, body)
    assert status == 401
    assert data["code"] == "unauthenticated"


@pytest.mark.parametrize("role", ["owner", "admin"])
@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_read_only_roles_cannot_change_family_records(
    client: FlaskClient,
    tokens: Tokens,
    family: dict[str, int],
    role: str,
    method: str,
    path: str,
    body: Any,
) -> None:
    status, data = call(client, method, _url(path, family), tokens[role], body)
    assert status == 403
    assert data["code"] == "forbidden"


@pytest.mark.parametrize("role", ["sw", "tm", "owner", "admin"])
def test_every_role_can_read_families(
    client: FlaskClient, tokens: Tokens, family: dict[str, int], role: str
) -> None:
    for path in ("/families", "/families/{family}", "/people/{kid}", "/agencies"):
        status, _ = call(client, "get", _url(path, family), tokens[role])
        assert status == 200


def test_only_admins_add_agencies(client: FlaskClient, tokens: Tokens) -> None:
    body = {"code": "school-z", "name": "School Z", "kind": "education"}
    for role in ("sw", "tm", "owner"):
        assert call(client, "post", f"{API}/agencies", tokens[role], body)[0] == 403
    agency = created(client, f"{API}/agencies", tokens["admin"], body)
    assert (agency["code"], agency["kind"], agency["active"]) == ("school-z", "education", True)
    status, listed = call(client, "get", f"{API}/agencies", tokens["sw"])
    assert status == 200
    assert "school-z" in [a["code"] for a in listed]
    assert call(client, "post", f"{API}/agencies", tokens["admin"], body)[0] == 409
    status, data = call(
        client,
        "post",
        f"{API}/agencies",
        tokens["admin"],
        {"code": "Bad Code!", "name": "", "kind": "bakery", "notification_email": "nope"},
    )
    assert status == 422
    assert {e["pointer"] for e in data["errors"]} == {
        "#/code",
        "#/name",
        "#/kind",
        "#/notification_email",
    }


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/families/999999", None),
        ("post", "/families/999999/members", {"person": person("A", "2010-01-01")}),
        (
            "post",
            "/families/999999/consents",
            {"scope": "refer", "status": "not_sought", "not_sought_reason": "Risk."},
        ),
        (
            "post",
            "/families/999999/information-sharing",
            {"shared": False, "purpose": "x", "consent_status": "given"},
        ),
        ("get", "/people/999999", None),
        ("patch", "/people/999999", {"given_name": "x"}),
        ("post", "/people/999999/ethnicity", {"code": "WBRI", "source": "self"}),
        ("post", "/people/999999/disabilities", {"codes": ["NONE"]}),
        ("post", "/consents/999999/withdraw", {}),
        ("post", "/families/{family}/members", {"person_id": 999999}),
    ],
)
def test_unknown_ids_are_not_found(
    client: FlaskClient,
    tokens: Tokens,
    family: dict[str, int],
    method: str,
    path: str,
    body: Any,
) -> None:
    status, data = call(client, method, _url(path, family), tokens["sw"], body)
    assert status == 404
    assert data["code"] == "not-found"


BAD_INPUT: list[tuple[str, str, Any, set[str]]] = [
    ("post", "/families", {"name": "", "nickname": NAME}, {"#/name", "#/nickname"}),
    ("get", "/families?search=x&colour=" + NAME, None, {"#/colour"}),
    (
        "post",
        "/families/{family}/members",
        {"person": {"given_name": NAME, "sex": NAME, "date_of_birth": NAME}},
        {"#/person/family_name", "#/person/sex", "#/person/date_of_birth"},
    ),
    (
        "post",
        "/families/{family}/members",
        {
            "person": person(NAME, "2010-01-01"),
            "relationships": [{"person_id": "{mum}", "relationship": NAME}],
        },
        {"#/relationships/0/relationship"},
    ),
    (
        "post",
        "/families/{family}/members",
        {"person": person(NAME, "2030-01-01")},
        {"#/person/date_of_birth"},
    ),
    ("post", "/families/{family}/members", {"person": person(NAME)}, {"#/person/is_child"}),
    ("post", "/families/{family}/members", {}, {"#/person"}),
    ("patch", "/people/{kid}", {"sex": NAME, "given_name": ""}, {"#/sex", "#/given_name"}),
    ("post", "/people/{kid}/ethnicity", {"code": NAME, "source": NAME}, {"#/code", "#/source"}),
    (
        "post",
        "/people/{kid}/ethnicity",
        {"code": "REFU", "source": "practitioner_observed"},
        {"#/source"},
    ),
    (
        "post",
        "/people/{kid}/ethnicity",
        {"code": "WBRI", "source": "practitioner_observed", "self_description": NAME},
        {"#/self_description"},
    ),
    ("post", "/people/{kid}/disabilities", {"codes": ["NONE", "MOB"]}, {"#/codes"}),
    ("post", "/people/{kid}/disabilities", {"codes": ["MOB", NAME]}, {"#/codes/1"}),
    (
        "post",
        "/families/{family}/consents",
        {"status": "given", "method": NAME},
        {"#/scope", "#/method"},
    ),
    (
        "post",
        "/families/{family}/consents",
        {
            "scope": "share",
            "status": "given",
            "given_by_person_id": "{kid}",
            "obtained_on": "2026-12-01",
            "method": "verbal",
        },
        {"#/competent_child"},
    ),
    ("post", "/consents/{consent}/withdraw", {"withdrawn_on": NAME}, {"#/withdrawn_on"}),
    ("post", "/consents/{consent}/withdraw", {"withdrawn_on": "2026-12-01"}, {"#/withdrawn_on"}),
    (
        "post",
        "/families/{family}/information-sharing",
        {
            "shared": True,
            "information": NAME,
            "purpose": NAME,
            "consent_status": "given",
            "recipients": ["csc"],
        },
        {"#/lawful_basis"},
    ),
    (
        "post",
        "/families/{family}/information-sharing",
        {
            "shared": True,
            "information": NAME,
            "purpose": NAME,
            "lawful_basis": "x",
            "consent_status": "given",
            "recipients": [NAME],
        },
        {"#/recipients/0"},
    ),
    (  # a decision is a JSON true or false: a number or a word is not read as one
        "post",
        "/families/{family}/information-sharing",
        {"shared": 0, "purpose": NAME, "consent_status": "not_sought"},
        {"#/shared"},
    ),
    (
        "post",
        "/families/{family}/members",
        {
            "person": person(NAME, "2010-01-01", is_child="yes"),
            "relationships": [
                {"person_id": "{mum}", "relationship": "child", "parental_responsibility": 1}
            ],
        },
        {"#/person/is_child", "#/relationships/0/parental_responsibility"},
    ),
    ("patch", "/people/{kid}", {"is_child": "false"}, {"#/is_child"}),
]


def _fill(body: Any, ids: dict[str, int]) -> Any:
    if isinstance(body, dict):
        return {k: _fill(v, ids) for k, v in body.items()}
    if isinstance(body, list):
        return [_fill(v, ids) for v in body]
    if isinstance(body, str) and body.startswith("{") and body.endswith("}"):
        return ids[body[1:-1]]
    return body


@pytest.mark.parametrize(("method", "path", "body", "expected"), BAD_INPUT)
def test_bad_input_names_the_fields_and_never_echoes_values(
    client: FlaskClient,
    tokens: Tokens,
    family: dict[str, int],
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    body: Any,
    expected: set[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    response = client.open(
        _url(path, family), method=method.upper(), headers=tokens["sw"], json=_fill(body, family)
    )
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    data = response.get_json()
    assert {e["pointer"] for e in data["errors"]} == expected
    assert NAME not in response.get_data(as_text=True)
    assert NAME not in caplog.text
    assert SURNAME not in caplog.text


def test_conflicts_and_invalid_transitions(
    client: FlaskClient, tokens: Tokens, family: dict[str, int]
) -> None:
    sw = tokens["sw"]
    withdraw = f"{API}/consents/{family['consent']}/withdraw"
    status, data = call(client, "post", withdraw, sw, {"withdrawn_on": "2026-12-20"})
    assert (status, data["withdrawn_on"], data["active"]) == (200, "2026-12-20", False)
    assert call(client, "post", withdraw, sw, {})[0] == 409
    again = {"person_id": family["kid"]}
    status, data = call(client, "post", f"{API}/families/{family['family']}/members", sw, again)
    assert status == 409
    assert NAME not in str(data)


def test_people_already_recorded_are_offered_before_someone_is_added_again(
    app: Flask, client: FlaskClient, tokens: Tokens, family: dict[str, int]
) -> None:
    sw = tokens["sw"]
    dads = created(client, f"{API}/families", sw, {"name": "Dad's household"})
    url = f"{API}/families/{dads['id']}/possible-matches"

    status, found = call(client, "get", f"{url}?given_name=kid&family_name=QUILL-FEATHER", sw)
    assert status == 200
    assert [(m["person"]["id"], m["in_this_family"]) for m in found] == [(family["kid"], False)]
    assert found[0]["person"]["date_of_birth"] == "2019-05-06"
    assert found[0]["households"] == [
        {
            "id": family["family"],
            "reference": f"FAM-{family['family']:06d}",
            "name": f"{SURNAME} household",
        }
    ]
    same_day = f"{url}?given_name=Kid&family_name={SURNAME}&date_of_birth=2019-05-06"
    assert [m["person"]["id"] for m in call(client, "get", same_day, sw)[1]] == [family["kid"]]
    other_day = f"{url}?given_name=Kid&family_name={SURNAME}&date_of_birth=2019-05-07"
    assert call(client, "get", other_day, sw) == (200, [])

    # added as the same person: now in both households, and said to be in this one
    created(client, f"{API}/families/{dads['id']}/members", sw, {"person_id": family["kid"]})
    status, found = call(client, "get", same_day, sw)
    assert [(m["person"]["id"], m["in_this_family"]) for m in found] == [(family["kid"], True)]
    assert [h["id"] for h in found[0]["households"]] == [family["family"], dads["id"]]

    with app.app_context():
        shown = (
            base_context(None)
            .session.scalars(
                select(AuditEvent.details).where(
                    AuditEvent.action == "person.possible_matches_shown"
                )
            )
            .all()
        )
    assert shown == [{"person_ids": [family["kid"]]}] * 3  # the empty answer showed no one

    assert call(client, "get", f"{url}?given_name=Kid", sw)[1]["errors"] == [
        {"pointer": "#/family_name", "detail": "Missing data for required field."}
    ]
    status, data = call(
        client, "get", url.replace(str(dads["id"]), "999") + "?given_name=a&family_name=b", sw
    )
    assert (status, data["code"]) == (404, "not-found")
    assert call(client, "get", f"{url}?given_name=a&family_name=b", tokens["owner"])[0] == 403


def test_create_and_search_families(
    client: FlaskClient, tokens: Tokens, family: dict[str, int]
) -> None:
    other = created(client, f"{API}/families", tokens["tm"], {})
    assert other["reference"].startswith("FAM-")
    assert other["members"] == []
    for term, expected in (
        (NAME.lower(), [family["family"]]),
        (f"{NAME} {SURNAME}", [family["family"]]),
        (f"{SURNAME.upper()}, Z\u00e9phyrine", [family["family"]]),  # any order, case, accent
        (other["reference"], [other["id"]]),
        ("nobody-has-this-name", []),
    ):
        status, found = call(client, "get", f"{API}/families?search={term}", tokens["sw"])
        assert status == 200
        assert [f["id"] for f in found] == expected
    status, everything = call(client, "get", f"{API}/families?limit=1", tokens["owner"])
    assert [f["id"] for f in everything] == [other["id"]]
    status, found = call(client, "get", f"{API}/families?search={NAME}", tokens["sw"])
    assert found[0]["members"][0] == {
        "id": family["mum"],
        "given_name": NAME,
        "family_name": SURNAME,
    }


def test_family_view_lists_under_fives_first_with_ages_and_relationships(
    client: FlaskClient, tokens: Tokens, family: dict[str, int]
) -> None:
    sw, fid = tokens["sw"], family["family"]
    members_url = f"{API}/families/{fid}/members"
    created(client, members_url, sw, {"person": person("Teen", "2011-03-04")})
    created(
        client,
        members_url,
        sw,
        {
            "person": person("Bump", expected_date_of_birth="2027-03-03", sex="U"),
            "relationships": [{"person_id": family["mum"], "relationship": "child"}],
        },
    )
    created(client, members_url, sw, {"person": person("Baby", "2026-07-01")})
    created(client, members_url, sw, {"person": person("Grandad", "1950-01-01")})
    status, view = call(client, "get", f"{API}/families/{fid}", sw)
    assert status == 200
    assert view["family"]["id"] == fid
    members = view["members"]
    assert [m["given_name"] for m in members] == [
        "Bump",
        "Baby",
        "Kid",
        "Teen",
        "Grandad",
        NAME,
    ]
    assert [m["under_5"] for m in members] == [True, True, False, False, False, False]
    assert [m["age_label"] for m in members[:4]] == [
        "unborn, due 3 March 2027",
        "5 months",
        "7 years",
        "15 years",
    ]
    kid = next(m for m in members if m["id"] == family["kid"])
    assert kid["relationships"] == [
        {
            "person_id": family["mum"],
            "relationship": "parent",
            "parental_responsibility": True,
            "responsibility_holder_id": family["mum"],
        }
    ]
    mum = next(m for m in members if m["id"] == family["mum"])
    assert {r["relationship"] for r in mum["relationships"]} == {"child"}
    assert [c["id"] for c in view["consents"]] == [family["consent"]]


def test_blended_family_keeps_each_members_ethnicity(
    client: FlaskClient, tokens: Tokens, family: dict[str, int]
) -> None:
    sw, fid = tokens["sw"], family["family"]
    members_url = f"{API}/families/{fid}/members"
    stepdad = created(
        client,
        members_url,
        sw,
        {
            "person": person("Stepdad", "1984-01-01", sex="M"),
            "relationships": [{"person_id": family["kid"], "relationship": "step_parent"}],
        },
    )
    half = created(
        client,
        members_url,
        sw,
        {
            "person": person("Half", "2023-01-01"),
            "relationships": [
                {"person_id": family["kid"], "relationship": "half_sibling"},
                {
                    "person_id": stepdad["id"],
                    "relationship": "child",
                    "parental_responsibility": True,
                },
            ],
        },
    )
    answers = {
        family["mum"]: {"ons2021": "white_irish", "source": "self", "self_description": "Irish"},
        family["kid"]: {"code": "REFU", "source": "parent_carer"},
        stepdad["id"]: {"code": "BCRB", "source": "practitioner_observed"},
        half["id"]: {"code": "NOBT"},
    }
    for pid, body in answers.items():
        record = created(client, f"{API}/people/{pid}/ethnicity", sw, body)
        assert record["person_id"] == pid
    status, view = call(client, "get", f"{API}/families/{fid}", sw)
    assert status == 200
    got = {
        m["id"]: (m["ethnicity"]["code"], m["ethnicity_status"], m["census_ethnicity"])
        for m in view["members"]
    }
    assert got == {
        family["mum"]: ("WIRI", "recorded", "WIRI"),
        family["kid"]: ("REFU", "refused", "REFU"),
        stepdad["id"]: ("BCRB", "recorded", "NOBT"),
        half["id"]: ("NOBT", "not_yet_obtained", "NOBT"),
    }
    observed = next(m for m in view["members"] if m["id"] == stepdad["id"])
    assert observed["ethnicity"]["observed"] is True
    status, detail = call(client, "get", f"{API}/people/{family['mum']}", tokens["tm"])
    assert [r["code"] for r in detail["ethnicity_history"]] == ["WIRI"]


def test_family_view_shows_the_processes_of_every_member(
    app: Flask, client: FlaskClient, tokens: Tokens, family: dict[str, int]
) -> None:
    with app.app_context():
        ctx = base_context(None)
        with unit_of_work(ctx.session):
            definitions.deploy(
                ctx, key="family_check", bpmn_files={"family_check.bpmn": CHECK_BPMN}, forms={}
            )
    elsewhere = created(client, f"{API}/families", tokens["sw"], {})
    # the child also lives in another household (each parent's), where a process is about them
    body = {"person_id": family["kid"], "relationships": []}
    created(client, f"{API}/families/{elsewhere['id']}/members", tokens["sw"], body)
    starts = [
        {"family_id": family["family"]},
        {"family_id": elsewhere["id"], "subject_person_ids": [family["kid"]]},
        {"subject_person_ids": [family["mum"]]},
        {"family_id": elsewhere["id"]},
    ]
    ids = []
    for data in starts:
        body = {"process_key": "family_check", "data": data}
        ids.append(created(client, f"{API}/process-instances", tokens["sw"], body)["id"])
    status, view = call(client, "get", f"{API}/families/{family['family']}", tokens["owner"])
    assert status == 200
    shown = {p["instance_id"]: p for p in view["processes"]}
    assert set(shown) == set(ids[:3])
    first = shown[ids[0]]
    assert (first["status"], first["open"], first["current_stage"]) == (
        "active",
        True,
        "Visit the family",
    )
    assert first["next_due_at"].startswith("2026-12-23T17:00")
    assert first["reference"]
    titles = [e["title"] for e in view["timeline"]]
    assert titles.count("family_check started") == 3


def test_special_category_reads_are_redacted_by_role_and_audited(
    app: Flask, client: FlaskClient, tokens: Tokens, family: dict[str, int]
) -> None:
    sw = tokens["sw"]
    created(
        client, f"{API}/people/{family['kid']}/ethnicity", sw, {"code": "WBRI", "source": "self"}
    )
    created(client, f"{API}/people/{family['kid']}/disabilities", sw, {"codes": ["AUT", "LD"]})

    def reads() -> list[tuple[str, str, dict[str, Any]]]:
        with app.app_context():
            events = base_context(None).session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "person.special_category_viewed")
                .order_by(AuditEvent.id)
            )
            return [(e.subject_id, str(e.actor_id), e.details) for e in events]

    for role in ("owner", "admin"):
        status, view = call(client, "get", f"{API}/families/{family['family']}", tokens[role])
        assert status == 200
        assert view["special_category_visible"] is False
        for member in view["members"]:
            assert not {"ethnicity", "ethnicity_status", "census_ethnicity", "disabilities"} & set(
                member
            )
        status, detail = call(client, "get", f"{API}/people/{family['kid']}", tokens[role])
        assert status == 200
        assert "ethnicity" not in detail
        assert "ethnicity_history" not in detail
        assert "disabilities" not in detail
    assert reads() == []

    status, view = call(client, "get", f"{API}/families/{family['family']}", sw)
    kid = next(m for m in view["members"] if m["id"] == family["kid"])
    assert (kid["ethnicity"]["code"], kid["disabilities"]) == ("WBRI", ["AUT", "LD"])
    assert {r[0] for r in reads()} == {str(family["kid"]), str(family["mum"])}
    assert all(
        r[2] == {"fields": ["ethnicity", "disability"], "via": "family_view"} for r in reads()
    )
    status, detail = call(client, "get", f"{API}/people/{family['kid']}", tokens["tm"])
    assert detail["disabilities"] == ["AUT", "LD"]
    assert reads()[-1][0] == str(family["kid"])
    assert reads()[-1][2]["via"] == "person"
    assert len(reads()) == 3


def test_person_update_and_detail(
    client: FlaskClient, tokens: Tokens, family: dict[str, int]
) -> None:
    url = f"{API}/people/{family['kid']}"
    status, data = call(client, "patch", url, tokens["tm"], {"given_name": "Robin", "sex": "M"})
    assert status == 200
    assert (data["given_name"], data["sex"], data["date_of_birth"]) == ("Robin", "M", "2019-05-06")
    status, detail = call(client, "get", url, tokens["sw"])
    assert status == 200
    assert (detail["given_name"], detail["age_years"], detail["is_child"]) == ("Robin", 7, True)
    assert detail["family_ids"] == [family["family"]]
    assert detail["ethnicity"] is None
    assert detail["ethnicity_status"] == "not_yet_obtained"
    assert detail["ethnicity_history"] == []


def test_an_update_of_a_person_changed_since_it_was_read_is_refused(
    client: FlaskClient, tokens: Tokens, family: dict[str, int], clock: FakeClock
) -> None:
    url = f"{API}/people/{family['kid']}"
    status, read = call(client, "get", url, tokens["sw"])
    assert status == 200
    clock.advance(minutes=3)
    status, _ = call(
        client, "patch", url, tokens["tm"], {"sex": "M", "unchanged_since": read["updated_at"]}
    )
    assert status == 200
    clock.advance(minutes=3)
    stale = client.patch(
        url,
        headers=tokens["sw"],
        json={"given_name": "Robin", "unchanged_since": read["updated_at"]},
    )
    body = assert_problem(stale, 409, secrets=("Robin",))
    assert "after you opened them" in body["detail"]
    status, now = call(client, "get", url, tokens["sw"])
    assert (now["given_name"], now["sex"]) == ("Kid", "M")
    status, data = call(
        client,
        "patch",
        url,
        tokens["sw"],
        {"given_name": "Robin", "unchanged_since": now["updated_at"]},
    )
    assert (status, data["given_name"]) == (200, "Robin")
    status, problem = call(
        client, "patch", url, tokens["sw"], {"unchanged_since": "2026-12-21T10:00"}
    )
    assert status == 422  # a time without its offset could mean two instants
    assert [e["pointer"] for e in problem["errors"]] == ["#/unchanged_since"]


def test_consent_not_sought_and_information_sharing(
    client: FlaskClient, tokens: Tokens, family: dict[str, int]
) -> None:
    sw, fid = tokens["sw"], family["family"]
    consent = created(
        client,
        f"{API}/families/{fid}/consents",
        sw,
        {"scope": "refer", "status": "not_sought", "not_sought_reason": "Significant harm."},
    )
    assert (consent["status"], consent["active"], consent["given_by_person_id"]) == (
        "not_sought",
        False,
        None,
    )
    decision = created(
        client,
        f"{API}/families/{fid}/information-sharing",
        sw,
        {
            "shared": True,
            "information": "Attendance records",
            "recipients": ["police", "csc"],
            "purpose": "Strategy discussion",
            "lawful_basis": "UK GDPR 6(1)(e); DPA 2018 Sch.1 para 18",
            "consent_status": "not_required_risk_of_harm",
            "consent_id": consent["id"],
        },
    )
    assert decision["recipients"] == ["police", "csc"]
    assert decision["decided_at"].startswith("2026-12-21T10:00")
    _status, view = call(client, "get", f"{API}/families/{fid}", sw)
    assert [d["id"] for d in view["information_sharing"]] == [decision["id"]]
    assert [c["status"] for c in view["consents"]] == ["not_sought", "given"]
    titles = {e["title"] for e in view["timeline"]}
    assert {"Consent recorded", "Information-sharing decision recorded"} <= titles


def test_the_timeline_pages_on_to_every_entry_and_filters(
    app: Flask,
    client: FlaskClient,
    tokens: Tokens,
    family: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from domain.families import history

    address = f"{API}/families/{family['family']}/timeline"
    status, whole = call(client, "get", address, tokens["sw"])
    assert status == 200
    assert whole["older_than"] is None
    assert whole["show"] == "all"
    every = [e["id"] for e in whole["entries"]]
    assert len(every) > 4
    related = [e for e in whole["entries"] if e["action"] == "person.relationship_added"]
    assert [(e["person_id"], e["relationship"], e["other_person_id"]) for e in related] == [
        (family["mum"], "parent", family["kid"])
    ]
    consent = next(e for e in whole["entries"] if e["action"] == "family.consent_recorded")
    assert consent["status"] == "given"
    assert all(e["actor_id"] and e["agency_id"] for e in whole["entries"])

    monkeypatch.setattr(history, "TIMELINE_PAGE", 2)
    status, view = call(client, "get", f"{API}/families/{family['family']}", tokens["sw"])
    assert [e["id"] for e in view["timeline"]] == every[:2]
    assert view["timeline_older_than"] == every[1]
    seen: list[int] = []
    before = None
    while True:
        query = f"?before={before}" if before else ""
        status, page = call(client, "get", address + query, tokens["tm"])
        assert status == 200
        assert len(page["entries"]) <= 2
        seen += [e["id"] for e in page["entries"]]
        before = page["older_than"]
        if before is None:
            break
    assert seen == every

    monkeypatch.setattr(history, "TIMELINE_PAGE", 50)
    records = call(client, "get", address + "?show=records", tokens["owner"])[1]["entries"]
    assert [e["id"] for e in records] == every  # no process has been started
    assert call(client, "get", address + "?show=processes", tokens["sw"])[1]["entries"] == []

    with app.app_context():
        session = base_context(None).session
        reads = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "family.viewed",
                AuditEvent.subject_id == str(family["family"]),
            )
        ).all()
    assert sum(1 for r in reads if r.details.get("via") == "timeline") >= 4


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?show=reads", "show"),
        ("?before=abc", "before"),
        ("?before=0", "before"),
        ("?before=99999999999999999999", "before"),
        ("?page=2", "page"),
    ],
)
def test_a_bad_timeline_query_is_a_422_naming_the_parameter(
    client: FlaskClient, tokens: Tokens, family: dict[str, int], query: str, field: str
) -> None:
    response = client.get(
        f"{API}/families/{family['family']}/timeline{query}", headers=tokens["sw"]
    )
    body = assert_problem(response, 422)
    assert [e["pointer"] for e in body["errors"]] == [f"#/{field}"]


def test_the_timeline_needs_a_token_and_a_family(
    client: FlaskClient, tokens: Tokens, family: dict[str, int]
) -> None:
    assert_problem(client.get(f"{API}/families/{family['family']}/timeline"), 401)
    assert_problem(client.get(f"{API}/families/999999/timeline", headers=tokens["sw"]), 404)


def test_a_member_leaves_the_household_and_comes_back(
    client: FlaskClient, tokens: Tokens, family: dict[str, int]
) -> None:
    sw, owner = tokens["sw"], tokens["owner"]
    left = f"{API}/families/{family['family']}/members/{family['mum']}/left"
    body = {"left_on": "2026-12-20", "reason": "Moved to her sister's"}
    assert_problem(client.post(left, json=body, headers=owner), 403)
    status, membership = call(client, "post", left, sw, body)
    assert status == 200
    assert membership == {
        "family_id": family["family"],
        "person_id": family["mum"],
        "left_on": "2026-12-20",
        "left_reason": "Moved to her sister's",
    }
    assert_problem(client.post(left, json=body, headers=sw), 409)

    view = call(client, "get", f"{API}/families/{family['family']}", owner)[1]
    assert [(m["id"], m["left_on"]) for m in view["members"]] == [
        (family["kid"], None),
        (family["mum"], "2026-12-20"),
    ]
    assert view["timeline"][0]["action"] == "family.member_left"
    assert view["timeline"][0]["person_id"] == family["mum"]
    person = call(client, "get", f"{API}/people/{family['mum']}", sw)[1]
    assert "left_on" not in person

    status, back = call(client, "delete", left, sw)
    assert (status, back["left_on"], back["left_reason"]) == (200, None, None)
    assert_problem(client.delete(left, headers=sw), 409)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({}, "#/left_on"),
        ({"left_on": "2026-12-22"}, "#/left_on"),  # tomorrow
        ({"left_on": "1990-02-02"}, "#/left_on"),  # before she was born
        ({"left_on": "20 December"}, "#/left_on"),
        ({"left_on": "2026-12-20", "reason": "x" * 201}, "#/reason"),
        ({"left_on": "2026-12-20", "why": "Moved"}, "#/why"),
    ],
)
def test_a_bad_leaving_is_a_422_naming_the_field(
    client: FlaskClient, tokens: Tokens, family: dict[str, int], body: Any, pointer: str
) -> None:
    left = f"{API}/families/{family['family']}/members/{family['mum']}/left"
    problem = assert_problem(client.post(left, json=body, headers=tokens["sw"]), 422)
    assert [e["pointer"] for e in problem["errors"]] == [pointer]


def test_only_a_member_can_leave_a_household(
    client: FlaskClient, tokens: Tokens, family: dict[str, int]
) -> None:
    elsewhere = created(client, f"{API}/families", tokens["sw"], {})
    body = {"left_on": "2026-12-20"}
    for url in (
        f"{API}/families/{elsewhere['id']}/members/{family['mum']}/left",
        f"{API}/families/999999/members/{family['mum']}/left",
        f"{API}/families/{family['family']}/members/999999/left",
    ):
        assert_problem(client.post(url, json=body, headers=tokens["sw"]), 404)


def test_a_relationship_is_recorded_removed_and_recorded_again(
    client: FlaskClient, tokens: Tokens, family: dict[str, int]
) -> None:
    sw = tokens["sw"]
    # the family fixture recorded mum as the kid's parent; it should have been step-parent
    between = f"{API}/people/{family['kid']}/relationships/{family['mum']}"
    assert_problem(client.delete(between, headers=tokens["owner"]), 403)
    assert client.delete(between, headers=sw).status_code == 204
    assert_problem(client.delete(between, headers=sw), 404)
    add = f"{API}/people/{family['kid']}/relationships"
    body = {"person_id": family["mum"], "relationship": "step_child"}
    status, row = call(client, "post", add, sw, body)
    assert (status, row) == (
        201,
        {
            "person_id": family["mum"],
            "related_person_id": family["kid"],
            "kind": "step_parent",
            "parental_responsibility": False,
        },
    )
    assert_problem(client.post(add, json=body, headers=sw), 409)
    view = call(client, "get", f"{API}/families/{family['family']}", sw)[1]
    kid = next(m for m in view["members"] if m["id"] == family["kid"])
    assert [(r["person_id"], r["relationship"]) for r in kid["relationships"]] == [
        (family["mum"], "step_parent")
    ]
    removed = next(e for e in view["timeline"] if e["action"] == "person.relationship_removed")
    assert (removed["person_id"], removed["relationship"], removed["other_person_id"]) == (
        family["mum"],
        "parent",
        family["kid"],
    )


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"relationship": "child"}, "#/person_id"),
        ({"person_id": 0, "relationship": "child"}, "#/person_id"),
        ({"person_id": "kid", "relationship": "aunt"}, "#/relationship"),
        (
            {"person_id": "kid", "relationship": "sibling", "parental_responsibility": True},
            "#/parental_responsibility",
        ),
        ({"person_id": "kid", "relationship": "sibling", "since": "2020"}, "#/since"),
    ],
)
def test_a_bad_relationship_is_a_422_naming_the_field(
    client: FlaskClient, tokens: Tokens, family: dict[str, int], body: Any, pointer: str
) -> None:
    other = created(
        client,
        f"{API}/families/{family['family']}/members",
        tokens["sw"],
        {"person": person("Bo", "2021-01-02")},
    )
    url = f"{API}/people/{other['id']}/relationships"
    sent = {**body, "person_id": family["kid"]} if body.get("person_id") == "kid" else body
    problem = assert_problem(client.post(url, json=sent, headers=tokens["sw"]), 422)
    assert [e["pointer"] for e in problem["errors"]] == [pointer]
