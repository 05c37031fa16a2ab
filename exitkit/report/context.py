"""What the report notebook shows, section by section, as display objects.

The notebook stays thin: each cell calls one function here. Every dynamic text is
HTML-escaped here (pandas `to_html(escape=True)` or `html.escape`), never in the notebook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import plotly.io as pio
from IPython.display import HTML
from markupsafe import Markup

from exitkit.charts import PATH_LABELS, SCENARIO_LABELS, cost_by_path, cumulative_cost, scenario_explorer
from exitkit.charts.cost import PLATFORMS_PER_LINE, STATE_PER_LINE, scenario_value
from exitkit.cost.adapter import WorkloadCost, incomplete_platforms, lines_frame, totals_frame, workload_cost
from exitkit.cost.analysis import project
from exitkit.cost.cash_flow import projection_rows
from exitkit.cost.space import scenario_space
from exitkit.demo import resolve_workload
from exitkit.errors import ExitkitError
from exitkit.plan import build_plan, plan_tables
from exitkit.prices import catalog_frame
from exitkit.profile.topics import topic_profile
from exitkit.report.present import packed_json, show, table_view
from exitkit.report.words import DECISION_TEXT, GATE_TEXT, STATUS_WORD
from exitkit.store import open_store
from exitkit.units import human_bytes, human_rate
from exitkit.workload.loader import load_workload
from exitkit.workload.model import Workload


@dataclass
class ReportContext:
    """One workload, evaluated: the report's single source of numbers."""

    workload: Workload
    cost: WorkloadCost
    plan: object | None = None  # exitkit.plan.Plan when the plan package is present
    projection: list[dict] = field(default_factory=list)

    @property
    def result(self):
        return self.cost.result


def load_context(workload: str | Path, db: str | Path | None = None) -> ReportContext:
    """Validate the report's parameters and evaluate the workload (fail fast, one clear line)."""
    if not workload:
        raise ExitkitError("parameter `workload` is empty: pass the workload file (-p workload PATH)")
    path = resolve_workload(workload)  # as given, else a demo workload of that name
    wl = load_workload(path)

    if wl.topics:
        with open_store(db or None) as con:
            prof = topic_profile(con)  # once: the workload profile and the plan both select from it
            wc = workload_cost(wl, con, profile_df=prof)
            plan = _plan(con, wl, wc, prof)
    else:
        wc = workload_cost(wl)
        plan = _plan(None, wl, wc)
    # the migration cash flow (target counted once, from the month it starts); without a modelled
    # source platform there is no cash flow, and the plain yearly projection stands in
    flows = wc.result.cash_flows
    projection = (
        projection_rows(flows, wl.source.platform)
        if flows
        else project(wc.inputs, wc.catalog, list(wl.candidates), years=3)
    )
    return ReportContext(wl, wc, plan, projection)


def _plan(con, wl, wc, profile_df=None):
    return build_plan(con, wl, wc, profile_df)


# --- summary --------------------------------------------------------------------------------


def _platform(ctx: ReportContext, pid: str | None):
    if pid is None:
        return None
    try:
        return ctx.result.platform(pid)
    except KeyError:
        return None


def money_for(ctx: ReportContext, candidate: str | None) -> dict:
    """The money of one candidate against today: the single place the report's figures come from.

    Monthly totals are steady + abnormal; today is the baseline (`CostResult.today_usd()`: the
    allocated bill when one is ingested, else the model); the saving is today − candidate. The
    one-time migration, the payback month and the 3-year saving come from the candidate's cash
    flow (`exitkit.cost.cash_flows`: dual run, then the candidate's run counted once). A total
    resting on a price nobody publishes is None ("needs quote"), never a number.
    """
    today = next((p for p in ctx.result.platforms if p.today), None)
    cand = _platform(ctx, candidate)
    cf = ctx.result.cash_flows.get(candidate) if candidate else None
    today_usd = ctx.result.today_usd() if today is not None else None
    cand_usd = None if cand is None or cand.monthly_incomplete else cand.total_usd
    saving = None if today_usd is None or cand_usd is None else today_usd - cand_usd
    if cf is not None:
        one_time, payback, three_year = cf.one_time_usd, cf.payback_month, cf.three_year_saving_usd
    else:  # no modelled source platform: no cash flow
        one_time = None if cand is None or cand.migration_incomplete else cand.migration_usd
        payback = three_year = None
    return {
        "today_platform": None if today is None else today.platform,
        "today_name": None if today is None else today.name,
        "today_baseline": ctx.result.baseline,
        "today_monthly_usd": today_usd,
        "candidate_monthly_usd": cand_usd,
        "monthly_saving_usd": saving,
        "one_time_usd": one_time,
        "payback_month": payback,
        "payback": None if cf is None else cf.payback_label,
        "three_year_saving_usd": three_year,
        "incomplete": sorted(ctx.result.missing_prices()),
        "missing_prices": ctx.result.missing_prices(),
    }


def monthly_cumulative(ctx: ReportContext) -> dict[str, list[float]]:
    """Cumulative cost per platform from the cash flows, month 0 to the horizon: today's platform
    and each fully priced candidate (its dual run and migration in the first months)."""
    flows = ctx.result.cash_flows
    if not flows:
        return {}
    first = next(iter(flows.values()))
    out: dict[str, list[float]] = {}

    def cum(rows, col):
        ys = [0.0]
        for r in rows:
            if r[col] is None:
                return None
            ys.append(ys[-1] + r[col])
        return ys

    today = cum(first.months, "today_usd")
    if today is not None:
        out[first.source] = today
    for pid, cf in flows.items():
        ys = None if cf.incomplete else cum(cf.months, "candidate_usd")
        if ys is not None:
            out[pid] = ys
    return out


def cumulative_figure(ctx: ReportContext):
    """Three-year cumulative cost: today, every candidate, the recommended one bold with its payback."""
    d = decision(ctx)
    names = {p.platform: p.name for p in ctx.result.platforms}
    return cumulative_cost(
        monthly_cumulative(ctx), names, d["money"]["today_platform"], d["candidate"], d["money"]["payback_month"]
    )


def recommended(ctx: ReportContext) -> dict:
    """The plan's one decision for the workload ({decision, candidate, reasons, rule})."""
    if ctx.plan is not None and ctx.plan.recommended:
        return ctx.plan.recommended
    return {"decision": "stay", "candidate": None, "reasons": ["no plan evidence"], "rule": "no plan"}


def _gate_rows(gates: dict) -> list[dict]:
    rows = []
    for name in GATE_TEXT:
        if name not in gates:
            continue
        r = gates[name]
        status = r.status if hasattr(r, "status") else r["status"]
        title, ok, bad, missing = GATE_TEXT[name]
        sentence = {"pass": ok, "fail": bad}.get(status, missing)
        rows.append(
            {
                "gate": name,
                "title": title,
                "status": status,
                "status_word": STATUS_WORD.get(status, status),
                "sentence": sentence,
                "reason": r.reason if hasattr(r, "reason") else r.get("reason", ""),
            }
        )
    return rows


def decision(ctx: ReportContext) -> dict:
    """The first screen: the plan's decision, the money for that candidate, the gates, the rest.

    Candidates the plan rules out (decision *stay*) are listed with a one-line reason in plain
    words; the raw reasons (gate identifiers) go into a details fold.
    """
    rec = recommended(ctx)
    cand = rec.get("candidate")
    money = money_for(ctx, cand)
    today_name = money["today_name"] or money["today_platform"] or "today's platform"
    cand_p = _platform(ctx, cand)
    name = cand_p.name if cand_p is not None else cand or today_name
    plan = ctx.plan
    if plan is not None and cand in plan.gates_by_candidate:
        gate_src = plan.gates_by_candidate[cand]
    else:
        gate_src = plan.gates if plan is not None else {}
    others = []
    recs = plan.recommendations if plan is not None else {}
    for c in ctx.workload.candidates:
        if c == cand or c == money["today_platform"]:
            continue
        r = recs.get(c, {"decision": "stay", "reasons": []})
        gates_c = plan.gates_by_candidate.get(c, {}) if plan is not None else {}
        rows_c = _gate_rows(gates_c)
        first_bad = next((g for g in rows_c if g["status"] == "fail"), None) or next(
            (g for g in rows_c if g["status"] != "pass"), None
        )
        p = _platform(ctx, c)
        others.append(
            {
                "platform": c,
                "name": p.name if p is not None else c,
                "decision": r["decision"],
                "ruled_out": r["decision"] == "stay",
                "why": first_bad["sentence"] if first_bad else "Every gate passes.",
                "reasons": list(r.get("reasons", [])),
                "monthly_usd": money_for(ctx, c)["candidate_monthly_usd"],
            }
        )
    return {
        "title": ctx.workload.display_title,
        "decision": rec["decision"],
        "candidate": cand,
        "candidate_name": name,
        "headline": DECISION_TEXT[rec["decision"]].format(name=name if cand else today_name),
        "reasons": list(rec.get("reasons", [])),
        "rule": rec.get("rule", ""),
        "money": money,
        "gates": _gate_rows(gate_src),
        "others": others,
        "warnings": list(ctx.result.warnings),
    }


def headline(ctx: ReportContext) -> dict:
    """The index summary's figures: the plan's decision and the money for its candidate.

    The older keys stay (`cheapest`, `monthly_savings_usd`, `recommendation`, ...) for readers
    of summary.json; `monthly_savings_usd` is now the recommended candidate's saving.
    """
    totals = totals_frame(ctx.result)
    cands = _priced_candidates(ctx)
    cheapest = cands.iloc[0] if len(cands) else None
    d = decision(ctx)
    m = d["money"]
    three_year = {r["platform"]: r["cumulative_usd"] for r in ctx.projection if r["year"] == 3}
    label = d["decision"] + (f": {d['candidate']}" if d["candidate"] else "")
    return {
        "today_platform": m["today_platform"],
        "today_monthly_usd": m["today_monthly_usd"],
        "cheapest": None if cheapest is None else cheapest.platform,
        "cheapest_monthly_usd": None if cheapest is None else float(cheapest.total_usd),
        "decision": d["decision"],
        "candidate": d["candidate"],
        "candidate_monthly_usd": m["candidate_monthly_usd"],
        "monthly_saving_usd": m["monthly_saving_usd"],
        "monthly_savings_usd": m["monthly_saving_usd"],
        "migration_usd": m["one_time_usd"],
        "payback_month": m["payback_month"],
        "payback": m["payback"],
        "today_baseline": m["today_baseline"],
        "three_year_saving_usd": m["three_year_saving_usd"],
        "three_year_usd": three_year,
        "recommendation": label,
        "recommendation_reason": "; ".join(d["reasons"]),
        "gates": {g["gate"]: g["status"] for g in d["gates"]},
        "n_platforms": len(totals),
    }


def _priced_candidates(ctx: ReportContext) -> pd.DataFrame:
    """Candidates by total, cheapest first, leaving out those with unpriced lines (lower bounds)."""
    totals = totals_frame(ctx.result)
    incomplete = incomplete_platforms(ctx.cost)
    return totals[~totals.today & ~totals.platform.isin(list(incomplete))].sort_values("total_usd")


def recommendation(ctx: ReportContext) -> dict:
    """The workload's recommendation (kept for callers): decision label, candidate, reason."""
    d = decision(ctx)
    label = d["decision"] + (f": {d['candidate']}" if d["candidate"] else "")
    return {"decision": label, "candidate": d["candidate"], "reason": "; ".join(d["reasons"])}


def gates(ctx: ReportContext) -> dict[str, str]:
    if ctx.plan is None:
        return {}
    return {k: v["status"] for k, v in ctx.plan.to_dict().get("gates", {}).items()}


def _usd(v: float | str | None) -> str:
    if isinstance(v, str):  # "needs quote"
        return v
    return "—" if v is None or v != v else f"${v:,.0f}"


def summary_cards(ctx: ReportContext) -> HTML:
    """The first screen: decision, money for that candidate, gate badges, ruled-out candidates."""
    return show("first_screen.html.j2", d=decision(ctx))


def totals_table(ctx: ReportContext) -> HTML:
    """Monthly cost per platform: steady, abnormal, total and the one-time migration."""
    df = totals_frame(ctx.result)
    incomplete = incomplete_platforms(ctx.cost)
    view = pd.DataFrame(
        {
            "platform": df.name,
            "role": [
                ("today" if t else "candidate")
                + (f" — lower bound: unpriced {', '.join(incomplete[p])}" if p in incomplete else "")
                for t, p in zip(df.today, df.platform, strict=True)
            ],
            "steady": df.steady_usd,
            "abnormal": df.abnormal_usd,
            "total": df.total_usd,
            "migration": df.migration_usd,
        }
    )
    for i, p in enumerate(ctx.result.platforms):  # a total on an unpriced line is not a number
        if p.monthly_incomplete:
            view.loc[i, ["steady", "abnormal", "total"]] = None
        if p.migration_incomplete:
            view.loc[i, "migration"] = None
    t = table_view(
        view,
        {"steady": "usd", "abnormal": "usd", "total": "usd", "migration": "usd"},
        {
            "steady": "Steady / month",
            "abnormal": "Abnormal / month",
            "total": "Total / month",
            "migration": "One-time migration",
        },
    )
    return show("table.html.j2", t=t)


def projection_table(ctx: ReportContext) -> HTML:
    """Cumulative cost by year with traffic growth; year 1 includes the one-time migration."""
    df = pd.DataFrame(ctx.projection)
    if df.empty:
        return HTML("")
    if "incomplete" in df:  # a total resting on an unpriced line is not a number
        df.loc[df.incomplete.fillna(False).astype(bool), "cumulative_usd"] = None
    wide = df.pivot(index="platform", columns="year", values="cumulative_usd")
    wide = wide.reindex([p.platform for p in ctx.result.platforms])
    names = {p.platform: p.name for p in ctx.result.platforms}
    view = pd.DataFrame({"platform": [names[p] for p in wide.index]})
    for y in wide.columns:
        view[f"year_{y}"] = wide[y].to_numpy()
    g = ctx.cost.inputs.assumptions.growth_per_year
    t = table_view(
        view,
        {c: "usd" for c in view.columns if c.startswith("year_")},
        {c: f"Cumulative, year {c.split('_')[1]}" for c in view.columns if c.startswith("year_")},
        note=f"Traffic grows {g:.0%} a year, compounded; year 1 holds the dual run (today's platform kept beside "
        "the candidate) and the one-time migration; the candidate's run is counted once, from month 1.",
        why={c: "needs quote: a price is missing" for c in view.columns},
    )
    return show("table.html.j2", t=t)


# --- traffic --------------------------------------------------------------------------------


def traffic_summary(ctx: ReportContext) -> HTML:
    """The workload's traffic: measured, assumed (workload file) or default, with the window."""
    p = ctx.cost.profile
    prov = p.provenance or {}
    rows = [
        ("Topics", f"{len(p.topics):,}" if p.topics else None, None, "a what-if workload: no measured topics"),
        ("Write rate, mean", human_rate(p.write_bytes_per_s_mean), "write_rate", None),
        ("Write rate, p95", human_rate(p.write_bytes_per_s_p95), "write_p95", None),
        ("Write rate, peak", human_rate(p.write_bytes_per_s_peak), "write_peak", None),
        ("Read fan-out", None if p.fan_out is None else f"{p.fan_out:.2f}×", "fan_out", None),
        ("Retention", None if p.retention_s is None else f"{p.retention_s / 86400:,.3g} days", "retention", None),
        ("Retained (one copy)", human_bytes(p.retained_bytes), "retained", None),
        ("Partitions", None if p.partitions is None else f"{p.partitions:,}", "partitions", None),
        ("Dominant driver", p.driver, None, None),
    ]
    view = pd.DataFrame(
        [(k, None if v in (None, "—") else v, prov.get(f, "measured") if f else "") for k, v, f, _ in rows],
        columns=["traffic", "value", "source"],
    )
    window = None
    if p.observed_from is not None:
        window = f"Observed {p.observed_from} → {p.observed_to} UTC, coverage {p.coverage or 0:.0%}."
    t = table_view(view, {"value": "text"}, why={"value": "not measured and not set in the workload file"})
    return show("traffic.html.j2", t=t, window=window, notes=list(ctx.cost.notes))


# --- cost -----------------------------------------------------------------------------------


def cost_by_path_figure(ctx: ReportContext):

    return cost_by_path(ctx.result.to_dict())


def cost_drivers(ctx: ReportContext) -> HTML:
    """For each platform, the byte paths that make up most of its steady cost."""
    lines = lines_frame(ctx.result)
    steady = lines[lines.state == "steady"].groupby(["platform", "path"], as_index=False)["monthly_usd"].sum()
    items = []
    for p in ctx.result.platforms:
        rows = steady[steady.platform == p.platform].sort_values("monthly_usd", ascending=False)
        total = rows.monthly_usd.sum()
        if total <= 0:
            continue
        top = [f"{PATH_LABELS.get(r.path, r.path)} {r.monthly_usd / total:.0%}" for r in rows.head(3).itertuples()]
        items.append({"name": p.name, "top": ", ".join(top)})
    return show("drivers.html.j2", items=items)


SCENARIO_DIV = "ek-scenarios"


def scenarios_figure(ctx: ReportContext) -> HTML:
    """Sliders over every combination of seven assumptions (exitkit.cost.space), precomputed: each
    moves its own assumption and the others stay, offline, with no kernel. Retention goes up to
    10× the measured value."""
    space = scenario_space(ctx.cost.inputs, ctx.cost.catalog, list(ctx.workload.candidates))
    data = {
        **space.to_dict(),
        "div_id": SCENARIO_DIV,
        "labels": {p: SCENARIO_LABELS.get(p, p) for p in space.values},
        "step_labels": {p: [scenario_value(v) for v in vs] for p, vs in space.values.items()},
        "state_per_line": STATE_PER_LINE,
        "platforms_per_line": PLATFORMS_PER_LINE,
    }
    figure = pio.to_html(
        scenario_explorer(space), include_plotlyjs=False, include_mathjax=False, full_html=False,
        div_id=SCENARIO_DIV, default_width="100%", validate=False,
    )  # fmt: skip
    return show("scenarios.html.j2", figure=Markup(figure), space_packed=packed_json(data, "scenario space"))


def cost_lines_tables(ctx: ReportContext) -> HTML:
    """Every line: quantity × unit price = monthly USD, with the price's catalog key and source.

    One searchable table, collapsed on screen, shown in full in print."""
    df = lines_frame(ctx.result)
    names = {p.platform: p.name for p in ctx.result.platforms}
    view = pd.DataFrame(
        {
            "platform": df.platform.map(names),
            "state": df.state,
            "path": df.path.map(lambda v: PATH_LABELS.get(v, v)),
            "item": df["item"],
            "quantity": df.quantity,
            "unit": df.unit,
            "unit_price": df.unit_price,
            "usd": df.monthly_usd,
            "payee": df.payee,
            "source": df.price_key.fillna("") + " — " + df.source.fillna("") if "price_key" in df else df.source,
        }
    )
    t = table_view(
        view,
        {"quantity": "num", "unit_price": "price", "usd": "usd_cents"},
        {
            "path": "Byte path",
            "unit_price": "Unit price",
            "usd": "USD / month (one-time for migration)",
            "source": "Price key — source",
        },
        collapsed=True,
        search=True,
        wide=("item", "source"),
        summary=f"Show all {len(view):,} cost lines ({len(ctx.result.platforms)} platforms)",
    )
    return show("table.html.j2", t=t)


def prices_used(ctx: ReportContext) -> HTML:
    """Every catalog price the lines use, with its source and date."""
    df = catalog_frame(ctx.cost.catalog, ctx.result.price_keys())
    cols = [c for c in ("key", "value", "unit", "region", "as_of", "source", "overridden") if c in df]
    t = table_view(
        df[cols],
        {"value": "price", "overridden": "text"},
        {"value": "Price", "as_of": "As of", "overridden": "Overridden by the workload"},
        collapsed=True,
        search=True,
        wide=("source",),
        summary=f"Show all {len(df):,} prices",
    )
    return show("table.html.j2", t=t)


def assumptions_table(ctx: ReportContext) -> HTML:
    """Every assumption, its value and whether the workload file set it or the default holds."""
    a = ctx.workload.assumptions.model_dump(mode="json")
    rows = []

    def walk(prefix: str, v) -> None:
        if isinstance(v, dict) and v:
            for k, sub in v.items():
                walk(f"{prefix}.{k}" if prefix else k, sub)
        else:
            rows.append((prefix, v))

    walk("", a)
    given = _given_assumptions(ctx.workload)
    df = pd.DataFrame(
        [
            (
                k.replace("_", " ").replace(".", " · "),
                v,
                "workload file" if any(k == g or k.startswith(g + ".") for g in given) else "default",
            )
            for k, v in rows
        ],
        columns=["assumption", "value", "from"],
    )
    note = f"Region {ctx.workload.region}, {ctx.workload.zones} zones."
    t = table_view(
        df,
        {"value": "text"},
        why={"value": "not set: the model's default applies"},
        note=note,
        collapsed=len(df) > 15,
        summary=f"Show all {len(df)} assumptions",
    )
    warnings = list(ctx.result.warnings)
    return show("assumptions.html.j2", t=t, warnings=warnings, labor=labor_view(ctx))


def labor_table(ctx: ReportContext) -> HTML:
    """The labour table on its own (hours, FTE, monthly USD per platform, rate and source)."""
    t = labor_view(ctx)
    return show("table.html.j2", t=t) if t is not None else HTML("")


def labor_view(ctx: ReportContext) -> dict | None:
    """Operating hours per month, FTE and monthly USD per platform, with the rate and their source."""
    lab = ctx.result.assumptions.get("labor", {})
    rows = [
        (_platform_label(ctx, pid), v["hours_per_month"], v["fte"], v["monthly_usd"], v["source"])
        for pid, v in lab.get("platforms", {}).items()
    ]
    if not rows:
        return None
    df = pd.DataFrame(rows, columns=["platform", "hours", "fte", "usd", "source"])
    note = (
        f"Labour: ${lab.get('hourly_rate_usd', 0):,.0f} per hour; FTE = hours ÷ "
        f"{lab.get('hours_per_fte_month', 0):.1f} h ({lab.get('hours_per_fte_month_source', '')})."
    )
    return table_view(
        df, {"hours": "num", "fte": "num", "usd": "usd"},
        {"hours": "Hours / month", "fte": "FTE", "usd": "Labour / month"}, note=note, wide=("source",),
    )  # fmt: skip


def _given_assumptions(wl: Workload) -> set[str]:
    out: set[str] = set()

    def walk(prefix: str, model) -> None:
        for name in getattr(model, "model_fields_set", set()):
            value = getattr(model, name)
            key = f"{prefix}.{name}" if prefix else name
            if hasattr(value, "model_fields_set") and value.model_fields_set:
                walk(key, value)
            else:
                out.add(key)

    walk("", wl.assumptions)
    return out


# --- plan -----------------------------------------------------------------------------------


PLAN_STATUS_COLUMNS = {"status", "check", "workload", "platform_status", "run", "result"}
PLAN_COLLAPSE_ROWS = 12


def plan_section(ctx: ReportContext, section: str) -> HTML:
    """A plan section (contract, capabilities, boundaries, cutover, duplicates, gates, recommendations)."""
    if ctx.plan is None:
        return show("note.html.j2", text="No plan evidence in this build.")
    tables = plan_tables(ctx.plan)
    if section not in tables:
        return show("note.html.j2", text=f"No {section} section.")
    df = tables[section]
    if df is None or len(df) == 0:
        return show("note.html.j2", text="Nothing to show.")
    df = df.map(lambda v: {"True": "yes", "False": "no"}.get(v, v) if isinstance(v, str) else v)  # str(bool) values
    kinds = {}
    candidates = set(ctx.plan.gates_by_candidate) | {ctx.plan.source_platform}
    for c in df.columns:
        if c in PLAN_STATUS_COLUMNS or (section in ("gates", "capabilities") and c in candidates):
            kinds[c] = "status"
        elif df[c].dtype == object:
            kinds[c] = "text"
    labels = {c: _platform_label(ctx, c) for c in df.columns if c in candidates}
    t = table_view(
        df,
        kinds,
        labels,
        collapsed=len(df) > PLAN_COLLAPSE_ROWS,
        search=len(df) > PLAN_COLLAPSE_ROWS,
        summary=f"Show all {len(df)} rows",
        wide=tuple(c for c in ("evidence", "reason", "reasons", "text", "entry_criteria", "formula") if c in df),
        why={c: "no evidence" for c in df.columns},
    )
    return show("table.html.j2", t=t)


def _platform_label(ctx: ReportContext, pid: str) -> str:
    p = _platform(ctx, pid)
    return p.name if p is not None else pid
