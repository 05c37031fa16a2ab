"""No silent zeros (issue 15): a platform with an unpriced line is incomplete — never cheapest,
"needs quote" in JSON (total null), CSV and xlsx, and the CLI says which price to supply."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
import pytest
from openpyxl import load_workbook

from exitkit.cost.adapter import workload_cost
from exitkit.cost.cash_flow import projection_rows
from exitkit.demo import workload_path
from exitkit.report.context import ReportContext, labor_table, summary_cards
from exitkit.report.data import write_xlsx
from exitkit.workload.loader import load_workload

WHATIF = workload_path("whatif-ingest")  # 50 MiB/s, fan-out 2, 3 d; automq-byoc and warpstream-byoc among candidates


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "exitkit", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def wc():
    return workload_cost(load_workload(WHATIF))


def test_incomplete_platform_is_never_cheapest(wc):
    res = wc.result
    automq = res.platform("automq-byoc")
    assert automq.incomplete and automq.missing_prices == ["automq.aku_hour"]
    # 13 AKU-hours lines at $0 (AKUs = ceil(max(120 MiB/s, 240 MiB/s) / 20 MB/s) = ceil(12.58) = 13)
    aku = next(ln for ln in automq.lines if ln.price_key == "automq.aku_hour")
    assert aku.unpriced and aku.quantity == 13 * 730 and aku.monthly_usd == 0
    complete = {p.platform: p.total_usd for p in res.platforms if not p.today and not p.incomplete}
    assert automq.known_total_usd < min(complete.values())  # the lowest number on the page ...
    assert res.cheapest().platform == min(complete, key=complete.get) == "warpstream-byoc"  # ... is not named


def test_a_quote_makes_it_complete_and_rankable():
    wl = load_workload(WHATIF)
    wl = wl.model_copy(update={"prices": {"automq.aku_hour": 0.01}})
    res = workload_cost(wl).result
    automq = res.platform("automq-byoc")
    assert not automq.incomplete
    aku = next(ln for ln in automq.lines if ln.price_key == "automq.aku_hour")
    assert aku.monthly_usd == pytest.approx(13 * 730 * 0.01) and not aku.unpriced
    assert res.cheapest().platform == "automq-byoc"


def test_json_total_null_with_missing_keys():
    out = run("cost", "--workload", str(WHATIF), "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    p = {x["platform"]: x for x in doc["platforms"]}["automq-byoc"]
    assert p["incomplete"] is True and p["missing_prices"] == ["automq.aku_hour"]
    assert p["monthly_usd"]["total"] is None and p["monthly_usd"]["known_total"] > 0
    assert p["payback_month"] is None and p["cash_flow"]["payback"] == "needs quote"
    assert doc["cheapest"] == "warpstream-byoc"
    assert doc["missing_prices"] == {"automq-byoc": ["automq.aku_hour"]}
    aku = [ln for ln in p["lines"] if ln["price_key"] == "automq.aku_hour"]
    assert aku and aku[0]["unpriced"] is True


def test_csv_and_table_say_needs_quote():
    csv = run("cost", "--workload", str(WHATIF), "--format", "csv").stdout
    rows = [r for r in csv.splitlines() if "automq.aku_hour" in r]
    assert rows and all(",needs quote,needs quote," in r for r in rows)
    table = run("cost", "--workload", str(WHATIF)).stdout.splitlines()
    assert table[0].startswith("needs quote: automq-byoc") and "prices: {automq.aku_hour:" in table[0]
    automq_row = next(r for r in table if r.lstrip().startswith("automq-byoc"))
    assert "needs quote" in automq_row


def test_xlsx_totals_and_projection_say_needs_quote(wc, tmp_path):
    ctx = ReportContext(wc.workload, wc, None, projection_rows(wc.result.cash_flows, "msk-standard"))
    wb = load_workbook(write_xlsx(ctx, tmp_path / "w.xlsx"))
    df = pd.DataFrame(wb["Totals"].values)
    df.columns = df.iloc[0]
    totals = df[1:].set_index("platform")
    assert totals.loc["automq-byoc", "total_usd_month"] == "needs quote"
    assert totals.loc["automq-byoc", "missing_prices"] == "automq.aku_hour"
    r = wb["Totals"]["A"].index(next(c for c in wb["Totals"]["A"] if c.value == "warpstream-byoc")) + 1
    assert totals.loc["warpstream-byoc", "total_usd_month"] == f"=D{r}+E{r}"  # a formula over Lines (issue 16)
    assert totals.loc["msk-express", "labor_hours_per_month"] == 20  # platform table default
    assert totals.loc["msk-express", "labor_fte"] == pytest.approx(20 / (2087 / 12))
    proj = pd.DataFrame(wb["Projection"].values)
    proj.columns = proj.iloc[0]
    assert set(proj[proj.platform == "automq-byoc"].cumulative_usd) == {"needs quote"}
    notes = [c.value for c in wb["Totals"]["A"] if isinstance(c.value, str)]
    assert any(n.startswith("needs quote: automq-byoc") for n in notes)
    assert any("2,087 h/yr ÷ 12" in n for n in notes)


def test_report_says_at_the_top_which_prices_are_missing(wc):
    ctx = ReportContext(wc.workload, wc, None, projection_rows(wc.result.cash_flows, "msk-standard"))
    top = summary_cards(ctx).data
    assert "Needs quote:</b> automq-byoc" in top and "prices: {automq.aku_hour:" in top
    labour = labor_table(ctx).data
    assert "$120 per hour" in labour and "173.9 h" in labour
    assert re.search(
        r"WarpStream BYOC</td><td class=\"num\">15</td><td class=\"num\">0.086</td>", labour
    )  # 15 h ÷ 173.9 h
