"""The package is whole: a built wheel, installed into a fresh virtual environment and run from an
empty folder outside the checkout, runs `exitkit demo` and `exitkit report` to completion.

Offline: the wheel is installed with `--no-deps --no-index`; its dependencies come from this test
environment's site-packages, added to the new environment by a `.pth` path line (which does not
run this environment's own `.pth` files, so the editable install of the checkout stays out), and
their data files (nbconvert's templates) from this environment's `share/jupyter` via JUPYTER_PATH.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, env: dict, timeout: float = 600) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python of a fresh venv with the exitkit wheel installed, an environment to run it in)."""
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(ROOT)],
         base, env)  # fmt: skip
    wheels = list(dist.glob("exitkit-*.whl"))
    assert len(wheels) == 1, wheels
    target = base / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    py = target / "bin" / "python"
    purelib = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    Path(purelib, "exitkit_test_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "-q", str(wheels[0])],
         base, env)  # fmt: skip
    env["PATH"] = f"{target / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["EXITKIT_CACHE"] = str(base / "cache")
    # The dependencies' data files (nbconvert's base templates, the ipykernel kernelspec) live under
    # this environment's prefix; a normal `pip install exitkit` puts them under the new venv's.
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    return py, env


def test_the_wheel_imports_exitkit_from_itself_not_the_checkout(installed, tmp_path):
    py, env = installed
    where = _run([str(py), "-c", "import exitkit, sys; print(exitkit.__file__)"], tmp_path, env).stdout.strip()
    assert "site-packages" in where and not where.startswith(str(ROOT / "exitkit")), where
    data = _run([str(py), "-c", "from exitkit.report.export import NOTEBOOK, TEMPLATES; from exitkit.demo import "
                 "demo_workloads; print(NOTEBOOK.is_file(), (TEMPLATES / 'report' / 'index.html.j2').is_file(), "
                 "len(demo_workloads()))"], tmp_path, env).stdout.split()  # fmt: skip
    assert data == ["True", "True", "5"]


def test_demo_and_a_what_if_report_run_from_an_empty_folder(installed, tmp_path):
    py, env = installed
    exitkit = str(Path(py).parent / "exitkit")
    work = tmp_path / "empty"
    work.mkdir()
    out = work / "demo-out"
    _run([exitkit, "demo", "--out", str(out), "--jobs", "2"], work, env, timeout=900)
    summary = json.loads((out / "summary.json").read_text())
    assert {w["name"]: w["status"] for w in summary["workloads"]} == {
        "compliance": "ok", "dispatch": "ok", "payments": "ok", "telemetry": "ok", "whatif-ingest": "ok",
    }  # fmt: skip
    assert (out / "payments.html").stat().st_size > 0 and (out / "exports").is_dir()

    whatif = work / "mine.yaml"
    whatif.write_text(
        "name: mine\nsource: {platform: msk-standard}\nregion: us-east-1\n"
        "traffic: {write_rate: 10 MiB/s, fan_out: 2, retention: 3d}\ncandidates: [kafka-ec2, msk-express]\n"
    )
    _run([exitkit, "report", str(whatif), "--out", str(work / "r"), "--jobs", "1"], work, env)
    assert json.loads((work / "r" / "summary.json").read_text())["workloads"][0]["status"] == "ok"
    assert (work / "r" / "mine.html").is_file() and (work / "r" / "mine.xlsx").is_file()
    assert not (work / "data").exists()  # nothing written into a repository layout
