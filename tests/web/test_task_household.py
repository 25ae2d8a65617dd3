"""Think Family beside every task: the household, under-5s first, and its open processes."""

from __future__ import annotations

import re
from datetime import date

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import make_agency, make_user
from tests.web.test_session_pages import deploy_web_test, family, html, sign_in


def _start(app: Flask, family_id: int, subjects: list[int]) -> None:
    from api.common.context import base_context
    from domain.db import unit_of_work
    from domain.processes import runtime
    from domain.users import service as users
    from domain.users.models import User

    with app.app_context():
        ctx = base_context(None)
        user = ctx.session.query(User).filter_by(username="sam").one()
        ctx.actor = users.actor_of(user)
        with unit_of_work(ctx.session):
            runtime.start_process(
                ctx,
                process_key="web_test",
                data={
                    "family_id": family_id,
                    "subject_person_ids": subjects,
                    "urgency": "routine",
                    "route": "general",
                    "other_agency": "csc",
                },
            )


def test_task_page_shows_the_household_under_fives_first(app: Flask, client: FlaskClient) -> None:
    make_agency(app, "csc", "childrens_social_care", "Northshire Children's Services")
    make_user(app, "sam", ["practitioner"])
    deploy_web_test(app)
    family_id, (teen, toddler, _baby, _mum) = family(
        app,
        ("Tara", "Okafor", date(2012, 3, 1)),
        ("Theo", "Okafor", date(2024, 6, 1)),
        ("Bea", "Okafor", date(2026, 2, 1)),
        ("Grace", "Okafor", None),
    )
    _start(app, family_id, [teen])  # the concern is about the 14-year-old
    _start(app, family_id, [toddler])  # another open process for a sibling
    sign_in(client, "sam")
    inbox = html(client.get("/tasks"))
    task_id = re.findall(r'href="/tasks/(\d+)"', inbox)[0]
    page = html(client.get(f"/tasks/{task_id}"))
    panel = page[page.index("Think Family: the household") :]
    order = [
        panel.index(name) for name in ("Bea Okafor", "Theo Okafor", "Tara Okafor", "Grace Okafor")
    ]
    assert order == sorted(order), (
        "children under 5 first (youngest first), then older children, then adults"
    )
    assert panel.count("Under 5") == 2
    assert "This case" in panel
    assert panel.count('href="/instances/') == 2  # every member's open processes are listed
    assert f'href="/families/{family_id}"' in panel


def test_the_household_beside_a_task_shows_who_has_left_last(
    app: Flask, client: FlaskClient
) -> None:
    from api.common.context import base_context
    from domain.db import unit_of_work
    from domain.families import membership
    from domain.users import service as users
    from domain.users.models import User

    make_agency(app, "csc", "childrens_social_care", "Northshire Children's Services")
    make_user(app, "sam", ["practitioner"])
    deploy_web_test(app)
    family_id, (teen, _mum, dad) = family(
        app,
        ("Tara", "Okafor", date(2012, 3, 1)),
        ("Grace", "Okafor", None),
        ("Femi", "Okafor", None),
    )
    with app.app_context():
        ctx = base_context(None)
        ctx.actor = users.actor_of(ctx.session.query(User).filter_by(username="sam").one())
        with unit_of_work(ctx.session):
            membership.record_left(
                ctx, family_id=family_id, person_id=dad, left_on=date(2026, 11, 2)
            )
    _start(app, family_id, [teen])
    sign_in(client, "sam")
    task_id = re.findall(r'href="/tasks/(\d+)"', html(client.get("/tasks")))[0]
    page = html(client.get(f"/tasks/{task_id}"))
    panel = page[page.index("Think Family: the household") :]
    assert "children under 5 first, then those who have left" in panel
    assert "Left Monday 2 November 2026" in panel
    assert panel.index("Grace Okafor") < panel.index("Femi Okafor")
    assert panel.index("Femi Okafor") < panel.index("Left Monday 2 November 2026")
