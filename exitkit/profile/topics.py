"""Per-topic profile: write rate, read fan-out, records, retention and lag, from the store.

The normalization rules of the store's design live here, in SQL, next to the function
that runs them:
- the same interval loaded twice (two files with the same series) counts once;
- where two granularities (or two export formats) cover the same hours of a topic's
  metric, the finest wins there and the coarser rows overlapping it are dropped;
- per-interval topic rates are the SUM over brokers and partitions of rows that carry a
  topic; rows without a topic are cluster totals and never enter a topic sum;
- gaps are intervals with no row: they are unknown, never zero (means are time-weighted
  over intervals with data, coverage says how much of the span had data);
- p95 is the nearest-rank 95th percentile of the per-interval rates: the value at rank
  ceil(0.95 × n) of the n rates sorted ascending.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pandas as pd

from exitkit.ingest.base import RATE_METRICS
from exitkit.profile.evidence import topic_facts
from exitkit.units import parse_bytes

PROFILE_COLUMNS = [
    "cluster", "topic",
    "write_bytes_per_s_mean", "write_bytes_per_s_p95", "write_bytes_per_s_peak",
    "read_bytes_per_s_mean", "read_bytes_per_s_p95", "fan_out",
    "records_in_per_s_mean", "avg_record_bytes",
    "partitions", "replication_factor", "retention_ms", "retention_bytes", "cleanup_policy",
    "retained_bytes", "consumer_groups", "max_consumer_lag_records",
    "observed_from", "observed_to", "coverage",
]  # fmt: skip

# Clean points: one row per (series, interval) after duplicate and granularity resolution.
# A "grain" is (format, interval seconds, series shape) within one (cluster, topic, metric);
# grain 1 is the finest. The shape (has broker? has partition?) separates families that
# measure the same thing differently, e.g. JMX broker counters and kafka_exporter partition
# offsets for records_in, or per-partition lag and per-topic lag sums: they never add up. A row of a coarser grain is dropped where any finer-grain row of the same
# (cluster, topic, metric) overlaps it. Most topics have a single grain, so the overlap
# test only runs on the few rows that need it.
_CLEAN_POINTS = """
WITH p AS (
    SELECT m.cluster, m.topic, m.partition, m.broker, m.consumer_group, m.metric,
           m.ts_start, m.ts_end, m.value, s.format,
           epoch(m.ts_end) - epoch(m.ts_start) AS dur,
           m.broker IS NULL AS nb, m.partition IS NULL AS np, coalesce(m.consumer_group, '') AS cg
    FROM metric_points m JOIN sources s USING (source_id)
    WHERE m.metric IN ({metrics}) AND m.topic IS NOT NULL AND m.ts_end > m.ts_start{only}
),
grains AS (
    SELECT cluster, topic, metric, cg, format, dur, nb, np,
           row_number() OVER (
               PARTITION BY cluster, topic, metric, cg
               -- finest first; then, for one step and format, one family of series:
               -- per-broker counters over per-partition offsets for rates, per-partition
               -- values over per-topic sums for gauges (lag, log size).
               ORDER BY dur, format, CASE WHEN metric IN ({rate_metrics}) THEN nb ELSE np END, nb, np
           ) AS grain
    FROM (SELECT DISTINCT cluster, topic, metric, cg, format, dur, nb, np FROM p)
),
pg AS (SELECT p.*, g.grain FROM p JOIN grains g USING (cluster, topic, metric, cg, format, dur, nb, np)),
kept AS (
    SELECT * FROM pg WHERE grain = 1
    UNION ALL
    SELECT a.* FROM pg a
    WHERE a.grain > 1 AND NOT EXISTS (
        SELECT 1 FROM pg b
        WHERE b.cluster = a.cluster AND b.topic = a.topic AND b.metric = a.metric AND b.cg = a.cg
          AND b.grain < a.grain AND b.ts_start < a.ts_end AND b.ts_end > a.ts_start)
)
SELECT cluster, topic, partition, broker, consumer_group, metric, ts_start, ts_end,
       max(dur) AS dur, max(value) AS value
FROM kept
GROUP BY cluster, topic, partition, broker, consumer_group, metric, ts_start, ts_end
"""


def clean_points_sql(metrics: tuple[str, ...], *, only: str | None = None) -> str:
    """SQL for de-duplicated points of these metrics (see module docstring).

    `only`: the name of a relation of (cluster, topic, metric) rows; when given, only those
    series are normalized (each one whole, so every grain of it is there).
    """
    names = ", ".join(f"'{m}'" for m in metrics)  # canonical names from our own constants
    rates = ", ".join(f"'{m}'" for m in RATE_METRICS)
    where = (
        f"\n      AND (m.cluster, m.topic, m.metric) IN (SELECT (cluster, topic, metric) FROM {only})" if only else ""
    )
    return _CLEAN_POINTS.format(metrics=names, rate_metrics=rates, only=where)


# The fast path. In most stores every (cluster, topic, metric) is ONE series that no
# normalization rule changes: topic-level (no broker, no partition), one consumer group or none,
# one interval length, every interval on one grid and none of them twice (Confluent pages: each
# covers its own 6 h). For those the de-duplication (a max of one value), the granularity
# anti-join (intervals on one grid that differ do not overlap, whatever format each came from)
# and the per-interval sum (a sum of one value) are no-ops, so their points go straight to the
# statistics. The test rides along in the statistics' own GROUP BY (one scan); the series that
# fail it — more than one series, family or interval length, unaligned or repeated intervals —
# are computed again the full way (above). `EXITKIT_PROFILE_FULL=1` sends everything the full
# way (tests compare the two).
#
# "None of them twice" without a hash entry per point (what count(DISTINCT ts_start) costs):
# each point sets the bit of its interval number modulo _SLOTS; n points set n bits only if
# their starts all differ. Starts that share a bit — a repeat, or a series longer than _SLOTS
# intervals (45 days of minutes) whose numbers wrap — send the series the full way.
_SLOTS = 65536  # bits of state per (cluster, topic, metric): 8 KiB
_PLAIN = f"""(
    bool_and(broker IS NULL AND partition IS NULL)
    AND (count(consumer_group) = 0
         OR (count(consumer_group) = count(*) AND min(consumer_group) = max(consumer_group)))
    AND min(_d) = max(_d) AND min(_s % _d) = max(_s % _d)
    AND bit_count(bitstring_agg((_s // _d) % {_SLOTS}, 0, {_SLOTS - 1})) = count(*)
)"""
# Every rate point with a topic, its interval length (seconds, as the full path has it) and the
# columns of the plain-series test (microseconds).
_POINTS = """
SELECT cluster, topic, metric, consumer_group, broker, partition, ts_start, ts_end, value,
       epoch(ts_end) - epoch(ts_start) AS dur, epoch_us(ts_start) AS _s, epoch_us(ts_end) - epoch_us(ts_start) AS _d
FROM metric_points
WHERE metric IN ({metrics}) AND topic IS NOT NULL AND cluster IS NOT NULL AND ts_end > ts_start{piece}
"""
_SLOW_SERIES = f"""
SELECT cluster, topic, metric FROM ({_POINTS}) GROUP BY cluster, topic, metric HAVING NOT {_PLAIN}
"""


def _slow_series_sql(metrics: tuple[str, ...], piece: str = "") -> str:
    """SQL: the (cluster, topic, metric) of these metrics that need the full normalization."""
    return _SLOW_SERIES.format(metrics=_names(metrics), piece=piece)


def _stats_with_test_sql(keys: str, piece: str = "") -> str:
    """`rate_stats_sql` over the raw points (exact for plain series) plus `plain`, the test."""
    body = rate_stats_sql(_POINTS.format(metrics=_names(RATE_METRICS), piece=piece), keys)
    return body.replace("count(*) AS intervals", f"count(*) AS intervals, {_PLAIN} AS plain", 1)


# The plain-series test keeps _SLOTS bits (8 KiB) per (cluster, topic, metric), plus the other
# aggregates' state: 1.5 million series (500k topics) would need 12 GiB at once, beyond any
# memory limit (aggregate states do not spill). So the series are taken in pieces (a hash of
# cluster and topic: every series of a topic in one piece) whose states fit a quarter of the limit.
_STATE_BYTES_PER_SERIES = _SLOTS // 8 + 512


def _pieces(con: duckdb.DuckDBPyConnection) -> int:
    """How many pieces the rate statistics of this store are computed in (1 for most stores)."""
    series = con.execute(
        f"SELECT count(*) FROM (SELECT DISTINCT cluster, topic, metric FROM metric_points "
        f"WHERE metric IN ({_names(RATE_METRICS)}) AND topic IS NOT NULL AND cluster IS NOT NULL)"
    ).fetchone()[0]
    budget = _memory_limit_bytes(con) / 4
    return max(1, math.ceil(series * _STATE_BYTES_PER_SERIES / budget))


def _memory_limit_bytes(con: duckdb.DuckDBPyConnection) -> float:
    """The connection's DuckDB memory limit in bytes (DuckDB prints it as e.g. `1.8 GiB`)."""
    text = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    try:
        return max(parse_bytes(text), 64 * 2**20)
    except ValueError:
        return 2.0 * 2**30


def _piece_sql(pieces: int, i: int) -> str:
    return f"\n      AND hash(cluster, topic) % {pieces} = {i}" if pieces > 1 else ""


_FAST_POINTS = """
SELECT cluster, topic, metric, ts_start, ts_end, epoch(ts_end) - epoch(ts_start) AS dur, value
FROM metric_points{anti}
WHERE metric IN ({metrics}) AND topic IS NOT NULL AND cluster IS NOT NULL AND ts_end > ts_start
"""
_SLOW = "_exitkit_slow"  # the registered (cluster, topic, metric) frame of series for the full path


def _full_only() -> bool:
    return os.environ.get("EXITKIT_PROFILE_FULL", "").strip() not in ("", "0")


def _names(metrics: tuple[str, ...]) -> str:
    return ", ".join(f"'{m}'" for m in metrics)  # canonical names from our own constants


def topic_rates_sql() -> str:
    """SQL: per (cluster, topic, metric, interval) the rate summed over brokers/partitions."""
    return f"""
    SELECT cluster, topic, metric, ts_start, ts_end, max(dur) AS dur, sum(value) AS value
    FROM ({clean_points_sql(RATE_METRICS)})
    GROUP BY cluster, topic, metric, ts_start, ts_end
    """


def _slow_rates_sql() -> str:
    """`topic_rates_sql()` for the series in the registered `_SLOW` frame only."""
    return f"""
    SELECT cluster, topic, metric, ts_start, ts_end, max(dur) AS dur, sum(value) AS value
    FROM ({clean_points_sql(RATE_METRICS, only=_SLOW)})
    GROUP BY cluster, topic, metric, ts_start, ts_end
    """


@contextmanager
def _rate_parts(con: duckdb.DuckDBPyConnection) -> Iterator[tuple[str, str | None]]:
    """(fast SQL, slow SQL or None): per-interval topic rates as `topic_rates_sql()` gives them, in
    two parts — series that need no normalization straight from the points, the rest the full way
    (see `_SLOW_SERIES`). The slow series are found first (one small aggregate) and registered
    for the duration of the block; with none, the fast part has no join at all."""
    if _full_only():
        yield topic_rates_sql(), None
        return
    n = _pieces(con)
    slow = pd.concat(
        [con.execute(_slow_series_sql(RATE_METRICS, _piece_sql(n, i))).df() for i in range(n)], ignore_index=True
    )
    if slow.empty:
        yield _FAST_POINTS.format(metrics=_names(RATE_METRICS), anti=""), None
        return
    con.register(_SLOW, slow)
    try:
        yield (
            _FAST_POINTS.format(
                metrics=_names(RATE_METRICS), anti=f" ANTI JOIN {_SLOW} USING (cluster, topic, metric)"
            ),
            _slow_rates_sql(),
        )
    finally:
        con.unregister(_SLOW)


def rate_stats_sql(series_sql: str, keys: str) -> str:
    """SQL: mean (time-weighted), nearest-rank p95 and peak of a per-interval rate series.

    DuckDB's `quantile_disc(v, 0.95)` is the value at rank ceil(0.95 × n) of the n values sorted
    ascending — the nearest-rank definition (checked against the window form for n = 1..2000 with
    ties) — without a window `row_number()` that sorts every series.
    """
    return f"""
    SELECT {keys},
           sum(value * dur) / sum(dur) AS mean,
           quantile_disc(value, 0.95) AS p95,
           max(value) AS peak,
           min(ts_start) AS observed_from, max(ts_end) AS observed_to,
           sum(dur) AS covered_s, count(*) AS intervals
    FROM ({series_sql}) GROUP BY {keys}
    """


def _metric_gauges(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Retained bytes, partition count and consumer lag per topic from gauge metrics."""
    sql = f"""
    WITH c AS ({clean_points_sql(("retained_bytes", "partition_count", "consumer_lag_records"))}),
    -- retained bytes: latest value per replica, one replica per partition (max over brokers:
    -- log sizes are per replica), then the sum over partitions.
    rb AS (
        SELECT cluster, topic, sum(v) AS retained_bytes FROM (
            SELECT cluster, topic, partition, max(v) AS v FROM (
                SELECT cluster, topic, partition, broker, arg_max(value, ts_start) AS v
                FROM c WHERE metric = 'retained_bytes' GROUP BY ALL)
            GROUP BY ALL)
        GROUP BY ALL
    ),
    pc AS (
        SELECT cluster, topic, arg_max(v, ts) AS partitions FROM (
            SELECT cluster, topic, ts_start AS ts, max(value) AS v
            FROM c WHERE metric = 'partition_count' GROUP BY ALL)
        GROUP BY ALL
    ),
    -- lag: per (group, topic, instant) the sum over partitions (rows without a partition
    -- are already per-topic sums), then the max over time and groups.
    lag AS (
        SELECT cluster, topic, count(DISTINCT consumer_group) AS consumer_groups,
               max(v) AS max_consumer_lag_records FROM (
            SELECT cluster, topic, consumer_group, ts_start, sum(value) AS v
            FROM c WHERE metric = 'consumer_lag_records' AND value >= 0 GROUP BY ALL)
        GROUP BY ALL
    )
    SELECT * FROM rb FULL OUTER JOIN pc USING (cluster, topic) FULL OUTER JOIN lag USING (cluster, topic)
    """
    return con.execute(sql).df()


def topic_profile(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per (cluster, topic) with PROFILE_COLUMNS; unknown values are null, never 0."""
    stats = _stats_frame(con, _rate_stats(con))
    gauges = _metric_gauges(con)
    df = stats.merge(gauges, on=["cluster", "topic"], how="outer")
    df = _merge_snapshot_facts(con, df)
    w, r = df["write_bytes_per_s_mean"], df["read_bytes_per_s_mean"]
    df["fan_out"] = (r / w).where(w > 0)
    df["avg_record_bytes"] = (w / df["records_in_per_s_mean"]).where(df["records_in_per_s_mean"] > 0)
    for col in PROFILE_COLUMNS:
        if col not in df:
            df[col] = None
    df = df[PROFILE_COLUMNS].sort_values(["cluster", "topic"], ignore_index=True)
    return df.astype(object).where(df.notna(), None)


def _rate_stats(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """`rate_stats_sql(topic_rates_sql(), "cluster, topic, metric")` as a frame, the fast way:
    one GROUP BY over the raw points with the plain-series test alongside; the series that
    fail it are computed again through the full normalization."""
    keys = "cluster, topic, metric"
    if _full_only():
        return con.execute(rate_stats_sql(topic_rates_sql(), keys)).df()
    n = _pieces(con)
    if n == 1:
        return _rate_stats_piece(con, keys, "")
    parts = [_rate_stats_piece(con, keys, _piece_sql(n, i)) for i in range(n)]
    return pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)


def _rate_stats_piece(con: duckdb.DuckDBPyConnection, keys: str, piece: str) -> pd.DataFrame:
    """`_rate_stats` for the series of one piece (`piece`: the extra WHERE condition, or "")."""
    st = con.execute(_stats_with_test_sql(keys, piece)).df()
    plain = st.pop("plain").astype(bool)
    if plain.all():
        return st
    con.register(_SLOW, st.loc[~plain, ["cluster", "topic", "metric"]])
    try:
        slow = con.execute(rate_stats_sql(_slow_rates_sql(), keys)).df()
    finally:
        con.unregister(_SLOW)
    return pd.concat([st[plain], slow], ignore_index=True)


def _stats_frame(con: duckdb.DuckDBPyConnection, rate_stats: pd.DataFrame) -> pd.DataFrame:
    """Write/read/records statistics per (cluster, topic) from the per-metric statistics."""
    con.register("_exitkit_st", rate_stats)
    try:
        return _stats_query(con)
    finally:
        con.unregister("_exitkit_st")


def _stats_query(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        """
        SELECT k.cluster, k.topic,
            w.mean AS write_bytes_per_s_mean, w.p95 AS write_bytes_per_s_p95, w.peak AS write_bytes_per_s_peak,
            r.mean AS read_bytes_per_s_mean, r.p95 AS read_bytes_per_s_p95,
            ri.mean AS records_in_per_s_mean,
            w.observed_from, w.observed_to,
            w.covered_s / nullif(epoch(w.observed_to) - epoch(w.observed_from), 0) AS coverage
        FROM (SELECT DISTINCT cluster, topic FROM _exitkit_st) k
        LEFT JOIN _exitkit_st w ON w.cluster = k.cluster AND w.topic = k.topic AND w.metric = 'bytes_in'
        LEFT JOIN _exitkit_st r ON r.cluster = k.cluster AND r.topic = k.topic AND r.metric = 'bytes_out'
        LEFT JOIN _exitkit_st ri ON ri.cluster = k.cluster AND ri.topic = k.topic AND ri.metric = 'records_in'
        ORDER BY k.cluster, k.topic
        """
    ).df()


def _merge_snapshot_facts(con: duckdb.DuckDBPyConnection, df: pd.DataFrame) -> pd.DataFrame:
    """Partitions, RF, retention, cleanup policy, groups and lag from CLI snapshots.

    Metric-derived values win where both exist for retained bytes (a time series beats a
    snapshot); snapshot values fill what metrics do not say.
    """
    facts = topic_facts(con)
    if facts is None or facts.empty:
        return df
    merged = df.merge(facts, on=["cluster", "topic"], how="outer", suffixes=("", "_snap"))
    for col in facts.columns:
        if col in ("cluster", "topic"):
            continue
        snap = f"{col}_snap"
        if snap in merged:
            merged[col] = merged[col].where(merged[col].notna(), merged[snap])
            merged = merged.drop(columns=snap)
    return merged


def topic_rate_series(
    con: duckdb.DuckDBPyConnection,
    metrics: tuple[str, ...] = ("bytes_in", "bytes_out"),
    topics: list[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """Per-interval topic rates (summed over brokers/partitions, de-duplicated).

    Columns: cluster, topic, metric, ts_start, ts_end, dur (seconds), value (per second).
    `topics` limits the result to these (cluster, topic) pairs; None means all.
    """
    with _rate_parts(con) as (fast, slow):
        rates = fast + (f" UNION ALL {slow}" if slow else "")
        sql = f"SELECT * FROM ({rates}) WHERE metric IN (SELECT unnest(?))"
        params: list = [list(metrics)]
        if topics is not None:
            con.register("_want", pd.DataFrame(topics, columns=["cluster", "topic"]))
            sql += " AND (cluster, topic) IN (SELECT (cluster, topic) FROM _want)"
        try:
            return con.execute(sql + " ORDER BY cluster, topic, metric, ts_start", params).df()
        finally:
            if topics is not None:
                con.unregister("_want")
