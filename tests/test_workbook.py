"""The audit workbook (`<name>.xlsx`): every figure a formula over visible inputs, checked by
reading the formulas with openpyxl, and — where LibreOffice is installed — recalculated headless
and compared with `exitkit cost`."""

import json
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest
from openpyxl import load_workbook

from tests.conftest import WORKLOADS

SOFFICE = shutil.which("soffice")


def _cost(report_batch) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "exitkit", "cost", "--workload", str(WORKLOADS / "telemetry.yaml"), "--db", str(report_batch["db"]), "--format", "json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return {p["platform"]: p for p in json.loads(out.stdout)["platforms"]}


def _ref(formula: str) -> tuple[str, int]:
    m = re.fullmatch(r"=Inputs!\$B\$(\d+)", formula)
    assert m, formula
    return "Inputs", int(m.group(1))


def test_lines_are_quantity_times_the_price_cell_and_totals_are_sumifs(report_batch):
    expected = _cost(report_batch)
    wb = load_workbook(report_batch["dir"] / "telemetry.xlsx")
    assert ["Summary", "Inputs", "Lines", "Totals", "Projection", "Model", "Cash flow"] == wb.sheetnames
    inputs, lines, totals = wb["Inputs"], wb["Lines"], wb["Totals"]
    csv = pd.read_csv(report_batch["dir"] / "telemetry.costs.csv")
    assert lines.max_row - 1 == len(csv)
    # telemetry writes 123 TiB a month: WarpStream's second write band has its own Inputs price cell
    assert {"warpstream.write_per_gib", "warpstream.write_per_gib.t2"} <= set(csv.price_key.dropna())
    # evaluate the sheet by hand: USD = quantity (E) × the Inputs price cell (G); same order as the CSV
    by = {}
    for r, row in enumerate(csv.itertuples(), start=2):
        _, prow = _ref(lines[f"G{r}"].value)
        price = inputs[f"B{prow}"].value
        if isinstance(row.price_key, str):
            assert inputs[f"D{prow}"].value == row.price_key  # the cell names its catalog key
        assert lines[f"E{r}"].value == pytest.approx(float(row.quantity), rel=1e-12)
        assert lines[f"A{r}"].value == row.platform and lines[f"B{r}"].value == row.state
        if row.unpriced:  # no published price: an empty price cell and "needs quote", never a silent 0
            assert price is None and lines[f"H{r}"].value == "needs quote"
            continue
        assert lines[f"H{r}"].value == f"=E{r}*G{r}"
        assert price == pytest.approx(float(row.unit_price), rel=1e-12)
        by[(row.platform, row.state)] = by.get((row.platform, row.state), 0.0) + lines[f"E{r}"].value * price
    n = lines.max_row
    for r in range(2, 2 + len(expected)):  # platform rows; notes follow under them
        pid = totals[f"A{r}"].value
        for col, state in (("D", "steady"), ("E", "abnormal")):
            assert totals[f"{col}{r}"].value == (
                f'=SUMIFS(Lines!$H$2:$H${n},Lines!$A$2:$A${n},$A{r},Lines!$B$2:$B${n},"{state}")'
            )
        e = expected[pid]
        monthly = by.get((pid, "steady"), 0) + by.get((pid, "abnormal"), 0)
        if e["incomplete"]:  # automq-byoc: automq.aku_hour has no published price
            assert totals[f"F{r}"].value == "needs quote" and e["monthly_usd"]["total"] is None
            assert monthly == pytest.approx(e["monthly_usd"]["known_total"], rel=1e-9)
            continue
        assert totals[f"F{r}"].value == f"=D{r}+E{r}"
        assert monthly == pytest.approx(e["monthly_usd"]["total"], rel=1e-9)
        assert by.get((pid, "migration"), 0) == pytest.approx(e["one_time_usd"]["migration"], rel=1e-9)
    assert any(e["incomplete"] for e in expected.values())
    assert lines.auto_filter.ref == f"A1:J{n}" and lines.freeze_panes == "A2"
    assert lines["H2"].number_format.startswith('"$"')


def test_projection_is_driven_by_the_growth_input_and_the_summary_mirrors_the_first_screen(report_batch):
    wb = load_workbook(report_batch["dir"] / "telemetry.xlsx")
    dn = wb.defined_names["growth_per_year"]
    ((sheet, cell),) = list(dn.destinations)
    growth = wb["Inputs"][cell.replace("$", "")]
    assert sheet == "Inputs" and growth.value == pytest.approx(0.4)  # telemetry.yaml: growth_per_year: 40%
    assert growth.number_format == "0.0%"
    proj = wb["Projection"]
    model_rows = wb["Model"].max_row
    for r in range(2, proj.max_row + 1):
        assert proj[f"C{r}"].value == f"=(1+growth_per_year)^(B{r}-1)"
        assert proj[f"D{r}"].value == f"=MATCH(C{r},Model!$A$3:$A${model_rows},1)"
        if proj[f"E{r}"].value != "needs quote":  # the model's total at the factor, read from Model
            assert proj[f"E{r}"].value.startswith(f"=IF(C{r}=INDEX(Model!$A$3:$A${model_rows},D{r}),INDEX(Model!$")
            assert proj[f"H{r}"].value.startswith(f"=G{r}")  # the cumulative: a running sum of the annual
    # the Model rows hold every factor of the workload's own growth exactly: 1, 1.4, 1.96, 2.744
    factors = [wb["Model"][f"A{r}"].value for r in range(3, model_rows + 1)]
    for y in range(4):
        assert any(f == pytest.approx(1.4**y, rel=1e-12) for f in factors)
    cf = wb["Cash flow"]
    assert cf["D2"].value == "=MAX(0,MIN(1,dual_run_months-(B2-1)))" and cf["H2"].value == "=E2-F2"
    assert cf["I3"].value == "=H3+I2" and cf["J3"].value == "=IF(OR(I3>0.000000001,J2=1),1,0)"
    assert {"discount_rate", "dual_run_months", "today_actual_usd"} <= set(wb.defined_names)
    summary = {row[0].value: row[1].value for row in wb["Summary"].iter_rows(min_row=2) if row[0].value}
    summ = json.loads((report_batch["dir"] / "summary.json").read_text())
    tel = next(w for w in summ["workloads"] if w["name"] == "telemetry")
    assert summary["Decision (id)"] == tel["decision"] and summary["Candidate (id)"] == tel["candidate"]
    assert summary["Monthly saving"] == "=B5-B6"
    assert "Warnings" in summary


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice not installed (apt-get install libreoffice-calc-nogui)")
def test_libreoffice_recalculates_every_total_to_exitkit_cost(report_batch, tmp_path):
    expected = _cost(report_batch)
    subprocess.run(
        [SOFFICE, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/lo-profile",
         "--convert-to", "xlsx", "--outdir", str(tmp_path), str(report_batch["dir"] / "telemetry.xlsx")],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    wb = load_workbook(tmp_path / "telemetry.xlsx", data_only=True)
    rows = {r[0]: r[:7] for r in wb["Totals"].iter_rows(min_row=2, values_only=True) if r[0] in expected}
    assert set(rows) == set(expected)
    for pid, e in expected.items():
        _, _, _, steady, abnormal, total, migration = rows[pid]
        assert steady == pytest.approx(e["monthly_usd"]["steady"], rel=1e-9)
        assert abnormal == pytest.approx(e["monthly_usd"]["abnormal"], rel=1e-9)
        if e["incomplete"]:
            assert total == "needs quote"
            continue
        assert total == pytest.approx(e["monthly_usd"]["total"], rel=1e-9)
        assert migration == pytest.approx(e["one_time_usd"]["migration"], rel=1e-9)
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True) if r[0]}
    summ = json.loads((report_batch["dir"] / "summary.json").read_text())
    tel = next(w for w in summ["workloads"] if w["name"] == "telemetry")
    assert summary["Monthly saving"] == pytest.approx(tel["monthly_saving_usd"], rel=1e-9)
    assert summary["Pays back in month"] == tel["payback_month"]
    assert summary["3-year saving"] == pytest.approx(tel["three_year_saving_usd"], rel=1e-9)
    # every month of every priced candidate's cash flow, as exitkit computes it
    assert summary["NPV of moving"] == pytest.approx(expected[tel["candidate"]]["cash_flow"]["npv_usd"], rel=1e-9)
    _assert_cash_flows(wb, expected)


def _assert_cash_flows(wb, expected: dict, months: int | None = None) -> None:
    rows = [r for r in wb["Cash flow"].iter_rows(min_row=2, values_only=True) if r[0]]
    checked = 0
    for pid, e in expected.items():
        cf = e["cash_flow"]
        mine = [r for r in rows if r[0] == pid]
        if cf is None or e["incomplete"]:
            assert mine == []
            continue
        for r, j in zip(mine, cf["months"], strict=True):
            if months is not None and j["month"] > months:
                break
            assert r[1] == j["month"] and r[2] == j["year"]
            assert r[4] == pytest.approx(j["today_usd"], rel=1e-9)
            assert r[5] == pytest.approx(j["candidate_usd"], rel=1e-9)
            assert r[8] == pytest.approx(j["cumulative_saving_usd"], rel=1e-9, abs=1e-6)
            checked += 1
    assert checked >= 36


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice not installed (apt-get install libreoffice-calc-nogui)")
def test_changing_the_growth_input_moves_projection_cash_flow_and_payback_as_exitkit_does(report_batch, tmp_path):
    """Set growth to 50 % on Inputs, recalculate: the cash flow's first 36 months, the 3-year
    saving and the payback month equal `exitkit cost` on the same workload at 50 % (the factors
    1, 1.5 and 2.25 are Model rows; month 37 on is interpolated, so not compared)."""
    wl = tmp_path / "telemetry.yaml"
    wl.write_text((WORKLOADS / "telemetry.yaml").read_text().replace("growth_per_year: 40%", "growth_per_year: 50%"))
    out = subprocess.run(
        [sys.executable, "-m", "exitkit", "cost", "--workload", str(wl), "--db", str(report_batch["db"]), "--format", "json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    expected = {p["platform"]: p for p in json.loads(out.stdout)["platforms"]}
    wb = load_workbook(report_batch["dir"] / "telemetry.xlsx")
    ((_, cell),) = list(wb.defined_names["growth_per_year"].destinations)
    wb["Inputs"][cell.replace("$", "")] = 0.5
    edited = tmp_path / "edited" / "telemetry.xlsx"
    edited.parent.mkdir()
    wb.save(edited)
    subprocess.run(
        [SOFFICE, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/lo-profile",
         "--convert-to", "xlsx", "--outdir", str(tmp_path), str(edited)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    wb = load_workbook(tmp_path / "telemetry.xlsx", data_only=True)
    _assert_cash_flows(wb, expected, months=36)
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True) if r[0]}
    cand = summary["Candidate (id)"]
    assert summary["3-year saving"] == pytest.approx(expected[cand]["cash_flow"]["three_year_saving_usd"], rel=1e-9)
    assert summary["Pays back in month"] == expected[cand]["payback_month"]
