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
- **Projection** — per platform and year: the growth factor `=(1+growth_per_year)^(year−1)`, the
  model's monthly total at that factor (interpolated in Model: exact at its rows, which hold every
  factor of the workload's own growth), today's on an actual baseline scaled from the bill, and
  the year's cash-flow sum and running cumulative over Cash flow. Change the growth input and the
  projection, the cash flow and the Summary's payback follow.
- **Model** — exitkit's monthly total per platform at traffic × factor (0.25 … past the last
  year's factor): re-sized at each factor, so values, not formulas (sizing is a step function).
- **Cash flow** — per fully priced candidate, month by month through the dual run and 36 months
  after: today, candidate (its run plus the one-time migration spread over `dual_run_months`),
  saving, cumulative saving and whether it has paid back; the Summary's payback month, 3-year
  saving and NPV (at `discount_rate`) are formulas over it (`exitkit/cost/cash_flow.py`'s rules).

Cells with text from users (titles, items) go through `safe_cell`, so nothing becomes a formula
that the kit did not write.
"""

from __future__ import annotations

import math
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName

from exitkit.cost.adapter import NEEDS_QUOTE, lines_frame
from exitkit.cost.cash_flow import THREE_YEARS
from exitkit.cost.evaluate import evaluate
from exitkit.cost.what_if import what_if
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
    extra = [
        ("discount_rate", a.discount_rate, "per year", "0.0%", "workload assumptions (default 7 %: OMB Circular A-94)"),
        ("dual_run_months", a.migration.dual_run_months, "months", "0.0", "workload assumptions.migration"),
    ]
    if ctx.result.baseline == "actual" and ctx.result.allocation is not None:
        extra.append(
            ("today_actual_usd", ctx.result.today_usd(), "USD per month", USD,
             "the ingested bill allocated to this workload plus its unbilled modelled lines (exitkit bill)")
        )  # fmt: skip
    for key, value, unit, fmt, source in extra:
        inputs.append([key.replace("_", " "), value, unit, key, None, None, source])
        _name(wb, key, "Inputs", f"$B${inputs.max_row}")
        inputs.cell(row=inputs.max_row, column=2).number_format = fmt
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

    blocks = _projection_and_cash_flow(wb, ctx, proj_ws, total_row)
    _summary(summary, ctx, decision, total_row, blocks)
    wb.save(path)
    return path


def model_factors(growth: float, years: int) -> list[float]:
    """Traffic factors of the Model sheet: a 0.05 grid from 0.25 up past the largest yearly factor
    (coarser when growth is extreme: at most ~200 rows), plus every (1 + g)^(y−1) exactly."""
    exact = [(1 + growth) ** (y - 1) for y in range(1, years + 1)]
    top = max(4.0, max(exact) * 1.1)
    step = max(0.05, round((top - 0.25) / 200, 2))
    grid = [round(0.25 + step * i, 6) for i in range(int((top - 0.25) / step) + 2)]
    out = sorted(set(exact))
    for g in grid:
        if not any(math.isclose(g, e, rel_tol=1e-9) for e in out):
            out.append(g)
    return sorted(out)


def _projection_and_cash_flow(wb, ctx, proj_ws, total_row: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Model, Projection and Cash flow sheets; returns {candidate: (first, last) row of its Cash flow block}."""
    res, inputs = ctx.result, ctx.cost.inputs
    a = inputs.assumptions
    flows = res.cash_flows
    horizon = len(next(iter(flows.values())).months) if flows else THREE_YEARS
    years = max(3, math.ceil(horizon / 12))
    today = next((p for p in res.platforms if p.today), None)
    ids = [p.platform for p in res.platforms]

    # Model: exitkit's monthly total at each traffic factor (re-sized there: values, a step function)
    model = wb.create_sheet("Model")
    factors = model_factors(a.growth_per_year, years)
    model.append(
        [
            "Monthly total (steady + abnormal) at traffic × factor, from exitkit's model: brokers, "
            "units and storage are re-sized at each factor (a step function no formula reproduces), "
            "so these are values; Projection interpolates between rows for a growth the table does not "
            "hold. Unit prices edited on Inputs change year 1 (Lines), not this table: re-run exitkit report."
        ]
    )
    model.append(["traffic_factor", *ids])
    for i in range(1, len(ids) + 2):
        c = model.cell(row=2, column=i)
        c.font, c.fill = HEAD, HEAD_FILL
        model.column_dimensions[get_column_letter(i)].width = 14 if i == 1 else 22
    model.freeze_panes = "B3"
    first = 3
    for f in factors:
        res_f = evaluate(what_if(inputs, write_multiplier=f), ctx.cost.catalog, ids, migration=False)
        model.append([f, *(NEEDS_QUOTE if p.monthly_incomplete else p.total_usd for p in res_f.platforms)])
        for col in range(2, len(ids) + 2):
            model.cell(row=model.max_row, column=col).number_format = USD
    last = model.max_row
    col_of = {pid: get_column_letter(i + 2) for i, pid in enumerate(ids)}
    fac = f"Model!$A${first}:$A${last}"

    def interp(pid: str, r: int) -> str:
        """Linear interpolation of pid's Model column at this row's factor (C), row found in D."""
        c = col_of[pid]
        at = lambda k: f"INDEX(Model!${c}${first}:${c}${last},D{r}{k})"  # noqa: E731
        fa = lambda k: f"INDEX({fac},D{r}{k})"  # noqa: E731
        return (
            f"=IF(C{r}=INDEX({fac},D{r}),{at('')},{at('')}+(C{r}-{fa('')})*({at('+1')}-{at('')})/({fa('+1')}-{fa('')}))"
        )

    # Projection: per platform and year, the growth factor from the input, the model's monthly total
    # there, and the year's cash-flow sum and running cumulative (from the Cash flow sheet)
    _header(
        proj_ws,
        ["platform", "year", "growth_factor", "model_row", "modelled_monthly_usd", "monthly_usd", "annual_usd",
         "cumulative_usd"],
        [22, 8, 14, 11, 22, 16, 16, 18],
    )  # fmt: skip
    actual = res.baseline == "actual" and res.allocation is not None
    order = ([today.platform] if today is not None else []) + [p.platform for p in res.platforms if not p.today]
    proj_first: dict[str, int] = {}
    complete = {p.platform: not p.monthly_incomplete for p in res.platforms}
    for pid in order:
        proj_first[pid] = proj_ws.max_row + 1
        for year in range(1, years + 1):
            r = proj_ws.max_row + 1
            known = complete[pid]
            y1 = proj_first[pid]
            if not known:
                monthly = modelled = NEEDS_QUOTE
            else:
                modelled = interp(pid, r)
                monthly = (
                    f"=IF(E{y1}>0,today_actual_usd*E{r}/E{y1},today_actual_usd*C{r})"
                    if (actual and today is not None and pid == today.platform)
                    else f"=E{r}"
                )
            proj_ws.append(
                [pid, year, f"=(1+growth_per_year)^(B{r}-1)", f"=MATCH(C{r},{fac},1)", modelled, monthly, None, None]
            )
            proj_ws.cell(row=r, column=3).number_format = "0.000"
            for col in (5, 6, 7, 8):
                proj_ws.cell(row=r, column=col).number_format = USD

    # Cash flow: one block per fully priced candidate, month by month (exitkit.cost.cash_flow)
    cf_ws = wb.create_sheet("Cash flow")
    _header(
        cf_ws,
        ["platform", "month", "year", "dual_run_share", "today_usd", "candidate_usd", "one_time_usd", "saving_usd",
         "cumulative_saving_usd", "paid_back"],
        [22, 8, 8, 14, 16, 16, 16, 16, 20, 10],
    )  # fmt: skip
    blocks: dict[str, tuple[int, int]] = {}
    if today is not None and flows:
        t0 = proj_first[today.platform]
        today_col = f"Projection!$F${t0}:$F${t0 + years - 1}"
        for pid, cf in flows.items():
            if cf.incomplete or pid not in proj_first:
                continue
            c0 = proj_first[pid]
            cand_col = f"Projection!$F${c0}:$F${c0 + years - 1}"
            b0 = cf_ws.max_row + 1
            for m in range(1, horizon + 1):
                r = cf_ws.max_row + 1
                prev = r - 1 if m > 1 else None
                cf_ws.append(
                    [
                        pid, m, f"=ROUNDUP(B{r}/12,0)", f"=MAX(0,MIN(1,dual_run_months-(B{r}-1)))",
                        f"=INDEX({today_col},C{r})", f"=INDEX({cand_col},C{r})+G{r}",
                        f"=IF(dual_run_months>0,D{r}/dual_run_months,IF(B{r}=1,1,0))*Totals!$G${total_row[pid]}",
                        f"=E{r}-F{r}", f"=H{r}" + (f"+I{prev}" if prev else ""),
                        f"=IF(OR(I{r}>0.000000001" + (f",J{prev}=1" if prev else "") + "),1,0)",
                    ]
                )  # fmt: skip
                for col in (5, 6, 7, 8, 9):
                    cf_ws.cell(row=r, column=col).number_format = USD
                cf_ws.cell(row=r, column=4).number_format = "0.00"
            blocks[pid] = (b0, cf_ws.max_row)
    else:
        cf_ws.append([safe_cell("no cash flow: today's platform has no cost model (the projection stands alone)")])
    cf_ws.auto_filter.ref = f"A1:J{max(cf_ws.max_row, 2)}"

    # the Projection's annual and cumulative: sums of the cash flow's months of that year
    any_block = next(iter(blocks.values()), None)
    for pid in order:
        for year in range(1, years + 1):
            r = proj_first[pid] + year - 1
            if today is not None and pid == today.platform and any_block:
                b0, b1 = any_block
                proj_ws.cell(
                    row=r, column=7, value=f"=SUMIFS('Cash flow'!$E${b0}:$E${b1},'Cash flow'!$C${b0}:$C${b1},B{r})"
                )
            elif pid in blocks:
                b0, b1 = blocks[pid]
                proj_ws.cell(
                    row=r, column=7, value=f"=SUMIFS('Cash flow'!$F${b0}:$F${b1},'Cash flow'!$C${b0}:$C${b1},B{r})"
                )
            else:
                quote = NEEDS_QUOTE if not complete[pid] else None  # an unpriced total: never a number
                proj_ws.cell(row=r, column=7, value=quote)
                proj_ws.cell(row=r, column=8, value=quote)
                continue
            proj_ws.cell(row=r, column=8, value=f"=G{r}" + (f"+H{r - 1}" if year > 1 else ""))
    proj_ws.auto_filter.ref = f"A1:H{proj_ws.max_row}"
    return blocks


def _summary(ws, ctx, d: dict, total_row: dict[str, int], blocks: dict[str, tuple[int, int]]) -> None:
    """The first screen, with the money as formulas over Totals and the Cash flow sheet."""
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

    if m["today_baseline"] == "actual":  # the allocated bill (exitkit bill), not a model total
        row("Today, per month", "=today_actual_usd", USD0)
        ws.cell(row=ws.max_row, column=3, value="actual bill, allocated (exitkit bill)")
    elif today in total_row:
        row("Today, per month", f"=Totals!F{total_row[today]}", USD0)
    if cand in total_row:
        row("Candidate, per month", f"=Totals!F{total_row[cand]}", USD0)
        if "Today, per month" in fields:
            row("Monthly saving", f"=B{fields['Today, per month']}-B{fields['Candidate, per month']}", USD0)
        row("One-time migration", f"=Totals!G{total_row[cand]}", USD0)  # only what the move adds
        if cand in blocks:
            b0, b1 = blocks[cand]
            n = b1 - b0 + 1
            paid = f"'Cash flow'!$J${b0}:$J${b1}"
            row("Pays back in month", f'=IF(SUM({paid})=0,"never",{n}-SUM({paid})+1)')
            ws.cell(row=ws.max_row, column=3, value="first month the cumulative saving is above 0 (Cash flow)")
            last36 = b0 + min(n, THREE_YEARS) - 1
            row("3-year saving", f"=SUM('Cash flow'!$H${b0}:$H${last36})", USD0)
            row(
                "NPV of moving",
                f"=SUMPRODUCT('Cash flow'!$H${b0}:$H${b1}/(1+discount_rate)^('Cash flow'!$B${b0}:$B${b1}/12))",
                USD0,
            )
            ws.cell(row=ws.max_row, column=3, value="monthly savings discounted at discount_rate (Inputs)")
        else:
            row("Pays back in month", d["money"]["payback"] or "—")
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
