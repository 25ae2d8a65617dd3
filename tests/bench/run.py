"""Run a benchmark program at a tiny size, as the smoke tests do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run_bench(program: str, tmp_path: Path, **sizes: str) -> str:
    """Run bench/`program` on a temporary SQLite database with these sizes; return its output.

    Fails the test if it does not finish well.
    """
    env = {**os.environ, **sizes, "TMPDIR": str(tmp_path)}
    for name in ("THINKFAMILY_DATABASE_URL", "BENCH_DATABASE_URL"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, str(BENCH / program)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout
