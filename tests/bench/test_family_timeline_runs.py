"""The family timeline benchmark keeps running as the schema and the timeline change.

It prints figures and asserts none (speed is never a test); this runs it at a tiny size and
checks that it completes and prints both figures and their ratio.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "family_timeline.py"


def test_the_family_timeline_benchmark_runs_and_prints_its_figures(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "BENCH_AUDIT_ROWS": "300",
        "BENCH_FAMILY_VIEWS": "20",
        "BENCH_QUERY_RUNS": "3",
        "TMPDIR": str(tmp_path),
    }
    env.pop("BENCH_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, str(BENCH)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.search(
        r"one page of the timeline \(\d+ entries\), fresh database +[\d.]+ ms", done.stdout
    )
    assert "after 300 others' audit rows and 20 views of the family" in done.stdout
    assert re.search(r"[\d.]+ ms +ratio: [\d.]+ \(flat is 1\)", done.stdout), done.stdout
