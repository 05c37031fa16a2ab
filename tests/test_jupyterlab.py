"""notebooks/02_cost.ipynb in a real JupyterLab, driven by headless Chromium (Debian's, via Playwright).

The test starts `jupyter lab` from the venv on 127.0.0.1 (free port, known token, throw-away
config/data/runtime/settings dirs, no news feed, no update check, read-only extension manager),
opens the notebook, runs every cell from the Run menu, drags the "write rate ×" slider of the
CostSliders widget and checks that the totals table the widget shows becomes the totals
`exitkit.cost.evaluate` gives for the workload with its write traffic scaled by the new value.
No browser console error (beyond a tiny allow-list), no request off 127.0.0.1, the notebook file
is left untouched (autosave off, never saved), and a screenshot goes to test-artifacts/.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from exitkit.demo import WORKLOADS_DIR
from tests.test_report_reading import OVERLAPS_JS

sync_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "notebooks/02_cost.ipynb"
WORKLOAD = WORKLOADS_DIR / "telemetry.yaml"  # the notebook's default `workload`
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SLIDER = "write rate ×"  # the description label of CostSliders.write_multiplier

# Browser console errors that JupyterLab itself logs and that say nothing about our code.
# Keep this tiny; every entry says why it is harmless.
CONSOLE_ALLOW = [
    # (none yet)
]

START_TIMEOUT_S = 120  # server up; kernel started and idle
RUN_TIMEOUT_S = 240  # Run All on a loaded 2-core machine
MS = 1000

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# User settings for the throw-away settings dir: nothing may fetch news or check for updates,
# nothing may save the notebook, and every cell stays in the DOM (no windowing).
SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(base: str, token: str, path: str, method: str = "GET", timeout: float = 5):
    req = urllib.request.Request(f"{base}{path}", method=method, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 (always http://127.0.0.1)
        body = r.read()
    return json.loads(body) if body else None


class Lab:
    """A `jupyter lab` process in its own process group, with its own config, data and runtime dirs."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        dirs = {k: tmp / k for k in ("config", "data", "runtime", "ipython", "settings", "workspaces")}
        for d in dirs.values():
            d.mkdir(parents=True, exist_ok=True)
        for plugin, values in SETTINGS.items():
            f = dirs["settings"] / f"{plugin}.jupyterlab-settings"
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(json.dumps(values))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTEST_"))}
        env.update(
            JUPYTER_CONFIG_DIR=str(dirs["config"]),
            JUPYTER_DATA_DIR=str(dirs["data"]),
            JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
            JUPYTER_PLATFORM_DIRS="1",
            IPYTHONDIR=str(dirs["ipython"]),
        )
        cmd = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ip=127.0.0.1", f"--port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={ROOT}",
            "--ServerApp.terminals_enabled=False",
            f"--LabApp.user_settings_dir={dirs['settings']}",
            f"--LabApp.workspaces_dir={dirs['workspaces']}",
            "--LabApp.extension_manager=readonly",  # no PyPI listing
            "--LabApp.news_url=None",  # no announcements feed
            "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI runners often run as root
            cmd.append("--allow-root")
        self.log_path = tmp / "jupyter-lab.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.log()}")
            with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
                if "started" in _api(self.base, self.token, "/api/status", timeout=2):
                    return
            time.sleep(0.25)
        raise TimeoutError(f"jupyter lab did not answer /api/status in {timeout_s} s:\n{self.log()}")

    def stop(self) -> None:
        """Shut the kernels down, then end the server's process group (TERM, then KILL)."""
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):
                for k in _api(self.base, self.token, "/api/kernels"):
                    _api(self.base, self.token, f"/api/kernels/{k['id']}", method="DELETE", timeout=15)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="module")
def demo_db_path() -> Path:
    """The cached demo store the notebook reads (db=""), built here, before any browser starts."""
    from exitkit.notebook.helpers import demo_store

    return demo_store()


@pytest.fixture(scope="module")
def lab(tmp_path_factory, demo_db_path):
    tmp = tmp_path_factory.mktemp("jupyterlab")
    for attempt in range(3):  # the free port may be taken between probe and bind
        server = Lab(tmp / f"run{attempt}")
        try:
            server.wait_ready()
        except RuntimeError:
            server.stop()
            if attempt == 2 or "address already in use" not in server.log().lower():
                raise
            continue
        except BaseException:
            server.stop()
            raise
        break
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: `make test` installs Debian's chromium")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


# --- expectations, computed without the notebook ---------------------------------------------


def _expected_rows(db: Path, write_multiplier: float) -> dict[str, tuple[str, str, str, str]]:
    """{row label: (steady, abnormal, total, migration)} as the widget's table formats them, for the
    notebook's workload with its write rate, peak and retained bytes scaled by `write_multiplier`."""
    from exitkit.charts.theme import usd
    from exitkit.cost import evaluate
    from exitkit.cost.adapter import workload_cost
    from exitkit.notebook.helpers import connect
    from exitkit.notebook.sliders import CostSliders
    from exitkit.workload.loader import load_workload

    wl = load_workload(WORKLOAD)
    con = connect(db)
    try:
        wc = workload_cost(wl, con)
    finally:
        con.close()
    t = wc.inputs.traffic
    scaled = replace(
        wc.inputs,
        traffic=replace(
            t,
            write_bytes_per_s=t.write_bytes_per_s * write_multiplier,
            write_peak_bytes_per_s=None
            if t.write_peak_bytes_per_s is None
            else t.write_peak_bytes_per_s * write_multiplier,
            retained_bytes=None if t.retained_bytes is None else t.retained_bytes * write_multiplier,
        ),
    )
    result = evaluate(scaled, wc.catalog, [p.platform for p in wc.result.platforms])
    # the widget, driven without a browser, agrees (a check of the check)
    assert CostSliders(wc).recompute(write_multiplier=write_multiplier) == pytest.approx(result.totals())

    def cell(v):
        return usd(float(v)) if v is not None else "—"

    return {
        pc.name + (" (today)" if pc.today else ""): (
            cell(pc.steady_usd),
            cell(pc.abnormal_usd),
            cell(pc.total_usd),
            cell(pc.migration_usd),
        )
        for pc in result.platforms
    }


# --- the page --------------------------------------------------------------------------------


class Watched:
    """A page whose console errors, page errors, dialogs and off-host requests are recorded."""

    def __init__(self, browser, lab: Lab):
        self.context = browser.new_context(viewport={"width": 1400, "height": 1200}, service_workers="block")
        self.page = self.context.new_page()
        self.host = f"127.0.0.1:{lab.port}"
        self.errors: list[str] = []
        self.remote: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("websocket", lambda ws: None if self._local(ws.url) else self.remote.append(ws.url))
        self.context.route("**/*", self._route)

    def _local(self, url: str) -> bool:
        if url.startswith(("data:", "blob:", "about:")):
            return True
        m = re.match(r"^(?:https?|wss?)://([^/?#]+)", url)
        return bool(m) and m.group(1) in (self.host, f"localhost:{self.host.split(':')[1]}")

    def _route(self, route):
        if self._local(route.request.url):
            route.continue_()
        else:  # recorded, and never sent
            self.remote.append(route.request.url)
            route.abort()

    def unexpected_errors(self) -> list[str]:
        return [m for m in self.errors if not any(re.search(p, m) for p in CONSOLE_ALLOW)]

    def close(self) -> None:
        self.context.close()


def _prompts(page) -> list[str]:
    return page.eval_on_selector_all(
        ".jp-Notebook .jp-CodeCell .jp-InputArea-prompt", "els => els.map(e => e.textContent.trim())"
    )


def _totals_table(page) -> dict:
    """The widget's totals table: caption and {row label: (steady, abnormal, total, migration)}."""
    return page.evaluate(
        """() => {
            const t = document.querySelector('.jp-Notebook .widget-html table.exitkit-totals');
            if (!t) return null;
            const rows = {};
            for (const tr of t.querySelectorAll('tbody tr')) {
                const c = [...tr.querySelectorAll('td')].map(td => td.textContent.trim());
                rows[c[0]] = c.slice(1);
            }
            return {caption: t.querySelector('caption').textContent.trim(), rows};
        }"""
    )


def _wait_kernel_idle(page, lab: Lab, timeout_s: float) -> None:
    """The notebook's kernel is connected and idle, on both sides.

    The toolbar's execution indicator says idle before any kernel exists, so it alone proves
    nothing: first the server must report a kernel with a browser connection, idle; then the
    indicator (updated from the kernel's own status messages) must show idle too.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
            kernels = _api(lab.base, lab.token, "/api/kernels")
            if any(k["connections"] >= 1 and k["execution_state"] == "idle" for k in kernels):
                break
        if time.monotonic() > deadline:
            raise TimeoutError(f"no connected idle kernel after {timeout_s} s:\n{lab.log()}")
        page.wait_for_timeout(250)  # polls the server; keeps Playwright's event loop turning
    page.wait_for_selector(
        ".jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status='idle']",
        state="attached",
        timeout=max(1.0, deadline - time.monotonic()) * MS,
    )


def test_moving_the_write_rate_slider_in_jupyterlab_shows_evaluated_totals(lab, browser, demo_db_path):
    nb_file = ROOT / NOTEBOOK
    nb_before = hashlib.sha256(nb_file.read_bytes()).hexdigest()
    w = Watched(browser, lab)
    page = w.page
    try:
        page.goto(f"{lab.base}/lab/tree/{NOTEBOOK}?token={lab.token}", timeout=START_TIMEOUT_S * MS)
        n_code = sum(c["cell_type"] == "code" for c in json.loads(nb_file.read_text())["cells"])
        page.wait_for_function(
            "n => document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-CodeCell').length === n",
            arg=n_code,
            timeout=START_TIMEOUT_S * MS,
        )
        _wait_kernel_idle(page, lab, START_TIMEOUT_S)

        # Run → Run All Cells, from the menu bar, as a person would
        page.locator(".jp-NotebookPanel .jp-Notebook").first.click(position={"x": 5, "y": 5})
        page.locator("#jp-menu-panel .lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu .lm-Menu-item", has_text=re.compile(r"^Run All Cells")).click()
        # done when every code cell has an execution count; a traceback ends the wait early
        # (JupyterLab stops Run All at the first error, leaving later prompts empty)
        state = page.wait_for_function(
            """n => { const nb = document.querySelector('.jp-NotebookPanel .jp-Notebook');
                      const tb = [...nb.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
                          .map(e => e.textContent).filter(t => t.includes('Traceback'));
                      if (tb.length) return 'traceback: ' + tb.join('\\n').slice(0, 3000);
                      const p = [...nb.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(e => e.textContent.trim());
                      return p.length === n && p.every(t => /^\\[\\d+\\]:$/.test(t)) ? 'done' : false; }""",
            arg=n_code,
            timeout=RUN_TIMEOUT_S * MS,
        ).json_value()
        assert state == "done", f"{state}\nprompts: {_prompts(page)}"
        _wait_kernel_idle(page, lab, RUN_TIMEOUT_S)

        # every chart reads: no title, axis title, legend or slider label overlapping another, and
        # the sliders' chart spans its output area (not squashed into a third of it)
        page.wait_for_function("() => document.querySelectorAll('.jp-Notebook .js-plotly-plot .main-svg').length >= 4")
        assert page.evaluate(OVERLAPS_JS) == []
        widths = page.evaluate(
            """() => [...document.querySelectorAll('.jp-Notebook .js-plotly-plot')].map(g =>
                   g.getBoundingClientRect().width / g.closest('.jp-OutputArea-output').getBoundingClientRect().width)"""
        )
        assert widths and min(widths) > 0.8, widths

        # the widget: the write-rate slider and the totals table
        slider = page.locator(".jp-Notebook .widget-hslider").filter(has=page.locator(".widget-label", has_text=SLIDER))
        slider.wait_for(state="visible", timeout=60 * MS)
        readout = slider.locator(".widget-readout")
        assert readout.inner_text().strip() == "1.00"
        page.wait_for_function(
            "() => !!document.querySelector('.jp-Notebook .widget-html table.exitkit-totals')", timeout=60 * MS
        )
        before = _totals_table(page)
        assert before["caption"].startswith("write ×1.00")
        assert before["rows"] == {k: list(v) for k, v in _expected_rows(demo_db_path, 1.0).items()}

        # drag the handle to about 40 % of the track (a person's drag, not a value set in code)
        slider.scroll_into_view_if_needed()
        handle = slider.locator(".noUi-handle")
        track = slider.locator(".noUi-target")
        hb, tb = handle.bounding_box(), track.bounding_box()
        page.mouse.move(hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2)
        page.mouse.down()
        page.mouse.move(tb["x"] + 0.4 * tb["width"], hb["y"] + hb["height"] / 2, steps=12)
        page.mouse.up()
        page.wait_for_function("el => el.textContent.trim() !== '1.00'", arg=readout.element_handle(), timeout=10 * MS)
        shown = readout.inner_text().strip()
        value = float(shown)
        assert 1.5 < value < 3.0, shown
        # the kernel recomputed for the final value: the table's caption names it
        page.wait_for_function(
            """v => { const c = document.querySelector('.jp-Notebook .widget-html table.exitkit-totals caption');
                      return c && c.textContent.startsWith('write ×' + v + ','); }""",
            arg=shown,
            timeout=60 * MS,
        )
        _wait_kernel_idle(page, lab, 60)
        after = _totals_table(page)
        expected = {k: list(v) for k, v in _expected_rows(demo_db_path, value).items()}
        assert after["rows"] == expected
        assert after["rows"] != before["rows"]

        ARTIFACTS.mkdir(exist_ok=True)
        slider.evaluate("e => e.scrollIntoView({block: 'start'})")  # sliders, chart and table in view
        page.screenshot(path=str(ARTIFACTS / "jupyterlab-cost.png"))

        assert w.unexpected_errors() == [], w.errors
        assert w.remote == []
        assert w.dialogs == []
    except BaseException:
        with contextlib.suppress(Exception):  # what the page looked like, for whoever reads the failure
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "jupyterlab-cost-failure.png"))
        raise
    finally:
        w.close()
    assert hashlib.sha256(nb_file.read_bytes()).hexdigest() == nb_before, f"{NOTEBOOK} was modified"
