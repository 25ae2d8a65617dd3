"""The family timeline benchmark keeps running as the schema and the timeline change.

It prints figures and asserts none (speed is never a test); this runs it at a tiny size and
checks that it completes and prints both figures and their ratio.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.bench.run import run_bench


def test_the_family_timeline_benchmark_runs_and_prints_its_figures(tmp_path: Path) -> None:
    stdout = run_bench(
        "family_timeline.py",
        tmp_path,
        BENCH_AUDIT_ROWS="300",
        BENCH_FAMILY_VIEWS="20",
        BENCH_QUERY_RUNS="3",
    )
    assert re.search(r"one page of the timeline \(\d+ entries\), fresh database +[\d.]+ ms", stdout)
    assert "after 300 others' audit rows and 20 views of the family" in stdout
    assert re.search(r"[\d.]+ ms +ratio: [\d.]+ \(flat is 1\)", stdout), stdout
