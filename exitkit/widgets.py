"""ipywidgets for JupyterLab: pick topics into a workload file, move cost assumptions.

All the logic is here, reachable without a browser: a test calls `TopicPicker.select()`,
`.set()`, `.write()` or moves `CostSliders.write_multiplier.value` and reads the results.
Nothing here computes a number of its own: aggregates come from `exitkit.workload_profile`,
money from `exitkit.cost.evaluate`.
"""

from __future__ import annotations

import asyncio
import html
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import duckdb
import ipywidgets as w
import pandas as pd
import plotly.graph_objects as go
import yaml

from exitkit.charts.cost import PATH_COLORS, PATHS
from exitkit.charts.theme import COLORWAY, TEMPLATE, usd
from exitkit.cost import CostInputs, CostResult, evaluate
from exitkit.cost.inputs import DAY_S
from exitkit.errors import BadWorkload
from exitkit.prices import Catalog
from exitkit.units import human_bytes, human_duration_ms, human_rate
from exitkit.workload import PLATFORMS, Workload, load_workload, parse_workload
from exitkit.workload_profile import WorkloadProfile, driver_labels, workload_profile

__all__ = ["CostSliders", "TopicPicker", "guess_platform", "scenario_inputs", "topic_glob"]

e = html.escape


def _known(v) -> bool:
    return v is not None and v is not pd.NA and not (isinstance(v, float) and math.isnan(v))


def _html_table(rows: list[tuple[str, str]], caption: str = "") -> str:
    cap = f"<caption style='text-align:left;font-weight:600'>{e(caption)}</caption>" if caption else ""
    body = "".join(
        f"<tr><td style='text-align:left;padding-right:1em'>{e(k)}</td><td style='text-align:right'>{e(v)}</td></tr>"
        for k, v in rows
    )
    return f"<table>{cap}<tbody>{body}</tbody></table>"


# --- topic picker -----------------------------------------------------------------------


def guess_platform(cluster: str | None) -> str:
    """A first guess of the source platform from a cluster id (the user confirms it in the form).

    Confluent Cloud cluster ids start with `lkc-`; names containing `msk` are taken as MSK;
    anything else as self-managed Kafka on EC2.
    """
    c = (cluster or "").lower()
    if c.startswith("lkc-"):
        return "confluent-dedicated"
    if "msk" in c:
        return "msk-standard"
    return "kafka-ec2"


def _escape_glob(s: str) -> str:
    """fnmatch pattern matching `s` literally (`*`, `?`, `[` bracketed)."""
    return re.sub(r"([*?\[])", r"[\1]", s)


def topic_glob(cluster: str, topic: str, source_cluster: str | None) -> str:
    """The workload `topics` entry that selects exactly (cluster, topic).

    A plain name is limited to `source.cluster` when that is set, so it suffices for a topic of
    the source cluster; any other topic gets its `cluster:` prefix.
    """
    t = _escape_glob(topic)
    return t if source_cluster and cluster == source_cluster else f"{_escape_glob(cluster)}:{t}"


SORTS: dict[str, tuple[str, bool]] = {
    "write rate": ("write_bytes_per_s_mean", False),
    "read rate": ("read_bytes_per_s_mean", False),
    "fan-out": ("fan_out", False),
    "retained bytes": ("retained_bytes", False),
    "partitions": ("partitions", False),
    "name": ("pick_label", True),
}

FIELDS = ("name", "title", "platform", "cluster", "region", "zones", "candidates")


class TopicPicker:
    """Pick topics into a workload file.

    `profile_df` is a `topic_profile` frame (cluster, topic, rates, ...). With `con` (the store
    it came from) the live aggregate includes the p95 and peak of the SUM of the selected topics
    (`exitkit.workload_profile`); without it, only what adds up from the rows (means, sizes).
    `defaults` pre-fills the form: name, title, platform, cluster, region, zones, candidates.

    Usable without a browser: `.select(topics)`, `.set(name=...)`, `.workload_dict()`,
    `.write() -> Path`, `.aggregate` (a `WorkloadProfile` or None).
    """

    def __init__(
        self,
        profile_df: pd.DataFrame,
        con: duckdb.DuckDBPyConnection | None = None,
        *,
        out_dir: str | Path = "workloads",
        defaults: Mapping[str, Any] | None = None,
        debounce_s: float = 0.4,
    ) -> None:
        self.con = con
        self.out_dir = Path(out_dir)
        self.debounce_s = debounce_s
        df = profile_df.reset_index(drop=True).copy()
        df["driver"] = driver_labels(df) if len(df) else pd.Series(dtype=object)
        df["pick_key"] = list(zip(df["cluster"].astype(str), df["topic"].astype(str), strict=True))
        one_cluster = df["cluster"].nunique() <= 1
        df["pick_label"] = [t if one_cluster else f"{c}/{t}" for c, t in df["pick_key"]]
        self.profile_df = profile_df
        self._df = df
        self._pos = {k: i for i, k in enumerate(df["pick_key"])}
        self._labels = {
            k: self._option_label(r) for k, r in zip(df["pick_key"], df.itertuples(index=False), strict=True)
        }
        self._selected: dict[tuple[str, str], None] = {}  # insertion-ordered set
        self._syncing = False
        self._pending: asyncio.TimerHandle | None = None
        self.aggregate: WorkloadProfile | None = None
        self.last_path: Path | None = None

        d = dict(defaults or {})
        unknown = set(d) - set(FIELDS)
        if unknown:
            raise TypeError(f"unknown defaults {sorted(unknown)}; expected some of {', '.join(FIELDS)}")
        clusters = sorted(df["cluster"].astype(str).unique())
        first_cluster = d.get("cluster", clusters[0] if len(clusters) == 1 else "")
        style = {"description_width": "110px"}
        wide = w.Layout(width="420px")
        self.filter = w.Text(
            description="filter", placeholder="glob, e.g. payments.* or demo-msk/*", style=style, layout=wide
        )
        self.sort = w.Dropdown(description="sort by", options=list(SORTS), value="write rate", style=style)
        self.table = w.SelectMultiple(options=[], rows=14, layout=w.Layout(width="640px"))
        self.name = w.Text(
            description="name", value=str(d.get("name", "")), placeholder="e.g. payments", style=style, layout=wide
        )
        self.title = w.Text(description="title", value=str(d.get("title", "")), style=style, layout=wide)
        self.platform = w.Dropdown(
            description="source platform", options=list(PLATFORMS),
            value=d.get("platform") or guess_platform(first_cluster), style=style, layout=wide,
        )  # fmt: skip
        self.cluster = w.Text(description="source cluster", value=str(first_cluster or ""), style=style, layout=wide)
        self.region = w.Text(description="region", value=str(d.get("region", "us-east-1")), style=style, layout=wide)
        self.zones = w.BoundedIntText(description="zones", value=int(d.get("zones", 3)), min=1, max=6, style=style)
        self.candidates = w.SelectMultiple(
            description="candidates", options=list(PLATFORMS), value=tuple(d.get("candidates", ())), rows=6,
            style=style, layout=wide,
        )  # fmt: skip
        self.write_button = w.Button(description="Write workload file", button_style="primary", icon="save")
        self.summary = w.HTML(layout=w.Layout(margin="0 0 0 2em"))
        self.status = w.HTML()

        self.filter.observe(lambda _: self._refresh_options(), "value")
        self.sort.observe(lambda _: self._refresh_options(), "value")
        self.table.observe(self._on_table, "value")
        for f in (self.name, self.title, self.platform, self.cluster, self.region, self.zones, self.candidates):
            f.observe(lambda _: self._show_status(), "value")
        self.cluster.observe(lambda _: self._schedule(), "value")
        self.write_button.on_click(lambda _: self._on_write())
        self._refresh_options()
        self._update()

        hint = w.HTML(
            "<small>Select with click, shift-click and ctrl/cmd-click; the filter keeps the selection.</small>"
        )
        left = w.VBox([w.HBox([self.filter, self.sort]), self.table, hint])
        form = w.VBox(
            [self.name, self.title, self.platform, self.cluster, self.region, self.zones, self.candidates,
             w.HTML("<small>candidates: none selected = every platform</small>"), self.write_button, self.status]
        )  # fmt: skip
        self.widget = w.VBox([left, w.HBox([form, self.summary])])

    # -- display
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # -- the table
    def _option_label(self, r) -> str:
        write = human_rate(float(r.write_bytes_per_s_mean)) if _known(r.write_bytes_per_s_mean) else "—"
        fan = f"{float(r.fan_out):.2f}×" if _known(r.fan_out) else "—"
        kept = human_bytes(float(r.retained_bytes)) if _known(r.retained_bytes) else "—"
        return f"{r.pick_label}  ·  write {write}  ·  fan-out {fan}  ·  kept {kept}  ·  {r.driver or '—'}"

    def visible(self) -> list[tuple[str, str]]:
        """(cluster, topic) pairs the filter shows, in the chosen order."""
        df = self._df
        pat = self.filter.value.strip()
        if pat:
            if not any(ch in pat for ch in "*?["):
                pat = f"*{pat}*"
            mask = [
                fnmatchcase(lab, pat) or fnmatchcase(t, pat) or fnmatchcase(f"{c}/{t}", pat)
                for lab, (c, t) in zip(df["pick_label"], df["pick_key"], strict=True)
            ]
            df = df[mask]
        col, asc = SORTS[self.sort.value]
        if col == "pick_label":
            df = df.sort_values("pick_label")
        else:
            num = pd.to_numeric(df[col], errors="coerce")
            df = df.assign(sort_value=num).sort_values(
                ["sort_value", "pick_label"], ascending=[asc, True], na_position="last"
            )
        return list(df["pick_key"])

    def _refresh_options(self) -> None:
        keys = self.visible()
        self._syncing = True
        try:
            self.table.options = [(self._labels[k], k) for k in keys]
            self.table.value = tuple(k for k in keys if k in self._selected)
        finally:
            self._syncing = False

    def _on_table(self, change) -> None:
        if self._syncing:
            return
        shown = {v for _, v in self.table.options}
        kept = [k for k in self._selected if k not in shown]
        self._selected = dict.fromkeys(kept + [k for k in change["new"]])
        self._schedule()

    # -- selection and fields
    @property
    def selected(self) -> list[tuple[str, str]]:
        """The selected (cluster, topic) pairs, sorted."""
        return sorted(self._selected)

    def _resolve(self, topic: str | tuple[str, str]) -> tuple[str, str]:
        if isinstance(topic, tuple):
            key = (str(topic[0]), str(topic[1]))
            if key in self._pos:
                return key
            raise ValueError(f"{key[0]}/{key[1]} is not in the profile")
        for sep in (":", "/"):
            if sep in topic:
                c, _, t = topic.partition(sep)
                if (c, t) in self._pos:
                    return (c, t)
        hits = [k for k in self._pos if k[1] == topic]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise ValueError(f"topic {topic!r} is not in the profile")
        raise ValueError(f"topic {topic!r} is in clusters {sorted(c for c, _ in hits)}; pass 'cluster/topic'")

    def select(self, topics: Iterable[str | tuple[str, str]]) -> TopicPicker:
        """Replace the selection: (cluster, topic) pairs, `cluster/topic`, `cluster:topic` or a unique topic name."""
        keys = [self._resolve(t) for t in topics]
        self._selected = dict.fromkeys(keys)
        self._refresh_options()
        self._update()
        return self

    def set(self, **fields: Any) -> TopicPicker:
        """Set form fields: name, title, platform, cluster, region, zones, candidates."""
        unknown = set(fields) - set(FIELDS)
        if unknown:
            raise TypeError(f"unknown fields {sorted(unknown)}; expected some of {', '.join(FIELDS)}")
        for k, v in fields.items():
            widget = getattr(self, k)
            widget.value = tuple(v) if k == "candidates" else ("" if v is None and k != "zones" else v)
        self._update()
        return self

    def workload_dict(self) -> dict:
        """The workload file's content for the current form and selection (not yet validated)."""
        cluster = self.cluster.value.strip() or None
        d: dict[str, Any] = {"name": self.name.value.strip()}
        if self.title.value.strip():
            d["title"] = self.title.value.strip()
        d["source"] = {"platform": self.platform.value, **({"cluster": cluster} if cluster else {})}
        d["topics"] = [topic_glob(c, t, cluster) for c, t in self.selected]
        d["region"] = self.region.value.strip()
        d["zones"] = int(self.zones.value)
        if self.candidates.value:
            d["candidates"] = list(self.candidates.value)
        return d

    def workload(self, *, draft: bool = False) -> Workload:
        """The validated workload; `draft` stands in a name when none is typed yet (for the aggregate)."""
        d = self.workload_dict()
        if draft and not d["name"]:
            d["name"] = "draft"
        if not d["topics"]:
            raise BadWorkload(f"{d['name'] or 'workload'}.yaml", "topics", "no topic selected; select at least one")
        return parse_workload(d, f"{self.out_dir / ((d['name'] or 'workload') + '.yaml')}")

    # -- the aggregate
    def _schedule(self) -> None:
        """Recompute the aggregate now, or after a quiet spell when an event loop runs (a kernel)."""
        if self.debounce_s <= 0 or self.con is None:
            self._update()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._update()
            return
        if self._pending is not None:
            self._pending.cancel()
        self.summary.value = self._summary_html(self.aggregate, busy=True)
        self._pending = loop.call_later(self.debounce_s, self._update)

    def _update(self) -> None:
        self._pending = None
        self.aggregate = None
        error = ""
        if self._selected:
            try:
                wl = self.workload(draft=True)
                if self.con is not None:
                    self.aggregate = workload_profile(self.con, wl, profile_df=self.profile_df)
            except BadWorkload as exc:
                error = str(exc)
        self.summary.value = self._summary_html(self.aggregate, error=error)
        self._show_status()

    def _row_sums(self) -> list[tuple[str, str]]:
        rows = self._df.iloc[[self._pos[k] for k in self.selected]]

        def total(col, fmt):
            vals = [float(v) for v in rows[col] if _known(v)]
            return fmt(sum(vals)) if vals else "—"

        return [
            ("write rate, mean (sum)", total("write_bytes_per_s_mean", human_rate)),
            ("read rate, mean (sum)", total("read_bytes_per_s_mean", human_rate)),
            ("retained (sum)", total("retained_bytes", human_bytes)),
            ("partitions (sum)", total("partitions", lambda v: f"{v:,.0f}")),
            ("p95 / peak of the sum", "needs the store (pass con=)"),
        ]

    def _summary_html(self, p: WorkloadProfile | None, *, busy: bool = False, error: str = "") -> str:
        n = len(self._selected)
        title = f"Selected: {n} topic{'s' if n != 1 else ''}" + (" (updating…)" if busy else "")
        if error:
            return _html_table([("", "")], title) + f"<div style='color:#B00020'>{e(error)}</div>"
        if p is None:
            return _html_table(self._row_sums() if n else [], title)

        def rate(v):
            return human_rate(v) if v is not None else "—"

        retention = (
            "—"
            if p.retention_s is None
            else "unlimited"
            if p.retention_s == math.inf
            else human_duration_ms(p.retention_s * 1000)
        )
        rows = [
            ("write rate, mean", rate(p.write_bytes_per_s_mean)),
            ("write rate, p95 of the sum", rate(p.write_bytes_per_s_p95)),
            ("write rate, peak of the sum", rate(p.write_bytes_per_s_peak)),
            ("read rate, mean", rate(p.read_bytes_per_s_mean)),
            ("fan-out", "—" if p.fan_out is None else f"{p.fan_out:.2f}×"),
            ("retention (longest)", retention),
            ("retained", "—" if p.retained_bytes is None else human_bytes(p.retained_bytes)),
            ("partitions", "—" if p.partitions is None else f"{p.partitions:,}"),
            ("coverage", "—" if p.coverage is None else f"{p.coverage:.0%}"),
            ("sizing driver", p.driver or "—"),
        ]
        notes = "".join(f"<li>{e(x)}</li>" for x in p.notes)
        return _html_table(rows, title) + (f"<ul><small>{notes}</small></ul>" if notes else "")

    # -- writing
    def _show_status(self) -> None:
        if self.last_path is not None:
            return
        try:
            if self._selected:
                self.workload()
            msg = "" if self._selected else "Select topics to build a workload."
            self.status.value = f"<small>{e(msg)}</small>"
        except BadWorkload as exc:
            self.status.value = f"<small style='color:#B00020'>{e(str(exc))}</small>"

    def write(self, *, overwrite: bool = True) -> Path:
        """Validate and write `out_dir/<name>.yaml`; return its path.

        The file is read back with `load_workload` and must select exactly the chosen topics.
        """
        wl = self.workload()
        path = self.out_dir / f"{wl.name}.yaml"
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True or choose another name")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        header = "# Written by exitkit.widgets.TopicPicker; see templates/workload.yaml for every key.\n"
        text = header + yaml.safe_dump(self.workload_dict(), sort_keys=False, allow_unicode=True, width=1000)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
        from exitkit.workload_profile import select_topics

        back = load_workload(path)
        if select_topics(self.profile_df, back) != self.selected:  # a guard on topic_glob, never expected
            raise BadWorkload(str(path), "topics", "the written globs do not select exactly the chosen topics")
        self.last_path = path
        self.status.value = f"Wrote <code>{e(str(path.resolve()))}</code>"
        return path

    def _on_write(self) -> None:
        self.last_path = None
        try:
            self.write()
        except (BadWorkload, OSError) as exc:
            self.status.value = f"<span style='color:#B00020'>{e(str(exc))}</span>"


# --- cost sliders -----------------------------------------------------------------------


def scenario_inputs(
    inputs: CostInputs,
    *,
    write_multiplier: float = 1.0,
    fan_out: float | None = None,
    retention_days: float | None = None,
    zone_aware_share: float | None = None,
    growth_years: float = 0,
) -> CostInputs:
    """`inputs` moved by the sliders (the same rules as `exitkit.cost` scenario grids).

    Write rate, peak and measured retained bytes scale by `write_multiplier` × (1 + growth per
    year)^`growth_years`; a retention other than the base drops measured retained bytes (the
    model then keeps write × retention); fan-out and zone-aware share replace the base.
    """
    t, a = inputs.traffic, inputs.assumptions
    factor = write_multiplier * (1 + a.growth_per_year) ** growth_years
    retention_s = t.retention_s if retention_days is None else retention_days * DAY_S
    same_retention = math.isclose(retention_s, t.retention_s, rel_tol=1e-9)
    traffic = replace(
        t,
        write_bytes_per_s=t.write_bytes_per_s * factor,
        write_peak_bytes_per_s=None if t.write_peak_bytes_per_s is None else t.write_peak_bytes_per_s * factor,
        retained_bytes=t.retained_bytes * factor if (t.retained_bytes is not None and same_retention) else None,
        fan_out=t.fan_out if fan_out is None else fan_out,
        retention_s=t.retention_s if same_retention else retention_s,
    )
    assumptions = a if zone_aware_share is None else replace(a, zone_aware_consumers=zone_aware_share)
    return replace(inputs, traffic=traffic, assumptions=assumptions)


SLIDERS = ("write_multiplier", "fan_out", "retention_days", "zone_aware_share", "vendor_discount", "growth_years")


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
        from exitkit.costing import WorkloadCost, workload_cost

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
            value=base_days, min=0.0, max=max(30.0, math.ceil(2 * base_days)), step=0.25, description="retention (days)",
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
        self.widget = w.VBox([controls, fig_view, self.table])

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def values(self) -> dict[str, float]:
        """The sliders' current values by name."""
        return {n: getattr(self, n).value for n in SLIDERS}

    def inputs(self) -> tuple[CostInputs, Catalog]:
        """Cost inputs and catalog for the sliders' current values."""
        v = self.values()
        x = scenario_inputs(
            self.base_inputs,
            write_multiplier=v["write_multiplier"],
            fan_out=v["fan_out"],
            retention_days=v["retention_days"],
            zone_aware_share=v["zone_aware_share"],
            growth_years=v["growth_years"],
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
        vendor_discount, growth_years), recompute once, return {platform: monthly total USD}."""
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
        # short platform ids on the axis (full names in the hover and the totals table): long
        # names rotate vertically and squash the plot area in a notebook cell
        x = list(self.platforms)
        fig = go.Figure(
            layout=dict(
                template=TEMPLATE,
                barmode="stack",
                title=dict(text=f"Monthly cost by byte path: {self.base_inputs.name}"),
                xaxis=dict(tickangle=0, automargin=True),
                yaxis=dict(title=dict(text="USD per month (steady + abnormal)"), tickprefix="$", tickformat=",.0f"),
                legend=dict(title=dict(text="byte path"), traceorder="reversed", orientation="h", y=-0.15),
                height=560,
                margin=dict(t=70, b=120),
            )
        )
        for i, path in enumerate(PATHS):
            fig.add_trace(
                go.Bar(
                    x=x, y=[0.0] * len(x), name=path, marker=dict(color=PATH_COLORS.get(path, COLORWAY[i % len(COLORWAY)])),
                    customdata=[self.names[p] for p in self.platforms],
                    hovertemplate="%{customdata}<br>" + path + ": $%{y:,.0f} per month<extra></extra>",
                )
            )  # fmt: skip
        fig.add_trace(
            go.Scatter(x=x, y=[0.0] * len(x), mode="text", text=[""] * len(x), textposition="top center",
                       name="total", showlegend=False, hoverinfo="skip")
        )  # fmt: skip
        return fig

    def bar_totals(self) -> dict[str, float]:
        """Per platform id, the sum of the figure's stacked bars (what the chart shows)."""
        bars = [tr for tr in self.figure.data if tr.type == "bar"]
        return {p: sum(float(tr.y[i]) for tr in bars) for i, p in enumerate(self.platforms)}

    def _draw(self) -> None:
        sums = self._path_sums()
        totals = [self.totals[p] for p in self.platforms]
        fig = self.figure
        with fig.batch_update():
            for tr in fig.data:
                if tr.type == "bar":
                    ys = sums.get(tr.name, [0.0] * len(self.platforms))
                    tr.y = ys
                    tr.showlegend = any(v > 0 for v in ys)
            fig.data[-1].y = totals
            fig.data[-1].text = [usd(v) for v in totals]
        v = self.values()
        state = (
            f"write ×{v['write_multiplier']:.2f}, fan-out {v['fan_out']:.2f}, retention {v['retention_days']:.2f} d, "
            f"zone-aware {v['zone_aware_share']:.0%}, vendor discount {v['vendor_discount']:.0%}, "
            f"growth {v['growth_years']} y"
        )
        from exitkit.notebook_helpers import totals_html

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
        from IPython import get_ipython
        from IPython.display import clear_output, display

        if get_ipython() is None:
            return
        import plotly.io as pio

        # the plotly mimetype only: JupyterLab draws it; no plotly.js bundle inside a widget
        bundle = pio.renderers["plotly_mimetype"].to_mimebundle(self.figure.to_dict())
        with self._output:
            clear_output(wait=True)
            display(bundle, raw=True)
