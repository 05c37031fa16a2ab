"""`exitkit report`: batch outcomes, offline single-file HTML, data files that agree with `exitkit cost`."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs

from exitkit.report.export import BASIC_BUNDLE, plotly_bundle
from tests.conftest import WORKLOADS, XSS

MAX_REPORT_BYTES = 2 * 1024 * 1024  # issue 16: each report ≤ 2 MB, self-contained
NOTEBOOK = Path(__file__).resolve().parents[1] / "exitkit" / "report" / "workload_report.ipynb"


def _by_name(batch):
    return {r["name"]: r for r in batch["results"]}


def test_broken_workload_fails_alone_and_is_listed_with_its_error(report_batch):
    r = _by_name(report_batch)
    assert r["telemetry"]["status"] == "ok" and r["hostile"]["status"] == "ok"
    assert r["broken"]["status"] == "failed"
    assert "surprise" in r["broken"]["error"] and "unknown key" in r["broken"]["error"]
    summary = json.loads((report_batch["dir"] / "summary.json").read_text())
    rows = {w["name"]: w for w in summary["workloads"]}
    assert rows["broken"]["status"] == "failed" and "surprise" in rows["broken"]["error"]
    assert rows["telemetry"]["html"].endswith("telemetry.html")
    index = (report_batch["dir"] / "index.html").read_text()
    assert 'href="telemetry.html"' in index and 'href="hostile.html"' in index
    assert "surprise" in index and "failed" in index


def test_cli_exits_non_zero_when_any_workload_fails(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsource: {platform: msk-standard}\nregion: us-east-1\nsurprise: 1\n")
    out = subprocess.run(
        [sys.executable, "-m", "exitkit", "report", str(bad), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1
    assert "failed  bad" in out.stderr and "index.html" in out.stdout
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["workloads"][0]["status"] == "failed"


@pytest.mark.parametrize("name", ["telemetry", "hostile"])
def test_report_is_one_offline_file_without_code(report_batch, name):
    html_path = report_batch["dir"] / f"{name}.html"
    html = html_path.read_text(encoding="utf-8")
    assert html_path.stat().st_size <= MAX_REPORT_BYTES
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.I)
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?https?:", html, re.I)
    assert not re.search(r"url\(\s*[\"']?https?:", html, re.I)
    assert html.count(get_plotlyjs().split("\n", 2)[1]) == 0  # not the full 4.8 MB bundle ...
    assert html.count(BASIC_BUNDLE.read_text().split("\n", 2)[1]) == 1  # ... the basic one, exactly once
    nb = json.loads(NOTEBOOK.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            for line in "".join(cell["source"]).splitlines():
                if line.strip() and not line.startswith("#"):
                    assert line.strip() not in html, f"code leaked into the report: {line!r}"
    assert not re.search(r'class="[^"]*celltag_(injected-)?parameters', html)  # no parameter cells at all
    # every code cell is rendered without its input; no highlighted source, no editor, no prompt
    code_cells = re.findall(r'class="jp-Cell jp-CodeCell[^"]*"', html)
    assert code_cells and all("jp-mod-noInput" in c for c in code_cells)
    assert not re.search(r'class="[^"]*(highlight|jp-Editor|jp-InputPrompt)', html)


def test_hostile_title_is_escaped(report_batch):
    html = (report_batch["dir"] / "hostile.html").read_text(encoding="utf-8")
    assert XSS not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_csv_totals_equal_exitkit_cost(report_batch):
    """The CSV beside the report sums to `exitkit cost` (the workbook: tests/test_workbook.py)."""
    import pandas as pd

    cost = subprocess.run(
        [sys.executable, "-m", "exitkit", "cost", "--workload", str(WORKLOADS / "telemetry.yaml"), "--db", str(report_batch["db"]), "--format", "json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    expected = {p["platform"]: p for p in json.loads(cost.stdout)["platforms"]}
    csv = pd.read_csv(report_batch["dir"] / "telemetry.costs.csv")
    assert set(csv[csv.unpriced].monthly_usd) == {"needs quote"}
    for pid, e in expected.items():
        sub = csv[(csv.platform == pid) & csv.state.isin(["steady", "abnormal"]) & ~csv.unpriced]
        assert pd.to_numeric(sub.monthly_usd).sum() == pytest.approx(e["monthly_usd"]["known_total"], rel=1e-9)


def test_failed_notebook_is_kept_with_its_error(tmp_path, demo_db):
    """A workload whose notebook raises (no measured traffic for its topics) keeps its executed notebook."""
    from exitkit.report.batch import run_reports

    wl = tmp_path / "nomatch.yaml"
    wl.write_text((WORKLOADS / "telemetry.yaml").read_text().replace("name: telemetry", "name: nomatch"))
    import yaml

    doc = yaml.safe_load(wl.read_text())
    doc["topics"] = ["demo-msk:no-such-topic-*"]
    wl.write_text(yaml.safe_dump(doc))
    [r] = run_reports([wl], demo_db, tmp_path / "out", jobs=1)
    assert r["status"] == "failed"
    assert "no-such-topic" in r["error"]


def test_basic_plotly_bundle_matches_the_installed_plotly_and_falls_back_for_other_traces():
    import nbformat

    basic, full = BASIC_BUNDLE.read_text(), get_plotlyjs()
    assert "(basic - minified) v" in basic.split("\n", 2)[1]
    assert basic.split("\n", 2)[1].rsplit(" v", 1)[1] == full.split("\n", 2)[1].rsplit(" v", 1)[1]
    assert len(basic) < 1.3e6 < 4e6 < len(full)

    def nb_with(*types):
        out = nbformat.v4.new_output(
            "display_data", data={"application/vnd.plotly.v1+json": {"data": [{"type": t} for t in types]}}
        )
        cell = nbformat.v4.new_code_cell(outputs=[out])
        return nbformat.v4.new_notebook(cells=[cell])

    assert plotly_bundle(nb_with("bar", "scatter")) is not full
    assert plotly_bundle(nb_with("bar", "heatmap")) == full  # heatmap is not in the basic bundle
