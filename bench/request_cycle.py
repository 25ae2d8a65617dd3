"""Engine and API request-cycle benchmark. Prints figures and ratios; asserts nothing.

(a) the raw SpiffWorkflow request cycle (load, complete, engine steps, save) for a
    2-user-task referral process, and the same plus one database commit;
(b) the same through the API on SQLite: start-to-first-task and complete-a-task medians;
(c) stored bytes per waiting instance;
(d) per-completion cost after 10 and after 1,000 completed tasks in one instance;
(e) the least a start and a completion can cost on this stack, part by part
    (`request_floor.py`), against the same baselines.

Baseline and API calls alternate round by round, so both see the same machine load.
Run: .venv/bin/python bench/request_cycle.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from flask_migrate import upgrade  # noqa: E402
from request_floor import EngineAlone, TransactionAlone  # noqa: E402
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.spiff.parser import SpiffBpmnParser  # noqa: E402
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import LargeBinary, create_engine, text  # noqa: E402

# sizes (smaller ones only for the smoke test that keeps this program running)
RUNS = int(os.environ.get("BENCH_RUNS", "300"))
HISTORY_RUNS = int(os.environ.get("BENCH_HISTORY_RUNS", "50"))
LONG_HISTORY = int(os.environ.get("BENCH_LONG_HISTORY", "1000"))
PASSWORD = "bench-password-123"


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def interleaved(runs: int, *calls: Callable[[], object]) -> list[list[float]]:
    """Time each call once per round, round after round; return the samples of each call.

    Interleaving puts the baseline and the API through the same moments of machine load,
    so their ratio holds steady on a busy machine where separate passes would drift apart.
    """
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(runs):
        for call, out in zip(calls, samples, strict=True):
            t0 = time.perf_counter()
            call()
            out.append(time.perf_counter() - t0)
    return samples


class RawCycle:
    """The raw SpiffWorkflow request cycle for the same 2-user-task process."""

    def __init__(self) -> None:
        parser = SpiffBpmnParser()
        parser.add_bpmn_file(str(HERE / "referral_2task.bpmn"))
        self.spec = parser.get_spec("bench_referral")
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))
        self.stored = self.start()

    def start(self) -> str:
        """Create, run to the first user task, save."""
        wf = BpmnWorkflow(self.spec)
        wf.do_engine_steps()
        return str(self.serializer.serialize_json(wf))

    def cycle(self) -> None:
        """Load, complete the first task, run on, save."""
        wf = self.serializer.deserialize_json(self.stored)
        task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
        task.set_data(concern_level=8, observed="bench")
        task.run()
        wf.refresh_timers()
        wf.do_engine_steps()
        self.serializer.serialize_json(wf)


class CommitProbe:
    """One commit updating a ~2 KB state row, on the same database file."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        with self.engine.begin() as conn:
            conn.execute(
                text("CREATE TABLE IF NOT EXISTS bench_commit (id INTEGER PRIMARY KEY, state BLOB)")
            )
            conn.execute(
                text("INSERT INTO bench_commit (id, state) VALUES (1, :s)"), {"s": b"x" * 2048}
            )
        self.payload = bytes(range(256)) * 8
        _ = LargeBinary

    def commit(self) -> None:
        """Update the row and commit."""
        with self.engine.begin() as conn:
            conn.execute(
                text("UPDATE bench_commit SET state = :s WHERE id = 1"), {"s": self.payload}
            )

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()


def api_figures(url: str, raw: RawCycle) -> dict[str, float]:
    from api.app import create_app
    from api.common.context import base_context
    from domain.agencies import service as agencies
    from domain.db import unit_of_work
    from domain.processes import definitions
    from domain.processes.models import ProcessInstance
    from domain.users import service as users

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"})
    with app.app_context():
        upgrade()
        ctx = base_context(None)
        with unit_of_work(ctx.session):
            agencies.create_agency(ctx, code="csc", name="CSC", kind="childrens_social_care")
            users.create_user(
                ctx, username="bench", password=PASSWORD, roles=["practitioner"], agency_code="csc"
            )
        for name, forms in (
            ("referral_2task.bpmn", ["bench_contact.schema.json"]),
            ("loop_review.bpmn", []),
        ):
            with unit_of_work(ctx.session):
                definitions.deploy(
                    ctx,
                    key=None,
                    bpmn_files={name: (HERE / name).read_bytes()},
                    forms={f: (HERE / f).read_bytes() for f in forms},
                )
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "bench", "password": PASSWORD}).json
    headers = {"Authorization": f"Bearer {token['access_token']}"}  # type: ignore[index]

    first_tasks: list[int] = []

    def start() -> None:
        r = client.post(
            "/api/v1/process-instances",
            json={"process_key": "bench_referral", "data": {}},
            headers=headers,
        )
        assert r.status_code == 201, r.json
        first_tasks.append(r.json["ready_tasks"][0]["id"])  # type: ignore[index]

    probe = CommitProbe(url)
    for _ in range(20):  # warm caches on both sides
        raw.start()
        start()
    engine_alone = EngineAlone(app, "bench_referral", {"concern_level": 8, "observed": "bench"})
    rows_alone = TransactionAlone(url, "bench_referral")
    floor = framework_floor()
    raw_starts, starts, start_commits = interleaved(RUNS, raw.start, start, probe.commit)
    # the lower bound's parts in rounds of their own, so they do not change the API's rounds
    floor_raw_starts, floor_start_commits, floor_starts, engine_starts, rows_starts = interleaved(
        RUNS, raw.start, probe.commit, floor, engine_alone.start, rows_alone.start
    )
    pending = list(first_tasks)

    def complete() -> None:
        task_id = pending.pop()
        r = client.post(
            f"/api/v1/tasks/{task_id}/complete",
            json={"data": {"concern_level": 8, "observed": "bench"}},
            headers=headers,
        )
        assert r.status_code == 200, r.json

    raw_cycles, completes, cycle_commits = interleaved(RUNS, raw.cycle, complete, probe.commit)
    floor_raw_cycles, floor_cycle_commits, floor_cycles, engine_cycles, rows_cycles = interleaved(
        RUNS, raw.cycle, probe.commit, floor, engine_alone.complete, rows_alone.complete
    )
    probe.close()
    rows_alone.close()

    def complete_newest() -> None:
        pending.append(first_tasks[-1])
        complete()

    statements = _count_statements(app, start, complete_newest)
    with app.app_context():
        ctx = base_context(None)
        rows = ctx.session.query(ProcessInstance).filter_by(process_key="bench_referral").all()
        stored = statistics.mean(len(r.state) for r in rows)
        unpacked = statistics.mean(len(__import__("zlib").decompress(r.state)) for r in rows)

    # (d) completion cost as one instance's history grows: the 11th completion of fresh
    # instances against the 1,001st, 1,002nd... of one long-running instance, interleaved
    def start_loop() -> int:
        r = client.post(
            "/api/v1/process-instances",
            json={"process_key": "bench_loop", "data": {"finished": False, "reviews_done": 0}},
            headers=headers,
        )
        return int(r.json["ready_tasks"][0]["id"])  # type: ignore[index]

    def review(task_id: int) -> int:
        r = client.post(
            f"/api/v1/tasks/{task_id}/complete", json={"data": {"finished": False}}, headers=headers
        )
        return int(r.json["ready_tasks"][0]["id"])  # type: ignore[index]

    def advanced(task_id: int, completions: int) -> int:
        for _ in range(completions):
            task_id = review(task_id)
        return task_id

    young = [advanced(start_loop(), 10) for _ in range(HISTORY_RUNS)]
    old = [advanced(start_loop(), LONG_HISTORY)]

    def complete_young() -> None:
        review(young.pop())

    def complete_old() -> None:
        old.append(review(old.pop()))

    at_10, at_1000 = interleaved(HISTORY_RUNS, complete_young, complete_old)
    return {
        "raw_start": median_ms(raw_starts),
        "raw_cycle": median_ms(raw_cycles),
        "commit": median_ms(start_commits + cycle_commits),
        "start_statements": statements[0],
        "complete_statements": statements[1],
        "start": median_ms(starts),
        "complete": median_ms(completes),
        "stored_bytes": stored,
        "stored_raw_bytes": unpacked,
        "floor": median_ms(floor_starts + floor_cycles),
        "floor_raw_start": median_ms(floor_raw_starts),
        "floor_raw_cycle": median_ms(floor_raw_cycles),
        "floor_commit": median_ms(floor_start_commits + floor_cycle_commits),
        "engine_start": median_ms(engine_starts),
        "engine_complete": median_ms(engine_cycles),
        "rows_start": median_ms(rows_starts),
        "rows_complete": median_ms(rows_cycles),
        "at_10": median_ms(at_10),
        "at_1000": median_ms(at_1000),
    }


def _count_statements(
    app: object, start: Callable[[], None], complete: Callable[[], None]
) -> tuple[int, int]:
    """SQL statements one start and one completion send (commit included)."""
    from sqlalchemy import event

    from api.common.extensions import db

    with app.app_context():  # type: ignore[attr-defined]
        engine = db.engine
    sent: list[str] = []

    def count(*_args: object) -> None:
        sent.append("statement")

    def count_commit(*_args: object) -> None:
        sent.append("commit")

    event.listen(engine, "before_cursor_execute", count)
    event.listen(engine, "commit", count_commit)
    try:
        start()
        started = len(sent)
        sent.clear()
        complete()
        completed = len(sent)
    finally:
        event.remove(engine, "before_cursor_execute", count)
        event.remove(engine, "commit", count_commit)
    return started, completed


def framework_floor() -> Callable[[], object]:
    """A Flask + flask-smorest request that does nothing, via a test client (to be timed).

    The fixed cost every API request pays before any ThinkFamily code runs (argument and
    response schemas included), measured in the same run for comparison.
    """
    from flask import Flask
    from flask_smorest import Api, Blueprint
    from marshmallow import Schema, fields

    app = Flask("floor")
    app.config.update(API_TITLE="floor", API_VERSION="v1", OPENAPI_VERSION="3.0.3")
    api = Api(app)
    bp = Blueprint("floor", __name__)

    class Body(Schema):
        data = fields.Dict()

    class Reply(Schema):
        id = fields.Integer()
        status = fields.String()

    @bp.post("/nothing")  # type: ignore[untyped-decorator]
    @bp.arguments(Body)  # type: ignore[untyped-decorator]
    @bp.response(200, Reply)  # type: ignore[untyped-decorator]
    def nothing(payload: dict[str, object]) -> dict[str, object]:
        return {"id": 1, "status": "ok"}

    api.register_blueprint(bp)
    client = app.test_client()
    body = {"data": {"concern_level": 8, "observed": "bench"}}
    return lambda: client.post("/nothing", json=body)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        api = api_figures(f"sqlite:///{tmp}/bench.sqlite", RawCycle())
    raw_start, raw_complete, commit = api["raw_start"], api["raw_cycle"], api["commit"]
    print("ThinkFamily engine/API benchmark (SQLite, medians; baseline and API interleaved)")
    print(f"  raw Spiff start (create + steps + save)      {raw_start:8.2f} ms")
    print(f"  raw Spiff cycle (load + complete + save)     {raw_complete:8.2f} ms")
    print(f"  one database commit (~2 KB row)              {commit:8.2f} ms")
    print(
        f"  API start-to-first-task                      {api['start']:8.2f} ms"
        f"   ratio to raw start + commit: {api['start'] / (raw_start + commit):.2f} (target <= 2)"
    )
    print(
        f"  API complete-a-task                          {api['complete']:8.2f} ms"
        f"   ratio to raw cycle + commit: {api['complete'] / (raw_complete + commit):.2f}"
        " (target <= 2)"
    )
    print(
        f"  SQL statements per start / completion        {api['start_statements']:5.0f} /"
        f" {api['complete_statements']:.0f}   (commit included)"
    )
    print(
        f"  stored bytes per waiting instance            {api['stored_bytes']:8.0f} B"
        f"   ({api['stored_raw_bytes']:.0f} B before compression; target <= 4096)"
    )
    print(f"  completion after 10 completed tasks          {api['at_10']:8.2f} ms")
    print(
        f"  completion after {LONG_HISTORY:5,d} completed tasks       {api['at_1000']:8.2f} ms"
        f"   ratio: {api['at_1000'] / api['at_10']:.2f} (target <= 2)"
    )
    print_floor(api)


def print_floor(api: dict[str, float]) -> None:
    """Print the least a start and a completion can cost here, and what 2x leaves over."""
    floor = api["floor"]
    print(
        "What a request must pay at least on this stack (each part alone, interleaved with"
        " the baseline in rounds of their own):"
    )
    print(f"  empty Flask + flask-smorest request          {floor:8.2f} ms")
    for name, raw, engine, rows in (
        ("start", api["floor_raw_start"], api["engine_start"], api["rows_start"]),
        ("completion", api["floor_raw_cycle"], api["engine_complete"], api["rows_complete"]),
    ):
        baseline = raw + api["floor_commit"]
        least = floor + engine + rows
        print(
            f"  {name:10s} our engine alone {engine:5.2f} ms (raw {raw:.2f}),"
            f" its rows written + committed {rows:.2f} ms"
        )
        print(
            f"  {name:10s} least possible                {least:8.2f} ms"
            f"   = {least / baseline:.2f}x its baseline; 2x leaves"
            f" {2 * baseline - least:.2f} ms for the token check, reads, validation, response"
        )


if __name__ == "__main__":
    main()
