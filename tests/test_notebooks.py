"""The exploration notebooks still run end to end (nbval --nbval-lax: every cell executes
without error; outputs are not compared). Runs in a subprocess so the main suite's options
(`-n 2`, testpaths) do not apply; the first run also builds the cached demo store (~20 s)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = [
    "notebooks/01_explore.ipynb",
    "notebooks/02_cost.ipynb",
    "notebooks/03_plan.ipynb",
    "exitkit/report/workload_report.ipynb",  # standalone: its default workload needs no store
]


@pytest.mark.slow
def test_exploration_notebooks_run():
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider",
         "-q", "-o", "addopts=", *NOTEBOOKS],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout
