"""CSV / spreadsheet formula injection (issue 19 item 1): user strings never become live formulas."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
from click.testing import CliRunner

from exitkit.cli import cli
from exitkit.ingest import ingest
from exitkit.report.context import load_context
from exitkit.report.data import write_data_files
from exitkit.safe_output import safe_cell

EVIL = '=HYPERLINK("http://evil.example/x","click")'


def test_safe_cell_follows_owasp():
    for bad in ("=1+1", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(bad) == "'" + bad
    assert safe_cell("payments") == "payments" and safe_cell(-5.0) == -5.0 and safe_cell(None) is None


def test_profile_csv_neutralises_a_formula_topic_and_keeps_numbers(tmp_path):
    # a Prometheus text export whose topic label is a formula (labels are free text in exports)
    f = tmp_path / "evil.prom"
    lines = [
        "# TYPE kafka_server_brokertopicmetrics_bytesin_total counter",
        *(f'kafka_server_brokertopicmetrics_bytesin_total{{topic="{t}"}} {v} {ts}'
          for ts, v in ((1_700_000_000_000, 0), (1_700_000_060_000, 6000)) for t in (EVIL.replace('"', '\\"'), "-cmd")),
    ]  # fmt: skip
    f.write_text("\n".join(lines) + "\n")
    db = tmp_path / "s.duckdb"
    ingest([f], db, cluster="c1", progress=False)
    res = CliRunner().invoke(cli, ["profile", "--db", str(db), "--format", "csv"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.output)))
    by_topic = {r["topic"]: r for r in rows}
    assert set(by_topic) == {"'" + EVIL, "'-cmd"}
    assert float(by_topic["'-cmd"]["write_bytes_per_s_mean"]) == 100.0  # 6000 B over 60 s: still a number


def test_workbook_and_costs_csv_hold_text_not_formulas(tmp_path):
    wl = tmp_path / "w.yaml"
    wl.write_text(
        f"name: evil\ntitle: '{EVIL}'\nsource: {{platform: msk-standard}}\nregion: us-east-1\n"
        "traffic: {write_rate: 1 MiB/s, fan_out: 1, retention: 1d}\ncandidates: [kafka-ec2]\n"
    )
    ctx = load_context(str(wl))
    write_data_files(ctx, tmp_path)
    book = openpyxl.load_workbook(tmp_path / "evil.xlsx")
    # the audit workbook's own formulas only (quantity × price cell, SUMIFS, growth, summary money);
    # every text a user supplied stays text
    kit_formula = re.compile(
        r"=(Inputs!\$B\$\d+|E\d+\*G\d+|SUMIFS\(Lines!.*|D\d+\+E\d+|\(1\+growth_per_year\)\^\(B\d+-1\)|D\d+\*12\+E\d+"
        r"|F\d+(\+G\d+)?|Totals![FG]\d+|B\d+-B\d+|IF\(B\d+>0,MAX\(1,ROUNDUP\(B\d+/B\d+,0\)\),\"never\"\)"
        r"|Projection!G\d+-Projection!G\d+|Totals!G\d+"
        # Projection over Model, Cash flow (issue 16): the model's total at the growth factor, month rows
        r"|MATCH\(C\d+,Model!\$A\$\d+:\$A\$\d+,1\)|IF\(C\d+=INDEX\(Model!\$A\$\d+:\$A\$\d+,D\d+\),INDEX\(Model!.*"
        r"|E\d+|G\d+(\+H\d+)?|SUMIFS\('Cash flow'!.*|ROUNDUP\(B\d+/12,0\)|MAX\(0,MIN\(1,dual_run_months-\(B\d+-1\)\)\)"
        r"|INDEX\(Projection!\$F\$\d+:\$F\$\d+,C\d+\)(\+G\d+)?|IF\(dual_run_months>0,.*|E\d+-F\d+|H\d+(\+I\d+)?"
        r"|IF\(OR\(I\d+>0\.000000001(,J\d+=1)?\),1,0\)|IF\(SUM\('Cash flow'!.*|SUM\('Cash flow'!.*|SUMPRODUCT\('Cash flow'!.*)"
    )
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    assert kit_formula.fullmatch(cell.value), f"{ws.title}!{cell.coordinate}: {cell.value!r}"
    title = book["Summary"]["A1"]
    assert title.data_type != "f" and EVIL in title.value  # shown as text, never evaluated
    quantities = [c.value for c in book["Lines"]["E"][1:3]]
    assert all(isinstance(v, (int, float)) for v in quantities)  # quantities stay numeric
