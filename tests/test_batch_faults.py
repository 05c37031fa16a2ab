"""`exitkit report` under faults: a notebook that raises, a kernel that dies, workloads that time out.

One batch runs a small fault notebook (the report notebook's `parameters` cell, then cells that
misbehave according to the workload's name) through the real `run_reports` → worker →
papermill path. The healthy workloads finish; every failure is in summary.json and index.html
with its cause and a link to the executed notebook, which is kept; no kernel outlives the batch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from exitkit.report.batch import _kill_tree, run_reports

pytestmark = pytest.mark.slow

TIMEOUT_S = 20  # includes the kernel's start-up, which takes seconds on a loaded 2-core runner
FAULTS = {
    # name: (what the notebook does, what the recorded error must say); the slow ones first,
    # so the others run beside them
    "slow": ("sleeps past the timeout", [f"timed out after {TIMEOUT_S}s", "kernel interrupted in notebook cell 3"]),
    "stubborn": (
        "ignores the interrupt and sleeps",
        [f"timed out after {TIMEOUT_S}s", "ignored the interrupt and was killed"],
    ),
    "healthy": ("finishes", None),
    "raises": (
        "raises in its third cell",
        ["notebook cell 3 raised RuntimeError", "injected failure: ledger totals differ"],
    ),
    "dies": ("its kernel calls os._exit", ["notebook did not finish", "DeadKernelError"]),
    "healthy-two": ("finishes", None),
}

FAULT_CELLS = [
    # the same parameters cell as exitkit/report/workload_report.ipynb
    ('workload = ""\ndb = ""\nout_dir = ""', ["parameters"]),
    (
        "import os, pathlib, yaml\n"
        "name = yaml.safe_load(pathlib.Path(workload).read_text())['name']\n"
        "pathlib.Path(out_dir, f'{name}.kernel.pid').write_text(str(os.getpid()))\n"
        "print(f'started {name}')",
        [],
    ),
    (
        "import signal, time\n"
        "if name == 'raises':\n"
        "    raise RuntimeError('injected failure: ledger totals differ')\n"
        "if name == 'dies':\n"
        "    os._exit(3)\n"
        "if name == 'stubborn':\n"
        "    signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "if name in ('slow', 'stubborn'):\n"
        "    time.sleep(600)\n"
        "print(f'finished {name}')",
        [],
    ),
]


def fault_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for src, tags in FAULT_CELLS:
        cell = nbformat.v4.new_code_cell(src)
        cell.metadata["tags"] = tags
        nb.cells.append(cell)
    nbformat.write(nb, path)
    return path


def _workload(d: Path, name: str) -> Path:
    p = d / f"{name}.yaml"
    p.write_text(
        f"name: {name}\ntitle: Fault case {name}\nsource: {{platform: msk-standard}}\nregion: us-east-1\n"
        "traffic: {write_rate: 5 MiB/s, retention: 1d}\ncandidates: [kafka-ec2]\n"
    )
    return p


def _alive(pid: int) -> bool:
    try:
        p = psutil.Process(pid)
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture(scope="module")
def fault_batch(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("faults")
    nb = fault_notebook(d / "faults.ipynb")
    out = d / "out"
    started = time.monotonic()
    results = run_reports(
        [_workload(d, n) for n in FAULTS], None, out, jobs=3, timeout_s=TIMEOUT_S, notebook=nb, progress=False
    )
    return {"out": out, "results": {r["name"]: r for r in results}, "seconds": time.monotonic() - started}


def test_healthy_workloads_finish_and_render(fault_batch):
    for name, (_, expect) in FAULTS.items():
        if expect is None:
            r = fault_batch["results"][name]
            assert r["status"] == "ok", r
            html = Path(r["html"]).read_text(encoding="utf-8")
            assert f"finished {name}" in html


@pytest.mark.parametrize("name", [n for n, (_, e) in FAULTS.items() if e is not None])
def test_each_failure_is_recorded_with_its_cause_and_notebook(fault_batch, name):
    r = fault_batch["results"][name]
    assert r["status"] == "failed" and r["html"] is None
    for part in FAULTS[name][1]:
        assert part in r["error"], r["error"]
    # summary.json and index.html carry the same cause and point at the executed notebook
    summary = {w["name"]: w for w in json.loads((fault_batch["out"] / "summary.json").read_text())["workloads"]}
    assert summary[name]["status"] == "failed" and summary[name]["error"] == r["error"]
    index = (fault_batch["out"] / "index.html").read_text(encoding="utf-8")
    import html

    assert html.escape(r["error"]) in index
    assert f'href="{name}.ipynb"' in index
    # the executed notebook is kept, as far as it got
    nb = nbformat.read(r["ipynb"], as_version=4)
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert f"started {name}" in outputs
    assert f"finished {name}" not in outputs
    if name == "raises":
        assert "injected failure: ledger totals differ" in outputs
    if name == "slow":
        assert "KeyboardInterrupt" in outputs  # the interrupted cell, with its traceback


@pytest.mark.parametrize("name", list(FAULTS))
def test_no_kernel_outlives_the_batch(fault_batch, name):
    pid = int((fault_batch["out"] / f"{name}.kernel.pid").read_text())
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(pid), f"kernel {pid} of {name} is still running"


def test_batch_time_is_bounded_by_the_timeout(fault_batch):
    # the slowest waits the timeout plus the interrupt grace; the others run beside it
    assert fault_batch["seconds"] < 3 * TIMEOUT_S + 30


def test_kill_tree_reaches_a_child_in_its_own_session(tmp_path):
    """The parent's backstop: a worker whose child runs in a new session (as Jupyter starts kernels)."""
    code = (
        "import subprocess, sys, time\n"
        "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], start_new_session=True)\n"
        f"open({str(tmp_path / 'child.pid')!r}, 'w').write(str(c.pid))\n"
        "time.sleep(600)\n"
    )
    worker = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    pid_file = tmp_path / "child.pid"
    deadline = time.monotonic() + 30
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(pid_file.read_text())
    _kill_tree(worker.pid)
    worker.wait(timeout=10)
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child)


def test_record_fault_figures(fault_batch):
    out = os.environ.get("EXITKIT_RELIABILITY_DIR")
    if not out:
        pytest.skip("EXITKIT_RELIABILITY_DIR not set")
    Path(out).mkdir(parents=True, exist_ok=True)
    cases = [
        {"workload": n, "fault": what, "status": fault_batch["results"][n]["status"],
         "error": fault_batch["results"][n]["error"], "notebook_kept": bool(fault_batch["results"][n].get("ipynb"))}
        for n, (what, _) in FAULTS.items()
    ]  # fmt: skip
    (Path(out) / "faults-batch.json").write_text(
        json.dumps({"suite": "faults", "name": "batch", "cases": cases, "seconds": round(fault_batch["seconds"], 1)})
    )
