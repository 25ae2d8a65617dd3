"""The import-linter contracts in pyproject.toml hold (layers, SpiffWorkflow only in the engine,
framework-free domain and engine, an engine without database or domain)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_import_contracts_are_kept() -> None:
    assert LINT_IMPORTS.exists(), "import-linter is not installed in the test environment"
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    found = re.search(r"Contracts: (\d+) kept, 0 broken", result.stdout)
    assert found is not None, result.stdout[-2000:]
    assert int(found.group(1)) >= 4
