"""The case page says whose work each open task, timer and timeline entry is, by agency
name: every agency invited to an MDT meeting has its own reply and its own reminders, so "No
reply in time" alone would not say whose reply is late."""

from __future__ import annotations

import html as html_lib
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.api.test_process_mdt_meeting import (
    HOUSING,
    POLICE,
    Api,
    api,
    convene,
    everyone_accepts,
    family,
)
from tests.web.helpers_reports import context, sign_in

__all__ = ["api", "family"]  # shared fixtures, re-exported


def test_each_reply_timer_names_the_agency_whose_reply_it_awaits(
    app: Flask, client: FlaskClient, api: Api, family: tuple[int, list[int]]
) -> None:
    from domain.agencies.models import Agency
    from domain.db import unit_of_work

    with context(app) as ctx, unit_of_work(ctx.session):
        for code, name in ((HOUSING, "Northshire Housing"), (POLICE, "Northshire Police")):
            ctx.session.scalars(select(Agency).where(Agency.code == code)).one().name = name
    iid = convene(api, family)
    everyone_accepts(api, iid, [a for a in api_invited(api, iid) if a != HOUSING])
    sign_in(app, client, "teacher")

    body = client.get(f"/instances/{iid}").get_data(as_text=True)

    table = body[body.index('id="timers"') :]
    table = table[: table.index("</table>")]
    rows = [
        " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", row)).split())
        for row in re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", table, re.S)
    ]
    assert any(r.startswith("No reply in time Northshire Housing") for r in rows), rows
    assert any(r.startswith("Still no reply Northshire Housing") for r in rows), rows
    assert not any("Northshire Police" in r for r in rows)  # police replied: nothing chases it
    assert any(r.startswith("Notes overdue") for r in rows), rows
    tasks = body[body.index('id="tasks"') : body.index('id="timers"')]
    assert "Invited agency, Northshire Housing" in html_lib.unescape(tasks)  # a name, not a code
    assert f"({HOUSING})" not in tasks
    timeline = html_lib.unescape(body[body.index('id="timeline"') :])
    assert "Task opened: Respond to the invitation (Northshire Housing)" in timeline
    assert "Task: Respond to the invitation (Northshire Police)" in timeline  # the audit trail


def api_invited(api: Api, iid: int) -> list[str]:
    """The agencies whose invitation is still open."""
    return [t["agency_code"] for t in api.ready(iid, "respond_to_invitation")]
