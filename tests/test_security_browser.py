"""Hostile names in Chromium: the report and the fleet index show every payload as text, run none.

The store and report come from `test_security.hostile` (topic, consumer group, cluster, title
and contract evidence carrying `<img onerror>` / `<script>` / `</script>` / `javascript:`
payloads, each of which would set a `window.__*` flag and open an alert if it ran).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_security import DOC, EVIDENCE, GROUP, PAYLOAD_FLAGS, TITLE, TOPIC, hostile  # noqa: F401

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
LOCAL = ("file:", "data:", "blob:", "about:")

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: `make test` installs Debian's chromium")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def _open(browser, path: Path) -> tuple:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    events = {"dialogs": [], "remote": [], "errors": []}
    page.on("dialog", lambda d: (events["dialogs"].append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: events["errors"].append(str(e)))

    def route(r):
        if r.request.url.startswith(LOCAL):
            r.continue_()
        else:
            events["remote"].append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # let any onerror/onload handler fire if one was injected
    return page, events


def _flags(page) -> dict:
    return page.evaluate(f"() => Object.fromEntries({PAYLOAD_FLAGS!r}.map(k => [k, typeof window[k]]))")


def _assert_inert(page, events) -> None:
    assert _flags(page) == dict.fromkeys(PAYLOAD_FLAGS, "undefined")
    assert events["dialogs"] == [] and events["remote"] == [] and events["errors"] == []
    # no element the payloads would have created: no <img src=x>, no javascript: link, no extra <script>
    assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"], [onerror], [onload]').length") == 0
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert not [h for h in hrefs if h.strip().lower().startswith("javascript:")]


def test_report_shows_every_payload_as_text_and_runs_none(browser, hostile):  # noqa: F811
    page, events = _open(browser, Path(hostile["result"]["html"]))
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")  # long tables fold
    text = page.inner_text("body")
    for payload in (TITLE, EVIDENCE, DOC, TOPIC, GROUP):  # the rehearsal NOTE is not shown; it stays inert
        assert payload in text, payload
    assert TITLE in page.inner_text(".ek-title")
    _assert_inert(page, events)
    page.close()


def test_fleet_index_shows_the_title_as_text_and_runs_nothing(browser, hostile):  # noqa: F811
    page, events = _open(browser, hostile["out"] / "index.html")
    assert TITLE in page.inner_text("body")
    _assert_inert(page, events)
    page.close()
