"""Per-workload data files beside the HTML: `<name>.costs.csv`, a finance-formatted `<name>.xlsx`,
and `<name>.summary.json` (what the fleet index shows). Written by the report notebook itself,
from the one evaluation it renders, so the files and the HTML always agree."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl.styles import Font

from exitkit.cost.adapter import lines_frame, totals_frame
from exitkit.prices import catalog_frame
from exitkit.report.context import ReportContext, headline
from exitkit.safe_output import safe_cell, safe_frame, strict_json

USD_FORMAT = '"$"#,##0.00'
USD_PRICE_FORMAT = '"$"#,##0.000000'


def summary_path(out: Path, name: str) -> Path:
    return Path(out) / f"{name}.summary.json"


def write_data_files(ctx: ReportContext, out: str | Path) -> dict:
    """Write CSV, XLSX and the index summary for this evaluation; return the summary."""

    out = Path(out)
    name = ctx.workload.name
    csv_path = out / f"{name}.costs.csv"
    safe_frame(lines_frame(ctx.result), csv_path.name).to_csv(csv_path, index=False)  # no formula injection
    xlsx_path = write_xlsx(ctx, out / f"{name}.xlsx")
    h = headline(ctx)
    summary = {
        "costs_csv": str(csv_path),
        "xlsx": str(xlsx_path),
        "cheapest": h["cheapest"],
        "monthly_savings_usd": h["monthly_savings_usd"],
        "recommendation": h["recommendation"],
        "gates": h["gates"],
        # the plan's decision and the money for its candidate (never the cheapest by itself)
        "decision": h["decision"],
        "candidate": h["candidate"],
        "monthly_saving_usd": h["monthly_saving_usd"],
        "payback_month": h["payback_month"],
        "today_platform": h["today_platform"],
        "today_monthly_usd": h["today_monthly_usd"],
        "candidate_monthly_usd": h["candidate_monthly_usd"],
        "one_time_usd": h["migration_usd"],
        "three_year_saving_usd": h["three_year_saving_usd"],
    }
    summary_path(out, name).write_text(strict_json(summary, f"{name}.summary.json"))
    return summary


def write_xlsx(ctx: ReportContext, path: Path) -> Path:
    """Sheets: Totals, Cost lines, Prices, Projection — USD formatted, headers frozen, widths set."""

    totals = totals_frame(ctx.result).rename(
        columns={
            "steady_usd": "steady_usd_month",
            "abnormal_usd": "abnormal_usd_month",
            "total_usd": "total_usd_month",
            "migration_usd": "migration_usd_one_time",
        }
    )
    lines = lines_frame(ctx.result)
    prices = catalog_frame(ctx.cost.catalog, ctx.result.price_keys())
    projection = pd.DataFrame(ctx.projection)
    sheets = {"Totals": totals, "Cost lines": lines, "Prices": prices, "Projection": projection}
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, df in sheets.items():
            df = safe_frame(df, f"{path.name} sheet {name!r}")  # formulas stay text; no infinities
            df.to_excel(xw, sheet_name=name, index=False)
            _format(xw.book[name], df)
        ws = xw.book["Totals"]
        ws.cell(
            row=len(totals) + 3,
            column=1,
            value=safe_cell(
                f"Workload: {ctx.workload.display_title}; month = {ctx.result.month_hours:g} h; currency USD"
            ),
        )
    return path


def _format(ws, df: pd.DataFrame) -> None:

    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for idx, col in enumerate(df.columns, start=1):
        letter = ws.cell(row=1, column=idx).column_letter
        sample = [str(col)] + [str(v) for v in df[col].head(200)]
        ws.column_dimensions[letter].width = min(60, max(10, max(len(s) for s in sample) + 2))
        fmt = USD_PRICE_FORMAT if col == "unit_price" else USD_FORMAT if "usd" in str(col) else None
        if fmt:
            for row in ws.iter_rows(min_row=2, min_col=idx, max_col=idx):
                row[0].number_format = fmt
