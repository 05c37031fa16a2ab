"""What the report notebook shows, section by section, as display objects.

The notebook stays thin: each cell calls one function here. Every dynamic text is
HTML-escaped here (pandas `to_html(escape=True)` or `html.escape`), never in the notebook.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from IPython.display import HTML

from exitkit.charts import cost_by_path, scenario_slider
from exitkit.cost.adapter import (
    NEEDS_QUOTE,
    WorkloadCost,
    incomplete_platforms,
    lines_frame,
    quoted_frame,
    totals_frame,
    workload_cost,
)
from exitkit.cost.analysis import project, scenario_sweeps
from exitkit.cost.cash_flow import projection_rows
from exitkit.demo import resolve_workload
from exitkit.errors import ExitkitError
from exitkit.plan import build_plan, plan_tables
from exitkit.prices import catalog_frame
from exitkit.profile.topics import topic_profile
from exitkit.store import open_store
from exitkit.units import human_bytes, human_rate
from exitkit.workload.loader import load_workload
from exitkit.workload.model import Workload

PATH_LABELS = {
    "compute": "Compute", "producer_ingress": "Producer ingress", "replication": "Replication",
    "consumer_egress": "Consumer egress", "cross_zone": "Cross-zone transfer",
    "private_connectivity": "Private connectivity", "storage": "Storage", "requests": "Requests",
    "backfill": "Backfill", "observability": "Observability", "labor": "Labour",
}  # fmt: skip


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


def headline(ctx: ReportContext) -> dict:
    """Today's cost, the cheapest candidate, savings, migration, 3-year totals, recommendation."""
    totals = totals_frame(ctx.result)
    today = totals[totals.today].iloc[0] if totals.today.any() else None
    cands = _priced_candidates(ctx)
    cheapest = cands.iloc[0] if len(cands) else None
    three_year = {}
    for r in ctx.projection:
        if r["year"] == 3:
            three_year[r["platform"]] = None if r.get("incomplete") else r["cumulative_usd"]
    cf = ctx.result.cash_flows.get(cheapest.platform) if cheapest is not None else None
    today_usd = ctx.result.today_usd() if today is not None else None  # the baseline: bill or model
    savings = None if today_usd is None or cheapest is None else float(today_usd - cheapest.total_usd)
    rec = recommendation(ctx)
    return {
        "today_platform": None if today is None else today.platform,
        "today_monthly_usd": today_usd,
        "today_baseline": ctx.result.baseline,
        "cheapest": None if cheapest is None else cheapest.platform,
        "cheapest_monthly_usd": None if cheapest is None else float(cheapest.total_usd),
        "monthly_savings_usd": savings,
        "migration_usd": None if cheapest is None else float(cheapest.migration_usd),
        "payback_month": None if cf is None else cf.payback_month,
        "payback": None if cf is None else cf.payback_label,
        "three_year_usd": three_year,
        "recommendation": rec["decision"],
        "recommendation_reason": rec["reason"],
        "gates": gates(ctx),
    }


def _priced_candidates(ctx: ReportContext) -> pd.DataFrame:
    """Candidates by total, cheapest first, leaving out those with unpriced lines (lower bounds)."""
    totals = totals_frame(ctx.result)
    incomplete = incomplete_platforms(ctx.cost)
    return totals[~totals.today & ~totals.platform.isin(list(incomplete))].sort_values("total_usd")


def recommendation(ctx: ReportContext) -> dict:
    """The workload's recommendation: the best plan decision over its candidates.

    *move* to a candidate whose gates all pass beats *fix first*, which beats *stay*; among
    candidates with the same decision the cheapest (fully priced first) is named. Without a
    plan, a cost-only reading that says the gates were not assessed.
    """
    totals = totals_frame(ctx.result)
    incomplete = incomplete_platforms(ctx.cost)
    cost_rank = {
        p: (p in incomplete, t) for p, t in zip(totals.platform, totals.total_usd, strict=True)
    }  # priced first, then cheapest
    if ctx.plan is not None:
        recs = ctx.plan.to_dict().get("recommendations", {})
        for decision in ("move", "fix first", "stay"):
            picks = sorted(
                (cost_rank.get(c, (True, float("inf"))), c) for c, r in recs.items() if r["decision"] == decision
            )
            if picks:
                cand = picks[0][1]
                label = "stay" if decision == "stay" else f"{decision}: {cand}"
                return {"decision": label, "candidate": cand, "reason": "; ".join(recs[cand].get("reasons", []))}
    cands = _priced_candidates(ctx)
    if not len(cands):
        return {"decision": "stay", "candidate": None, "reason": "no fully priced candidate"}
    today = totals[totals.today]
    if len(today) and cands.iloc[0].total_usd >= ctx.result.today_usd():
        return {"decision": "stay", "candidate": None, "reason": "no candidate is cheaper than today's platform"}
    best = cands.iloc[0].platform
    return {
        "decision": f"evaluate: {best}",
        "candidate": best,
        "reason": "cheapest candidate; readiness gates not assessed",
    }


def gates(ctx: ReportContext) -> dict[str, str]:
    if ctx.plan is None:
        return {}
    return {k: v["status"] for k, v in ctx.plan.to_dict().get("gates", {}).items()}


def _usd(v: float | str | None) -> str:
    if isinstance(v, str):  # "needs quote"
        return v
    return "—" if v is None or v != v else f"${v:,.0f}"


def summary_cards(ctx: ReportContext) -> HTML:
    h = headline(ctx)
    e = html.escape
    three = h["three_year_usd"]
    cards = [
        ("Recommendation", h["recommendation"], h["recommendation_reason"]),
        (
            f"Today ({h['today_platform'] or '—'})",
            _usd(h["today_monthly_usd"]) + " / month",
            "actual bill, allocated" if h.get("today_baseline") == "actual" else "steady + abnormal",
        ),
        (
            f"Cheapest candidate ({h['cheapest'] or '—'})",
            _usd(h["cheapest_monthly_usd"]) + " / month",
            "steady + abnormal",
        ),
        ("Monthly savings vs today", _usd(h["monthly_savings_usd"]), "today − cheapest candidate"),
        (
            "One-time migration",
            _usd(h["migration_usd"]),
            f"source kept during the dual run + tool + labour; payback: {h['payback'] or '—'}",
        ),
        (
            "3-year total (cheapest)",
            _usd(three.get(h["cheapest"])),
            f"today: {_usd(three.get(h['today_platform']))}, with growth",
        ),
    ]
    body = "".join(
        f'<div class="ek-card"><div class="k">{e(k)}</div><div class="v">{e(v)}</div><div class="ek-meta">{e(m)}</div></div>'
        for k, v, m in cards
    )
    title = e(ctx.workload.display_title)
    missing = ctx.result.missing_prices()
    quote = ""
    if missing:  # said at the top: which totals are not numbers, and how to supply the price
        keys = sorted({k for ks in missing.values() for k in ks})
        quote = (
            f"<p class='ek-meta'><b>Needs quote:</b> {e(', '.join(missing))} — no published price for "
            f"{e(', '.join(keys))}; these totals are not ranked. Add your quote to the workload's "
            f"<code>prices:</code> (e.g. <code>prices: {{{e(keys[0])}: …}}</code>).</p>"
        )
    return HTML(f'<h2 style="margin-top:0">{title}</h2>{quote}<div class="ek-cards">{body}</div>')


def totals_table(ctx: ReportContext) -> HTML:
    df = quoted_frame(totals_frame(ctx.result))[
        ["platform", "name", "today", "steady_usd", "abnormal_usd", "total_usd", "migration_usd"]
    ]
    incomplete = incomplete_platforms(ctx.cost)
    df.insert(2, "role", df.pop("today").map({True: "today", False: "candidate"}))
    df["role"] = [
        r + (" — needs quote: no published price for " + ", ".join(incomplete[p]) if p in incomplete else "")
        for r, p in zip(df.role, df.platform, strict=True)
    ]
    show = df.rename(
        columns={
            "platform": "Platform",
            "name": "Name",
            "role": "Role",
            "steady_usd": "Steady / month",
            "abnormal_usd": "Abnormal / month",
            "total_usd": "Total / month",
            "migration_usd": "One-time migration",
        }
    )
    return HTML(
        show.to_html(
            index=False,
            escape=True,
            formatters={c: _usd for c in show.columns if "/" in c or "One-time" in c},
            classes="ek-table",
        )
    )


def projection_table(ctx: ReportContext) -> HTML:
    df = pd.DataFrame(ctx.projection)
    if df.empty:
        return HTML("")
    wide = df.pivot(index="platform", columns="year", values="cumulative_usd").astype(object)
    wide.columns = [f"Cumulative, year {c}" for c in wide.columns]
    if "incomplete" in df:
        for pid in df[df.incomplete.fillna(False).astype(bool)].platform.unique():
            wide.loc[pid] = NEEDS_QUOTE
    wide = wide.reindex([p.platform for p in ctx.result.platforms])
    g = ctx.cost.inputs.assumptions.growth_per_year
    return HTML(
        f"<p class='ek-meta'>Traffic grows {g:.0%} a year, compounded; year 1 holds the dual run "
        "(today's platform kept beside the candidate) and the one-time migration; the candidate's "
        "run is counted once, from month 1.</p>" + wide.to_html(escape=True, formatters={c: _usd for c in wide.columns})
    )


# --- traffic --------------------------------------------------------------------------------


def traffic_summary(ctx: ReportContext) -> HTML:
    p = ctx.cost.profile
    prov = p.provenance or {}
    rows = [
        ("Topics", str(len(p.topics)) if p.topics else "— (what-if)", None),
        ("Write rate, mean", human_rate(p.write_bytes_per_s_mean), "write_rate"),
        ("Write rate, p95", human_rate(p.write_bytes_per_s_p95), "write_p95"),
        ("Write rate, peak", human_rate(p.write_bytes_per_s_peak), "write_peak"),
        ("Read fan-out", "—" if p.fan_out is None else f"{p.fan_out:.2f}", "fan_out"),
        ("Retention", "—" if p.retention_s is None else f"{p.retention_s / 86400:g} days", "retention"),
        ("Retained (one copy)", human_bytes(p.retained_bytes), "retained"),
        ("Partitions", "—" if p.partitions is None else f"{p.partitions:,}", "partitions"),
        ("Dominant driver", p.driver or "—", None),
    ]
    e = html.escape
    body = "".join(
        f"<tr><td>{e(k)}</td><td class='num'>{e(v)}</td><td class='ek-meta'>{e(prov.get(f, 'measured') if f else '')}</td></tr>"
        for k, v, f in rows
    )
    notes = "".join(f"<li>{e(n)}</li>" for n in ctx.cost.notes)
    window = ""
    if p.observed_from is not None:
        window = f"<p class='ek-meta'>Observed {e(str(p.observed_from))} → {e(str(p.observed_to))} UTC, coverage {p.coverage or 0:.0%}.</p>"
    return HTML(
        f"<table><thead><tr><th>Traffic</th><th class='num'>Value</th><th>Source</th></tr></thead><tbody>{body}</tbody></table>{window}"
        + (f"<ul class='ek-meta'>{notes}</ul>" if notes else "")
    )


# --- cost -----------------------------------------------------------------------------------


def cost_by_path_figure(ctx: ReportContext):

    return cost_by_path(ctx.result.to_dict())


def cost_drivers(ctx: ReportContext) -> HTML:
    """For each platform, the byte paths that make up most of its steady cost."""
    lines = lines_frame(ctx.result)
    steady = lines[lines.state == "steady"].groupby(["platform", "path"], as_index=False)["monthly_usd"].sum()
    e = html.escape
    items = []
    for pid in [p.platform for p in ctx.result.platforms]:
        rows = steady[steady.platform == pid].sort_values("monthly_usd", ascending=False)
        total = rows.monthly_usd.sum()
        if total <= 0:
            continue
        top = [f"{PATH_LABELS.get(r.path, r.path)} {r.monthly_usd / total:.0%}" for r in rows.head(3).itertuples()]
        items.append(f"<li><b>{e(pid)}</b>: {e(', '.join(top))}</li>")
    return HTML(f"<ul>{''.join(items)}</ul>")


def scenarios_figure(ctx: ReportContext):
    """Plotly-native sliders over precomputed one-at-a-time scenarios (work without a kernel)."""

    rows = scenario_sweeps(ctx.cost.inputs, ctx.cost.catalog, list(ctx.workload.candidates))
    return scenario_slider(pd.DataFrame(rows))


def cost_lines_tables(ctx: ReportContext) -> HTML:
    """Every line: quantity × unit price = monthly USD, with the price's catalog key and source."""
    df = lines_frame(ctx.result)
    parts = []
    for p in ctx.result.platforms:
        sub = df[df.platform == p.platform][
            ["state", "path", "item", "quantity", "unit", "unit_price", "monthly_usd", "payee", "price_key", "source"]
        ]
        sub = sub.rename(columns={"monthly_usd": "USD", "unit_price": "unit price", "price_key": "price key"})
        table = sub.to_html(
            index=False,
            escape=True,
            formatters={
                "quantity": lambda v: f"{v:,.2f}",
                "unit price": lambda v: f"${v:,.6g}",
                "USD": lambda v: f"${v:,.2f}",
            },
        )
        label = f"{p.platform} — {p.name}" + (" (today)" if p.today else "")
        total = NEEDS_QUOTE if p.monthly_incomplete else _usd(p.total_usd)
        once = NEEDS_QUOTE if p.migration_incomplete else _usd(p.migration_usd)
        parts.append(
            f"<details open><summary><b>{html.escape(label)}</b>: {total} / month, one-time {once}</summary>{table}</details>"
        )
    return HTML("".join(parts))


def prices_used(ctx: ReportContext) -> HTML:

    df = catalog_frame(ctx.cost.catalog, ctx.result.price_keys())
    cols = [c for c in ("key", "value", "unit", "region", "as_of", "source", "overridden") if c in df]
    return HTML(df[cols].to_html(index=False, escape=True))


def assumptions_table(ctx: ReportContext) -> HTML:
    a = ctx.workload.assumptions.model_dump(mode="json")
    rows = []

    def walk(prefix: str, v) -> None:
        if isinstance(v, dict):
            for k, sub in v.items():
                walk(f"{prefix}.{k}" if prefix else k, sub)
        else:
            rows.append((prefix, v))

    walk("", a)
    given = _given_assumptions(ctx.workload)
    df = pd.DataFrame(
        [
            (k, v, "workload file" if any(k == g or k.startswith(g + ".") for g in given) else "default")
            for k, v in rows
        ],
        columns=["assumption", "value", "from"],
    )
    meta = f"<p class='ek-meta'>Region {html.escape(ctx.workload.region)}, {ctx.workload.zones} zones. Warnings: {html.escape('; '.join(ctx.result.warnings) or 'none')}.</p>"
    return HTML(meta + df.to_html(index=False, escape=True) + labor_table(ctx).data)


def labor_table(ctx: ReportContext) -> HTML:
    """Operating hours per month, FTE and monthly USD per platform, with the rate and their source."""
    lab = ctx.result.assumptions.get("labor", {})
    rows = [
        (pid, v["hours_per_month"], round(v["fte"], 2), _usd(v["monthly_usd"]), v["source"])
        for pid, v in lab.get("platforms", {}).items()
    ]
    df = pd.DataFrame(rows, columns=["platform", "hours / month", "FTE", "labour / month", "source"])
    meta = (
        f"<p class='ek-meta'>Labour: {_usd(lab.get('hourly_rate_usd'))} per hour; FTE = hours ÷ "
        f"{lab.get('hours_per_fte_month', 0):.1f} h ({html.escape(lab.get('hours_per_fte_month_source', ''))}).</p>"
    )
    return HTML(meta + df.to_html(index=False, escape=True))


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


def plan_section(ctx: ReportContext, section: str) -> HTML:
    """A plan section (contract, capabilities, boundaries, cutover, duplicates, gates, recommendations)."""
    if ctx.plan is None:
        return HTML("<p class='ek-meta'>No plan evidence in this build.</p>")

    tables = plan_tables(ctx.plan)
    if section not in tables:
        return HTML(f"<p class='ek-meta'>No {html.escape(section)} section.</p>")
    df = tables[section]
    if df is None or len(df) == 0:
        return HTML("<p class='ek-meta'>Nothing to show.</p>")
    return HTML(_badges(df.to_html(index=False, escape=True)))


def _badges(table_html: str) -> str:
    for status in ("pass", "fail", "no_evidence"):
        table_html = table_html.replace(
            f"<td>{status}</td>", f'<td><span class="ek-badge ek-{status}">{status.replace("_", " ")}</span></td>'
        )
    return table_html
