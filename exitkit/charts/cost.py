"""Cost charts: monthly cost by byte path, precomputed scenario sliders, tornado.

Inputs are plain data: the `exitkit cost` JSON (see docs/cost-model.md) and DataFrames of
precomputed scenarios. Nothing here prices anything; every number shown is one it was given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from exitkit.charts.theme import COLORWAY, TEMPLATE, new_figure, usd

# The byte paths of the cost model, in the order the stacks are drawn (bottom first).
PATHS = [
    "compute", "producer_ingress", "replication", "consumer_egress", "cross_zone",
    "private_connectivity", "storage", "requests", "backfill", "observability", "labor",
]  # fmt: skip
PATH_COLORS = {p: COLORWAY[i % len(COLORWAY)] for i, p in enumerate(PATHS)}
PATH_LABELS = {
    "compute": "Compute", "producer_ingress": "Producer ingress", "replication": "Replication",
    "consumer_egress": "Consumer egress", "cross_zone": "Cross-zone transfer",
    "private_connectivity": "Private connectivity", "storage": "Storage", "requests": "Requests",
    "backfill": "Backfill", "observability": "Observability", "labor": "Labour",
}  # fmt: skip
SCENARIO_RESERVED = ("platform", "name", "monthly_usd")
SCENARIO_LABELS = {
    "write_multiplier": "Write rate ×", "fan_out": "Read fan-out", "retention_days": "Retention (days)",
    "zone_aware_share": "Zone-aware consumers (share)", "labor_hours_scale": "Operating hours ×",
    "growth_years": "Years of traffic growth", "vendor_discount": "Vendor discount (share)",
}  # fmt: skip


def scenario_value(v) -> str:
    """Parameter value for labels: `3`, `0.25`, `true`."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return f"{v:g}" if isinstance(v, float) else str(v)


def cost_by_path(cost_json: Mapping | str, states: tuple[str, ...] = ("steady", "abnormal")) -> go.Figure:
    """Monthly cost per platform: steady state as horizontal bars stacked by byte path, abnormal
    state (amortized) as one bar per platform in a small panel beside it.

    `cost_json` is the `exitkit cost --format json` document (a dict or its text). Bars sum the
    platform's `lines` of each state; the label at each bar's end is that sum. One-time migration
    lines are not monthly and are left out (they are in `one_time_usd`). Legend names are the
    byte paths in words (`PATH_LABELS`); the legend sits under the chart, never clipped.
    """
    doc = json.loads(cost_json) if isinstance(cost_json, str) else cost_json
    platforms = doc["platforms"]
    names = [p.get("name") or p["platform"] for p in platforms]
    sums: dict[tuple[str, str, str], float] = {}
    unpriced: set[tuple[str, str]] = set()  # (platform, state) with a line nobody publishes a price for
    for p, name in zip(platforms, names, strict=True):
        for line in p["lines"]:
            if line["state"] in states:
                k = (name, line["state"], line["path"])
                sums[k] = sums.get(k, 0.0) + float(line["monthly_usd"])
                if line.get("unpriced"):
                    unpriced.add((name, line["state"]))
    steady_state, abnormal_state = states[0], states[1] if len(states) > 1 else None
    used = {path for (_, st, path) in sums if st == steady_state}
    paths = [p for p in PATHS if p in used] + sorted(used - set(PATHS))
    currency = doc.get("currency", "USD")
    fig = make_subplots(
        rows=1, cols=2, shared_yaxes=True, column_widths=[0.78, 0.22], horizontal_spacing=0.03,
        subplot_titles=["Steady state", "Abnormal (amortized)"],
    )  # fmt: skip
    for path in paths:
        xs = [sums.get((n, steady_state, path), 0.0) for n in names]
        label = PATH_LABELS.get(path, path)
        fig.add_trace(
            go.Bar(
                y=names, x=xs, orientation="h", name=label, legendgroup=path, meta=path,
                marker=dict(color=PATH_COLORS.get(path, COLORWAY[len(fig.data) % len(COLORWAY)])),
                customdata=[[n, usd(v)] for n, v in zip(names, xs, strict=True)],
                hovertemplate="%{customdata[0]}<br>" + label + ": %{customdata[1]} per month<extra></extra>",
            ),
            row=1, col=1,
        )  # fmt: skip
    steady = [sum(sums.get((n, steady_state, p), 0.0) for p in paths) for n in names]
    abnormal = [sum(v for (n2, st, _), v in sums.items() if n2 == n and st == abnormal_state) for n in names]
    fig.add_trace(
        go.Scatter(
            y=names, x=steady, mode="text", textposition="middle right",
            text=[f"needs quote (≥ {usd(t)})" if (n, steady_state) in unpriced else usd(t)
                  for n, t in zip(names, steady, strict=True)],
            name="total", showlegend=False, hoverinfo="skip", cliponaxis=False,
        ),
        row=1, col=1,
    )  # fmt: skip
    fig.add_trace(
        go.Bar(
            y=names, x=abnormal, orientation="h", name="Abnormal state (all paths)", meta="abnormal",
            marker=dict(color="#9aa5b1"), textposition="outside", cliponaxis=False,
            text=[f"needs quote (≥ {usd(t)})" if (n, abnormal_state) in unpriced else usd(t)
                  for n, t in zip(names, abnormal, strict=True)],
            hovertemplate="%{y}: %{text} per month (abnormal)<extra></extra>", showlegend=False,
        ),
        row=1, col=2,
    )  # fmt: skip
    legend_rows = -(-len(paths) // 4)
    height = 130 + 44 * len(names) + 26 * legend_rows
    margin_b = 80 + 26 * legend_rows
    plot_h = height - 90 - margin_b
    fig.update_layout(
        template=TEMPLATE,
        title=dict(text=f"Monthly cost by byte path: {doc.get('workload', '')}".rstrip(": ")),
        barmode="stack",
        height=height,
        margin=dict(t=90, l=10, r=30, b=margin_b),
        # below the axis title (about 60 px under the plot area), never over it
        legend=dict(title=dict(text="Byte path "), orientation="h", x=0, xanchor="left", y=-70 / plot_h,
                    yanchor="top", traceorder="normal"),
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed", automargin=True, row=1, col=1)
    peak = max(steady, default=0) or 1
    fig.update_xaxes(tickprefix="$", tickformat=",.0f", range=[0, peak * 1.2], title=dict(text=f"{currency} per month"),
                     row=1, col=1)  # fmt: skip
    fig.update_xaxes(tickprefix="$", tickformat=",.0f", range=[0, (max(abnormal, default=0) or 1) * 1.8], nticks=3,
                     row=1, col=2)  # fmt: skip
    return fig


def cumulative_cost(
    series: Mapping[str, list[float]],
    names: Mapping[str, str],
    today: str,
    candidate: str | None,
    payback_month: int | None = None,
) -> go.Figure:
    """Cumulative cost over the months (month 0 = the one-time migration) for today's platform
    and each candidate; the recommended candidate drawn bold, its payback month marked."""
    fig = new_figure(
        title=dict(text="Cumulative cost over three years"),
        yaxis=dict(title=dict(text="USD, cumulative"), tickprefix="$", tickformat=",.0f", rangemode="tozero"),
        xaxis=dict(title=dict(text="month"), dtick=6),
        legend=dict(orientation="h", x=0, y=-0.22, yanchor="top"),
        height=470,
        margin=dict(t=80, b=120),
    )
    for pid, ys in series.items():
        bold = pid in (today, candidate)
        fig.add_trace(
            go.Scatter(
                x=list(range(len(ys))), y=ys, mode="lines", name=names.get(pid, pid) + (" (today)" if pid == today else ""),
                line=dict(width=3 if bold else 1, dash=None if bold else "dot",
                          color="#323f4b" if pid == today else None if bold else "#bcccdc"),
                hovertemplate="month %{x}: %{y:$,.0f}<extra>" + names.get(pid, pid) + "</extra>",
            )
        )  # fmt: skip
    if candidate is not None and payback_month is not None and payback_month < len(series.get(candidate, [])):
        y = series[candidate][payback_month]
        fig.add_trace(
            go.Scatter(
                x=[payback_month], y=[y], mode="markers", name=f"pays back in month {payback_month}",
                marker=dict(size=12, color="#207227", symbol="diamond"),
                hovertemplate="pays back in month %{x}<extra></extra>",
            )
        )  # fmt: skip
    return fig


def scenario_params(scenarios_df: pd.DataFrame) -> list[str]:
    """Parameter columns of a scenarios frame: every column but platform, name, monthly_usd."""
    return [c for c in scenarios_df.columns if c not in SCENARIO_RESERVED]


def base_values(scenarios_df: pd.DataFrame, params: list[str] | None = None) -> dict:
    """The base value of each parameter: the one most rows hold.

    In a one-at-a-time sweep every other parameter's rows carry the base value, so it is the
    most frequent. A tie (e.g. a full grid) is ambiguous: pass `base=` explicitly.
    """
    out = {}
    for p in params or scenario_params(scenarios_df):
        counts = scenarios_df[p].value_counts()
        if len(counts) > 1 and counts.iloc[0] == counts.iloc[1]:
            raise ValueError(f"cannot tell the base value of {p!r} (tie between {counts.index[0]!r} and "
                             f"{counts.index[1]!r}); pass base={{...}}")  # fmt: skip
        out[p] = counts.index[0]
    return out


def _sweeps(scenarios_df: pd.DataFrame, base: Mapping | None) -> tuple[list[str], dict, dict[str, pd.DataFrame]]:
    """Parameters, base values and, per parameter, its rows with the others at base."""
    params = scenario_params(scenarios_df)
    if not params:
        raise ValueError("scenarios need at least one parameter column besides platform and monthly_usd")
    base = dict(base) if base is not None else base_values(scenarios_df, params)
    missing = [p for p in params if p not in base]
    if missing:
        raise ValueError(f"base has no value for {missing}")
    sweeps = {}
    for p in params:
        mask = pd.Series(True, index=scenarios_df.index)
        for q in params:
            if q != p:
                mask &= scenarios_df[q] == base[q]
        rows = scenarios_df[mask]
        if not (rows[p] == base[p]).any():
            raise ValueError(f"no scenario has every parameter at its base value {base}")
        sweeps[p] = rows
    return params, base, sweeps


def _platform_totals(rows: pd.DataFrame, platforms: list[str]) -> list[float | None]:
    dup = rows["platform"].duplicated()
    if dup.any():
        raise ValueError(f"two scenarios for platform {rows['platform'][dup].iloc[0]!r} with the same parameters")
    by = dict(zip(rows["platform"], rows["monthly_usd"], strict=True))
    return [float(by[p]) if p in by and not pd.isna(by[p]) else None for p in platforms]


def scenario_text(state: Mapping, platforms: list[str], totals: list[float | None]) -> str:
    """The annotation shown for one scenario: its parameters, then each platform's total."""
    params = ", ".join(f"{SCENARIO_LABELS.get(k, k)} {scenario_value(v)}" for k, v in state.items())
    money = " · ".join(f"{p} {usd(t)}" for p, t in zip(platforms, totals, strict=True))
    return f"{params}<br>monthly total: {money}"


def scenario_slider(scenarios_df: pd.DataFrame, base: Mapping | None = None) -> go.Figure:
    """Monthly cost per platform under precomputed scenarios, with one Plotly-native slider
    per parameter: works in static HTML, no kernel.

    `scenarios_df`: one row per (scenario, platform) with the parameter columns (e.g.
    write_multiplier, fan_out, retention_days, zone_aware_share), `platform` and `monthly_usd`.
    The scenarios are one-at-a-time sweeps around `base` (default: each parameter's most
    frequent value). A plotly slider step sets one full state, so a slider moves its own
    parameter with every other parameter at base, and its steps also put the other sliders
    back on their base step: what the sliders show is always the state the bars show.
    Each step updates the bars (y, text) and `layout.annotations[0]`, whose text names the
    state and every platform's total.
    """
    params, base, sweeps = _sweeps(scenarios_df, base)
    platforms = list(dict.fromkeys(scenarios_df["platform"]))
    base_rows = sweeps[params[0]][sweeps[params[0]][params[0]] == base[params[0]]]
    base_totals = _platform_totals(base_rows, platforms)

    steps_by_param: dict[str, list[tuple]] = {}
    for p in params:
        rows = sweeps[p]
        values = sorted(rows[p].unique())
        steps_by_param[p] = [(v, _platform_totals(rows[rows[p] == v], platforms)) for v in values]
    base_index = {p: [v for v, _ in steps_by_param[p]].index(base[p]) for p in params}

    slider_h = 85  # px per slider, below the plot
    margin_t, margin_b = 100, 60 + slider_h * len(params)
    height = 450 + slider_h * len(params)
    plot_h = height - margin_t - margin_b
    sliders = []
    for i, p in enumerate(params):
        steps = []
        for v, totals in steps_by_param[p]:
            state = {**base, p: v}
            layout_args = {"annotations[0].text": scenario_text(state, platforms, totals)}
            for j, q in enumerate(params):
                if j != i:  # the other sliders go back to base with the bars
                    layout_args[f"sliders[{j}].active"] = base_index[q]
            steps.append(
                dict(
                    method="update", label=scenario_value(v),
                    args=[{"y": [totals], "text": [[usd(t) for t in totals]]}, layout_args, [0]],
                )
            )  # fmt: skip
        sliders.append(
            dict(
                active=base_index[p], steps=steps, currentvalue=dict(prefix=f"{SCENARIO_LABELS.get(p, p)}: "), name=p,
                x=0, len=1, xanchor="left", y=-(50 + slider_h * i) / plot_h, yanchor="top", pad=dict(t=0, b=0),
            )
        )  # fmt: skip

    fig = new_figure(
        title=dict(text="Monthly cost by platform under precomputed scenarios"),
        yaxis=dict(title=dict(text="USD per month"), tickprefix="$", tickformat=",.0f", rangemode="tozero"),
        height=height,
        margin=dict(t=margin_t, b=margin_b),
        sliders=sliders,
        showlegend=False,
    )
    peak = max((t for steps in steps_by_param.values() for _, ts in steps for t in ts if t is not None), default=1)
    fig.update_yaxes(range=[0, peak * 1.15])  # fixed range: bars move, the axis does not
    fig.add_trace(
        go.Bar(
            x=platforms, y=base_totals, text=[usd(t) for t in base_totals], textposition="outside",
            marker=dict(color=[COLORWAY[i % len(COLORWAY)] for i in range(len(platforms))]),
            hovertemplate="%{x}: %{text} per month<extra></extra>", name="monthly total",
        )
    )  # fmt: skip
    fig.add_annotation(
        name="scenario_total", text=scenario_text(base, platforms, base_totals), xref="paper", yref="paper",
        x=0, y=1.0, xanchor="left", yanchor="bottom", align="left", showarrow=False,
    )  # fmt: skip
    return fig


STATE_PER_LINE, PLATFORMS_PER_LINE = 4, 3  # the annotation wraps so it never runs off the right edge


def combined_text(state: Mapping, platforms: list[str], totals: list[float | None]) -> str:
    """The annotation of the combined-slider chart: the state, then each platform's total
    ("needs quote" where an unpriced line leaves it unknown), wrapped to fit the chart's width.
    The report's script writes the same text when a slider moves
    (exitkit/report/templates/report/scenarios.js.j2)."""
    said = [f"{SCENARIO_LABELS.get(k, k)} {scenario_value(v)}" for k, v in state.items()]
    money = [f"{p} {usd(t) if t is not None else 'needs quote'}" for p, t in zip(platforms, totals, strict=True)]
    lines = [", ".join(said[i : i + STATE_PER_LINE]) for i in range(0, len(said), STATE_PER_LINE)]
    lines += [
        ("monthly total: " if i == 0 else "") + " · ".join(money[i : i + PLATFORMS_PER_LINE])
        for i in range(0, len(money), PLATFORMS_PER_LINE)
    ]
    return "<br>".join(lines)


def _text_lines(n_state: int, n_platforms: int) -> int:
    return -(-n_state // STATE_PER_LINE) + -(-n_platforms // PLATFORMS_PER_LINE)


def scenario_explorer(space) -> go.Figure:
    """Monthly cost per platform with one slider per assumption that *combine*: each slider
    moves its own assumption and the others stay where they are.

    `space` is an `exitkit.cost.space.ScenarioSpace` (every combination, precomputed). A plotly
    slider step can only set one fixed state, so the steps here do nothing themselves
    (`method="skip"`): the report's script listens to `plotly_sliderchange` and redraws the bars
    and the annotation from the space (the same sum as `ScenarioSpace.total`). Drawn alone
    (no script, e.g. in JupyterLab) the chart shows the base; `notebook.CostSliders` is the
    kernel-backed equivalent there.
    """
    params = list(space.values)  # slider order
    platforms = list(space.platforms)
    base_totals = [space.total(p) for p in platforms]
    slider_h = 70  # px per slider, below the plot
    text_h = 18 * _text_lines(len(params), len(platforms))  # the wrapped annotation, above the plot
    margin_t, margin_b = 64 + text_h, 60 + slider_h * len(params)  # title on top, then the text
    height = 390 + text_h + slider_h * len(params)
    plot_h = height - margin_t - margin_b
    sliders = []
    for i, p in enumerate(params):
        values = space.values[p]
        sliders.append(
            dict(
                active=values.index(space.base[p]), name=p, x=0, len=1, xanchor="left",
                y=-(50 + slider_h * i) / plot_h, yanchor="top", pad=dict(t=0, b=0),
                currentvalue=dict(prefix=f"{SCENARIO_LABELS.get(p, p)}: "),
                steps=[dict(method="skip", label=scenario_value(v), value=str(j), args=[None]) for j, v in enumerate(values)],
            )
        )  # fmt: skip
    fig = new_figure(
        title=dict(
            text="Monthly cost by platform: move any assumption, the others stay",
            yref="container",
            y=1,
            yanchor="top",
            pad=dict(t=12),
        ),  # fmt: skip
        yaxis=dict(title=dict(text="USD per month"), tickprefix="$", tickformat=",.0f", rangemode="tozero"),
        height=height,
        margin=dict(t=margin_t, b=margin_b),
        sliders=sliders,
        showlegend=False,
    )
    # the axis fits the state shown (the page's script refits it on every move): a fixed axis over
    # every combination would flatten the bars to a sliver at the workload's own values
    fig.update_yaxes(range=[0, max((t for t in base_totals if t is not None), default=1) * 1.15])
    fig.add_trace(
        go.Bar(
            x=platforms, y=base_totals, text=[usd(t) if t is not None else "needs quote" for t in base_totals],
            textposition="outside", marker=dict(color=[COLORWAY[i % len(COLORWAY)] for i in range(len(platforms))]),
            hovertemplate="%{x}: %{text} per month<extra></extra>", name="monthly total",
        )
    )  # fmt: skip
    fig.add_annotation(
        name="scenario_total", text=combined_text(space.base, platforms, base_totals), xref="paper", yref="paper",
        x=0, y=1.0, xanchor="left", yanchor="bottom", align="left", showarrow=False,
    )  # fmt: skip
    return fig


def tornado_from_scenarios(scenarios_df: pd.DataFrame, base: Mapping | None = None) -> pd.DataFrame:
    """Tornado input from one-at-a-time scenarios: per (platform, parameter) the monthly total
    at the parameter's lowest and highest swept value, others at base."""
    params, base, sweeps = _sweeps(scenarios_df, base)
    rows = []
    for p in params:
        s = sweeps[p]
        lo, hi = s[p].min(), s[p].max()
        for platform, g in s.groupby("platform", sort=False):
            at = dict(zip(g[p], g["monthly_usd"], strict=True))
            rows.append(
                dict(
                    platform=platform, assumption=p, base_usd=at.get(base[p]), low_usd=at.get(lo),
                    high_usd=at.get(hi), low_label=f"{p}={scenario_value(lo)}", high_label=f"{p}={scenario_value(hi)}",
                )
            )  # fmt: skip
    return pd.DataFrame(rows)


def tornado(tornado_df: pd.DataFrame) -> go.Figure:
    """Assumption impact per platform: for each assumption, bars from the base monthly total
    to the total at its low and at its high value; the widest swing on top.

    `tornado_df` columns: platform, assumption, base_usd, low_usd, high_usd, and optionally
    low_label / high_label (e.g. "fan_out=1"). One panel per platform, shared assumption axis
    ordered by the largest |high − low| over platforms.
    """
    df = tornado_df.copy()
    for c in ("low_label", "high_label"):
        if c not in df:
            df[c] = "low" if c == "low_label" else "high"
    df["swing"] = (df["high_usd"] - df["low_usd"]).abs()
    order = df.groupby("assumption", sort=False)["swing"].max().sort_values(ascending=False, kind="stable")
    assumptions = order.index.tolist()
    platforms = list(dict.fromkeys(df["platform"]))
    frames, bases = {}, {}
    for platform in platforms:
        g = df[df["platform"] == platform].set_index("assumption").reindex(assumptions).dropna(subset=["base_usd"])
        frames[platform] = g
        bases[platform] = float(g["base_usd"].iloc[0]) if len(g) else 0.0
    # one panel per platform, stacked: full-width titles and axes never run into each other
    panel_h, gap = 40 + 26 * len(assumptions), 60
    plot_h = len(platforms) * panel_h + (len(platforms) - 1) * gap
    fig = make_subplots(
        rows=len(platforms), cols=1, subplot_titles=[f"{p} (base {usd(bases[p])} per month)" for p in platforms],
        vertical_spacing=gap / plot_h if len(platforms) > 1 else 0,
    )  # fmt: skip
    fig.update_layout(
        template=TEMPLATE,
        title=dict(text="Which assumptions move the monthly cost (low and high value vs base)"),
        barmode="overlay",
        height=plot_h + 190,
        margin=dict(t=100, b=90),
        legend=dict(orientation="h", x=0, xanchor="left", y=-50 / plot_h, yanchor="top"),
    )
    fig.update_yaxes(
        type="category", categoryorder="array", categoryarray=assumptions, autorange="reversed", automargin=True
    )
    fig.update_xaxes(tickprefix="$", tickformat=",.0f")
    for row, platform in enumerate(platforms, 1):
        g, base = frames[platform], bases[platform]
        for side, color in (("low", COLORWAY[5]), ("high", COLORWAY[3])):
            vals = g[f"{side}_usd"].astype(float)
            fig.add_trace(
                go.Bar(
                    y=g.index.tolist(), x=(vals - g["base_usd"].astype(float)).tolist(),
                    base=g["base_usd"].astype(float).tolist(), orientation="h", name=f"at {side} value",
                    legendgroup=side, showlegend=row == 1, marker=dict(color=color, opacity=0.85),
                    customdata=[[lab, usd(v), usd(v - b)] for lab, v, b in zip(g[f"{side}_label"], vals, g["base_usd"], strict=True)],
                    hovertemplate="%{customdata[0]}: %{customdata[1]} (%{customdata[2]} vs base)<extra></extra>",
                ),
                row=row, col=1,
            )  # fmt: skip
        fig.add_vline(x=base, line=dict(color="#444444", width=1), row=row, col=1)
    fig.update_xaxes(title=dict(text="USD per month"), row=len(platforms), col=1)
    return fig
