"""The workbook finance audits (`<name>.xlsx`): every figure a formula over visible inputs.

Sheets:
- **Summary** — the report's first screen: the plan's decision, the money for its candidate (as
  formulas over Totals and Projection), the gates and the warnings.
- **Inputs** — assumptions (named cells, e.g. `growth_per_year`) and every unit price the lines
  use, with its catalog key, source and date.
- **Lines** — one row per cost line: `USD = quantity × unit price`, the price cell on Inputs.
- **Totals** — per platform: steady, abnormal (monthly) and migration (one-time) as `SUMIFS` over
  Lines; total = steady + abnormal. A total resting on an unpriced line reads "needs quote" (the
  line's price cell on Inputs is empty), never a number.
- **Projection** — per platform and year: the growth factor from the growth input, the modelled
  monthly total at that traffic and the year's cash flow (dual run and migration in year 1; both
  re-sized by exitkit at grown traffic, values), and the running cumulative as formulas.

Cells with text from users (titles, items) go through `safe_cell`, so nothing becomes a formula
that the kit did not write.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName

from exitkit.cost.adapter import NEEDS_QUOTE, lines_frame
from exitkit.prices import catalog_frame
from exitkit.safe_output import safe_cell

USD = '"$"#,##0.00'
USD0 = '"$"#,##0'
PRICE = '"$"#,##0.000000'
QTY = "#,##0.00"
HEAD = Font(bold=True)
HEAD_FILL = PatternFill("solid", fgColor="E4E7EB")
ASSUMPTIONS = ("month_hours", "growth_per_year", "replication_factor", "storage_headroom", "broker_utilization")


def _header(ws, names: list[str], widths: list[int]) -> None:
    ws.append(names)
    for i, w in enumerate(widths, start=1):
        c = ws.cell(row=1, column=i)
        c.font, c.fill = HEAD, HEAD_FILL
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "A2"


def _name(wb: Workbook, name: str, sheet: str, cell: str) -> None:
    wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheetname(sheet)}!{cell}")


def write_workbook(ctx, path: Path, decision: dict) -> Path:
    """Write the audit workbook for one evaluated workload (`ctx`) and its first screen (`decision`)."""
    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    inputs = wb.create_sheet("Inputs")
    lines_ws = wb.create_sheet("Lines")
    totals_ws = wb.create_sheet("Totals")
    proj_ws = wb.create_sheet("Projection")

    # Inputs: assumptions (named), then prices
    _header(inputs, ["input", "value", "unit", "key", "region", "as of", "source"], [34, 16, 18, 36, 12, 12, 70])
    a = ctx.cost.inputs.assumptions
    for key in ASSUMPTIONS:
        if hasattr(a, key):
            inputs.append([key.replace("_", " "), getattr(a, key), "", key, None, None, "workload assumptions"])
            _name(wb, key, "Inputs", f"$B${inputs.max_row}")
            if key in ("growth_per_year", "storage_headroom", "broker_utilization"):
                inputs.cell(row=inputs.max_row, column=2).number_format = "0.0%"
    lines = lines_frame(ctx.result)
    catalog = catalog_frame(ctx.cost.catalog, ctx.result.price_keys()).set_index("key")
    price_row: dict[tuple, int] = {}
    inputs.append([])
    inputs.append(["Unit prices (every line's price is one of these cells)"])
    inputs.cell(row=inputs.max_row, column=1).font = HEAD
    for ln in lines.itertuples():
        pk = ln.price_key if isinstance(ln.price_key, str) else None
        k = (pk or f"{ln.platform}: {ln.item}", float(ln.unit_price))
        if k in price_row:
            continue
        unpriced = bool(getattr(ln, "unpriced", False))
        meta = catalog.loc[pk] if pk is not None and pk in catalog.index else None
        inputs.append(
            [
                safe_cell(k[0]),
                None if unpriced else k[1],  # no published price: an empty cell, never a silent 0
                safe_cell(ln.unit) + (" — needs quote" if unpriced else ""),
                pk,
                None if meta is None else safe_cell(str(meta.get("region", ""))),
                None if meta is None else safe_cell(str(meta.get("as_of", ""))),
                safe_cell(ln.source if isinstance(ln.source, str) else ""),
            ]
        )
        price_row[k] = inputs.max_row
        inputs.cell(row=inputs.max_row, column=2).number_format = PRICE

    # Lines: USD = quantity × the price cell on Inputs
    _header(
        lines_ws,
        ["platform", "state", "path", "item", "quantity", "unit", "unit_price", "usd", "payee", "price_key"],
        [22, 10, 20, 60, 16, 18, 14, 14, 10, 36],
    )
    for ln in lines.itertuples():
        pk = ln.price_key if isinstance(ln.price_key, str) else None
        r = lines_ws.max_row + 1
        prow = price_row[(pk or f"{ln.platform}: {ln.item}", float(ln.unit_price))]
        unpriced = bool(getattr(ln, "unpriced", False))
        lines_ws.append(
            [
                ln.platform, ln.state, ln.path, safe_cell(ln.item), float(ln.quantity), safe_cell(ln.unit),
                f"=Inputs!$B${prow}", NEEDS_QUOTE if unpriced else f"=E{r}*G{r}", ln.payee, pk,
            ]
        )  # fmt: skip
        lines_ws.cell(row=r, column=5).number_format = QTY
        lines_ws.cell(row=r, column=7).number_format = PRICE
        lines_ws.cell(row=r, column=8).number_format = USD
    n_lines = lines_ws.max_row
    lines_ws.auto_filter.ref = f"A1:J{n_lines}"

    # Totals: SUMIFS over Lines
    _header(
        totals_ws,
        [
            "platform",
            "name",
            "role",
            "steady_usd_month",
            "abnormal_usd_month",
            "total_usd_month",
            "migration_usd_one_time",
            "missing_prices",
            "labor_hours_per_month",
            "labor_fte",
        ],
        [22, 44, 12, 18, 18, 18, 22, 24, 20, 12],
    )
    labor = ctx.result.assumptions.get("labor", {})
    labor_by = labor.get("platforms", {})
    rng = f"Lines!$H$2:$H${n_lines}"
    plat, state = f"Lines!$A$2:$A${n_lines}", f"Lines!$B$2:$B${n_lines}"
    total_row: dict[str, int] = {}
    for p in ctx.result.platforms:
        r = totals_ws.max_row + 1
        total_row[p.platform] = r
        totals_ws.append(
            [
                p.platform, safe_cell(p.name), "today" if p.today else "candidate",
                f'=SUMIFS({rng},{plat},$A{r},{state},"steady")', f'=SUMIFS({rng},{plat},$A{r},{state},"abnormal")',
                NEEDS_QUOTE if p.monthly_incomplete else f"=D{r}+E{r}",
                NEEDS_QUOTE if p.migration_incomplete else f'=SUMIFS({rng},{plat},$A{r},{state},"migration")',
                ", ".join(p.missing_prices) or None,
                labor_by.get(p.platform, {}).get("hours_per_month"), labor_by.get(p.platform, {}).get("fte"),
            ]
        )  # fmt: skip
        for col in range(4, 8):
            totals_ws.cell(row=r, column=col).number_format = USD
    totals_ws.auto_filter.ref = f"A1:J{totals_ws.max_row}"
    totals_ws.append([])
    for pid, keys in ctx.result.missing_prices().items():
        totals_ws.append(
            [safe_cell(f"needs quote: {pid} — no published price for {', '.join(keys)}; add it to prices:")]
        )
    if labor:
        rate, per_fte = labor.get("hourly_rate_usd", 0), labor.get("hours_per_fte_month", 0)
        totals_ws.append(
            [
                safe_cell(
                    f"Labour: ${rate:,.0f} per hour; labor_fte = labor_hours_per_month ÷ {per_fte:.1f} h "
                    f"({labor.get('hours_per_fte_month_source', '')})"
                )
            ]
        )

    # Projection: growth factor from the input; annual and cumulative as formulas
    _header(
        proj_ws,
        [
            "platform",
            "year",
            "growth_factor",
            "modelled_monthly_usd",
            "one_time_usd",
            "annual_usd_cash_flow",
            "cumulative_usd",
        ],
        [22, 8, 14, 22, 16, 16, 18],
    )
    cum_row: dict[tuple[str, int], int] = {}
    rows = sorted(ctx.projection, key=lambda x: (x["platform"], x["year"]))
    for x in rows:
        r = proj_ws.max_row + 1
        pid, year = x["platform"], x["year"]
        prev = cum_row.get((pid, year - 1))
        known = not x.get("incomplete")  # a figure on an unpriced line stays empty, never a number
        proj_ws.append(
            [
                pid, year, f"=(1+growth_per_year)^(B{r}-1)", float(x["monthly_usd"]) if known else None,
                float(x["one_time_usd"]) if known else NEEDS_QUOTE, float(x["annual_usd"]) if known else NEEDS_QUOTE,
                (f"=F{r}" + (f"+G{prev}" if prev else "")) if known else NEEDS_QUOTE,
            ]
        )  # fmt: skip
        if known:
            cum_row[(pid, year)] = r
        proj_ws.cell(row=r, column=3).number_format = "0.000"
        for col in (4, 5, 6, 7):
            proj_ws.cell(row=r, column=col).number_format = USD
    proj_ws.auto_filter.ref = f"A1:G{proj_ws.max_row}"

    _summary(summary, ctx, decision, total_row, cum_row)
    wb.save(path)
    return path


def _summary(ws, ctx, d: dict, total_row: dict[str, int], cum_row: dict[tuple[str, int], int]) -> None:
    """The first screen, with the money as formulas over Totals and Projection."""
    m = d["money"]
    today, cand = m["today_platform"], d["candidate"]
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 60
    ws.append([safe_cell(d["title"])])
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    ws.append(["Decision", safe_cell(d["headline"])])
    ws.append(["Decision (id)", d["decision"]])
    ws.append(["Candidate (id)", cand or "— (stay)"])
    fields: dict[str, int] = {}

    def row(label: str, value, fmt: str | None = None) -> None:
        ws.append([label, value])
        fields[label] = ws.max_row
        if fmt:
            ws.cell(row=ws.max_row, column=2).number_format = fmt

    years = max((y for (_, y) in cum_row), default=0)
    if m["today_baseline"] == "actual":  # the allocated bill (exitkit bill), not a model total
        row("Today, per month", m["today_monthly_usd"], USD0)
        ws.cell(row=ws.max_row, column=3, value="actual bill, allocated (exitkit bill)")
    elif today in total_row:
        row("Today, per month", f"=Totals!F{total_row[today]}", USD0)
    if cand in total_row:
        row("Candidate, per month", f"=Totals!F{total_row[cand]}", USD0)
        if "Today, per month" in fields:
            row("Monthly saving", f"=B{fields['Today, per month']}-B{fields['Candidate, per month']}", USD0)
        row("One-time migration", d["money"]["one_time_usd"], USD0)  # the cash flow's (dual run + tool)
        m_pay = d["money"]["payback"]
        row("Pays back in month", d["money"]["payback_month"] if d["money"]["payback_month"] else (m_pay or "never"))
        if (today, years) in cum_row and (cand, years) in cum_row:
            row(
                f"{years}-year saving",
                f"=Projection!G{cum_row[(today, years)]}-Projection!G{cum_row[(cand, years)]}",
                USD0,
            )
    ws.append([])
    ws.append(["Readiness gates"])
    ws.cell(row=ws.max_row, column=1).font = HEAD
    for g in d["gates"]:
        ws.append([g["title"], f"{g['status_word']}: {g['sentence']}"])
    ws.append([])
    ws.append(["Warnings"])
    ws.cell(row=ws.max_row, column=1).font = HEAD
    warnings = list(d["warnings"]) + [
        f"{p}: incomplete (a price is missing; its total is a lower bound)" for p in m["incomplete"]
    ]
    for w in warnings or ["none"]:
        ws.append(["", safe_cell(w)])
        ws.cell(row=ws.max_row, column=2).alignment = Alignment(wrap_text=True)
