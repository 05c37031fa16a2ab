"""A workload's traffic: its topics picked from the store, summed, overridden, grown, labelled.

Rules (each one tested, see docs/workloads.md):
- Selection: each `topics` entry is an fnmatch glob over topic names (case-sensitive);
  `cluster:glob` limits that entry to clusters matching `cluster`; without a prefix the entry
  is limited to `source.cluster` when set. A glob that matches nothing is an error naming it.
- Rates are those of the per-interval SUM of the selected topics: the series are cut into the
  segments between all their interval boundaries (a rate is constant over its interval, so an
  hourly point spreads evenly over its minutes); a segment counts where every selected topic
  that has the metric has data (gaps are unknown, never zero). p95 is the nearest-rank p95 of
  the summed series, time-weighted (with equal intervals: rank ceil(0.95 × n)), NOT the sum of
  the topics' p95s; peak is the peak of the sum; the mean is the sum of the topics'
  time-weighted means (the mean of the sum where topics were observed together).
- fan_out = read mean / write mean; retention = the longest of the topics' (unlimited wins);
  retained bytes and partitions are sums; consumer lag is the worst topic's.
- `traffic:` values replace measured ones and are marked `assumed` in `provenance`; values
  derived from them are `assumed` too; a value filled in by a documented default is `default`.
- Driver: the biggest of three monthly volumes — in = write × replication factor × month
  (the bytes brokers write), out = read × month (= write × fan_out), kept = retained ×
  replication factor (GiB held through the month) — gives write-heavy, fan-out-heavy or
  retention-heavy. So: fan-out-heavy when fan_out > RF, retention-heavy when a topic keeps
  more than a month of its writes.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatchcase

import duckdb
import numpy as np
import pandas as pd

from exitkit.profile.topics import PROFILE_COLUMNS, topic_profile, topic_rate_series
from exitkit.store import memory_connection
from exitkit.workload.model import Workload

GIB = 2**30
DRIVERS = ("write-heavy", "fan-out-heavy", "retention-heavy")  # tie order: first wins
P95 = 0.95

# Fields of WorkloadProfile that carry a provenance ("measured" | "assumed" | "default").
PROVENANCE_FIELDS = (
    "write_bytes_per_s_mean", "write_bytes_per_s_p95", "write_bytes_per_s_peak",
    "read_bytes_per_s_mean", "read_bytes_per_s_p95", "fan_out",
    "records_in_per_s_mean", "avg_record_bytes", "partitions", "retention_s", "retained_bytes",
    "replication_factor", "month_hours", "growth_per_year", "replay_hours_of_data",
)  # fmt: skip


@dataclass(frozen=True)
class WorkloadProfile:
    """A workload's traffic in SI units (bytes, seconds). None = unknown, never 0.

    `retention_s` is `math.inf` for unlimited retention. Rates include growth when
    `growth_years` > 0 (`growth_factor` says by how much).
    """

    name: str
    topics: tuple[tuple[str, str], ...]
    write_bytes_per_s_mean: float | None
    write_bytes_per_s_p95: float | None
    write_bytes_per_s_peak: float | None
    read_bytes_per_s_mean: float | None
    read_bytes_per_s_p95: float | None
    fan_out: float | None
    records_in_per_s_mean: float | None
    avg_record_bytes: float | None
    partitions: int | None
    replication_factor: int
    retention_s: float | None
    retained_bytes: float | None
    max_consumer_lag_records: float | None
    max_consumer_lag_s: float | None  # worst topic's lag in time: lag records / records_in rate
    replay_window_s: float | None  # how much history one consumer replay re-reads
    replay_bound: str | None  # what bounds it: "retention" | "consumer_lag" | "assumption"
    replay_bytes: float | None  # write mean × replay window: bytes one replay re-reads
    observed_from: pd.Timestamp | None
    observed_to: pd.Timestamp | None
    coverage: float | None  # share of the observed span where every topic had write data
    month_hours: float
    monthly_in_gib: float | None  # write × RF × month
    monthly_out_gib: float | None  # read × month
    stored_gib_months: float | None  # retained × RF
    driver: str | None
    growth_years: float = 0.0
    growth_factor: float = 1.0
    provenance: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """JSON-ready: timestamps ISO 8601 UTC, unlimited retention as null with a flag."""
        d = asdict(self)
        d["topics"] = [{"cluster": c, "topic": t} for c, t in self.topics]
        d["retention_unlimited"] = self.retention_s == math.inf
        if d["retention_unlimited"]:
            d["retention_s"] = None
        for k in ("observed_from", "observed_to"):
            d[k] = None if d[k] is None else pd.Timestamp(d[k]).isoformat() + "Z"
        d["notes"] = list(self.notes)
        return d

    def as_profile_row(self) -> dict:
        """The aggregate in `exitkit.profile.topics.PROFILE_COLUMNS` shape: cluster `(workload)`, topic = name."""

        retention_ms = (
            None if self.retention_s is None else (-1 if self.retention_s == math.inf else self.retention_s * 1000)
        )
        row = {c: getattr(self, c, None) for c in PROFILE_COLUMNS}
        row.update(cluster="(workload)", topic=self.name, retention_ms=retention_ms)
        row.update(consumer_groups=None, retention_bytes=None, cleanup_policy=None)
        return row


# --- selection --------------------------------------------------------------------------


def _split_glob(entry: str) -> tuple[str | None, str]:
    if ":" in entry:
        cluster, _, pattern = entry.rpartition(":")
        return cluster, pattern
    return None, entry


def select_topics(
    con_or_profile_df: duckdb.DuckDBPyConnection | pd.DataFrame, workload: Workload
) -> list[tuple[str, str]]:
    """The (cluster, topic) pairs the workload's globs select, sorted; a glob matching nothing is an error."""
    if isinstance(con_or_profile_df, pd.DataFrame):
        df = con_or_profile_df
    else:
        df = topic_profile(con_or_profile_df)
    pairs = sorted({(str(c), str(t)) for c, t in zip(df["cluster"], df["topic"], strict=True) if t is not None})
    chosen: set[tuple[str, str]] = set()
    for i, entry in enumerate(workload.topics):
        cluster_glob, pattern = _split_glob(entry)
        if cluster_glob is None:
            cluster_glob = workload.source.cluster  # None: any cluster
        hits = [
            (c, t)
            for c, t in pairs
            if fnmatchcase(t, pattern) and (cluster_glob is None or fnmatchcase(c, cluster_glob))
        ]
        if not hits:
            where = f"cluster {cluster_glob!r}" if cluster_glob else "the store"
            clusters = sorted({c for c, _ in pairs})
            known = f"; clusters in the store: {', '.join(clusters)}" if clusters else "; the store has no topics"
            raise workload.fail(f"topics[{i}]", f"{entry!r} matches no topic in {where}{known}")
        chosen.update(hits)
    return sorted(chosen)


# --- the summed series ------------------------------------------------------------------

_SUM_SQL = """
WITH s AS (SELECT * FROM _wl_series),
b AS (
    SELECT DISTINCT metric, ts FROM (
        SELECT metric, ts_start AS ts FROM s UNION ALL SELECT metric, ts_end AS ts FROM s)
),
seg AS (
    SELECT metric, ts AS seg_start, lead(ts) OVER (PARTITION BY metric ORDER BY ts) AS seg_end FROM b
),
j AS (
    -- a topic's interval covers every segment inside it: range join
    SELECT seg.metric, seg.seg_start, seg.seg_end, sum(s.value) AS value,
           count(DISTINCT (s.cluster, s.topic)) AS n
    FROM seg JOIN s ON s.metric = seg.metric AND s.ts_start <= seg.seg_start AND s.ts_end >= seg.seg_end
    WHERE seg.seg_end IS NOT NULL
    GROUP BY ALL
),
need AS (SELECT metric, count(DISTINCT (cluster, topic)) AS n FROM s GROUP BY metric)
SELECT j.metric, j.seg_start AS ts_start, j.seg_end AS ts_end,
       epoch(j.seg_end) - epoch(j.seg_start) AS dur, j.value
FROM j JOIN need ON need.metric = j.metric AND j.n = need.n   -- complete segments only
ORDER BY j.metric, j.seg_start
"""


def summed_series(series: pd.DataFrame) -> pd.DataFrame:
    """Per-segment sum over topics of a `topic_rate_series` frame (complete segments only).

    Columns: metric, ts_start, ts_end, dur (seconds), value (per second).
    """

    con = memory_connection()
    try:
        con.register("_wl_series", series[["cluster", "topic", "metric", "ts_start", "ts_end", "value"]])
        return con.execute(_SUM_SQL).df()
    finally:
        con.close()


def weighted_p95(values: pd.Series | np.ndarray, durations: pd.Series | np.ndarray) -> float | None:
    """Time-weighted nearest-rank p95: the smallest value v with ≥ 95% of the time at or below v.

    With equal durations this is the value at rank ceil(0.95 × n) of the sorted values.
    """
    v, d = np.asarray(values, dtype=float), np.asarray(durations, dtype=float)
    if len(v) == 0:
        return None
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(d[order])
    idx = int(np.searchsorted(cum, P95 * cum[-1] * (1 - 1e-12), side="left"))
    return float(v[order][min(idx, len(v) - 1)])


def workload_series(
    con: duckdb.DuckDBPyConnection,
    topics: list[tuple[str, str]],
    metrics: tuple[str, ...] = ("bytes_in", "bytes_out"),
) -> pd.DataFrame:
    """The summed per-interval series of these topics (for charts), see `summed_series`."""

    return summed_series(topic_rate_series(con, metrics, topics))


# --- drivers ----------------------------------------------------------------------------


def driver_volumes(
    write_bytes_per_s: float | None,
    read_bytes_per_s: float | None,
    retained_bytes: float | None,
    replication_factor: float = 3,
    month_hours: float = 730,
) -> dict[str, float | None]:
    """The three monthly volumes the driver rule compares (GiB, GiB, GiB-months)."""
    month_s = month_hours * 3600
    return {
        "monthly_in_gib": None if _nan(write_bytes_per_s) else write_bytes_per_s * replication_factor * month_s / GIB,
        "monthly_out_gib": None if _nan(read_bytes_per_s) else read_bytes_per_s * month_s / GIB,
        "stored_gib_months": None if _nan(retained_bytes) else retained_bytes * replication_factor / GIB,
    }


def driver_of(volumes: dict[str, float | None]) -> str | None:
    """write-heavy | fan-out-heavy | retention-heavy: the biggest volume (ties: that order)."""
    vals = [volumes["monthly_in_gib"], volumes["monthly_out_gib"], volumes["stored_gib_months"]]
    if vals[0] is None:
        return None  # without a write rate there is nothing to compare
    best = max(range(3), key=lambda i: (-1 if vals[i] is None else vals[i], -i))
    return DRIVERS[best]


def _nan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


def _retained_or_estimate(retained, write, retention_s) -> float | None:
    """Measured retained bytes, else write × retention (finite retention only)."""
    if not _nan(retained):
        return float(retained)
    if not _nan(write) and not _nan(retention_s) and 0 <= retention_s < math.inf:
        return float(write) * float(retention_s)
    return None


def driver_labels(profile_df: pd.DataFrame, replication_factor: float = 3, month_hours: float = 730) -> pd.Series:
    """Per row of a `topic_profile` frame: write-heavy | fan-out-heavy | retention-heavy (None if no write rate).

    Retained bytes where measured, else write mean × retention (see module docstring).
    """
    labels = []
    for row in profile_df.itertuples(index=False):
        ret_ms = getattr(row, "retention_ms", None)
        retention_s = None if _nan(ret_ms) else (math.inf if ret_ms < 0 else ret_ms / 1000)
        write = row.write_bytes_per_s_mean
        kept = _retained_or_estimate(getattr(row, "retained_bytes", None), write, retention_s)
        labels.append(
            driver_of(driver_volumes(write, row.read_bytes_per_s_mean, kept, replication_factor, month_hours))
        )
    return pd.Series(labels, index=profile_df.index, name="driver", dtype=object)


# --- the aggregate ----------------------------------------------------------------------


def _sum_known(values) -> tuple[float | None, int]:
    known = [float(v) for v in values if not _nan(v)]
    return (sum(known) if known else None), len(values) - len(known)


def _max_known(values) -> float | None:
    known = [float(v) for v in values if not _nan(v)]
    return max(known) if known else None


def _measure(con, workload: Workload, profile_df: pd.DataFrame | None) -> tuple[dict, pd.DataFrame, list[str]]:
    """Measured aggregate values of the workload's topics, the topics' rows, and notes."""

    if profile_df is None:
        profile_df = topic_profile(con)
    topics = select_topics(profile_df, workload)
    key = pd.MultiIndex.from_tuples(topics)
    rows = profile_df[pd.MultiIndex.from_frame(profile_df[["cluster", "topic"]]).isin(key)].reset_index(drop=True)
    notes: list[str] = []
    m: dict = {"topics": tuple(topics)}

    series = topic_rate_series(con, ("bytes_in", "bytes_out", "records_in"), topics)
    summed = summed_series(series) if len(series) else series.assign(dur=[])
    for metric, prefix in (("bytes_in", "write"), ("bytes_out", "read")):
        mean, unknown = _sum_known(rows[f"{prefix}_bytes_per_s_mean"])
        m[f"{prefix}_bytes_per_s_mean"] = mean
        if mean is not None and unknown:
            notes.append(f"{metric}: no data for {unknown} of {len(rows)} topics; the sums cover the others")
        s = summed[summed["metric"] == metric]
        if len(s):
            m[f"{prefix}_bytes_per_s_p95"] = weighted_p95(s["value"], s["dur"])
            peak = float(s["value"].max())
        elif mean is not None:
            # topics never observed together: the sums of the topics' p95s and peaks are upper bounds
            m[f"{prefix}_bytes_per_s_p95"], _ = _sum_known(rows[f"{prefix}_bytes_per_s_p95"])
            peak, _ = _sum_known(rows["write_bytes_per_s_peak"]) if prefix == "write" else (None, 0)
            notes.append(
                f"{metric}: the topics have no interval in common; p95 and peak are sums of theirs (upper bounds)"
            )
        else:
            m[f"{prefix}_bytes_per_s_p95"], peak = None, None
        if prefix == "write":
            m["write_bytes_per_s_peak"] = peak
            if len(s) and not series.empty:
                w = series[series["metric"] == "bytes_in"]
                span = (w["ts_end"].max() - w["ts_start"].min()).total_seconds()
                m["coverage"] = float(s["dur"].sum()) / span if span > 0 else None
    m.setdefault("coverage", None)
    m["records_in_per_s_mean"], _ = _sum_known(rows["records_in_per_s_mean"])
    w, r = m["write_bytes_per_s_mean"], m["read_bytes_per_s_mean"]
    m["fan_out"] = r / w if w and r is not None else None
    rec = m["records_in_per_s_mean"]
    m["avg_record_bytes"] = w / rec if w is not None and rec else None

    parts, unknown = _sum_known(rows["partitions"])
    m["partitions"] = None if parts is None else int(parts)
    if parts is not None and unknown:
        notes.append(f"partitions: unknown for {unknown} of {len(rows)} topics; the sum covers the others")
    ret = [math.inf if (not _nan(v) and v < 0) else (None if _nan(v) else v / 1000) for v in rows["retention_ms"]]
    m["retention_s"] = _max_known(ret)
    m["retained_bytes"], unknown = _sum_known(rows["retained_bytes"])
    if m["retained_bytes"] is not None and unknown:
        notes.append(f"retained_bytes: unknown for {unknown} of {len(rows)} topics; the sum covers the others")
    m["max_consumer_lag_records"] = _max_known(rows["max_consumer_lag_records"])
    lag_s = [
        lag / rate
        for lag, rate in zip(rows["max_consumer_lag_records"], rows["records_in_per_s_mean"], strict=True)
        if not _nan(lag) and not _nan(rate) and rate > 0
    ]
    m["max_consumer_lag_s"] = max(lag_s) if lag_s else None
    froms = pd.to_datetime(pd.Series(list(rows["observed_from"]), dtype=object)).dropna()
    tos = pd.to_datetime(pd.Series(list(rows["observed_to"]), dtype=object)).dropna()
    m["observed_from"] = froms.min() if len(froms) else None
    m["observed_to"] = tos.max() if len(tos) else None
    return m, rows, notes


_MEASURED_KEYS = (
    "write_bytes_per_s_mean", "write_bytes_per_s_p95", "write_bytes_per_s_peak",
    "read_bytes_per_s_mean", "read_bytes_per_s_p95", "fan_out", "records_in_per_s_mean",
    "avg_record_bytes", "partitions", "retention_s", "retained_bytes", "max_consumer_lag_records",
    "max_consumer_lag_s", "observed_from", "observed_to", "coverage",
)  # fmt: skip


def workload_profile(
    con: duckdb.DuckDBPyConnection | None,
    workload: Workload,
    growth_years: float = 0,
    *,
    profile_df: pd.DataFrame | None = None,
) -> WorkloadProfile:
    """The workload's aggregate traffic: measured from its topics, then `traffic:` overrides, then growth.

    `con` may be None for a what-if workload (no `topics`). `profile_df` reuses a
    `topic_profile(con)` frame already computed.
    """
    notes: list[str] = []
    if workload.topics:
        if con is None:
            raise workload.fail(
                "topics", "selects topics, which needs a store; run `exitkit ingest` first or pass --db"
            )
        m, _, notes = _measure(con, workload, profile_df)
    else:
        m = dict.fromkeys(_MEASURED_KEYS)
        m["topics"] = ()
    prov = {f: "measured" for f in PROVENANCE_FIELDS}
    t = workload.traffic
    a = workload.assumptions

    def given(name: str) -> bool:
        return t is not None and getattr(t, name) is not None

    # write: an override of the mean scales the measured p95 and peak (same shape, new level)
    w = m["write_bytes_per_s_mean"]
    p95, peak = m["write_bytes_per_s_p95"], m["write_bytes_per_s_peak"]
    write_changed = given("write_rate")
    if write_changed:
        scale = t.write_rate / w if w else None
        w = t.write_rate
        prov["write_bytes_per_s_mean"] = "assumed"
        p95 = None if (p95 is None or scale is None) else p95 * scale
        peak = None if (peak is None or scale is None) else peak * scale
        prov["write_bytes_per_s_p95"] = prov["write_bytes_per_s_peak"] = "assumed"
    if given("write_p95"):
        p95, prov["write_bytes_per_s_p95"] = t.write_p95, "assumed"
    if given("write_peak"):
        peak, prov["write_bytes_per_s_peak"] = t.write_peak, "assumed"
    if w is not None and p95 is None:  # what-if: p95 defaults to the peak if given, else the mean
        p95, prov["write_bytes_per_s_p95"] = (peak if peak is not None else w), "default"
    if w is not None and peak is None:
        peak, prov["write_bytes_per_s_peak"] = max(p95, w), "default"

    fan_out = m["fan_out"]
    if given("fan_out"):
        fan_out, prov["fan_out"] = t.fan_out, "assumed"
    elif fan_out is None and w is not None and not workload.topics:
        fan_out, prov["fan_out"] = 1.0, "default"  # what-if: one consumer group reading everything
    read, read_p95 = m["read_bytes_per_s_mean"], m["read_bytes_per_s_p95"]
    if write_changed or given("fan_out") or prov["fan_out"] == "default":
        read = None if (w is None or fan_out is None) else w * fan_out
        read_p95 = None if (p95 is None or fan_out is None) else p95 * fan_out
        kind = "default" if "default" in (prov["fan_out"], prov["write_bytes_per_s_mean"]) else "assumed"
        prov["read_bytes_per_s_mean"] = prov["read_bytes_per_s_p95"] = kind

    records, rec_bytes = m["records_in_per_s_mean"], m["avg_record_bytes"]
    if given("record_size"):
        rec_bytes, prov["avg_record_bytes"] = t.record_size, "assumed"
    if (given("record_size") or write_changed) and w is not None and rec_bytes:
        records, prov["records_in_per_s_mean"] = w / rec_bytes, "assumed"

    retention_s = m["retention_s"]
    if given("retention"):
        retention_s, prov["retention_s"] = t.retention, "assumed"
    partitions = m["partitions"]
    if given("partitions"):
        partitions, prov["partitions"] = t.partitions, "assumed"
    retained = m["retained_bytes"]
    if given("retained"):
        retained, prov["retained_bytes"] = t.retained, "assumed"
    elif write_changed or given("retention"):
        # the measured size reflects the measured rate and retention: re-estimate it
        est = _retained_or_estimate(None, w, retention_s)
        if est is not None:
            retained, prov["retained_bytes"] = est, "assumed"

    for f, name in (("replication_factor", "replication_factor"), ("month_hours", "month_hours")):
        prov[f] = "assumed" if name in a.model_fields_set else "default"
    prov["growth_per_year"] = "assumed" if "growth_per_year" in a.model_fields_set else "default"
    replay = a.recovery.consumer_replay
    prov["replay_hours_of_data"] = (
        "assumed"
        if "recovery" in a.model_fields_set
        and "consumer_replay" in a.recovery.model_fields_set
        and "hours_of_data" in replay.model_fields_set
        else "default"
    )

    # growth: rates and stored bytes grow; shape (fan-out, retention, record size) does not
    factor = (1 + a.growth_per_year) ** growth_years if growth_years else 1.0

    def grow(v):
        return None if v is None else v * factor

    w, p95, peak, read, read_p95, records, retained = map(grow, (w, p95, peak, read, read_p95, records, retained))
    if growth_years:
        notes.append(
            f"growth: {a.growth_per_year:.0%}/year over {growth_years:g} years = ×{factor:.3f} on rates and size"
        )

    # replay: a replay re-reads max(assumed hours, observed worst lag), bounded by retention
    need_s = replay.hours_of_data * 3600
    bound = "assumption"
    lag_s = m["max_consumer_lag_s"]
    if lag_s is not None and lag_s > need_s:
        need_s, bound = lag_s, "consumer_lag"
    if retention_s is not None and retention_s < need_s:
        need_s, bound = retention_s, "retention"
    replay_bytes = None if w is None else w * need_s

    rf = a.replication_factor
    vols = driver_volumes(w, read, _retained_or_estimate(retained, w, retention_s), rf, a.month_hours)
    return WorkloadProfile(
        name=workload.name,
        topics=m["topics"],
        write_bytes_per_s_mean=w,
        write_bytes_per_s_p95=p95,
        write_bytes_per_s_peak=peak,
        read_bytes_per_s_mean=read,
        read_bytes_per_s_p95=read_p95,
        fan_out=fan_out,
        records_in_per_s_mean=records,
        avg_record_bytes=rec_bytes,
        partitions=partitions,
        replication_factor=rf,
        retention_s=retention_s,
        retained_bytes=retained,
        max_consumer_lag_records=m["max_consumer_lag_records"],
        max_consumer_lag_s=lag_s,
        replay_window_s=need_s,
        replay_bound=bound,
        replay_bytes=replay_bytes,
        observed_from=m["observed_from"],
        observed_to=m["observed_to"],
        coverage=m["coverage"],
        month_hours=a.month_hours,
        **vols,
        driver=driver_of(vols),
        growth_years=float(growth_years),
        growth_factor=factor,
        provenance=prov,
        notes=tuple(notes),
    )


def workload_topics(
    con: duckdb.DuckDBPyConnection | None, workload: Workload, profile_df: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The `topic_profile` rows of the workload's topics plus a `driver` column (empty for a what-if)."""

    if not workload.topics:
        return pd.DataFrame(columns=[*PROFILE_COLUMNS, "driver"])
    if con is None and profile_df is None:
        raise workload.fail("topics", "selects topics, which needs a store; run `exitkit ingest` first or pass --db")
    if profile_df is None:
        profile_df = topic_profile(con)
    topics = select_topics(profile_df, workload)
    idx = pd.MultiIndex.from_frame(profile_df[["cluster", "topic"]]).isin(pd.MultiIndex.from_tuples(topics))
    rows = profile_df[idx].reset_index(drop=True)
    a = workload.assumptions
    rows["driver"] = driver_labels(rows, a.replication_factor, a.month_hours)
    return rows
