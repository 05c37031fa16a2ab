"""The topic picker (ipywidgets): pick topics of one cluster into a workload file.

All the logic is reachable without a browser: a test calls `TopicPicker.select()`, `.set()` or
`.write()` and reads the results. Aggregates come from `exitkit.profile.workload`.
"""

from __future__ import annotations

import asyncio
import html
import math
import os
import re
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import duckdb
import ipywidgets as w
import pandas as pd
import yaml

from exitkit import platforms
from exitkit.errors import BadWorkload
from exitkit.notebook.helpers import html_table, known_value
from exitkit.profile.workload import WorkloadProfile, driver_labels, select_topics, workload_profile
from exitkit.units import human_bytes, human_duration_ms, human_rate
from exitkit.workload.loader import load_workload, parse_workload
from exitkit.workload.model import Workload

__all__ = ["TopicPicker", "guess_platform", "topic_glob"]

e = html.escape


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
    (`exitkit.profile.workload`); without it, only what adds up from the rows (means, sizes).
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
            description="source platform", options=list(platforms.platform_ids()),
            value=d.get("platform") or guess_platform(first_cluster), style=style, layout=wide,
        )  # fmt: skip
        self.cluster = w.Text(description="source cluster", value=str(first_cluster or ""), style=style, layout=wide)
        self.region = w.Text(description="region", value=str(d.get("region", "us-east-1")), style=style, layout=wide)
        self.zones = w.BoundedIntText(description="zones", value=int(d.get("zones", 3)), min=1, max=6, style=style)
        self.candidates = w.SelectMultiple(
            description="candidates", options=list(platforms.platform_ids()), value=tuple(d.get("candidates", ())), rows=6,
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
        write = human_rate(float(r.write_bytes_per_s_mean)) if known_value(r.write_bytes_per_s_mean) else "—"
        fan = f"{float(r.fan_out):.2f}×" if known_value(r.fan_out) else "—"
        kept = human_bytes(float(r.retained_bytes)) if known_value(r.retained_bytes) else "—"
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
            vals = [float(v) for v in rows[col] if known_value(v)]
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
            return html_table([("", "")], title) + f"<div style='color:#B00020'>{e(error)}</div>"
        if p is None:
            return html_table(self._row_sums() if n else [], title)

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
        return html_table(rows, title) + (f"<ul><small>{notes}</small></ul>" if notes else "")

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
        header = "# Written by exitkit.notebook.sliders.TopicPicker; see templates/workload.yaml for every key.\n"
        text = header + yaml.safe_dump(self.workload_dict(), sort_keys=False, allow_unicode=True, width=1000)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)

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
