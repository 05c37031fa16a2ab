"""Reports and the fleet index in headless Chromium (Debian's, via Playwright; no browser download).

Every page loads with no console error, no dialog and no request to anything but file: URLs;
every plot draws an SVG; moving a scenario slider shows the precomputed totals; a screenshot of
the summary is kept in test-artifacts/.
"""

import re
from dataclasses import replace
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
LOCAL = ("file:", "data:", "blob:", "about:")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: `make test` installs Debian's chromium")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


class Page:
    """A page with everything that must not happen recorded: errors, dialogs, remote requests."""

    def __init__(self, browser, path: Path):
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.errors: list[str] = []
        self.remote: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.route("**/*", self._route)
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def _route(self, route):
        if route.request.url.startswith(LOCAL):
            route.continue_()
        else:  # recorded, and never sent
            self.remote.append(route.request.url)
            route.abort()

    def assert_clean(self):
        assert self.errors == [] and self.remote == [] and self.dialogs == []


def _plots(page) -> list[dict]:
    return page.evaluate(
        """() => [...document.querySelectorAll('.js-plotly-plot')].map(g => ({
            svgs: g.querySelectorAll('svg.main-svg').length,
            sliders: (g.layout && g.layout.sliders || []).length}))"""
    )


@pytest.mark.parametrize("name", ["telemetry", "hostile"])
def test_report_loads_offline_and_draws_every_plot(browser, report_batch, name):
    p = Page(browser, report_batch["dir"] / f"{name}.html")
    plots = _plots(p.page)
    assert len(plots) >= 2 and all(pl["svgs"] > 0 for pl in plots)
    assert sum(pl["sliders"] > 0 for pl in plots) == 1  # the scenario figure
    p.assert_clean()
    if name == "hostile":  # the payload shows as text; no script ran, no dialog opened
        assert "<img src=x onerror=alert(1)>" in p.page.inner_text(".ek-title")
    else:
        ARTIFACTS.mkdir(exist_ok=True)
        p.page.screenshot(
            path=str(ARTIFACTS / "report-summary.png"), clip={"x": 0, "y": 0, "width": 1280, "height": 900}
        )
    p.page.close()


def test_index_lists_every_workload_and_links_work(browser, report_batch):
    p = Page(browser, report_batch["dir"] / "index.html")
    text = p.page.inner_text("body")
    for name in ("telemetry", "hostile", "broken"):
        assert name in text
    assert "surprise" in text  # the broken workload's error
    hrefs = p.page.eval_on_selector_all("a", "els => els.map(e => e.getAttribute('href'))")
    assert {"telemetry.html", "hostile.html"} <= set(hrefs)
    for h in hrefs:
        assert (report_batch["dir"] / h).exists(), h
    p.assert_clean()
    p.page.close()


def _expected_totals(report_batch, write_multiplier: float, fan_out: float | None = None, hours_scale: float = 1.0):
    """Independently of the scenario space: scale the workload's write traffic, set the fan-out
    and the operating-hours scale, evaluate every platform; an incomplete one has no total."""
    from exitkit.cost import evaluate
    from exitkit.cost.adapter import workload_cost
    from exitkit.store import open_store
    from exitkit.workload.loader import load_workload
    from tests.conftest import WORKLOADS

    wl = load_workload(WORKLOADS / "telemetry.yaml")
    with open_store(report_batch["db"]) as con:
        wc = workload_cost(wl, con)
    t, a = wc.inputs.traffic, wc.inputs.assumptions
    scaled = replace(
        wc.inputs,
        traffic=replace(
            t,
            write_bytes_per_s=t.write_bytes_per_s * write_multiplier,
            write_peak_bytes_per_s=t.write_peak_bytes_per_s * write_multiplier,
            retained_bytes=None if t.retained_bytes is None else t.retained_bytes * write_multiplier,
            fan_out=t.fan_out if fan_out is None else fan_out,
        ),
        assumptions=replace(a, labor=replace(a.labor, hours_scale=hours_scale)),
    )
    res = evaluate(scaled, wc.catalog, list(wl.candidates), migration=False)
    return {p.platform: round(p.total_usd) for p in res.platforms if not p.incomplete}


def _annotation_totals(page) -> dict[str, int]:
    text = page.evaluate(
        """() => { const g = [...document.querySelectorAll('.js-plotly-plot')].find(g => (g.layout.sliders||[]).length);
                   return g.querySelector('.annotation-text').textContent; }"""
    )
    return {m[0]: int(m[1].replace(",", "")) for m in re.findall(r"([a-z0-9-]+) \$([\d,]+)", text)}


def _click_step(page, slider: int, label: str) -> None:
    """Click a slider's step by its label, as a person would."""
    group = page.locator(".js-plotly-plot .slider-group").nth(slider)
    group.scroll_into_view_if_needed()
    text = group.locator(".slider-label-group text", has_text=re.compile(f"^{re.escape(label)}$")).first
    rail = group.locator("rect.slider-rail-touch-rect").first
    lb, rb = text.bounding_box(), rail.bounding_box()
    page.mouse.click(lb["x"] + lb["width"] / 2, rb["y"] + rb["height"] / 2)
    page.wait_for_timeout(500)


def _bars(page) -> dict:
    return page.evaluate(
        """() => { const g = [...document.querySelectorAll('.js-plotly-plot')].find(g => (g.layout.sliders||[]).length);
                   return Object.fromEntries(g.data.map(t => [t.x ? t.x : t.name, t.y]).flatMap(([x, y]) => x.map((k, i) => [k, y[i]]))); }"""
    )


def test_scenario_sliders_combine(browser, report_batch):
    """Each slider moves its own assumption and the others stay: after write ×2, fan-out 8 and
    operating hours ×3 the totals are those of all three at once (a direct evaluation)."""
    p = Page(browser, report_batch["dir"] / "telemetry.html")
    page = p.page
    page.wait_for_timeout(300)  # the space is decoded asynchronously
    base = _annotation_totals(page)
    assert base == _expected_totals(report_batch, 1.0)
    _click_step(page, 0, "2")  # write rate ×
    moved = _annotation_totals(page)
    assert moved == _expected_totals(report_batch, 2.0) and moved != base
    _click_step(page, 1, "8")  # read fan-out: write ×2 stays
    assert _annotation_totals(page) == _expected_totals(report_batch, 2.0, fan_out=8.0)
    _click_step(page, 4, "3")  # operating hours ×: write ×2 and fan-out 8 stay
    combined = _expected_totals(report_batch, 2.0, fan_out=8.0, hours_scale=3.0)
    assert _annotation_totals(page) == combined
    bars = _bars(page)
    for pid, usd in combined.items():
        assert round(bars[pid]) == usd
    text = page.evaluate("() => document.querySelector('.ek-scenarios .annotation-text').textContent")
    assert "Write rate × 2" in text and "Read fan-out 8" in text and "Operating hours × 3" in text
    # the wrapped annotation stays inside the chart (it used to run off the right edge)
    inside = page.evaluate(
        """() => { const g = document.querySelector('#ek-scenarios');
                   const svg = g.querySelector('svg.main-svg').getBoundingClientRect();
                   const a = g.querySelector('.annotation-text').getBoundingClientRect();
                   return a.right <= svg.right && a.left >= svg.left; }"""
    )
    assert inside
    p.assert_clean()
    page.close()
