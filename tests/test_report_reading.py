"""The demo reports read as issue 16 asks, in headless Chromium (Debian's, via Playwright).

Every demo workload: the headline is `exitkit plan`'s recommended decision and candidate (in the
report, `index.html` and `summary.json`); no raw `None`/`NaN`/`True`/`False` is visible; the page
never scrolls sideways at 1280 px; no chart title, axis title or legend overlaps another; the
executive summary prints on one A4 page; each file is ≤ 2 MB and asks no host for anything.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import WORKLOADS, shared_once
from tests.test_browser import ARGS, CHROMIUM, Page

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser

DEMO = ("compliance", "dispatch", "payments", "telemetry", "whatif-ingest")
RAW = re.compile(r"\b(None|NaN|nan|True|False)\b")
MAX_BYTES = 2 * 1024 * 1024
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="module")
def demo_reports(tmp_path_factory, demo_db) -> dict:
    def build(d: Path) -> None:
        from exitkit.report.batch import run_reports

        run_reports([WORKLOADS / f"{n}.yaml" for n in DEMO], demo_db, d / "out", jobs=2)

    d = shared_once(tmp_path_factory, "demo-reports", build)
    return {"dir": d / "out", "db": demo_db}


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def _plan(name: str, db: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "exitkit", "plan", "--workload", str(WORKLOADS / f"{name}.yaml"), "--db", str(db), "--format", "json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)["recommended"]


def test_headline_is_the_plans_recommendation_everywhere(browser, demo_reports):
    out = demo_reports["dir"]
    summary = {w["name"]: w for w in json.loads((out / "summary.json").read_text())["workloads"]}
    index = Page(browser, out / "index.html")
    mismatches = []
    for name in DEMO:
        rec = _plan(name, demo_reports["db"])
        want = (rec["decision"], rec["candidate"] or "")
        p = Page(browser, out / f"{name}.html")
        first = p.page.locator(".ek-first")
        got = (first.get_attribute("data-decision"), first.get_attribute("data-candidate"))
        row = index.page.locator(f'tr[data-workload="{name}"]')
        s = summary[name]
        for where, have in (
            ("report", got),
            ("index", (row.locator(".ek-badge").first.inner_text(), row.get_attribute("data-candidate"))),
            ("summary.json", (s["decision"], s["candidate"] or "")),
        ):
            if have != want:
                mismatches.append((name, where, have, want))
        assert s["monthly_saving_usd"] is None or isinstance(s["monthly_saving_usd"], float)
        p.assert_clean()
        p.page.close()
    index.assert_clean()
    assert mismatches == []
    # payments: the cheapest candidate (confluent-enterprise) is ruled out; msk-express is the move
    assert summary["payments"]["cheapest"] == "confluent-enterprise"
    assert (summary["payments"]["decision"], summary["payments"]["candidate"]) == ("move", "msk-express")


@pytest.mark.parametrize("name", DEMO)
def test_report_reads_clean_fits_1280_and_weighs_under_2mb(browser, demo_reports, name):
    path = demo_reports["dir"] / f"{name}.html"
    assert path.stat().st_size <= MAX_BYTES
    p = Page(browser, path)
    page = p.page
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")  # every fold open
    raw = RAW.findall(page.inner_text("body"))
    assert raw == []
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 1280
    overlaps = page.evaluate(OVERLAPS_JS)
    assert overlaps == []
    p.assert_clean()
    page.close()


def test_index_reads_clean_and_totals_the_fleet(browser, demo_reports):
    out = demo_reports["dir"]
    p = Page(browser, out / "index.html")
    text = p.page.inner_text("body")
    assert RAW.findall(text) == []
    summary = json.loads((out / "summary.json").read_text())["workloads"]
    total = sum(w["monthly_saving_usd"] for w in summary if w["monthly_saving_usd"] is not None)
    foot = p.page.inner_text("tfoot")
    assert f"${round(total):,}" in foot
    assert p.page.evaluate("document.scrollingElement.scrollWidth") <= 1280
    p.assert_clean()
    p.page.close()


@pytest.mark.parametrize("name", ["payments", "compliance"])
def test_executive_summary_prints_on_one_a4_page(browser, demo_reports, name):
    p = Page(browser, demo_reports["dir"] / f"{name}.html")
    page = p.page
    page.emulate_media(media="print")
    # keep the page's own print rules; drop every cell after the one holding the summary
    page.evaluate(
        """() => { const cell = document.querySelector('.ek-first').closest('.jp-Cell');
                   let n = cell.nextElementSibling; while (n) { n.style.display = 'none'; n = n.nextElementSibling; }
                   document.querySelector('.ek-first').style.breakAfter = 'auto'; }"""
    )
    pdf = page.pdf(format="A4", print_background=True)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1
    if name == "payments":
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "payments-summary.pdf").write_bytes(pdf)
    p.assert_clean()
    page.close()


# Bounding boxes of every chart's titles, axis titles, legend and slider labels; any two that
# intersect (more than a pixel) is an overlap.
OVERLAPS_JS = """() => {
  const out = [];
  for (const g of document.querySelectorAll('.js-plotly-plot')) {
    const sel = ['.gtitle', '.g-xtitle', '.g-ytitle', '.g-x2title', '.g-y2title', '.legend', '.annotation-text-g',
                 '.slider-container .slider-group > .slider-label-group'];
    const boxes = [];
    for (const s of sel) for (const el of g.querySelectorAll(s)) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) boxes.push({s, text: (el.textContent || '').slice(0, 40), r});
    }
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i].r, b = boxes[j].r;
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left), h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 1 && h > 1) out.push([boxes[i].text, boxes[j].text]);
    }
  }
  return out;
}"""
