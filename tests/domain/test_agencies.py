"""Agency records: names for pages and reports."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import update

from api.common.context import base_context
from domain.agencies import service as agencies
from domain.agencies.models import Agency
from domain.db import unit_of_work
from tests.conftest import make_agency


def test_names_by_code_keep_agencies_no_longer_active(app: Flask) -> None:
    make_agency(app, "police", "police", name="West Mercia Police")
    make_agency(app, "old-school", "education", name="Closed Primary School")
    with app.app_context():
        ctx = base_context(None)
        with unit_of_work(ctx.session):
            ctx.session.execute(
                update(Agency).where(Agency.code == "old-school").values(active=False)
            )

        # Pick lists offer only active agencies; work and records still name the closed one.
        assert [a.code for a in agencies.list_agencies(ctx)] == ["police"]
        assert agencies.names_by_code(ctx) == {
            "police": "West Mercia Police",
            "old-school": "Closed Primary School",
        }
