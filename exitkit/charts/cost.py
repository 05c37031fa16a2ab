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
SCENARIO_RESERVED = ("platform", "name", "monthly_usd")


def _fmt(v) -> str:
    """Parameter value for labels: `3`, `0.25`, `true`."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return f"{v:g}" if isinstance(v, float) else str(v)


def cost_by_path(cost_json: Mapping | str, states: tuple[str, ...] = ("steady", "abnormal")) -> go.Figure:
    """Monthly cost per platform, stacked by byte path, steady and abnormal side by side.

    `cost_json` is the `exitkit cost --format json` document (a dict or its text). Bars sum
    the platform's `lines` of each state; the label above each bar is that sum. One-time
    migration lines are not monthly and are left out (they are in `one_time_usd`).
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
    used = {path for (_, _, path) in sums}
    paths = [p for p in PATHS if p in used] + sorted(used - set(PATHS))
    x = [[n for n in names for _ in states], [s for _ in names for s in states]]
    fig = new_figure(
        title=dict(text=f"Monthly cost by byte path: {doc.get('workload', '')}".rstrip(": ")),
        barmode="stack",
        yaxis=dict(title=dict(text=f"{doc.get('currency', 'USD')} per month"), tickprefix="$", tickformat=",.0f"),
        xaxis=dict(title=dict(text="platform · state")),
        legend=dict(title=dict(text="byte path"), traceorder="reversed"),
    )
    for i, path in enumerate(paths):
        ys = [sums.get((n, s, path), 0.0) for n, s in zip(*x, strict=True)]
        fig.add_trace(
            go.Bar(
                x=x, y=ys, name=path, marker=dict(color=PATH_COLORS.get(path, COLORWAY[i % len(COLORWAY)])),
                customdata=[[n, s, usd(v)] for n, s, v in zip(*x, ys, strict=True)],
                hovertemplate="%{customdata[0]} · %{customdata[1]}<br>" + path
                + ": %{customdata[2]} per month<extra></extra>",
            )
        )  # fmt: skip
    totals = [sum(sums.get((n, s, p), 0.0) for p in paths) for n, s in zip(*x, strict=True)]
    fig.add_trace(
        go.Scatter(
            x=x, y=totals, mode="text", textposition="top center",
            text=[f"needs quote (≥ {usd(t)})" if (n, s) in unpriced else usd(t)
                  for n, s, t in zip(*x, totals, strict=True)],
            name="total", showlegend=False, hoverinfo="skip",
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
    params = ", ".join(f"{k}={_fmt(v)}" for k, v in state.items())
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
                    method="update", label=_fmt(v),
                    args=[{"y": [totals], "text": [[usd(t) for t in totals]]}, layout_args, [0]],
                )
            )  # fmt: skip
        sliders.append(
            dict(
                active=base_index[p], steps=steps, currentvalue=dict(prefix=f"{p}: "), name=p,
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
                    high_usd=at.get(hi), low_label=f"{p}={_fmt(lo)}", high_label=f"{p}={_fmt(hi)}",
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
    fig = make_subplots(rows=1, cols=len(platforms), shared_yaxes=True, subplot_titles=platforms,
                        horizontal_spacing=0.04)  # fmt: skip
    fig.update_layout(
        template=TEMPLATE,
        title=dict(text="Which assumptions move the monthly cost (low and high value vs base)"),
        barmode="overlay",
        height=max(320, 140 + 40 * len(assumptions)),
        legend=dict(orientation="h", y=-0.2),
    )
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=assumptions, autorange="reversed")
    fig.update_xaxes(tickprefix="$", tickformat=",.0f")
    for col, platform in enumerate(platforms, 1):
        g = df[df["platform"] == platform].set_index("assumption").reindex(assumptions).dropna(subset=["base_usd"])
        base = float(g["base_usd"].iloc[0]) if len(g) else 0.0
        for side, color in (("low", COLORWAY[5]), ("high", COLORWAY[3])):
            vals = g[f"{side}_usd"].astype(float)
            fig.add_trace(
                go.Bar(
                    y=g.index.tolist(), x=(vals - g["base_usd"].astype(float)).tolist(),
                    base=g["base_usd"].astype(float).tolist(), orientation="h", name=f"at {side} value",
                    legendgroup=side, showlegend=col == 1, marker=dict(color=color, opacity=0.85),
                    customdata=[[lab, usd(v), usd(v - b)] for lab, v, b in zip(g[f"{side}_label"], vals, g["base_usd"], strict=True)],
                    hovertemplate="%{customdata[0]}: %{customdata[1]} (%{customdata[2]} vs base)<extra></extra>",
                ),
                row=1, col=col,
            )  # fmt: skip
        fig.add_vline(x=base, line=dict(color="#444444", width=1), row=1, col=col)
        fig.update_xaxes(title=dict(text=f"USD per month (base {usd(base)})"), row=1, col=col)
    return fig
