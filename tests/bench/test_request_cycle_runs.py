"""The request benchmark keeps running as the schema and the request path change.

It prints figures and asserts none (speed is never a test); this runs it at a tiny size and
checks that it completes and prints every figure, including the lower bound it builds from
copies of the rows the API wrote.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.bench.run import run_bench

FIGURES = (
    "raw Spiff start",
    "raw Spiff cycle",
    "one database commit",
    "API start-to-first-task",
    "API complete-a-task",
    "SQL statements per start / completion",
    "stored bytes per waiting instance",
    "completion after 10 completed tasks",
    "completion after    20 completed tasks",
    "empty Flask + flask-smorest request",
    "start      least possible",
    "completion least possible",
)


def test_the_request_benchmark_runs_and_prints_every_figure(tmp_path: Path) -> None:
    stdout = run_bench(
        "request_cycle.py",
        tmp_path,
        BENCH_RUNS="5",
        BENCH_HISTORY_RUNS="2",
        BENCH_LONG_HISTORY="20",
    )
    for figure in FIGURES:
        line = next((ln for ln in stdout.splitlines() if figure in ln), None)
        assert line is not None, f"{figure!r} missing from:\n{stdout}"
        assert re.search(r"\d", line.split(figure, 1)[1]), line
    assert "ratio to raw start + commit" in stdout
    assert "x its baseline" in stdout
