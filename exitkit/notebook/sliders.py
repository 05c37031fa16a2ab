"""The cost sliders (ipywidgets): move cost assumptions, every platform recomputed on each move.

All the logic is reachable without a browser: a test moves `CostSliders.write_multiplier.value`
and reads the results. Money comes from `exitkit.cost.evaluate`; the scaling rules are
`exitkit.cost.what_if.what_if`, shared with the report's scenario sliders.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import duckdb
import ipywidgets as w
import plotly.graph_objects as go
import plotly.io as pio
from IPython import get_ipython
from IPython.display import clear_output, display

from exitkit.charts.cost import PATH_COLORS, PATH_LABELS, PATHS
from exitkit.charts.theme import COLORWAY, TEMPLATE, usd
from exitkit.cost import CostInputs, CostResult, evaluate
from exitkit.cost.adapter import WorkloadCost, workload_cost
from exitkit.cost.inputs import DAY_S
from exitkit.cost.what_if import what_if
from exitkit.notebook.helpers import totals_html
from exitkit.prices import Catalog
from exitkit.workload.loader import load_workload
from exitkit.workload.model import Workload

__all__ = ["CostSliders", "scenario_inputs"]

scenario_inputs = what_if  # the notebook's name for the same rules

e = html.escape


# --- topic picker -----------------------------------------------------------------------


SLIDERS = (
    "write_multiplier",
    "fan_out",
    "retention_days",
    "zone_aware_share",
    "vendor_discount",
    "growth_years",
    "labor_hours_scale",
)


def _figure_widget(fig: go.Figure):
    """A FigureWidget when plotly can make one (needs the `anywidget` package), else None."""
    try:
        return go.FigureWidget(fig)
    except ImportError:
        return None


class CostSliders:
    """Sliders over a workload's cost: write multiplier, fan-out, retention, zone-aware share,
    vendor discount, growth years → stacked bars by byte path per platform and a totals table,
    recomputed by `exitkit.cost.evaluate` on every move.

    `workload`: a `Workload`, a path to one, or a `WorkloadCost` already computed. `con` is the
    store for a workload that selects topics. `.figure` is a plotly FigureWidget (or, without
    the `anywidget` package, a Figure redrawn into an Output widget); `.totals` is
    {platform id: monthly USD}; `.result` the last `CostResult`.
    """

    def __init__(
        self,
        workload: Workload | str | Path | Any,
        con: duckdb.DuckDBPyConnection | None = None,
        *,
        catalog: Catalog | None = None,
    ) -> None:

        if isinstance(workload, WorkloadCost):
            wc = workload
        else:
            wl = workload if isinstance(workload, Workload) else load_workload(workload)
            wc = workload_cost(wl, con, catalog=catalog)
        self.cost = wc
        self.base_inputs: CostInputs = wc.inputs
        self.base_catalog: Catalog = wc.catalog
        self.platforms = [p.platform for p in wc.result.platforms]
        self.names = {p.platform: p.name + (" (today)" if p.today else "") for p in wc.result.platforms}
        self._catalogs: dict[float, Catalog] = {}
        self._hold = False
        self.result: CostResult = wc.result
        self.totals: dict[str, float] = wc.result.totals()

        t, a = self.base_inputs.traffic, self.base_inputs.assumptions
        style = {"description_width": "150px"}
        lay = w.Layout(width="520px")
        base_days = t.retention_s / DAY_S
        base_discount = float(self.base_catalog.discounts.get("vendor", 0.0))
        self.write_multiplier = w.FloatSlider(
            value=1.0,
            min=0.1,
            max=5.0,
            step=0.05,
            description="write rate ×",
            readout_format=".2f",
            style=style,
            layout=lay,
        )
        self.fan_out = w.FloatSlider(
            value=t.fan_out, min=0.0, max=max(10.0, math.ceil(2 * t.fan_out)), step=0.1, description="fan-out",
            readout_format=".2f", style=style, layout=lay,
        )  # fmt: skip
        self.retention_days = w.FloatSlider(
            value=base_days, min=0.0, max=max(30.0, math.ceil(10 * base_days)), step=0.25, description="retention (days)",
            readout_format=".2f", style=style, layout=lay,
        )  # fmt: skip
        self.zone_aware_share = w.FloatSlider(
            value=a.zone_aware_consumers, min=0.0, max=1.0, step=0.05, description="zone-aware share",
            readout_format=".0%", style=style, layout=lay,
        )  # fmt: skip
        self.vendor_discount = w.FloatSlider(
            value=base_discount, min=0.0, max=0.9, step=0.01, description="vendor discount", readout_format=".0%",
            style=style, layout=lay,
        )  # fmt: skip
        self.growth_years = w.IntSlider(
            value=0, min=0, max=5, description=f"growth years (+{a.growth_per_year:.0%}/y)", style=style, layout=lay
        )
        self.labor_hours_scale = w.FloatSlider(
            value=1.0, min=0.0, max=3.0, step=0.05, description=f"labour hours × (${a.labor.hourly_rate:,.0f}/h)",
            readout_format=".2f", style=style, layout=lay,
        )  # fmt: skip
        self.reset_button = w.Button(description="Reset", icon="undo")
        self.table = w.HTML()
        self._base_values = self.values()

        self.figure = self._new_figure()
        fw = _figure_widget(self.figure)
        self._output: w.Output | None = None
        if fw is not None:
            self.figure = fw
            fig_view: w.Widget = fw
        else:
            self._output = w.Output()
            fig_view = self._output
        for name in SLIDERS:
            getattr(self, name).observe(self._on_change, "value")
        self.reset_button.on_click(lambda _: self.recompute(**self._base_values))
        self.recompute()
        controls = w.VBox([getattr(self, n) for n in SLIDERS] + [self.reset_button])
        self.widget = w.VBox([controls, fig_view, self.table], layout=w.Layout(width="100%"))

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def values(self) -> dict[str, float]:
        """The sliders' current values by name."""
        return {n: getattr(self, n).value for n in SLIDERS}

    def inputs(self) -> tuple[CostInputs, Catalog]:
        """Cost inputs and catalog for the sliders' current values."""
        v = self.values()
        x = what_if(
            self.base_inputs,
            write_multiplier=v["write_multiplier"],
            fan_out=v["fan_out"],
            retention_days=v["retention_days"],
            zone_aware_share=v["zone_aware_share"],
            growth_years=v["growth_years"],
            labor_hours_scale=v["labor_hours_scale"],
        )
        d = float(v["vendor_discount"])
        cat = self._catalogs.get(d)
        if cat is None:
            base = float(self.base_catalog.discounts.get("vendor", 0.0))
            cat = self.base_catalog if d == base else self.base_catalog.with_overrides({"discount.vendor": d})
            self._catalogs[d] = cat
        return x, cat

    def _on_change(self, _change) -> None:
        if not self._hold:
            self._recompute()

    def recompute(self, **values: float) -> dict[str, float]:
        """Set any of the sliders (write_multiplier, fan_out, retention_days, zone_aware_share,
        vendor_discount, growth_years, labor_hours_scale), recompute once, return {platform: monthly
        total USD}."""
        unknown = set(values) - set(SLIDERS)
        if unknown:
            raise TypeError(f"unknown sliders {sorted(unknown)}; expected some of {', '.join(SLIDERS)}")
        self._hold = True
        try:
            for k, v in values.items():
                getattr(self, k).value = v
        finally:
            self._hold = False
        return self._recompute()

    def _recompute(self) -> dict[str, float]:
        x, cat = self.inputs()
        self.result = evaluate(x, cat, self.platforms)
        self.totals = self.result.totals()
        self._draw()
        return dict(self.totals)

    # -- drawing
    def _path_sums(self) -> dict[str, list[float]]:
        sums = {p: [0.0] * len(self.platforms) for p in PATHS}
        for i, pc in enumerate(self.result.platforms):
            for ln in pc.lines:
                if ln.state in ("steady", "abnormal"):
                    sums.setdefault(ln.path, [0.0] * len(self.platforms))[i] += ln.monthly_usd
        return sums

    def _new_figure(self) -> go.Figure:
        # horizontal bars: full platform names on the y axis read at any cell width (vertical bars
        # rotated or piled their labels and squashed the plot in a narrow notebook cell)
        names = [self.names.get(p, p) for p in self.platforms]
        n_paths = len(PATHS)
        height = max(140 + 40 * len(names), 150 + 20 * n_paths)  # the legend's column fits beside the bars
        fig = go.Figure(
            layout=dict(
                template=TEMPLATE,
                barmode="stack",
                autosize=True,
                title=dict(text=f"Monthly cost by byte path: {self.base_inputs.name}"),
                yaxis=dict(autorange="reversed", automargin=True),
                xaxis=dict(title=dict(text="USD per month (steady + abnormal)"), tickprefix="$", tickformat=",.0f"),
                # beside the plot, never under the axis title or over the bars' totals
                legend=dict(title=dict(text="Byte path"), orientation="v", x=1.02, xanchor="left", y=1, yanchor="top"),
                height=height,
                margin=dict(t=70, b=70, r=20),
            )
        )
        for i, path in enumerate(PATHS):
            label = PATH_LABELS.get(path, path)
            fig.add_trace(
                go.Bar(
                    y=names, x=[0.0] * len(names), name=label, meta=path, orientation="h",
                    marker=dict(color=PATH_COLORS.get(path, COLORWAY[i % len(COLORWAY)])),
                    hovertemplate="%{y}<br>" + label + ": $%{x:,.0f} per month<extra></extra>",
                )
            )  # fmt: skip
        # totals as annotations at each bar's end: a text-mode trace shows up in the FigureWidget's
        # legend ("Aa") even with showlegend=False
        for name in names:
            fig.add_annotation(
                x=0, y=name, text="", xanchor="left", showarrow=False, xshift=4, name="total", xref="x", yref="y"
            )
        return fig

    def bar_totals(self) -> dict[str, float]:
        """Per platform id, the sum of the figure's stacked bars (what the chart shows)."""
        bars = [tr for tr in self.figure.data if tr.type == "bar"]
        return {p: sum(float(tr.x[i]) for tr in bars) for i, p in enumerate(self.platforms)}

    def _draw(self) -> None:
        sums = self._path_sums()
        totals = [self.totals[p] for p in self.platforms]
        fig = self.figure
        with fig.batch_update():
            for tr in fig.data:
                if tr.type == "bar":
                    xs = sums.get(tr.meta, [0.0] * len(self.platforms))
                    tr.x = xs
                    tr.showlegend = any(v > 0 for v in xs)
            for ann, v in zip(fig.layout.annotations, totals, strict=True):
                ann.x, ann.text = v, usd(v)
            fig.layout.xaxis.range = [0, max(totals, default=0) * 1.3 or 1]  # totals' labels inside the plot
        v = self.values()
        state = (
            f"write ×{v['write_multiplier']:.2f}, fan-out {v['fan_out']:.2f}, retention {v['retention_days']:.2f} d, "
            f"zone-aware {v['zone_aware_share']:.0%}, vendor discount {v['vendor_discount']:.0%}, "
            f"growth {v['growth_years']} y, labour hours ×{v['labor_hours_scale']:.2f}"
        )

        rows = [
            {"platform": pc.platform, "name": pc.name, "today": pc.today, "steady_usd": pc.steady_usd,
             "abnormal_usd": pc.abnormal_usd, "total_usd": pc.total_usd, "migration_usd": pc.migration_usd}
            for pc in self.result.platforms
        ]  # fmt: skip
        self.table.value = totals_html(rows, caption=state)
        if self._output is not None:
            self._redraw_output()

    def _redraw_output(self) -> None:
        """Without FigureWidget: show the figure in the Output widget (only inside IPython)."""

        if get_ipython() is None:
            return

        # the plotly mimetype only: JupyterLab draws it; no plotly.js bundle inside a widget
        bundle = pio.renderers["plotly_mimetype"].to_mimebundle(self.figure.to_dict())
        with self._output:
            clear_output(wait=True)
            display(bundle, raw=True)
