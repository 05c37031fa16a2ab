"""Per-topic charts from `topic_profile` rows and `topic_rate_series` frames.

Inputs are the profile's documented frames: a profile frame has PROFILE_COLUMNS (unknown is
None), a series frame has cluster, topic, metric, ts_start, ts_end (naive UTC), dur, value
(per second over [ts_start, ts_end)). Unknown values are left out or drawn as gaps, never 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from exitkit.charts.theme import (
    ASSUMED_FILL,
    COLORWAY,
    READ_COLOR,
    TEMPLATE,
    WRITE_COLOR,
    bytes_unit,
    human_rates,
    human_sizes,
    new_figure,
    pick_unit,
    rate_unit,
    scaled,
)
from exitkit.units import human_bytes, human_duration_ms, human_rate

METRIC_LABELS = {"bytes_in": "write", "bytes_out": "read", "records_in": "records in", "records_out": "records out"}
RECORD_STEPS = [("records/s", 1), ("k records/s", 1_000), ("M records/s", 1_000_000)]
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_STAT_DASH = {"mean": "dot", "p95": "dash", "peak": "solid"}


def _known(v) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v)) and v is not pd.NA


def _rows(df: pd.DataFrame, col: str, pred) -> pd.DataFrame:
    """Rows whose `col` satisfies `pred` (a copy; safe on an empty object column)."""
    return df.loc[df[col].map(pred).astype(bool)].copy()


def _topic_labels(df: pd.DataFrame) -> pd.Series:
    """`topic` when the frame holds one cluster, else `cluster/topic`."""
    if df["cluster"].nunique() <= 1:
        return df["topic"].astype(str)
    return df["cluster"].astype(str) + "/" + df["topic"].astype(str)


def series_stats(series: pd.DataFrame) -> dict[str, float | None]:
    """Mean (time-weighted), nearest-rank p95 and peak of one per-interval rate series.

    The same definitions as `exitkit.profile.topics`, for when no profile row is at hand.
    """
    if series.empty:
        return {"mean": None, "p95": None, "peak": None}
    v = series["value"].astype(float).to_numpy()
    d = series["dur"].astype(float).to_numpy()
    ranked = np.sort(v)
    return {
        "mean": float((v * d).sum() / d.sum()),
        "p95": float(ranked[math.ceil(0.95 * len(ranked)) - 1]),
        "peak": float(ranked[-1]),
    }


def _step_points(series: pd.DataFrame) -> tuple[list, list]:
    """x, y for a step line (`hv`) over intervals: each run of contiguous intervals ends at its
    last ts_end; a gap between runs becomes a None point, so plotly breaks the line there."""
    xs: list = []
    ys: list = []
    prev_end, prev_v = None, None
    for start, end, v in zip(series["ts_start"], series["ts_end"], series["value"], strict=True):
        if prev_end is not None and start > prev_end:
            xs += [prev_end, prev_end]
            ys += [prev_v, None]
        xs.append(start)
        ys.append(float(v))
        prev_end, prev_v = end, float(v)
    if prev_end is not None:
        xs.append(prev_end)
        ys.append(prev_v)
    return xs, ys


def topic_rates(
    series_df: pd.DataFrame,
    profile_row_or_stats: Mapping | pd.Series | None,
    topic: str | tuple[str, str],
) -> go.Figure:
    """Write and read rate of one topic over time, with mean / p95 / peak reference lines.

    `topic` is a topic name or a `(cluster, topic)` pair (needed when two clusters share the
    name). `profile_row_or_stats` is that topic's `topic_profile` row (or a dict with the same
    `write_bytes_per_s_*` / `read_bytes_per_s_*` keys); statistics it lacks — or all of them
    when it is None — are computed from the series with the profile's definitions.
    """
    cluster, name = topic if isinstance(topic, tuple) else (None, topic)
    sub = series_df[series_df["topic"] == name]
    if cluster is not None:
        sub = sub[sub["cluster"] == cluster]
    clusters = sub["cluster"].unique()
    if len(clusters) > 1:
        raise ValueError(f"topic {name!r} is in clusters {sorted(clusters)}; pass (cluster, topic)")
    cluster = clusters[0] if len(clusters) else cluster
    stats_in = dict(profile_row_or_stats) if profile_row_or_stats is not None else {}

    lines = []  # (label, colour, metric series, stats)
    for metric, label, color in (("bytes_in", "write", WRITE_COLOR), ("bytes_out", "read", READ_COLOR)):
        s = sub[sub["metric"] == metric].sort_values("ts_start")
        computed = series_stats(s)
        stats = {}
        for stat in ("mean", "p95", "peak"):
            given = stats_in.get(f"{label}_bytes_per_s_{stat}")
            stats[stat] = float(given) if _known(given) else computed[stat]
        lines.append((label, color, s, stats))

    all_values = [v for _, _, s, st in lines for v in [*s["value"], *st.values()] if _known(v)]
    unit, div = rate_unit(all_values)
    fig = new_figure(
        title=dict(text=f"Write and read rate: {cluster}/{name}" if cluster else f"Write and read rate: {name}"),
        hovermode="x unified",
        xaxis=dict(title=dict(text="time (UTC)")),
        yaxis=dict(title=dict(text=f"rate ({unit})"), rangemode="tozero"),
        legend=dict(orientation="h", y=-0.18),
    )
    for label, color, s, _ in lines:
        if s.empty:
            continue
        xs, ys = _step_points(s)
        fig.add_trace(
            go.Scatter(
                x=xs, y=scaled(ys, div), name=label, mode="lines", line=dict(color=color, shape="hv"),
                connectgaps=False, customdata=human_rates(ys), hovertemplate="%{customdata}<extra>" + label + "</extra>",
            )
        )  # fmt: skip
    for label, color, _, stats in lines:
        for stat, value in stats.items():
            if value is None:
                continue
            key = f"{label}_{stat}"
            y = value / div
            fig.add_shape(
                type="line", xref="paper", x0=0, x1=1, y0=y, y1=y, name=key,
                line=dict(color=color, width=1, dash=_STAT_DASH[stat]),
            )  # fmt: skip
            # write labels on the right, read on the left, so equal values do not overprint
            fig.add_annotation(
                xref="paper", x=1 if label == "write" else 0, xanchor="right" if label == "write" else "left",
                y=y, yanchor="bottom", showarrow=False, name=key, font=dict(color=color, size=11),
                text=f"{label} {stat} {human_rate(value)}",
            )  # fmt: skip
    return fig


def fan_out_by_topic(profile_df: pd.DataFrame, top: int = 30) -> go.Figure:
    """Read fan-out (read bytes ÷ write bytes) per topic, the `top` highest first."""
    df = _rows(profile_df, "fan_out", _known)
    df["fan_out"] = df["fan_out"].astype(float)
    df["label"] = _topic_labels(df) if len(df) else []
    df = df.sort_values(["fan_out", "label"], ascending=[False, True]).head(top)
    shown = f"top {len(df)} of {len(_rows(profile_df, 'fan_out', _known))}"
    custom = np.column_stack(
        [human_rates(df["read_bytes_per_s_mean"]), human_rates(df["write_bytes_per_s_mean"])]
    ) if len(df) else None  # fmt: skip
    fig = new_figure(
        title=dict(text=f"Read fan-out by topic ({shown} topics with a measured fan-out)"),
        xaxis=dict(title=dict(text="read fan-out (read bytes ÷ write bytes, ×)"), rangemode="tozero"),
        # data in descending order, drawn top to bottom
        yaxis=dict(title=dict(text="topic"), autorange="reversed", type="category"),
        height=max(350, 120 + 22 * len(df)),
    )
    fig.add_trace(
        go.Bar(
            x=df["fan_out"].tolist(), y=df["label"].tolist(), orientation="h", marker=dict(color=READ_COLOR),
            customdata=custom, name="fan-out",
            hovertemplate="%{y}<br>fan-out %{x:.2f}×<br>read %{customdata[0]} · write %{customdata[1]}<extra></extra>",
        )
    )  # fmt: skip
    return fig


def retention_vs_retained(profile_df: pd.DataFrame) -> go.Figure:
    """Retention (days, x) against retained bytes (y, log), marker area ∝ mean write rate.

    Topics with unlimited or unknown retention, or no retained bytes (a log axis has no 0),
    are left out and counted in the title.
    """
    ok = profile_df["retention_ms"].map(lambda v: _known(v) and float(v) >= 0) & profile_df["retained_bytes"].map(
        lambda v: _known(v) and float(v) > 0
    )
    df = profile_df.loc[ok.astype(bool)].copy()
    df["label"] = _topic_labels(df) if len(df) else []
    unit, div = bytes_unit(df["retained_bytes"])
    writes = [float(v) if _known(v) else 0.0 for v in df["write_bytes_per_s_mean"]]
    max_write = max(writes, default=0.0)
    left_out = len(profile_df) - len(df)
    note = f" ({left_out} topics not shown: unlimited or unknown retention, or no retained bytes)" if left_out else ""
    fig = new_figure(
        title=dict(text=f"Retention vs retained bytes; marker area = mean write rate{note}"),
        xaxis=dict(title=dict(text="retention (days)"), rangemode="tozero"),
        yaxis=dict(title=dict(text=f"retained ({unit}, log scale)"), type="log"),
    )
    df["write"] = writes
    for i, (cl, g) in enumerate(df.groupby("cluster", sort=True)):
        custom = np.column_stack(
            [
                g["label"],
                [human_duration_ms(float(v)) for v in g["retention_ms"]],
                human_sizes(g["retained_bytes"]),
                [human_rate(v) if v > 0 else "—" for v in g["write"]],
            ]
        )
        fig.add_trace(
            go.Scatter(
                x=[float(v) / 86_400_000 for v in g["retention_ms"]],
                y=scaled(g["retained_bytes"], div),
                mode="markers",
                name=str(cl),
                marker=dict(
                    size=g["write"].tolist(),
                    sizemode="area",
                    sizemin=5,
                    color=COLORWAY[i % len(COLORWAY)],
                    sizeref=2.0 * max_write / 40**2 if max_write > 0 else 1,
                    opacity=0.75,
                ),  # fmt: skip
                customdata=custom,
                hovertemplate="%{customdata[0]}<br>retention %{customdata[1]}<br>retained %{customdata[2]}"
                "<br>write %{customdata[3]}<extra></extra>",
            )
        )
    return fig


def bytes_by_topic(profile_df: pd.DataFrame, kind: str = "treemap", month_hours: float = 730) -> go.Figure:
    """Bytes written per month by topic (mean write rate × `month_hours`), cluster → topic.

    `kind="treemap"` nests topics in clusters; `kind="bar"` is a sorted horizontal bar chart.
    Topics with no measured write rate are left out.
    """
    if kind not in ("treemap", "bar"):
        raise ValueError(f"kind must be 'treemap' or 'bar', not {kind!r}")
    df = _rows(profile_df, "write_bytes_per_s_mean", lambda v: _known(v) and float(v) > 0)
    df["monthly"] = [float(v) * month_hours * 3600 for v in df["write_bytes_per_s_mean"]]
    df["label"] = _topic_labels(df) if len(df) else []
    unit, div = bytes_unit(df["monthly"])
    title = f"Bytes written per month by topic ({unit}, {month_hours:g} h month, mean write rate)"
    if kind == "bar":
        df = df.sort_values(["monthly", "label"], ascending=[False, True])
        fig = new_figure(
            title=dict(text=title),
            barmode="stack",
            xaxis=dict(title=dict(text=f"written per month ({unit})"), rangemode="tozero"),
            yaxis=dict(
                title=dict(text="topic"),
                type="category",
                categoryorder="array",
                categoryarray=df["label"].tolist(),
                autorange="reversed",
            ),  # fmt: skip
            height=max(350, 120 + 22 * len(df)),
        )
        for i, (cl, g) in enumerate(df.groupby("cluster", sort=True)):
            fig.add_trace(
                go.Bar(
                    x=scaled(g["monthly"], div), y=g["label"].tolist(), orientation="h", name=str(cl),
                    marker=dict(color=COLORWAY[i % len(COLORWAY)]), customdata=human_sizes(g["monthly"]),
                    hovertemplate="%{y}<br>%{customdata} per month<extra></extra>",
                )
            )  # fmt: skip
        return fig

    clusters = df.groupby("cluster", sort=True)["monthly"].sum()
    ids = [str(c) for c in clusters.index] + [f"{c}/{t}" for c, t in zip(df["cluster"], df["topic"], strict=True)]
    labels = [str(c) for c in clusters.index] + df["topic"].astype(str).tolist()
    parents = [""] * len(clusters) + df["cluster"].astype(str).tolist()
    raw = clusters.tolist() + df["monthly"].tolist()
    fig = new_figure(title=dict(text=title), margin=dict(l=10, r=10, t=60, b=10))
    fig.add_trace(
        go.Treemap(
            ids=ids, labels=labels, parents=parents,
            # "remainder": a cluster's own value (0) plus its topics, so float rounding in the
            # unit conversion can never make a parent smaller than its children
            values=[0.0] * len(clusters) + scaled(df["monthly"], div), branchvalues="remainder",
            customdata=human_sizes(raw), texttemplate="%{label}<br>%{customdata}",
            hovertemplate="%{id}<br>%{customdata} per month<extra></extra>",
        )
    )  # fmt: skip
    return fig


def _hourly_pieces(s: pd.DataFrame) -> pd.DataFrame:
    """Split intervals at hour boundaries: columns cluster, topic, bucket (hour start), value, w."""
    ts = pd.to_datetime(s["ts_start"])
    te = pd.to_datetime(s["ts_end"])
    if ts.dt.tz is not None:
        ts, te = ts.dt.tz_convert("UTC").dt.tz_localize(None), te.dt.tz_convert("UTC").dt.tz_localize(None)
    hour = pd.Timedelta(hours=1)
    h0 = ts.dt.floor("h")
    n = np.maximum(np.ceil((te - h0) / hour).astype(int).to_numpy(), 1)
    idx = np.repeat(np.arange(len(s)), n)
    k = np.concatenate([np.arange(m) for m in n]) if len(n) else np.array([], dtype=int)
    start = h0.to_numpy()[idx] + k * np.timedelta64(3600, "s")
    lo = np.maximum(ts.to_numpy()[idx], start)
    hi = np.minimum(te.to_numpy()[idx], start + np.timedelta64(3600, "s"))
    return pd.DataFrame(
        {
            "cluster": s["cluster"].to_numpy()[idx],
            "topic": s["topic"].to_numpy()[idx],
            "bucket": start,
            "value": s["value"].astype(float).to_numpy()[idx],
            "w": (hi - lo) / np.timedelta64(1, "s"),
        }
    )


def diurnal_matrix(series_df: pd.DataFrame, metric: str = "bytes_in") -> pd.DataFrame:
    """7 × 24 frame (index Mon..Sun, columns hour 0..23 UTC): mean summed rate of the topics.

    Per topic, the time-weighted mean rate in each (weekday, hour) bucket (intervals longer
    than an hour are split at hour boundaries); the buckets are then summed over topics. A
    bucket where any topic has no data is unknown (NaN), not a smaller sum.
    """
    s = series_df[(series_df["metric"] == metric) & (series_df["dur"] > 0)]
    p = _hourly_pieces(s)
    p = p[p["w"] > 0]
    p["weekday"] = pd.to_datetime(p["bucket"]).dt.day_of_week
    p["hour"] = pd.to_datetime(p["bucket"]).dt.hour
    p["vw"] = p["value"] * p["w"]
    g = p.groupby(["cluster", "topic", "weekday", "hour"])[["vw", "w"]].sum()
    per_topic = (g["vw"] / g["w"]).unstack(["cluster", "topic"])
    full = pd.MultiIndex.from_product([range(7), range(24)], names=["weekday", "hour"])
    per_topic = per_topic.reindex(full)
    total = per_topic.sum(axis=1, skipna=False, min_count=1) if per_topic.shape[1] else pd.Series(np.nan, index=full)
    m = total.unstack("hour").reindex(index=range(7), columns=range(24))
    m.index = WEEKDAYS
    return m


def diurnal_heatmap(series_df: pd.DataFrame, metric: str = "bytes_in") -> go.Figure:
    """Hour of day (UTC) × weekday heatmap of the selected topics' summed rate (see
    `diurnal_matrix`); pass `topic_rate_series(con, topics=...)` for the selection."""
    m = diurnal_matrix(series_df, metric)
    is_records = metric.startswith("records")
    values = m.to_numpy().ravel().tolist()
    unit, div = pick_unit(values, RECORD_STEPS) if is_records else rate_unit(values)
    what = METRIC_LABELS.get(metric, metric)
    n_topics = series_df.loc[series_df["metric"] == metric, ["cluster", "topic"]].drop_duplicates().shape[0]

    def fmt(v: float) -> str:
        if not _known(v):
            return "no data"
        return f"{v / div:,.1f} {unit}" if is_records else human_rate(v)

    fig = new_figure(
        title=dict(text=f"Mean {what} rate by hour and weekday (UTC), {n_topics} topics summed"),
        xaxis=dict(title=dict(text="hour of day (UTC)"), tickmode="linear", dtick=2, showgrid=False),
        yaxis=dict(title=dict(text="weekday"), autorange="reversed", showgrid=False),
    )
    fig.add_trace(
        go.Heatmap(
            z=[scaled(row, div) for row in m.to_numpy()], x=list(range(24)), y=WEEKDAYS,
            colorbar=dict(title=dict(text=unit)), colorscale="Blues", hoverongaps=False,
            customdata=[[fmt(v) for v in row] for row in m.to_numpy()],
            hovertemplate="%{y} %{x}:00 UTC<br>" + what + " %{customdata}<extra></extra>",
        )
    )  # fmt: skip
    return fig


# (summary key, row label, formatter) in display order
CARD_FIELDS: list[tuple[str, str]] = [
    ("write_bytes_per_s_mean", "write rate, mean"),
    ("write_bytes_per_s_p95", "write rate, p95"),
    ("write_bytes_per_s_peak", "write rate, peak"),
    ("read_bytes_per_s_mean", "read rate, mean"),
    ("fan_out", "read fan-out"),
    ("retention_s", "retention"),
    ("retained_bytes", "retained"),
    ("partitions", "partitions"),
    ("driver", "sizing driver"),
]


def _card_value(key: str, v) -> str:
    if not _known(v):
        return "—"
    if key.endswith("bytes_per_s_mean") or key.endswith("_p95") or key.endswith("_peak"):
        return human_rate(float(v))
    if key == "fan_out":
        return f"{float(v):.2f}×"
    if key == "retention_s":
        return human_duration_ms(float(v) * 1000)
    if key == "retained_bytes":
        return human_bytes(float(v))
    if key == "partitions":
        return f"{int(v):,}"
    return str(v)


def workload_card(summary: Mapping) -> go.Figure:
    """Summary card of one workload: three write-rate indicators over a table of its numbers.

    `summary` keys (all optional except that a card without numbers is empty):
    name, title, write_bytes_per_s_mean / _p95 / _peak, read_bytes_per_s_mean (B/s),
    fan_out (×), retention_s (seconds, negative = unlimited), retained_bytes, partitions,
    driver (what sizes the platform, e.g. "write peak"), provenance {field: measured |
    assumed | default}. Assumed and default values are flagged and shaded.
    """
    prov = dict(summary.get("provenance") or {})
    name = summary.get("name") or ""
    title = summary.get("title") or name or "workload"
    fig = make_subplots(
        rows=2, cols=3, row_heights=[0.3, 0.7], vertical_spacing=0.06,
        specs=[[{"type": "indicator"}] * 3, [{"type": "table", "colspan": 3}, None, None]],
    )  # fmt: skip
    fig.update_layout(
        template=TEMPLATE,
        title=dict(text=f"Workload {title}" + (f" ({name})" if name and name != title else "")),
        height=520,
    )
    write_keys = ["write_bytes_per_s_mean", "write_bytes_per_s_p95", "write_bytes_per_s_peak"]
    unit, div = rate_unit([summary.get(k) for k in write_keys if _known(summary.get(k))])
    for col, (key, label) in enumerate(zip(write_keys, ["write mean", "write p95", "write peak"], strict=True), 1):
        v = summary.get(key)
        flag = f" ({prov[key]})" if prov.get(key) in ("assumed", "default") else ""
        fig.add_trace(
            go.Indicator(
                mode="number", value=float(v) / div if _known(v) else None, name=key,
                number=dict(suffix=f" {unit}", valueformat=",.1f"), title=dict(text=label + flag),
            ),
            row=1, col=col,
        )  # fmt: skip
    labels, values, sources, fills = [], [], [], []
    for key, label in CARD_FIELDS:
        labels.append(label)
        values.append(_card_value(key, summary.get(key)))
        p = prov.get(key, "" if key == "driver" else "—")
        sources.append(p)
        fills.append(ASSUMED_FILL if p in ("assumed", "default") else "white")
    fig.add_trace(
        go.Table(
            header=dict(values=["", "value", "source"], align="left", fill=dict(color="#F0F0F0")),
            cells=dict(values=[labels, values, sources], align="left", fill=dict(color=[fills, fills, fills])),
            columnwidth=[2, 2, 1],
        ),
        row=2, col=1,
    )  # fmt: skip
    return fig
