"""The `exitkit` plotly template and the unit scaling every chart shares.

One template, registered once: system fonts (no web font is ever requested), a
colour-blind-safe colour sequence, white background and light grid so figures print well.
Axes carry one human unit picked from the data's magnitude (`3 MiB/s` plots as 3.0 on an
axis titled `… (MiB/s)`); hover text shows the exact human value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import plotly.graph_objects as go
import plotly.io as pio

from exitkit.units import human_bytes, human_rate

TEMPLATE = "exitkit"

# System UI stack: the browser uses what the reader's OS has; nothing is downloaded.
FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif'

# Okabe–Ito (colour-blind safe) first, then Tableau-like extras for long legends.
COLORWAY = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
    "#8C564B", "#7F7F7F", "#BCBD22", "#17BECF",
]  # fmt: skip

WRITE_COLOR, READ_COLOR = COLORWAY[0], COLORWAY[1]
ASSUMED_FILL = "#FFF3CD"  # cells whose value is assumed or defaulted, not measured

BYTE_STEPS = [("B", 1), ("KiB", 2**10), ("MiB", 2**20), ("GiB", 2**30), ("TiB", 2**40), ("PiB", 2**50)]
RATE_STEPS = [("B/s", 1), ("KiB/s", 2**10), ("MiB/s", 2**20), ("GiB/s", 2**30)]


def _template() -> go.layout.Template:
    axis = dict(
        showgrid=True, gridcolor="#E5E5E5", zeroline=False, linecolor="#777777", ticks="outside",
        tickcolor="#777777", automargin=True, title=dict(standoff=8),
    )  # fmt: skip
    return go.layout.Template(
        layout=dict(
            font=dict(family=FONT_FAMILY, size=13, color="#222222"),
            title=dict(font=dict(size=17), x=0, xanchor="left", xref="paper"),
            colorway=COLORWAY,
            paper_bgcolor="white",
            plot_bgcolor="white",
            xaxis=axis,
            yaxis=axis,
            legend=dict(bgcolor="rgba(255,255,255,0.8)", borderwidth=0),
            hoverlabel=dict(font=dict(family=FONT_FAMILY)),
            margin=dict(l=60, r=30, t=70, b=50),
            colorscale=dict(sequential=[[0, "#F7FBFF"], [0.5, "#6BAED6"], [1, "#08306B"]]),
            separators=".,",
        ),
        data=dict(
            bar=[go.Bar(marker=dict(line=dict(width=0)))],
            scatter=[go.Scatter(line=dict(width=2))],
        ),
    )


pio.templates[TEMPLATE] = _template()


def new_figure(**layout) -> go.Figure:
    """An empty figure with the exitkit template."""
    return go.Figure(layout=dict(template=TEMPLATE, **layout))


def _finite(values: Iterable) -> list[float]:
    out = []
    for v in values:
        if v is None:
            continue
        f = float(v)
        if math.isfinite(f):
            out.append(abs(f))
    return out


def pick_unit(values: Iterable, steps: list[tuple[str, int]]) -> tuple[str, int]:
    """The largest unit in which the largest value is at least 1 (B when there is no data)."""
    vals = _finite(values)
    top = max(vals) if vals else 0.0
    unit = steps[0]
    for name, size in steps:
        if top >= size:
            unit = (name, size)
    return unit


def rate_unit(values: Iterable) -> tuple[str, int]:
    """`(unit, divisor)` for a byte rate axis: B/s, KiB/s, MiB/s or GiB/s."""
    return pick_unit(values, RATE_STEPS)


def bytes_unit(values: Iterable) -> tuple[str, int]:
    """`(unit, divisor)` for a byte size axis: B … PiB."""
    return pick_unit(values, BYTE_STEPS)


def scaled(values: Iterable, divisor: float) -> list[float | None]:
    """Values divided by the unit's size; unknown (None/NaN) stays None so plotly leaves a gap."""
    out: list[float | None] = []
    for v in values:
        f = None if v is None else float(v)
        out.append(f / divisor if f is not None and math.isfinite(f) else None)
    return out


def human_rates(values: Iterable) -> list[str]:
    return [human_rate(None if v is None else float(v)) for v in values]


def human_sizes(values: Iterable) -> list[str]:
    return [human_bytes(None if v is None else float(v)) for v in values]


def usd(v: float | None) -> str:
    """`$12,345` (whole dollars; cents below $100)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return f"${v:,.2f}" if abs(v) < 100 else f"${v:,.0f}"
