"""Shared Prometheus logic: the metric-name table, and raw samples → canonical points.

Both Prometheus readers (`prometheus_range`, `prometheus_text`) only parse their syntax into
a `Samples` set (one series per metric name + full label set) and call `to_result`, which:

1. classifies each series with the table in `prometheus_metrics.yaml` (data, not code);
2. snaps timestamps to one grid (multiples of the step since the epoch) so that intervals
   of different brokers, series and files line up when the profile sums them;
3. turns counters/offsets into per-second increases over [t_prev, t) with reset handling,
   end-stamped rates into [t - step, t), gauges into [t, t + step);
4. builds the `client_software` and `request_rates` snapshot rows.

Gaps (a missing grid slot, NaN/Inf, a dropped negative) produce no point: unknown, never 0.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from exitkit.ingest.base import METRICS, RATE_METRICS, ReadResult, Source, empty_points, iso_time, points_frame

KINDS = ("counter", "offset", "gauge", "rate")
ROLES = ("topic", "partition", "broker", "consumer_group", "cluster")
# Plausible sample times (epoch seconds): anything outside is a unit or data error.
TS_MIN, TS_MAX = 946_684_800.0, 4_102_444_800.0  # 2000-01-01 .. 2100-01-01
DOCS = "docs/formats/prometheus.md"
INSTANT_S = 1.0  # length given to a gauge observed once, with no step to say more

# ---------------------------------------------------------------------------------------
# The metric-name table


@dataclass(frozen=True)
class Rule:
    """One naming variant: which series it matches and what they mean."""

    metric: str | None  # canonical metric (None for snapshot rules)
    kind: str
    names: frozenset[str]
    regex: re.Pattern | None
    match: tuple[tuple[str, re.Pattern], ...]
    labels: dict[str, tuple[str, ...]]  # role -> label names, first present wins
    drop_negative: bool = False
    rank: int = 0

    def matches(self, name: str, labels: dict[str, str]) -> bool:
        if name not in self.names and not (self.regex and self.regex.fullmatch(name)):
            return False
        return all(k in labels and p.fullmatch(labels[k]) for k, p in self.match)


@dataclass(frozen=True)
class Table:
    """The whole of `prometheus_metrics.yaml`, compiled."""

    metrics: tuple[Rule, ...]
    request_rules: tuple[Rule, ...]
    request_labels: tuple[str, ...]
    software_names: frozenset[str]
    software_name_labels: tuple[str, ...]
    software_version_labels: tuple[str, ...]
    listener_labels: tuple[str, ...]
    broker_patterns: tuple[re.Pattern, ...]
    cluster_patterns: tuple[re.Pattern, ...]
    excluded_listeners: tuple[re.Pattern, ...]
    default_labels: dict[str, tuple[str, ...]]


@cache
def table() -> Table:
    """The packaged table, loaded once. A malformed table is a `ValueError` naming the entry."""
    raw = yaml.safe_load(resources.files("exitkit.ingest").joinpath("prometheus_metrics.yaml").read_text("utf-8"))
    defaults = {role: tuple(raw["labels"].get(role, [])) for role in ROLES}
    metrics = tuple(_rule(e, defaults, i, snapshot=False) for i, e in enumerate(raw["metrics"]))
    snaps = raw["snapshots"]
    cs, rr = snaps["client_software"], snaps["request_rates"]
    return Table(
        metrics=metrics,
        request_rules=tuple(_rule(e, defaults, i, snapshot=True) for i, e in enumerate(rr["rules"])),
        request_labels=tuple(rr["request"]),
        software_names=frozenset(cs["names"]),
        software_name_labels=tuple(cs["software_name"]),
        software_version_labels=tuple(cs["software_version"]),
        listener_labels=tuple(cs["listener"]),
        broker_patterns=tuple(re.compile(p) for p in raw["broker_patterns"]),
        cluster_patterns=tuple(re.compile(p) for p in raw["cluster_patterns"]),
        excluded_listeners=tuple(re.compile(p, re.IGNORECASE) for p in raw["excluded_listeners"]),
        default_labels=defaults,
    )


def _rule(entry: dict, defaults: dict[str, tuple[str, ...]], i: int, *, snapshot: bool) -> Rule:
    where = f"prometheus_metrics.yaml entry {i} ({entry.get('names') or entry.get('regex')})"
    metric = entry.get("metric")
    if not snapshot and metric not in METRICS:
        raise ValueError(f"{where}: metric {metric!r} is not one of {', '.join(METRICS)}")
    if entry.get("kind") not in KINDS:
        raise ValueError(f"{where}: kind {entry.get('kind')!r} is not one of {', '.join(KINDS)}")
    if not entry.get("names") and not entry.get("regex"):
        raise ValueError(f"{where}: needs `names` or `regex`")
    match = []
    for label, want in (entry.get("match") or {}).items():
        pattern = want["regex"] if isinstance(want, dict) else re.escape(str(want))
        match.append((label, re.compile(pattern)))
    labels = dict(defaults)
    labels.update({role: tuple(v) for role, v in (entry.get("labels") or {}).items()})
    return Rule(
        metric=metric,
        kind=entry["kind"],
        names=frozenset(entry.get("names") or ()),
        regex=re.compile(entry["regex"]) if entry.get("regex") else None,
        match=tuple(match),
        labels=labels,
        drop_negative=bool(entry.get("drop_negative", False)),
        rank=int(entry.get("rank", 0)),
    )


# ---------------------------------------------------------------------------------------
# Raw samples, as the readers collect them


@dataclass
class Samples:
    """Samples grouped into series (metric name + every label). `ts` NaN = no timestamp.

    Samples arrive one at a time (`add`, the text reader) or a series at a time as arrays
    (`extend`, the JSON reader); `frame` keeps the order they arrived in.
    """

    series: list[tuple[str, dict[str, str], int | None]] = field(default_factory=list)  # name, labels, first line
    sid: list[int] = field(default_factory=list)
    ts: list[float] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    line: list[int] = field(default_factory=list)  # the sample's line (-1: not known, JSON)
    where: dict[int, str] = field(default_factory=dict)  # sid -> where in a JSON answer (`data.result[3]`)
    _ids: dict[tuple, int] = field(default_factory=dict)
    _chunks: list[tuple[np.ndarray, ...]] = field(default_factory=list)

    def add(self, name: str, labels: dict[str, str], ts: float | None, value: float, line: int | None = None) -> None:
        """One sample. `name` "" is a PromQL expression result (no `__name__`)."""
        i = self._series_id(name, labels, line)
        self.sid.append(i)
        self.ts.append(math.nan if ts is None else ts)
        self.value.append(value)
        self.line.append(-1 if line is None else line)

    def extend(
        self,
        name: str,
        labels: dict[str, str],
        ts: np.ndarray,
        value: np.ndarray,
        line: int | None = None,
        where: str | None = None,
    ) -> None:
        """Samples of one series at once (epoch seconds, float values); none adds no series.
        `where`: the series' place in a JSON answer, for messages."""
        if not len(ts):
            return
        self._flush()
        i = self._series_id(name, labels, line)
        if where is not None:
            self.where.setdefault(i, where)
        self._chunks.append((np.full(len(ts), i, dtype="int64"), ts, value, np.full(len(ts), -1, dtype="int64")))

    def frame(self) -> pd.DataFrame:
        """sid, ts, value, line (-1: unknown) and seq (arrival order) of every sample."""
        self._flush()
        chunks = self._chunks or [(np.empty(0, "int64"), np.empty(0), np.empty(0), np.empty(0, "int64"))]
        sid, ts, value, line = (np.concatenate([c[k] for c in chunks]) for k in range(4))
        data = pd.DataFrame(
            {
                "sid": sid,
                "ts": ts.astype("float64", copy=False),
                "value": value.astype("float64", copy=False),
                "line": line,
            }
        )
        data["seq"] = np.arange(len(data))
        return data

    def _series_id(self, name: str, labels: dict[str, str], line: int | None) -> int:
        key = (name, tuple(sorted(labels.items())))
        i = self._ids.get(key)
        if i is None:
            i = self._ids[key] = len(self.series)
            self.series.append((name, labels, line))
        return i

    def _flush(self) -> None:
        """Move the one-at-a-time samples into the array chunks, keeping their order."""
        if self.sid:
            chunk = (
                np.array(self.sid, dtype="int64"),
                np.array(self.ts, dtype="float64"),
                np.array(self.value, dtype="float64"),
                np.array(self.line, dtype="int64"),
            )
            self._chunks.append(chunk)
            self.sid, self.ts, self.value, self.line = [], [], [], []


def check_ts(ts: float, source: Source, line: int | None = None, where: str = "") -> float:
    """Epoch seconds, or a `BadExport` when the time is not finite or implausible."""
    if not math.isfinite(ts) or not TS_MIN <= ts < TS_MAX:
        prefix = f"{where}: " if where else ""
        raise source.fail(
            f"{prefix}timestamp {iso_time(ts)} is not a time between 2000 and 2100 (expected Unix seconds or ms)", line
        )
    return ts


# ---------------------------------------------------------------------------------------
# Series → canonical points and snapshot rows


def to_result(
    samples: Samples,
    source: Source,
    notes: list[str] | None = None,
    default_broker: str | None = None,
    capture: tuple[float, str] | None = None,
) -> ReadResult:
    """Canonical points and snapshot rows from raw samples; `BadExport` if nothing is usable.

    `default_broker` is the broker of series that carry no broker label (a scrape file
    named after its broker, see `broker_from_filename`). `capture` is (epoch seconds, how
    it was found) of a scrape saved without timestamps: its gauges and snapshot series are
    facts observed then (log sizes, partition counts, lag, client versions, request rates);
    counters need two timed samples and stay skipped.
    """
    notes = list(notes or [])
    series = _classify(samples, source, notes, default_broker)
    data = samples.frame()
    data = _without_repeats(data[data["sid"].isin(series.index)], samples, source, notes)
    if capture is not None:
        data = _stamp_untimed(data, series, capture, notes)
    step = infer_step(data)

    points = _points(data, series[series["role"] == "point"], step, notes)
    snapshots = {
        "client_software": _client_software(data, series[series["role"] == "client_software"]),
        "request_rates": _request_rates(data, series[series["role"] == "request_rate"], step),
    }
    result = ReadResult(points=points, snapshots=snapshots, notes=notes)
    if result.rows == 0:
        raise source.fail(_why_empty(series, data, step))
    clusters = set(points["cluster"].dropna()) | {c for df in snapshots.values() for c in df["cluster"].dropna()}
    result.cluster = clusters.pop() if len(clusters) == 1 else None
    if step:
        result.notes.append(f"step {step:g}s")
    return result


def _without_repeats(data: pd.DataFrame, samples: Samples, source: Source, notes: list[str]) -> pd.DataFrame:
    """The samples with repeats of a (series, time) counted once; a repeat with another value is
    a `BadExport` naming the series, the time and both lines.

    "Last wins" would be a guess: two brokers' captures concatenated without a label that tells
    them apart lose one broker's traffic, and an out-of-order repeat of a counter reads as a
    reset (a rate many times the truth). Identical repeats (the same capture saved twice) are
    harmless and counted once. Untimed samples of one series repeat at "no time".
    """
    if len(data) < 2:
        return data
    sid, value, seq = data["sid"].to_numpy(), data["value"].to_numpy(), data["seq"].to_numpy()
    ts = np.nan_to_num(data["ts"].to_numpy(), nan=-np.inf)  # untimed: one shared "time"
    order = np.lexsort((seq, ts, sid))
    s_sid, s_ts, s_val = sid[order], ts[order], value[order]
    rep = np.zeros(len(order), dtype=bool)
    rep[1:] = (s_sid[1:] == s_sid[:-1]) & (s_ts[1:] == s_ts[:-1])
    if not rep.any():
        return data
    first = np.maximum.accumulate(np.where(~rep, np.arange(len(order)), 0))  # the first of each run
    same = (s_val == s_val[first]) | (np.isnan(s_val) & np.isnan(s_val[first]))
    bad = rep & ~same
    if bad.any():
        k = int(np.flatnonzero(bad)[np.argmin(seq[order][bad])])  # the conflict met first in the file
        a, b = data.iloc[order[first[k]]], data.iloc[order[k]]
        name, labels, _ = samples.series[int(b["sid"])]
        shown = name + "{" + ",".join(f'{key}="{v}"' for key, v in sorted(labels.items())) + "}"
        shown = shown if len(shown) <= 160 else shown[:157] + "..."
        when = "without a timestamp" if math.isnan(b["ts"]) else f"at {iso_time(b['ts'])}"
        line = int(b["line"]) if b["line"] >= 0 else None
        if line is not None:
            msg = (
                f"series {shown} {when} has value {b['value']:.15g} here and {a['value']:.15g} at line "
                f"{int(a['line'])}: two captures (brokers, instances) concatenated without a label that tells them "
                "apart? Save one file per broker, named after it, or keep the label (e.g. instance) that does"
            )
        else:
            msg = (
                f"{samples.where.get(int(b['sid']), 'a series')}: series {shown} has the time {when.removeprefix('at ')} "
                f"twice, with values {a['value']:.15g} and {b['value']:.15g}; expected each time once per series "
                "(save the answer as Prometheus returned it)"
            )
        raise source.fail(msg, line)
    notes.append(f"{int(rep.sum())} repeated samples (same series, time and value) counted once")
    return data.iloc[np.sort(order[~rep])]


def _stamp_untimed(data: pd.DataFrame, series: pd.DataFrame, capture: tuple[float, str], notes: list[str]):
    """Untimed samples of gauges and snapshot series, stamped with the capture time."""
    untimed = data["ts"].isna().to_numpy()
    if not untimed.any():
        return data
    snapshot_like = series.index[(series["role"] != "point") | (series["kind"] == "gauge")]
    sel = untimed & data["sid"].isin(snapshot_like).to_numpy()
    if not sel.any():
        return data
    data = data.copy()
    data.loc[sel, "ts"] = capture[0]
    n = data.loc[sel, "sid"].nunique()
    notes.append(f"{n} gauge series without timestamps stamped with {capture[1]}: a snapshot")
    return data


def infer_step(data: pd.DataFrame) -> float | None:
    """The series step: the median spacing of consecutive timestamps, in whole seconds.

    A query_range answer sits exactly on its step; scrapes jitter around their interval
    (15/30/60 s), so the median rounded to whole seconds recovers it. None: no series has
    two timestamped samples.
    """
    timed = data["ts"].notna().to_numpy()
    sid, ts = data["sid"].to_numpy()[timed], data["ts"].to_numpy()[timed]
    order = np.lexsort((ts, sid))
    sid, ts = sid[order], ts[order]
    gap = np.diff(ts)
    spacing = gap[(sid[1:] == sid[:-1]) & (gap > 0)]  # repeated times give 0 and are left out
    if not len(spacing):
        return None
    return float(max(1, round(float(pd.Series(spacing).median()))))


def _classify(samples: Samples, source: Source, notes: list[str], default_broker: str | None) -> pd.DataFrame:
    """One row per usable series: role, rule attributes and resolved dimensions (index = sid)."""
    t = table()
    rows: dict[int, dict] = {}
    excluded = 0
    for sid, (name, labels, line) in enumerate(samples.series):
        listener = _first(labels, t.listener_labels)
        if listener is not None and any(p.fullmatch(listener) for p in t.excluded_listeners):
            excluded += 1
            continue
        row = _classify_one(name, labels, line, source, t, default_broker)
        if row is not None:
            rows[sid] = row
    if excluded:
        notes.append(f"{excluded} series on inter-broker/controller listeners ignored")
    cols = ["role", "metric", "kind", "rank", "drop_negative", "cluster", "topic", "partition", "broker",
            "consumer_group", "listener", "software_name", "software_version", "request"]  # fmt: skip
    return pd.DataFrame.from_dict(rows, orient="index", columns=cols)


def _classify_one(
    name: str, labels: dict[str, str], line: int | None, source: Source, t: Table, default_broker: str | None
) -> dict | None:
    if name == "":
        rule = _expression_rule(source, line, t)
        role = "point"
    elif name in t.software_names and _first(labels, t.software_name_labels):
        return {
            "role": "client_software",
            **_dims(labels, t.default_labels, line, source, t, name, default_broker),
            "listener": _first(labels, t.listener_labels),
            "software_name": _first(labels, t.software_name_labels),
            "software_version": _first(labels, t.software_version_labels) or "unknown",
            "rank": 0,
        }
    else:
        rule = next((r for r in t.metrics if r.matches(name, labels)), None)
        role = "point"
        if rule is None:
            rule = next((r for r in t.request_rules if r.matches(name, labels)), None)
            role = "request_rate"
            if rule is None or not _first(labels, t.request_labels):
                return None
    row = {
        "role": role,
        "metric": rule.metric,
        "kind": rule.kind,
        "rank": rule.rank,
        "drop_negative": rule.drop_negative,
        **_dims(labels, rule.labels, line, source, t, name, default_broker),
    }
    if role == "request_rate":
        row["request"] = _first(labels, t.request_labels)
    return row


def _expression_rule(source: Source, line: int | None, t: Table) -> Rule:
    """A series without `__name__` (e.g. `rate(x[5m])`): its meaning comes from --metric."""
    if source.metric is None:
        raise source.fail(
            "a series has no __name__ (a PromQL expression result such as rate(x[5m])): "
            f"pass --metric NAME, one of {', '.join(METRICS)}",
            line,
        )
    if source.metric not in METRICS:
        raise source.fail(f"--metric {source.metric!r} is not one of {', '.join(METRICS)}", line)
    kind = "rate" if source.metric in RATE_METRICS else "gauge"
    return Rule(source.metric, kind, frozenset(), None, (), t.default_labels)


def _dims(
    labels: dict[str, str],
    roles: dict,
    line: int | None,
    source: Source,
    t: Table,
    name: str,
    default_broker: str | None,
) -> dict:
    """Cluster, topic, partition, broker and group of a series, from its labels."""
    cluster = _first(labels, roles["cluster"])
    if cluster is not None:
        cluster = _pattern_group(cluster, t.cluster_patterns)
    else:
        cluster = source.cluster
    if cluster is None:
        raise source.fail(
            f"series {name or '(expression)'} has no cluster label ({', '.join(roles['cluster'])}): "
            "pass --cluster NAME",
            line,
        )
    partition = _first(labels, roles["partition"])
    if partition is not None:
        try:
            partition = int(partition)
        except ValueError:
            raise source.fail(f"partition label {partition[:40]!r} is not an integer", line) from None
        if not 0 <= partition < 2**31:  # the store's INTEGER column; Kafka partitions are int32
            raise source.fail(
                f"partition label {str(partition)[:40]} is not a partition number (0 to 2147483647)", line
            )
    broker = _first(labels, roles["broker"])
    if broker is None and roles["broker"]:  # rules with `broker: []` have no broker dimension
        broker = default_broker
    return {
        "cluster": cluster,
        "topic": _first(labels, roles["topic"]),  # "" or absent: the all-topics series
        "partition": partition,
        "broker": None if broker is None else _pattern_group(broker, t.broker_patterns),
        "consumer_group": _first(labels, roles["consumer_group"]),
    }


def broker_from_filename(path: Path) -> str | None:
    """A broker id from a scrape file's name (`b-2.mycluster...txt`, `my-cluster-kafka-2.prom`).

    A scrape of one broker's /metrics carries no target labels, so without this every
    broker's file would look like the same broker. Plain numbers are not taken (too
    likely to be a date or a counter).
    """
    for name in (path.name, path.name.split(".")[0]):
        for p in table().broker_patterns:
            m = p.fullmatch(name)
            if m and m.group(1) != m.group(0):
                return m.group(1)
    return None


def _first(labels: dict[str, str], names) -> str | None:
    """The value of the first of `names` present with a non-empty value."""
    for n in names:
        if labels.get(n):
            return labels[n]
    return None


def _pattern_group(value: str, patterns: tuple[re.Pattern, ...]) -> str:
    for p in patterns:
        m = p.fullmatch(value)
        if m:
            return m.group(1)
    return value


def _snap(ts: pd.Series | np.ndarray, step: float) -> pd.Series | np.ndarray:
    """Nearest multiple of the step since the epoch: the same grid for every series and file."""
    return (ts / step).round() * step


def _latest_per_series(df: pd.DataFrame) -> pd.DataFrame:
    """Per series, the last sample on its grid slot (or in file order when untimed)."""
    return df.sort_values(["sid", "ts", "seq"], na_position="first").drop_duplicates("sid", keep="last")


def _increases(df: pd.DataFrame, step: float) -> tuple[pd.DataFrame, int]:
    """Per-second increase of cumulative series over [g_prev, g); also the number of resets.

    Only consecutive grid slots give a point (a missing slot is a gap). A drop in value
    means the counter restarted from 0 (broker restart), so the increase is the new value.
    """
    timed = df["ts"].notna().to_numpy()
    sid, ts, value, seq = (df[c].to_numpy()[timed] for c in ("sid", "ts", "value", "seq"))
    g = _snap(ts, step)
    order = np.lexsort((seq, ts, g, sid))
    sid, ts, value, g = sid[order], ts[order], value[order], g[order]
    last = np.ones(len(sid), dtype=bool)  # the last sample on each (series, slot)
    last[:-1] = (sid[1:] != sid[:-1]) | (g[1:] != g[:-1])
    keep = last & np.isfinite(value)
    sid, value, g = sid[keep], value[keep], g[keep]
    prev_v, prev_g = np.full(len(sid), np.nan), np.full(len(sid), np.nan)
    same = np.zeros(len(sid), dtype=bool)
    same[1:] = sid[1:] == sid[:-1]
    prev_v[same], prev_g[same] = value[:-1][same[1:]], g[:-1][same[1:]]
    ok = same & np.isclose(g - prev_g, step)
    reset = ok & (value < prev_v)
    inc = np.where(reset, value, value - prev_v)
    out = pd.DataFrame({"sid": sid[ok], "ts_start": prev_g[ok], "ts_end": g[ok], "value": inc[ok] / step})
    return out, int(reset.sum())


def _points(data: pd.DataFrame, series: pd.DataFrame, step: float | None, notes: list[str]) -> pd.DataFrame:
    """Canonical metric points from the point series (see module docstring for intervals)."""
    if series.empty:
        return empty_points()
    pos = series.index.get_indexer(data["sid"])  # each sample's series row; -1: not a point series
    df = data[pos >= 0].copy()
    pos = pos[pos >= 0]
    value = df["value"].to_numpy(copy=True)
    drop_negative = series["drop_negative"].astype(bool).to_numpy()[pos]
    value[(drop_negative & (value < 0)) | ~np.isfinite(value)] = np.nan  # and NaN, +Inf, -Inf: gaps
    df["value"] = value
    kinds = series["kind"].to_numpy()

    def kind(*names: str) -> np.ndarray:
        return np.isin(kinds, names)[pos]

    timed = df["ts"].notna().to_numpy()
    untimed = len(np.unique(df["sid"].to_numpy()[~timed]))
    if untimed:
        notes.append(f"{untimed} series without timestamps skipped: a scrape without timestamps has no time axis")
    parts = []
    cumulative = df[kind("counter", "offset")]
    if len(cumulative) and step:
        inc, resets = _increases(cumulative, step)
        parts.append(inc)
        if resets:
            notes.append(f"{resets} counter resets (broker restarts) handled")
    gauges = df[kind("gauge") & timed]
    if len(gauges):
        parts.append(_gauge_points(gauges, step))
    rates = df[kind("rate") & timed]
    if len(rates) and step:
        g = _snap(rates["ts"], step)
        parts.append(pd.DataFrame({"sid": rates["sid"], "ts_start": g - step, "ts_end": g, "value": rates["value"], "seq": rates["seq"]})
                     .sort_values("seq").drop_duplicates(["sid", "ts_end"], keep="last").drop(columns="seq"))  # fmt: skip
    elif len(rates):
        notes.append("rate series skipped: one sample per series gives no step to know the interval")
    if not parts:
        return empty_points()
    pts = pd.concat(parts, ignore_index=True).dropna(subset=["value"])
    return _aggregate(pts, series)


def _gauge_points(gauges: pd.DataFrame, step: float | None) -> pd.DataFrame:
    """Gauges hold over [g, g + step).

    With no step (one sample per series: a single timed scrape, an instant vector) the
    observation at t is stored as [t, t + 1 s): an interval must have a length to count.
    """
    g = _snap(gauges["ts"], step) if step else gauges["ts"]
    end = g + (step or INSTANT_S)
    df = pd.DataFrame(
        {"sid": gauges["sid"], "ts_start": g, "ts_end": end, "value": gauges["value"], "seq": gauges["seq"]}
    )
    return df.sort_values("seq").drop_duplicates(["sid", "ts_start"], keep="last").drop(columns="seq")


def _aggregate(pts: pd.DataFrame, series: pd.DataFrame) -> pd.DataFrame:
    """Sum series that share every kept dimension; keep only the best-ranked rule per topic.

    Summing merges series that differ only in labels exitkit does not keep (network
    processor, request version, listener). The rank filter keeps, e.g., broker counters over
    kafka_exporter offsets for the same topic, so one file never counts a topic twice.
    """
    dims = ["cluster", "topic", "partition", "broker", "consumer_group", "metric", "rank"]
    kept = series[dims].astype({"partition": "Int64"})
    # Number each combination of kept dimensions in sorted order, so that grouping the points
    # by (group, ts_start, ts_end) sums and orders them as grouping by every dimension would.
    gid = kept.groupby(dims, dropna=False, sort=True).ngroup().to_numpy()
    groups = kept.iloc[np.unique(gid, return_index=True)[1]].reset_index(drop=True)  # row g: group g
    pts = pd.DataFrame(
        {
            "gid": gid[series.index.get_indexer(pts["sid"])],
            "ts_start": pts["ts_start"].to_numpy(),
            "ts_end": pts["ts_end"].to_numpy(),
            "value": pts["value"].to_numpy(),
        }
    )
    agg = pts.groupby(["gid", "ts_start", "ts_end"], dropna=False, sort=True)["value"].sum().reset_index()
    present = groups.loc[np.unique(agg["gid"])]
    best = present.groupby(["cluster", "topic", "consumer_group", "metric"], dropna=False)["rank"].transform("min")
    agg = agg[agg["gid"].isin(present.index[present["rank"] == best])]
    g = agg["gid"].to_numpy()
    used = np.unique(g)

    def per_point(column: str) -> np.ndarray | str | None:
        """The column for every point; a scalar (broadcast) when every group has the same value."""
        values = np.empty(len(groups), dtype=object)
        values[:] = [_none(v) for v in groups[column]]
        distinct = set(values[used])
        if len(distinct) == 1 and isinstance(one := distinct.pop(), str | None):
            return one
        return values[g]

    return points_frame(
        cluster=per_point("cluster"),
        topic=per_point("topic"),
        # Floats (NaN = none) become Int64 several times faster than Python ints and None.
        partition=groups["partition"].astype("float64").to_numpy()[g],
        broker=per_point("broker"),
        consumer_group=per_point("consumer_group"),
        metric=per_point("metric"),
        ts_start=agg["ts_start"].to_numpy(),
        ts_end=agg["ts_end"].to_numpy(),
        value=agg["value"].to_numpy(),
    )


def _none(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA else v


def _observed(ts: pd.Series) -> pd.Series:
    return pd.to_datetime(ts, unit="s").astype("datetime64[us]")


def _client_software(data: pd.DataFrame, series: pd.DataFrame) -> pd.DataFrame:
    """KIP-511 connections: latest value per series, summed over network processors."""
    cols = ["cluster", "broker", "listener", "software_name", "software_version", "connections", "observed_at"]
    df = data[data["sid"].isin(series.index) & np.isfinite(data["value"])]
    if df.empty:
        return pd.DataFrame(columns=cols)
    last = _latest_per_series(df).join(series, on="sid")
    last["observed_at"] = _observed(last["ts"])
    key = cols[:5]
    out = last.groupby(key, dropna=False).agg(connections=("value", "sum"), observed_at=("observed_at", "max"))
    return _clean(out.reset_index()[cols])


def _request_rates(data: pd.DataFrame, series: pd.DataFrame, step: float | None) -> pd.DataFrame:
    """Requests/s per broker and API: the latest interval of the counters (EWMA as fallback)."""
    cols = ["cluster", "broker", "request", "rate_per_s", "observed_at"]
    df = data[data["sid"].isin(series.index) & np.isfinite(data["value"])]
    kind = df["sid"].map(series["kind"])
    parts = []
    counters = df[kind == "counter"]
    if len(counters) and step:
        inc, _ = _increases(counters, step)
        last = inc.sort_values("ts_end").drop_duplicates("sid", keep="last")
        parts.append(pd.DataFrame({"sid": last["sid"], "rate_per_s": last["value"], "ts": last["ts_end"]}))
    rates = df[kind == "rate"]
    if len(rates):
        last = _latest_per_series(rates)
        parts.append(pd.DataFrame({"sid": last["sid"], "rate_per_s": last["value"], "ts": last["ts"]}))
    if not parts:
        return pd.DataFrame(columns=cols)
    rows = pd.concat(parts, ignore_index=True).join(series[["cluster", "broker", "request", "rank"]], on="sid")
    rows["observed_at"] = _observed(rows["ts"])
    key = ["cluster", "broker", "request", "rank"]
    out = (
        rows.groupby(key, dropna=False)
        .agg(rate_per_s=("rate_per_s", "sum"), observed_at=("observed_at", "max"))
        .reset_index()
    )
    best = out.groupby(["cluster", "broker", "request"], dropna=False)["rank"].transform("min")
    return _clean(out[out["rank"] == best][cols])


_TEXT_COLUMNS = ("cluster", "broker", "listener", "software_name", "software_version", "request")


def _clean(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns as object with None (NULL in the store, even when all are missing)."""
    df = df.reset_index(drop=True)
    for c in df.columns:
        if c in _TEXT_COLUMNS:
            df[c] = pd.Series([_none(v) for v in df[c]], dtype=object)
    return df


def _why_empty(series: pd.DataFrame, data: pd.DataFrame, step: float | None) -> str:
    """The one-line reason a file gave no rows, saying what was expected."""
    if series.empty:
        return (
            "no Kafka broker or kafka_exporter metric that exitkit knows (e.g. kafka_server_brokertopicmetrics_bytesin_total, "
            f'kafka_server_BrokerTopicMetrics_Count{{name="BytesInPerSec"}}, kafka_topic_partition_current_offset); see {DOCS}'
        )
    if data["ts"].isna().all():
        return (
            "samples have no timestamps: a single scrape without timestamps has no time axis; "
            "export with timestamps (the query_range API, or scrapes saved with their times)"
        )
    if step is None:
        return "every series has a single sample: a rate needs at least two samples one step apart"
    return "no usable samples: every value is NaN, Inf or a gap"
