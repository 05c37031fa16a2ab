"""Profile SQL on hand-built stores: every expected value is worked out by hand below."""

import io
import math
import os

import numpy as np
import pandas as pd
import pytest

from exitkit.ingest.base import points_frame
from exitkit.profile.topics import PROFILE_COLUMNS, topic_profile
from exitkit.store import memory_store

T0 = 1_700_000_000 - 1_700_000_000 % 3600  # an hour boundary


def _store(frames_by_source: dict[int, tuple[str, pd.DataFrame]]):
    con = memory_store()
    for sid, (fmt, df) in frames_by_source.items():
        con.execute(
            "INSERT INTO sources VALUES (?, ?, ?, ?, 'c', now(), ?)", [sid, f"f{sid}", f"sha{sid}", fmt, len(df)]
        )
        con.register("d", df)
        con.execute("INSERT INTO metric_points SELECT ?, * FROM d", [sid])
        con.unregister("d")
    return con


def _minutes(n, start=T0):
    ts = [start + 60 * i for i in range(n)]
    return ts, [t + 60 for t in ts]


def _row(con, topic="t"):
    df = topic_profile(con)
    return df[df.topic == topic].iloc[0]


def test_brokers_summed_cluster_totals_excluded_and_duplicates_counted_once():
    ts, te = _minutes(20)
    v = np.arange(1, 21, dtype=float)
    df = pd.concat([
        points_frame(cluster="c", topic="t", metric="bytes_in", ts_start=ts, ts_end=te, value=v, broker="1"),
        points_frame(cluster="c", topic="t", metric="bytes_in", ts_start=ts, ts_end=te, value=2 * v, broker="2"),
        # the all-topics series: must not be added to the topic
        points_frame(cluster="c", topic=None, metric="bytes_in", ts_start=ts, ts_end=te, value=100 * v),
        points_frame(cluster="c", topic="t", metric="bytes_out", ts_start=ts, ts_end=te, value=6 * v),
        points_frame(cluster="c", topic="t", metric="records_in", ts_start=ts, ts_end=te, value=v / 100),
    ])  # fmt: skip
    con = _store({1: ("fmt", df), 2: ("fmt", df)})  # the same data loaded from two files
    r = _row(con)
    # per-minute topic rate = v + 2v = 3i for i = 1..20 → mean 3 × 10.5 = 31.5
    assert r.write_bytes_per_s_mean == pytest.approx(31.5)
    # nearest rank: ceil(0.95 × 20) = 19th smallest = 3 × 19 = 57
    assert r.write_bytes_per_s_p95 == pytest.approx(57)
    assert r.write_bytes_per_s_peak == pytest.approx(60)
    assert r.read_bytes_per_s_mean == pytest.approx(63)  # 6 × 10.5
    assert r.fan_out == pytest.approx(2.0)
    assert r.records_in_per_s_mean == pytest.approx(0.105)
    assert r.avg_record_bytes == pytest.approx(300)  # 31.5 / 0.105
    assert r.coverage == pytest.approx(1.0)
    assert len(topic_profile(con)) == 1  # no row for the cluster total


def test_finest_granularity_wins_where_it_overlaps_and_coarse_fills_the_rest():
    ts, te = _minutes(20)
    fine = points_frame(
        cluster="c", topic="t", metric="bytes_in", ts_start=ts, ts_end=te, value=[3.0 * i for i in range(1, 21)]
    )
    # hour 1 overlaps the minutes (dropped); hour 2 has no finer data (kept, rate 10)
    coarse = points_frame(
        cluster="c",
        topic="t",
        metric="bytes_in",
        ts_start=[T0, T0 + 3600],
        ts_end=[T0 + 3600, T0 + 7200],
        value=[1000.0, 10.0],
    )
    con = _store({1: ("confluent-query", fine), 2: ("confluent-query", coarse)})
    r = _row(con)
    # time-weighted: (Σ 3i × 60 + 10 × 3600) / (20 × 60 + 3600) = (630 × 60 + 36000) / 4800
    assert r.write_bytes_per_s_mean == pytest.approx(15.375)
    rates = sorted([3 * i for i in range(1, 21)] + [10])
    assert r.write_bytes_per_s_p95 == pytest.approx(rates[math.ceil(0.95 * 21) - 1])  # 57
    assert r.write_bytes_per_s_peak == pytest.approx(60)
    # span 2 h, data for 20 min + 1 h
    assert r.coverage == pytest.approx(4800 / 7200)


def test_gaps_are_unknown_not_zero():
    ts, te = _minutes(10)
    keep = [0, 1, 2, 7, 8, 9]  # minutes 3..6 missing
    df = points_frame(
        cluster="c",
        topic="t",
        metric="bytes_in",
        ts_start=[ts[i] for i in keep],
        ts_end=[te[i] for i in keep],
        value=[10.0, 20, 30, 40, 50, 60],
    )
    r = _row(_store({1: ("fmt", df)}))
    assert r.write_bytes_per_s_mean == pytest.approx(35.0)  # not 210 / 10
    assert r.coverage == pytest.approx(0.6)


def test_retained_bytes_one_replica_per_partition_latest_value_and_lag():
    rows = []
    # partition 0 on brokers 1,2,3 (replicas report 100, 100, 98); partition 1: 50 on two brokers
    for b, v in (("1", 100.0), ("2", 100.0), ("3", 98.0)):
        rows.append(
            points_frame(
                cluster="c",
                topic="t",
                metric="retained_bytes",
                ts_start=[T0, T0 + 60],
                ts_end=[T0 + 60, T0 + 120],
                value=[1.0, v],
                broker=b,
                partition=0,
            )
        )
    for b in ("1", "2"):
        rows.append(
            points_frame(
                cluster="c",
                topic="t",
                metric="retained_bytes",
                ts_start=[T0 + 60],
                ts_end=[T0 + 120],
                value=[50.0],
                broker=b,
                partition=1,
            )
        )
    # lag: group g1 partitions 0/1 at two instants: sums 5+7=12, 20+1=21 → max 21; group g2 per-topic 15
    for p, vals in ((0, [5.0, 20.0]), (1, [7.0, 1.0])):
        rows.append(
            points_frame(
                cluster="c",
                topic="t",
                metric="consumer_lag_records",
                ts_start=[T0, T0 + 60],
                ts_end=[T0 + 60, T0 + 120],
                value=vals,
                partition=p,
                consumer_group="g1",
            )
        )
    rows.append(
        points_frame(
            cluster="c",
            topic="t",
            metric="consumer_lag_records",
            ts_start=[T0],
            ts_end=[T0 + 60],
            value=[15.0],
            consumer_group="g2",
        )
    )
    r = _row(_store({1: ("fmt", pd.concat(rows))}))
    assert r.retained_bytes == pytest.approx(150)  # max(100, 100, 98) + 50
    assert r.max_consumer_lag_records == pytest.approx(21)
    assert r.consumer_groups == 2
    assert r.write_bytes_per_s_mean is None  # unknown, not 0


def test_columns_are_the_public_interface():
    df = topic_profile(memory_store())
    assert list(df.columns) == PROFILE_COLUMNS


def test_two_families_of_one_format_and_step_are_not_added():
    ts, te = _minutes(4)
    # JMX broker counters (per broker) and kafka_exporter offsets (per partition), same file format
    jmx = pd.concat(
        [
            points_frame(
                cluster="c", topic="t", metric="records_in", ts_start=ts, ts_end=te, value=[10.0] * 4, broker=b
            )
            for b in ("1", "2")
        ]
    )
    exporter = pd.concat(
        [
            points_frame(
                cluster="c", topic="t", metric="records_in", ts_start=ts, ts_end=te, value=[7.0] * 4, partition=p
            )
            for p in (0, 1, 2)
        ]
    )
    # lag: per-partition (3 + 4) and a per-topic sum (7) of the same group and instant
    lag_p = pd.concat(
        [
            points_frame(
                cluster="c",
                topic="t",
                metric="consumer_lag_records",
                ts_start=[T0],
                ts_end=[T0 + 60],
                value=[v],
                partition=p,
                consumer_group="g",
            )
            for p, v in ((0, 3.0), (1, 4.0))
        ]
    )
    lag_t = points_frame(
        cluster="c",
        topic="t",
        metric="consumer_lag_records",
        ts_start=[T0],
        ts_end=[T0 + 60],
        value=[7.0],
        consumer_group="g",
    )
    r = _row(
        _store(
            {
                1: ("prometheus-text", jmx),
                2: ("prometheus-text", exporter),
                3: ("prometheus-text", pd.concat([lag_p, lag_t])),
            }
        )
    )
    assert r.records_in_per_s_mean == pytest.approx(20.0)  # broker counters 10 + 10, not + 21
    assert r.max_consumer_lag_records == pytest.approx(7.0)  # 3 + 4, not 14


# The fast path (exitkit.profile.topics._SLOW_SERIES): series that no normalization rule changes skip it.


def test_overlapping_sources_of_one_topic_level_series_still_counted_once():
    # one series, one grain, but two pages overlap in minutes 10..19 (the same values in both)
    ts, te = _minutes(30)
    v = [float(i) for i in range(1, 31)]
    a = points_frame(cluster="c", topic="t", metric="bytes_in", ts_start=ts[:20], ts_end=te[:20], value=v[:20])
    b = points_frame(cluster="c", topic="t", metric="bytes_in", ts_start=ts[10:], ts_end=te[10:], value=v[10:])
    # another topic whose pages do not overlap: the fast path
    c = points_frame(cluster="c", topic="u", metric="bytes_in", ts_start=ts[:15], ts_end=te[:15], value=v[:15])
    d = points_frame(cluster="c", topic="u", metric="bytes_in", ts_start=ts[15:], ts_end=te[15:], value=v[15:])
    con = _store({1: ("confluent-query", pd.concat([a, c])), 2: ("confluent-query", pd.concat([b, d]))})
    for topic in ("t", "u"):
        r = _row(con, topic)
        assert r.write_bytes_per_s_mean == pytest.approx(15.5)  # 1..30 once each, not minutes 11..20 twice
        assert r.write_bytes_per_s_p95 == pytest.approx(29)  # rank ceil(0.95 × 30) = 29
        assert r.write_bytes_per_s_peak == pytest.approx(30)
        assert r.coverage == pytest.approx(1.0)


def test_a_repeated_interval_inside_one_source_counted_once():
    ts, te = _minutes(4)
    df = points_frame(
        cluster="c", topic="t", metric="bytes_in", ts_start=ts + ts[:1], ts_end=te + te[:1], value=[4.0, 8, 12, 16, 4]
    )
    r = _row(_store({1: ("fmt", df)}))
    assert r.write_bytes_per_s_mean == pytest.approx(10.0)  # 4, 8, 12, 16: the repeat of minute 0 once
    assert r.coverage == pytest.approx(1.0)


def _mixed_store():
    """Fast and slow topics side by side: every rule that sends a series the full way, and plain ones."""
    ts, te = _minutes(60)
    rng = np.random.default_rng(7)

    def v(scale=1.0):
        return np.round(rng.uniform(0, 1000, 60) * scale)  # integers: sums are exact in any order

    pages = {i: [] for i in range(1, 7)}
    # plain topics, pages of 20 minutes each (fast)
    for t in ("plain-a", "plain-b"):
        for m in ("bytes_in", "bytes_out", "records_in"):
            x = v()
            for k in range(3):
                sl = slice(20 * k, 20 * (k + 1))
                pages[1 + k].append(
                    points_frame(cluster="c", topic=t, metric=m, ts_start=ts[sl], ts_end=te[sl], value=x[sl])
                )
    # per-broker series (summed per interval)
    for b in ("1", "2", "3"):
        pages[4].append(
            points_frame(cluster="c", topic="brokers", metric="bytes_in", ts_start=ts, ts_end=te, value=v(), broker=b)
        )
    # two grains: minutes and an hour overlapping them
    pages[4].append(points_frame(cluster="c", topic="grains", metric="bytes_in", ts_start=ts, ts_end=te, value=v()))
    pages[5].append(
        points_frame(
            cluster="c",
            topic="grains",
            metric="bytes_in",
            ts_start=[T0, T0 + 3600],
            ts_end=[T0 + 3600, T0 + 7200],
            value=[5.0, 7.0],
        )
    )
    # overlapping pages of one series, and a topic loaded twice
    x = v()
    pages[4].append(
        points_frame(cluster="c", topic="overlap", metric="bytes_out", ts_start=ts[:40], ts_end=te[:40], value=x[:40])
    )
    pages[5].append(
        points_frame(cluster="c", topic="overlap", metric="bytes_out", ts_start=ts[30:], ts_end=te[30:], value=x[30:])
    )
    twice = points_frame(cluster="c", topic="twice", metric="bytes_in", ts_start=ts, ts_end=te, value=v())
    pages[4].append(twice)
    pages[6].append(twice)
    # two consumer groups of one rate metric (summed), and a cluster total (never a topic)
    for g in ("g1", "g2"):
        pages[6].append(
            points_frame(
                cluster="c", topic="groups", metric="bytes_out", ts_start=ts, ts_end=te, value=v(), consumer_group=g
            )
        )
    pages[6].append(points_frame(cluster="c", topic=None, metric="bytes_in", ts_start=ts, ts_end=te, value=v()))
    # a plain topic of another cluster, with gaps, and a per-partition gauge
    keep = [i for i in range(60) if i % 7]
    pages[6].append(
        points_frame(
            cluster="d",
            topic="plain-a",
            metric="bytes_in",
            ts_start=[ts[i] for i in keep],
            ts_end=[te[i] for i in keep],
            value=v()[keep],
        )
    )
    # one grid from two formats (fast: nothing overlaps), and two formats on shifted grids (full)
    x = v()
    pages[4].append(
        points_frame(cluster="c", topic="formats", metric="bytes_in", ts_start=ts[:30], ts_end=te[:30], value=x[:30])
    )
    pages[5].append(
        points_frame(cluster="c", topic="formats", metric="bytes_in", ts_start=ts[30:], ts_end=te[30:], value=x[30:])
    )
    half = [t + 30 for t in ts]
    pages[4].append(
        points_frame(cluster="c", topic="shifted", metric="bytes_in", ts_start=ts[:40], ts_end=te[:40], value=x[:40])
    )
    pages[5].append(
        points_frame(
            cluster="c",
            topic="shifted",
            metric="bytes_in",
            ts_start=half[30:],
            ts_end=[t + 60 for t in half[30:]],
            value=x[30:],
        )
    )
    fmt = {
        1: "confluent-query",
        2: "confluent-query",
        3: "confluent-query",
        4: "prometheus-text",
        5: "cloudwatch",
        6: "fmt",
    }
    return _store({sid: (fmt[sid], pd.concat(frames)) for sid, frames in pages.items()})


def test_fast_path_gives_the_full_path_numbers(monkeypatch):
    from exitkit.profile.topics import RATE_METRICS, _slow_series_sql, topic_rate_series

    con = _mixed_store()
    slow = {r[1] for r in con.execute(_slow_series_sql(RATE_METRICS)).fetchall()}
    # plain-a, plain-b (both clusters) and formats go fast
    assert slow == {"brokers", "grains", "overlap", "twice", "groups", "shifted"}
    fast_profile, fast_series = topic_profile(con), topic_rate_series(con, ("bytes_in", "bytes_out", "records_in"))
    monkeypatch.setenv("EXITKIT_PROFILE_FULL", "1")
    full_profile, full_series = topic_profile(con), topic_rate_series(con, ("bytes_in", "bytes_out", "records_in"))
    assert len(fast_profile) == 10
    pd.testing.assert_frame_equal(fast_profile, full_profile)
    pd.testing.assert_frame_equal(fast_series, full_series)


def test_pieces_give_the_one_piece_numbers(monkeypatch):
    """Issue 19 item 8: on stores with very many series the rate statistics run in bounded pieces
    (by a hash of cluster and topic); the numbers are those of one piece."""
    import exitkit.profile.topics as profile

    con = _mixed_store()
    one_profile = topic_profile(con)
    one_series = profile.topic_rate_series(con, ("bytes_in", "bytes_out", "records_in"))
    monkeypatch.setattr(profile, "_pieces", lambda con: 3)
    pd.testing.assert_frame_equal(topic_profile(con), one_profile)
    pd.testing.assert_frame_equal(profile.topic_rate_series(con, ("bytes_in", "bytes_out", "records_in")), one_series)


@pytest.mark.slow
def test_profile_of_500k_topics_stays_within_the_memory_limit(tmp_path):
    """Was: `OutOfMemoryException` (the fast path's per-series state, 8 KiB × 1.5M series, is 12 GiB
    against a 2 GB limit). 500k topics × 3 rate metrics × 4 intervals, built with SQL inserts."""
    import subprocess
    import sys

    from exitkit.store import open_store

    db = tmp_path / "big.duckdb"
    with open_store(db, write=True) as con:
        con.execute(
            "INSERT INTO sources (source_id, path, sha256, format, cluster, loaded_at, rows) "
            "VALUES (1, 'generated', 'sha', 'prometheus-range', 'big', now(), 0)"
        )
        con.execute("""
            INSERT INTO metric_points
            SELECT 1, 'big', 'topic-' || t, NULL, NULL, NULL, m,
                   TIMESTAMP '2025-03-03 00:00:00' + INTERVAL (i * 300) SECOND,
                   TIMESTAMP '2025-03-03 00:00:00' + INTERVAL ((i + 1) * 300) SECOND,
                   CASE m WHEN 'bytes_in' THEN 1000 WHEN 'bytes_out' THEN 3000 ELSE 10 END * (1 + t % 7) + i
            FROM range(500000) r(t), range(4) s(i), (VALUES ('bytes_in'), ('bytes_out'), ('records_in')) v(m)
        """)
    res = subprocess.run(
        [sys.executable, "-m", "exitkit", "profile", "--db", str(db), "--format", "csv"],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "EXITKIT_MEMORY_LIMIT": "1GB"},
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    df = pd.read_csv(io.StringIO(res.stdout))
    assert len(df) == 500_000
    row = df.set_index("topic").loc["topic-9"]  # t % 7 = 2: bytes_in 3000 + i over i = 0..3
    assert (row["write_bytes_per_s_mean"], row["write_bytes_per_s_peak"], row["fan_out"]) == (
        pytest.approx(3001.5),
        3003.0,
        pytest.approx(9001.5 / 3001.5),
    )
