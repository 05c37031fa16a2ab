"""Per-workload data files beside the HTML: `<name>.costs.csv`, a finance-formatted `<name>.xlsx`,
and `<name>.summary.json` (what the fleet index shows). Written by the report notebook itself,
from the one evaluation it renders, so the files and the HTML always agree."""

from __future__ import annotations

from pathlib import Path

from exitkit.cost.adapter import lines_frame, quoted_frame
from exitkit.report.context import ReportContext, decision, headline
from exitkit.report.workbook import write_workbook
from exitkit.safe_output import safe_frame, strict_json

USD_FORMAT = '"$"#,##0.00'
USD_PRICE_FORMAT = '"$"#,##0.000000'


def summary_path(out: Path, name: str) -> Path:
    return Path(out) / f"{name}.summary.json"


def write_data_files(ctx: ReportContext, out: str | Path) -> dict:
    """Write CSV, XLSX and the index summary for this evaluation; return the summary."""

    out = Path(out)
    name = ctx.workload.name
    csv_path = out / f"{name}.costs.csv"
    # no formula injection; an unpriced line's amounts read "needs quote", never a silent 0
    safe_frame(quoted_frame(lines_frame(ctx.result)), csv_path.name).to_csv(csv_path, index=False)
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
    """The audit workbook (see `exitkit.report.workbook`): Summary, Inputs, Lines, Totals, Projection."""
    return write_workbook(ctx, path, decision(ctx))
