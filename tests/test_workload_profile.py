"""Workload aggregates on hand-built stores: every expected value is worked out by hand below."""

import json
import math

import pandas as pd
import pytest

from exitkit.errors import BadWorkload
from exitkit.ingest.base import points_frame
from exitkit.profile.workload import (
    driver_labels,
    select_topics,
    weighted_p95,
    workload_profile,
    workload_topics,
)
from exitkit.store import memory_store
from exitkit.workload.loader import parse_workload

T0 = 1_700_000_000 - 1_700_000_000 % 3600
MIB = 2**20


def _store(df: pd.DataFrame):
    con = memory_store()
    con.execute("INSERT INTO sources VALUES (1, 'f1', 'sha1', 'fmt', 'c', now(), ?)", [len(df)])
    con.register("d", df)
    con.execute("INSERT INTO metric_points SELECT 1, * FROM d")
    con.unregister("d")
    return con


def _minutes(n, start=T0):
    ts = [start + 60 * i for i in range(n)]
    return ts, [t + 60 for t in ts]


def _wl(extra: str = "", topics: str = '["a", "b"]', cluster: str = "c"):
    return parse_workload(
        f"name: w\nsource: {{platform: msk-standard, cluster: {cluster}}}\nregion: us-east-1\n"
        f"topics: {topics}\n{extra}",
        "w.yaml",
    )


@pytest.fixture
def two_topics():
    """a writes i B/s in minute i (1..20), b writes 21 − i: the sum is a flat 21 B/s."""
    ts, te = _minutes(20)
    i = list(range(1, 21))
    pf = points_frame
    frames = [
        pf(cluster="c", topic="a", metric="bytes_in", ts_start=ts, ts_end=te, value=[float(x) for x in i]),
        pf(cluster="c", topic="b", metric="bytes_in", ts_start=ts, ts_end=te, value=[21.0 - x for x in i]),
        pf(cluster="c", topic="a", metric="bytes_out", ts_start=ts, ts_end=te, value=[2.0 * x for x in i]),
        pf(cluster="c", topic="b", metric="bytes_out", ts_start=ts, ts_end=te, value=[4.0 * (21 - x) for x in i]),
        pf(cluster="c", topic="a", metric="records_in", ts_start=ts, ts_end=te, value=[x / 100 for x in i]),
        pf(cluster="c", topic="b", metric="records_in", ts_start=ts, ts_end=te, value=[(21 - x) / 100 for x in i]),
        pf(cluster="c", topic="a", metric="retained_bytes", ts_start=[T0], ts_end=[T0 + 60], value=[1000.0], partition=0),
        pf(cluster="c", topic="b", metric="retained_bytes", ts_start=[T0], ts_end=[T0 + 60], value=[3000.0], partition=0),
        pf(cluster="c", topic="a", metric="partition_count", ts_start=[T0], ts_end=[T0 + 60], value=[3.0]),
        pf(cluster="c", topic="b", metric="partition_count", ts_start=[T0], ts_end=[T0 + 60], value=[6.0]),
        pf(cluster="c", topic="a", metric="consumer_lag_records", ts_start=[T0], ts_end=[T0 + 60], value=[630.0], consumer_group="g"),
        pf(cluster="c", topic="b", metric="consumer_lag_records", ts_start=[T0], ts_end=[T0 + 60], value=[21.0], consumer_group="g"),
        # another cluster and a topic the workload does not select
        pf(cluster="c", topic="other", metric="bytes_in", ts_start=ts, ts_end=te, value=[1000.0] * 20),
        pf(cluster="c2", topic="a", metric="bytes_in", ts_start=ts, ts_end=te, value=[500.0] * 20),
    ]  # fmt: skip
    return _store(pd.concat(frames))


def test_p95_of_the_sum_is_not_the_sum_of_p95s(two_topics):
    p = workload_profile(two_topics, _wl())
    assert p.topics == (("c", "a"), ("c", "b"))
    # each topic alone: nearest rank ceil(0.95 × 20) = 19th smallest = 19 → sum of p95s 38
    topics = workload_topics(two_topics, _wl())
    assert topics.write_bytes_per_s_p95.sum() == pytest.approx(38)
    # the sum is 21 B/s in every minute: p95 = peak = mean = 21
    assert p.write_bytes_per_s_p95 == pytest.approx(21)
    assert p.write_bytes_per_s_peak == pytest.approx(21)
    assert p.write_bytes_per_s_mean == pytest.approx(21)  # 10.5 + 10.5
    # reads: 2i + 4(21 − i) = 84 − 2i → 44, 46, …, 82; 19th smallest = 80; mean 21 + 42 = 63
    assert p.read_bytes_per_s_p95 == pytest.approx(80)
    assert p.read_bytes_per_s_mean == pytest.approx(63)
    assert p.fan_out == pytest.approx(3)
    assert p.records_in_per_s_mean == pytest.approx(0.21)
    assert p.avg_record_bytes == pytest.approx(100)
    assert p.partitions == 9
    assert p.retained_bytes == pytest.approx(4000)
    # lag in time: a 630 records / 0.105 rec/s = 6000 s; b 21 / 0.105 = 200 s
    assert p.max_consumer_lag_records == pytest.approx(630)
    assert p.max_consumer_lag_s == pytest.approx(6000)
    assert p.coverage == pytest.approx(1.0)
    assert p.observed_from == pd.Timestamp(T0, unit="s")
    assert p.observed_to == pd.Timestamp(T0 + 1200, unit="s")
    assert all(p.provenance[f] == "measured" for f in ("write_bytes_per_s_p95", "fan_out", "retained_bytes"))
    assert p.provenance["replication_factor"] == "default"
    json.dumps(p.to_dict())  # JSON-ready


def test_mixed_granularities_are_summed_on_common_segments():
    # a: minutes 0..59 at 10 B/s except 100 B/s in minute 59; b: one hourly point at 5 B/s
    ts, te = _minutes(60)
    df = pd.concat([
        points_frame(cluster="c", topic="a", metric="bytes_in", ts_start=ts, ts_end=te, value=[10.0] * 59 + [100.0]),
        points_frame(cluster="c", topic="b", metric="bytes_in", ts_start=[T0], ts_end=[T0 + 3600], value=[5.0]),
    ])  # fmt: skip
    p = workload_profile(_store(df), _wl())
    # 60 one-minute segments: 59 × 15 and one 105; p95 = rank 57 → 15; peak 105
    assert p.write_bytes_per_s_p95 == pytest.approx(15)
    assert p.write_bytes_per_s_peak == pytest.approx(105)
    assert p.write_bytes_per_s_mean == pytest.approx((59 * 10 + 100) / 60 + 5)


def test_weighted_p95_is_nearest_rank_on_equal_intervals():
    assert weighted_p95(list(range(1, 21)), [60] * 20) == 19
    assert weighted_p95([1, 2, 3], [1, 1, 98]) == 3
    assert weighted_p95([], []) is None


def test_globs_cluster_prefix_and_source_cluster():
    df = pd.DataFrame(
        {"cluster": ["c1", "c1", "c1", "c2"], "topic": ["payments.a", "payments.b", "ledger", "payments.a"]}
    )
    assert select_topics(df, _wl(topics='["payments.*"]', cluster="c1")) == [("c1", "payments.a"), ("c1", "payments.b")]
    both = parse_workload("name: w\nsource: {platform: kafka-ec2}\nregion: r\ntopics: ['payments.*']\n")
    assert select_topics(df, both) == [("c1", "payments.a"), ("c1", "payments.b"), ("c2", "payments.a")]
    # cluster:pattern overrides source.cluster for that entry; globs are case-sensitive
    assert select_topics(df, _wl(topics='["c2:payments.*", "led?er"]', cluster="c1")) == [
        ("c1", "ledger"),
        ("c2", "payments.a"),
    ]
    with pytest.raises(BadWorkload) as exc:
        select_topics(df, _wl(topics='["ledger", "Payments.*"]', cluster="c1"))
    assert exc.value.field == "topics[1]"
    assert "'Payments.*' matches no topic in cluster 'c1'" in str(exc.value)
    assert str(exc.value).startswith("w.yaml: topics[1]: ") and "\n" not in str(exc.value)


def test_overrides_are_marked_assumed(two_topics):
    wl = _wl("traffic: {write_rate: 42 B/s, fan_out: 2, retention: 1000s, partitions: 12}\n")
    p = workload_profile(two_topics, wl)
    assert p.write_bytes_per_s_mean == 42
    # same shape, new level: measured p95 and peak (21) scale by 42 / 21
    assert p.write_bytes_per_s_p95 == pytest.approx(42)
    assert p.write_bytes_per_s_peak == pytest.approx(42)
    assert p.read_bytes_per_s_mean == pytest.approx(84)
    assert p.partitions == 12
    assert p.retention_s == 1000
    assert p.retained_bytes == pytest.approx(42_000)  # re-estimated: 42 B/s × 1000 s
    assert p.records_in_per_s_mean == pytest.approx(0.42)  # measured 100 B records
    for f in ("write_bytes_per_s_mean", "write_bytes_per_s_p95", "read_bytes_per_s_mean", "fan_out",
              "partitions", "retention_s", "retained_bytes", "records_in_per_s_mean"):  # fmt: skip
        assert p.provenance[f] == "assumed", f
    assert p.provenance["avg_record_bytes"] == "measured"
    assert p.max_consumer_lag_records == pytest.approx(630)  # still measured


def test_what_if_needs_no_store_and_grows():
    wl = parse_workload(
        "name: w\nsource: {platform: kafka-ec2}\nregion: r\n"
        "traffic: {write_rate: 100 B/s, retained: 1000, retention: 12h}\n"
        "assumptions: {growth_per_year: 30%, replication_factor: 2}\n"
    )
    p = workload_profile(None, wl, growth_years=2)
    assert p.topics == ()
    assert p.growth_factor == pytest.approx(1.69)
    assert p.write_bytes_per_s_mean == pytest.approx(169)
    assert p.retained_bytes == pytest.approx(1690)
    assert p.write_bytes_per_s_p95 == pytest.approx(169)  # no peak given: defaults to the mean
    assert p.fan_out == 1.0 and p.read_bytes_per_s_mean == pytest.approx(169)
    assert p.provenance["write_bytes_per_s_mean"] == "assumed"
    assert p.provenance["write_bytes_per_s_p95"] == "default"
    assert p.provenance["fan_out"] == "default"
    assert p.provenance["replication_factor"] == "assumed"
    assert p.provenance["month_hours"] == "default"
    assert p.retention_s == 43200
    # replay re-reads 24 h by default, but retention (12 h) bounds it
    assert (p.replay_window_s, p.replay_bound) == (43200, "retention")
    assert p.replay_bytes == pytest.approx(169 * 43200)
    assert workload_profile(None, wl).write_bytes_per_s_mean == 100


def test_replay_bounded_by_lag_or_assumption(two_topics):
    p = workload_profile(two_topics, _wl())
    assert (p.replay_window_s, p.replay_bound) == (86400, "assumption")  # lag 6000 s < 24 h
    wl = _wl("assumptions: {recovery: {consumer_replay: {hours_of_data: 1}}}\n")
    p = workload_profile(two_topics, wl)
    assert (p.replay_window_s, p.replay_bound) == (pytest.approx(6000), "consumer_lag")
    assert p.provenance["replay_hours_of_data"] == "assumed"


def test_topics_without_a_store_is_an_error():
    with pytest.raises(BadWorkload, match="topics: selects topics, which needs a store"):
        workload_profile(None, _wl())


# 1 MiB/s for 730 h = 2 566.4 GiB; × RF 3 = 7 699.2 GiB written by brokers.
def test_driver_labels_by_hand():
    df = pd.DataFrame(
        {
            "write_bytes_per_s_mean": [MIB, MIB, MIB, MIB, None, MIB],
            "read_bytes_per_s_mean": [MIB, 5 * MIB, MIB, MIB, 1.0, 3 * MIB],
            # 1 d: kept 3 × 84 375 MiB = 253 GiB-months; 60 d: 15 188 > 7 699 GiB
            "retention_ms": [86_400_000, 86_400_000, 60 * 86_400_000, -1, None, 86_400_000],
            # unlimited retention: measured size 3 TiB × 3 = 9 216 GiB-months > 7 699
            "retained_bytes": [None, None, None, 3 * 2**40, None, None],
        }
    )
    assert list(driver_labels(df)) == [
        "write-heavy",
        "fan-out-heavy",
        "retention-heavy",
        "retention-heavy",
        None,
        "write-heavy",  # fan_out 3 = RF 3: a tie goes to write-heavy
    ]
    # with RF 1 the brokers write less than consumers read
    assert driver_labels(df.iloc[[5]], replication_factor=1).iloc[0] == "fan-out-heavy"


def test_workload_driver_and_volumes(two_topics):
    p = workload_profile(two_topics, _wl())
    month_s = 730 * 3600
    assert p.monthly_in_gib == pytest.approx(21 * 3 * month_s / 2**30)
    assert p.monthly_out_gib == pytest.approx(63 * month_s / 2**30)
    assert p.stored_gib_months == pytest.approx(4000 * 3 / 2**30)
    assert p.driver == "write-heavy"  # fan-out 3 ties RF 3
    assert workload_profile(two_topics, _wl("traffic: {fan_out: 4}\n")).driver == "fan-out-heavy"
    assert math.isclose(workload_profile(two_topics, _wl("traffic: {fan_out: 4}\n")).read_bytes_per_s_mean, 84)


@pytest.fixture(scope="module")
def demo_truth():
    estate = pytest.importorskip("exitkit.demo.estate")
    return estate.compute_truth(estate.build_estate()).frame()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "driver", "n_topics"),
    [("telemetry", "write-heavy", 2), ("dispatch", "fan-out-heavy", 3), ("compliance", "retention-heavy", 3),
     ("payments", "fan-out-heavy", 5)],
)  # fmt: skip
def test_demo_workloads_select_demo_topics_and_have_their_shape(demo_truth, name, driver, n_topics):
    """Against the demo generator's truth: the globs match, and the aggregate's driver is the intended one."""

    from exitkit.demo import workload_path
    from exitkit.profile.workload import driver_of, driver_volumes
    from exitkit.workload.loader import load_workload

    wl = load_workload(workload_path(name))
    chosen = select_topics(demo_truth, wl)
    assert len(chosen) == n_topics
    rows = demo_truth[[(c, t) in chosen for c, t in zip(demo_truth.cluster, demo_truth.topic, strict=True)]]
    a = wl.assumptions
    vols = driver_volumes(
        rows.write_bytes_per_s_mean.sum(),
        rows.read_bytes_per_s_mean.sum(),
        rows.retained_bytes.sum(),
        a.replication_factor,
        a.month_hours,
    )
    assert driver_of(vols) == driver


def test_profile_with_workload_marks_assumed_values(tmp_path, capsys):
    from exitkit.cli.workload import profile_with_workload
    from exitkit.store import open_store

    ts, te = _minutes(20)
    df = pd.concat([
        points_frame(cluster="c", topic="a", metric="bytes_in", ts_start=ts, ts_end=te, value=[float(x) for x in range(1, 21)]),
        points_frame(cluster="c", topic="b", metric="bytes_in", ts_start=ts, ts_end=te, value=[21.0 - x for x in range(1, 21)]),
    ])  # fmt: skip
    db = tmp_path / "s.duckdb"
    with open_store(db, write=True) as con:
        con.execute("INSERT INTO sources VALUES (1, 'f1', 'sha1', 'fmt', 'c', now(), 40)")
        con.register("d", df)
        con.execute("INSERT INTO metric_points SELECT 1, * FROM d")
    wl = tmp_path / "w.yaml"
    wl.write_text(
        "name: w\nsource: {platform: msk-standard, cluster: c}\nregion: r\ntopics: ['*']\ntraffic: {fan_out: 2}\n"
    )

    profile_with_workload(str(db), str(wl), "json")
    rows = json.loads(capsys.readouterr().out)
    assert [(r["cluster"], r["topic"]) for r in rows] == [("c", "a"), ("c", "b"), ("(workload)", "w")]
    last = rows[-1]
    assert last["write_bytes_per_s_p95"] == pytest.approx(21)  # p95 of the sum, not 19 + 19
    assert last["read_bytes_per_s_mean"] == pytest.approx(42)
    assert last["provenance"]["fan_out"] == "assumed"
    assert last["provenance"]["write_bytes_per_s_mean"] == "measured"

    profile_with_workload(str(db), str(wl), "table")
    table = capsys.readouterr().out.splitlines()
    agg = next(line for line in table if line.lstrip().startswith("(workload)"))
    assert "2.00*" in agg and "42 B/s*" in agg and "21 B/s*" not in agg


def test_profile_with_what_if_workload_needs_no_store(tmp_path, capsys):
    from exitkit.cli.workload import profile_with_workload

    wl = tmp_path / "w.yaml"
    wl.write_text("name: w\nsource: {platform: kafka-ec2}\nregion: r\ntraffic: {write_rate: 1 MiB/s}\n")
    profile_with_workload(str(tmp_path / "missing.duckdb"), str(wl), "json")
    (row,) = json.loads(capsys.readouterr().out)
    assert row["write_bytes_per_s_mean"] == MIB and row["provenance"]["write_bytes_per_s_mean"] == "assumed"
    assert row["provenance"]["fan_out"] == "default"
