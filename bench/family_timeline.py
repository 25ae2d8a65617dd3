"""Family timeline benchmark. Prints figures only; asserts nothing.

A household of nine is recorded a year ago and has had no new entries since, but it has been
looked at: every view of the family page (or of a task beside it) writes an audit row for the
family and one per member. Meanwhile the rest of the partnership fills the audit trail.

Prints the cost of one page of the family's timeline (the query and the entries built from
it, median of QUERY_RUNS) on a fresh database, and again after BENCH_AUDIT_ROWS rows of
everyone else's activity and BENCH_FAMILY_VIEWS views of this family, and their ratio. The
timeline should cost the same however large the audit trail and however often the family
has been viewed.

Run: .venv/bin/python bench/family_timeline.py
Database: a temporary SQLite file, or BENCH_DATABASE_URL (a throwaway PostgreSQL
database: the benchmark drops and recreates its public schema).
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from sqlalchemy import insert  # noqa: E402
from timers import BenchClock, prepare_database  # noqa: E402

AUDIT_ROWS = int(os.environ.get("BENCH_AUDIT_ROWS", "800000"))
FAMILY_VIEWS = int(os.environ.get("BENCH_FAMILY_VIEWS", "20000"))
QUERY_RUNS = int(os.environ.get("BENCH_QUERY_RUNS", "50"))
CHUNK = 20_000
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
OTHER_ACTIONS = ("family.viewed", "person.special_category_viewed", "person.created")


def main() -> None:
    url, label, folder = prepare_database()
    from api.app import create_app

    clock = BenchClock()
    clock.fixed = NOW - timedelta(days=365)
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"}, clock=clock
    )
    try:
        with app.app_context():
            family_id = record_household(app)
            clock.fixed = NOW
            fresh, entries = timeline_cost(family_id)
            t0 = time.perf_counter()
            fill_audit_trail(app, family_id)
            filled = time.perf_counter() - t0
            busy, busy_entries = timeline_cost(family_id)
    finally:
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
    assert busy_entries == entries, (entries, busy_entries)
    print(f"ThinkFamily family timeline benchmark ({label}, medians of {QUERY_RUNS})")
    print(f"  one page of the timeline ({entries} entries), fresh database   {fresh:8.2f} ms")
    print(
        f"  the same after {AUDIT_ROWS:,} others' audit rows and {FAMILY_VIEWS:,} views"
        f" of the family ({filled:.0f} s to write)"
    )
    print(
        f"                                                          {busy:8.2f} ms"
        f"   ratio: {busy / fresh:.2f} (flat is 1)"
    )


def record_household(app: Any) -> int:
    """A family of two parents and seven children, recorded by a practitioner."""
    from api.common.context import base_context
    from domain.agencies import service as agencies
    from domain.db import unit_of_work
    from domain.families import service as families
    from domain.users import service as users

    ctx = base_context(None)
    with unit_of_work(ctx.session):
        agencies.create_agency(ctx, code="csc", name="CSC", kind="childrens_social_care")
        user = users.create_user(
            ctx,
            username="bench",
            password="bench-password-1",
            roles=["practitioner"],
            agency_code="csc",
        )
    ctx.actor = users.actor_of(user)
    with unit_of_work(ctx.session):
        family = families.create_family(ctx, name="Bench household")
        parents = [
            families.add_member(
                ctx,
                family_id=family.id,
                person=families.PersonDetails(name, "Bench", sex, date_of_birth=date(1988, 1, 1)),
            )
            for name, sex in (("Ann", "F"), ("Bob", "M"))
        ]
        for n in range(7):
            families.add_member(
                ctx,
                family_id=family.id,
                person=families.PersonDetails(f"Kid{n}", "Bench", "U", date(2012 + n, 1, 1)),
                relationships=[families.RelationshipInput(p.id, "child", True) for p in parents],
            )
        return family.id


def timeline_cost(family_id: int) -> tuple[float, int]:
    """Median milliseconds for one page of the family's timeline, and its entry count."""
    from api.common.context import base_context
    from domain.families import history
    from domain.families import service as families

    ctx = base_context(None)
    people = [p.id for p in families.members_of(ctx, family_id)]
    instances = history.instances_for(ctx, family_id=family_id, person_ids=people)
    samples, count = [], 0
    for _ in range(QUERY_RUNS):
        t0 = time.perf_counter()
        page = history.timeline(ctx, family_id=family_id, person_ids=people, instances=instances)
        samples.append(time.perf_counter() - t0)
        count = len(page.entries)
    ctx.session.rollback()
    return statistics.median(samples) * 1000, count


def fill_audit_trail(app: Any, family_id: int) -> None:
    """Everyone else's activity, and this family's views, spread over the year since."""
    from api.common.context import base_context
    from api.common.extensions import db
    from domain.audit.models import AuditEvent
    from domain.families import service as families

    ctx = base_context(None)
    people = [str(p.id) for p in families.members_of(ctx, family_id)]
    rnd = random.Random(1)  # noqa: S311 - the same made-up activity every run

    def when() -> datetime:
        return NOW - timedelta(seconds=rnd.uniform(0, 364 * 86400))

    def rows() -> Any:
        for _ in range(FAMILY_VIEWS):
            at = when()
            yield {
                "at": at,
                "action": "family.viewed",
                "subject_type": "family",
                "subject_id": str(family_id),
                "details": {},
            }
            for person in people:
                yield {
                    "at": at,
                    "action": "person.special_category_viewed",
                    "subject_type": "person",
                    "subject_id": person,
                    "details": {},
                }
        for _ in range(AUDIT_ROWS):
            yield {
                "at": when(),
                "action": rnd.choice(OTHER_ACTIONS),
                "subject_type": rnd.choice(("family", "person")),
                "subject_id": str(rnd.randint(100_000, 150_000)),
                "details": {},
            }

    batch: list[dict[str, Any]] = []
    with db.engine.begin() as conn:
        for row in rows():
            batch.append(row)
            if len(batch) == CHUNK:
                conn.execute(insert(AuditEvent), batch)
                batch = []
        if batch:
            conn.execute(insert(AuditEvent), batch)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


if __name__ == "__main__":
    main()
