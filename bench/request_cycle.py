"""Engine and API request-cycle benchmark. Prints figures and ratios; asserts nothing.

(a) the raw SpiffWorkflow request cycle (load, complete, engine steps, save) for a
    2-user-task referral process, and the same plus one database commit;
(b) the same through the API on SQLite: start-to-first-task and complete-a-task medians;
(c) stored bytes per waiting instance;
(d) per-completion cost at 10 and at 1,000 completed tasks in one instance.
Run: .venv/bin/python bench/request_cycle.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from flask_migrate import upgrade  # noqa: E402
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.spiff.parser import SpiffBpmnParser  # noqa: E402
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import LargeBinary, create_engine, text  # noqa: E402

RUNS = 300
PASSWORD = "bench-password-123"


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def raw_cycle() -> tuple[float, float]:
    """Median ms of the raw start and of load → complete → steps → save."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(HERE / "referral_2task.bpmn"))
    spec = parser.get_spec("bench_referral")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))

    def start() -> str:
        wf = BpmnWorkflow(spec)
        wf.do_engine_steps()
        return str(serializer.serialize_json(wf))

    starts = timed(start, RUNS)
    stored = start()

    def cycle() -> None:
        wf = serializer.deserialize_json(stored)
        task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
        task.set_data(concern_level=8, observed="bench")
        task.run()
        wf.refresh_timers()
        wf.do_engine_steps()
        serializer.serialize_json(wf)

    return median_ms(starts), median_ms(timed(cycle, RUNS))


def commit_cost(url: str) -> float:
    """Median ms of one commit updating a ~2 KB state row, on the same database."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("CREATE TABLE IF NOT EXISTS bench_commit (id INTEGER PRIMARY KEY, state BLOB)")
        )
        conn.execute(
            text("INSERT INTO bench_commit (id, state) VALUES (1, :s)"), {"s": b"x" * 2048}
        )
    payload = bytes(range(256)) * 8

    def commit() -> None:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE bench_commit SET state = :s WHERE id = 1").bindparams(),
                {"s": payload},
            )

    result = median_ms(timed(commit, RUNS))
    engine.dispose()
    _ = LargeBinary
    return result


def api_figures(url: str) -> dict[str, float]:
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

    starts = timed(start, RUNS)
    pending = list(first_tasks)

    def complete() -> None:
        task_id = pending.pop()
        r = client.post(
            f"/api/v1/tasks/{task_id}/complete",
            json={"data": {"concern_level": 8, "observed": "bench"}},
            headers=headers,
        )
        assert r.status_code == 200, r.json

    completes = timed(complete, RUNS)
    with app.app_context():
        ctx = base_context(None)
        rows = ctx.session.query(ProcessInstance).filter_by(process_key="bench_referral").all()
        stored = statistics.mean(len(r.state) for r in rows)
        raw = statistics.mean(len(__import__("zlib").decompress(r.state)) for r in rows)
    # (d) completion cost as one instance's history grows
    r = client.post(
        "/api/v1/process-instances",
        json={"process_key": "bench_loop", "data": {"finished": False, "reviews_done": 0}},
        headers=headers,
    )
    task_id = r.json["ready_tasks"][0]["id"]  # type: ignore[index]
    costs: list[float] = []
    for _ in range(1010):
        t0 = time.perf_counter()
        r = client.post(
            f"/api/v1/tasks/{task_id}/complete", json={"data": {"finished": False}}, headers=headers
        )
        costs.append(time.perf_counter() - t0)
        task_id = r.json["ready_tasks"][0]["id"]  # type: ignore[index]
    return {
        "start": median_ms(starts),
        "complete": median_ms(completes),
        "stored_bytes": stored,
        "stored_raw_bytes": raw,
        "at_10": median_ms(costs[5:15]),
        "at_1000": median_ms(costs[995:1005]),
    }


def main() -> None:
    raw_start, raw_complete = raw_cycle()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite"
        api = api_figures(url)
        commit = commit_cost(url)
    print("ThinkFamily engine/API benchmark (SQLite, medians)")
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
        f"  stored bytes per waiting instance            {api['stored_bytes']:8.0f} B"
        f"   ({api['stored_raw_bytes']:.0f} B before compression; target <= 4096)"
    )
    print(f"  completion after 10 completed tasks          {api['at_10']:8.2f} ms")
    print(
        f"  completion after 1,000 completed tasks       {api['at_1000']:8.2f} ms"
        f"   ratio: {api['at_1000'] / api['at_10']:.2f} (target <= 2)"
    )


if __name__ == "__main__":
    main()
