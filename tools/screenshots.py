"""`make screenshots`: the demo's payments report, first screen and printed summary, into docs/.

Runs `exitkit demo` into OUT unless its payments.html is already there, then drives Debian's
Chromium through Playwright (never a downloaded browser) with every non-file request refused.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
LOCAL = ("file:", "data:", "blob:", "about:")
A4_WIDTH_PX = 794  # 210 mm at 96 px per inch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="out/demo", help="demo output folder (made with `exitkit demo` if missing)")
    ap.add_argument("--workload", default="payments")
    args = ap.parse_args()
    out = Path(args.out)
    report = out / f"{args.workload}.html"
    if not report.exists():
        subprocess.run([sys.executable, "-m", "exitkit", "demo", "--out", str(out)], check=True)
    docs = ROOT / "docs"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(LOCAL) else r.abort())
        page.goto(report.resolve().as_uri())
        page.wait_for_load_state("load")
        page.screenshot(path=str(docs / "report-first-screen.png"))
        page.set_viewport_size({"width": A4_WIDTH_PX, "height": 1123})
        page.emulate_media(media="print")
        cell = page.locator(".ek-first")
        cell.screenshot(path=str(docs / "report-printed-summary.png"))
        browser.close()
    print(f"docs/report-first-screen.png, docs/report-printed-summary.png from {report}")


if __name__ == "__main__":
    main()
