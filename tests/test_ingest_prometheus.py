"""Prometheus readers: query_range JSON, text 0.0.4 and OpenMetrics scrapes.

Traffic tests generate exports from known per-interval rates (the truth) in every naming
variant and check per-topic mean, nearest-rank p95 and peak summed over brokers.
Small hand-written fixtures in tests/fixtures/prometheus/ pin the other rules; every
expected number there is worked out in the comment next to the assertion.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from exitkit.ingest import IngestFailed, ingest, read_file
from exitkit.ingest.base import Source
from exitkit.ingest.prometheus_text import sniff as text_sniff

FIX = Path(__file__).parent / "fixtures" / "prometheus"
STEP = 60
T0 = 1_741_003_200  # 2025-03-03 12:00:00 UTC, a multiple of the step
N = 90  # samples per series -> N - 1 intervals
TOPICS = ("orders", "payments")
BROKERS = (0, 1, 2)
JITTER = {0: 0.4, 1: 1.9, 2: -2.3}  # scrape time offsets: brokers are never scraped together
RESTART = (1, 40)  # broker 1 restarts right after sample 40: its counters start again at 0


# ---------------------------------------------------------------------------------------
# Truth and generators


def truth() -> dict[tuple[str, int, str], np.ndarray]:
    """Per (metric, broker, topic) the true per-interval rates (N - 1 values)."""
    rng = np.random.default_rng(7)
    rates = {}
    for metric, scale in (("bytes_in", 1e6), ("bytes_out", 3e6)):
        for b in BROKERS:
            for i, t in enumerate(TOPICS):
                rates[metric, b, t] = rng.gamma(2.0, scale * (1 + i) / 2, N - 1)
    return rates


def counters(rates) -> dict[tuple[str, int, str | None], np.ndarray]:
    """Cumulative counter values at the N sample times, plus the all-topics series (topic None)."""
    out = {}
    for (metric, b, t), r in rates.items():
        c = 5e9 + np.concatenate([[0.0], np.cumsum(r * STEP)])
        if b == RESTART[0]:
            k = RESTART[1]
            c[k + 1 :] = np.cumsum(r[k:] * STEP)  # restarted from 0 at sample k
        out[metric, b, t] = c
    for metric in ("bytes_in", "bytes_out"):
        for b in BROKERS:
            out[metric, b, None] = sum(out[metric, b, t] for t in TOPICS)
    return out


def sample_time(b: int, k: int) -> float:
    return T0 + k * STEP + JITTER[b]


def strimzi_text(vals, openmetrics=False) -> str:
    """Concatenated Strimzi scrapes of every broker (0.0.4 ms stamps, or OpenMetrics seconds)."""
    names = {
        "bytes_in": "kafka_server_brokertopicmetrics_bytesin",
        "bytes_out": "kafka_server_brokertopicmetrics_bytesout",
    }
    lines = []
    for k in range(N):
        for b in BROKERS:
            ts = sample_time(b, k)
            stamp = f"{ts:.3f}" if openmetrics else str(round(ts * 1000))
            for metric, fam in names.items():
                lines.append(f"# TYPE {fam} counter")
                for t in (*TOPICS, None):
                    topic = f',topic="{t}"' if t else ""
                    lab = f'pod="my-cluster-kafka-{b}",strimzi_io_cluster="my-cluster"{topic}'
                    lines.append(f"{fam}_total{{{lab}}} {float(vals[metric, b, t][k])!r} {stamp}")
            for p in range(2):  # log size per replica: every broker holds every partition
                lab = f'pod="my-cluster-kafka-{b}",strimzi_io_cluster="my-cluster",topic="orders",partition="{p}"'
                lines.append(f"kafka_log_log_size{{{lab}}} {1e9 * (p + 1) + b} {stamp}")
        if openmetrics:
            lines.append("# EOF")
    return "\n".join(lines) + "\n"


def msk_files(vals, folder: Path) -> list[Path]:
    """One scrape file per broker as MSK open monitoring writes it: no target labels."""
    names = {"bytes_in": "BytesInPerSec", "bytes_out": "BytesOutPerSec"}
    paths = []
    for b in BROKERS:
        lines = ["# TYPE kafka_server_BrokerTopicMetrics_Count untyped"]
        for k in range(N):
            for metric, mbean in names.items():
                for t in (*TOPICS, None):
                    topic = f'topic="{t}",' if t else ""
                    v = float(vals[metric, b, t][k])
                    lines.append(
                        f'kafka_server_BrokerTopicMetrics_Count{{name="{mbean}",{topic}}} {v!r} {round(sample_time(b, k) * 1000)}'
                    )
        path = folder / f"b-{b + 1}.msk-prod.abc123.c2.kafka.us-east-1.amazonaws.com.txt"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths


def range_json(vals) -> str:
    """A query_range answer in Confluent jmx-monitoring-stacks naming (exact grid)."""
    names = {
        "bytes_in": "kafka_server_brokertopicmetrics_bytesinpersec",
        "bytes_out": "kafka_server_brokertopicmetrics_bytesoutpersec",
    }
    result = []
    for (metric, b, t), c in vals.items():
        labels = {"__name__": names[metric], "instance": f"kafka-{b}:9404", "job": "kafka", "cluster": "prod"}
        if t:
            labels["topic"] = t
        result.append({"metric": labels, "values": [[T0 + k * STEP, repr(float(v))] for k, v in enumerate(c)]})
    return json.dumps({"status": "success", "data": {"resultType": "matrix", "result": result}})


def nearest_rank(values, q=0.95) -> float:
    s = sorted(values)
    return s[math.ceil(q * len(s)) - 1]


def true_stats(rates, metric, topic):
    per_interval = sum(rates[metric, b, topic] for b in BROKERS)
    return per_interval.mean(), nearest_rank(per_interval), per_interval.max()


def topic_stats(points: pd.DataFrame, metric: str) -> dict[str, tuple[float, float, float, int]]:
    """From reader output: per topic (mean, p95, peak, intervals) of the broker-summed rate."""
    p = points[(points["metric"] == metric) & points["topic"].notna()]
    per = p.groupby(["topic", "ts_start"])["value"].agg(["sum", "count"])
    assert (per["count"] == len(BROKERS)).all(), "every interval should have every broker (alignment)"
    return {t: (g["sum"].mean(), nearest_rank(g["sum"]), g["sum"].max(), len(g)) for t, g in per.groupby(level=0)}


def read(path: Path, **kw):
    return read_file(path, **kw)[2]


def read_all(paths, **kw) -> pd.DataFrame:
    return pd.concat([read(p, **kw).points for p in paths], ignore_index=True)


# ---------------------------------------------------------------------------------------
# Traffic: every format from the same truth


def _strimzi(tmp_path, vals):
    path = tmp_path / "strimzi.prom"
    path.write_text(strimzi_text(vals))
    return [path], {}


def _openmetrics(tmp_path, vals):
    path = tmp_path / "strimzi.om.txt"
    path.write_text(strimzi_text(vals, openmetrics=True))
    return [path], {}


def _msk(tmp_path, vals):
    return msk_files(vals, tmp_path), {"cluster": "msk-prod"}


def _range(tmp_path, vals):
    path = tmp_path / "range.json"
    path.write_text(range_json(vals))
    return [path], {}


@pytest.mark.parametrize(
    "make", [_strimzi, _openmetrics, _msk, _range], ids=["strimzi", "openmetrics", "msk", "query_range"]
)
def test_topic_rates_match_truth_within_half_a_percent(tmp_path, make):
    rates = truth()
    paths, kw = make(tmp_path, counters(rates))
    points = read_all(paths, **kw)
    for metric in ("bytes_in", "bytes_out"):
        got = topic_stats(points, metric)
        for topic in TOPICS:
            mean, p95, peak, n = got[topic]
            assert n == N - 1  # the restart interval is kept (reset handled), none lost
            for g, w in zip((mean, p95, peak), true_stats(rates, metric, topic), strict=True):
                assert g == pytest.approx(w, rel=0.005)


def test_all_topics_series_is_a_cluster_total_not_added_to_topics(tmp_path):
    rates = truth()
    points = read_all(_strimzi(tmp_path, counters(rates))[0])
    total = points[(points["metric"] == "bytes_in") & points["topic"].isna()]
    assert len(total) == len(BROKERS) * (N - 1)
    per_interval = total.groupby("ts_start")["value"].sum().to_numpy()
    want = sum(rates["bytes_in", b, t] for b in BROKERS for t in TOPICS)
    np.testing.assert_allclose(per_interval, want, rtol=1e-6)
    # and the topic sums above are the topic truth, so the total was not added to them
    assert set(points.loc[points["topic"].notna(), "topic"]) == set(TOPICS)


def test_counter_reset_gives_the_new_value_as_the_increase(tmp_path):
    # 1000 -> 7000 (+6000), restart -> 600 (reset: +600), -> 1200 (+600); step 60 s
    lines = [
        f'kafka_server_brokertopicmetrics_bytesin_total{{topic="t",cluster="c"}} {v} {(T0 + 60 * k) * 1000}'
        for k, v in enumerate([1000, 7000, 600, 1200])
    ]
    path = tmp_path / "reset.txt"
    path.write_text("\n".join(lines) + "\n")
    res = read(path)
    assert res.points["value"].tolist() == [100.0, 10.0, 10.0]
    assert any("1 counter resets" in n for n in res.notes)


def test_brokers_with_different_scrape_times_share_interval_bounds(tmp_path):
    lines = []
    for b, offset in ((0, 0.4), (1, 13.9)):
        for k in range(4):
            ts = round((T0 + 60 * k + offset) * 1000)
            lines.append(
                f'kafka_server_brokertopicmetrics_bytesin_total{{topic="t",pod="c-kafka-{b}",cluster="c"}} {600 * k} {ts}'
            )
    path = tmp_path / "two.txt"
    path.write_text("\n".join(lines) + "\n")
    pts = read(path).points
    by_broker = pts.groupby("broker")["ts_start"].apply(list)
    assert by_broker["0"] == by_broker["1"]
    assert pts["ts_start"].min() == pd.Timestamp(T0, unit="s")
    assert set(pts["value"]) == {10.0}


def test_gaps_and_nan_produce_no_points_never_zero(tmp_path):
    # samples k = 0..9 at 10 B/s; k=5 missing, k=7 "NaN": intervals [4,5) .. [7,8) unknown
    values = [[T0 + 60 * k, "NaN" if k == 7 else str(600.0 * k)] for k in range(10) if k != 5]
    doc = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"__name__": "kafka_server_brokertopicmetrics_bytesin_total", "topic": "t", "cluster": "c"}, "values": values},
    ]}}  # fmt: skip
    path = tmp_path / "gaps.json"
    path.write_text(json.dumps(doc))
    pts = read(path).points
    starts = sorted(int((t - pd.Timestamp(T0, unit="s")).total_seconds() // 60) for t in pts["ts_start"])
    assert starts == [0, 1, 2, 3, 8]
    assert set(pts["value"]) == {10.0}


def test_inf_value_in_text_is_a_gap(tmp_path):
    lines = [f'kafka_server_brokertopicmetrics_bytesin_total{{topic="t",cluster="c"}} {v} {(T0 + 60 * k) * 1000}' for k, v in enumerate(["0", "600", "+Inf", "1800", "2400"])]  # fmt: skip
    path = tmp_path / "inf.txt"
    path.write_text("\n".join(lines) + "\n")
    assert read(path).points["value"].tolist() == [10.0, 10.0]  # [0,1) and [3,4)


# ---------------------------------------------------------------------------------------
# Naming variants


COUNTER_VARIANTS = [
    ('kafka_server_brokertopicmetrics_bytesin_total{topic="t"}', "bytes_in"),  # Strimzi
    ('kafka_server_brokertopicmetrics_bytesout_total{topic="t"}', "bytes_out"),
    ('kafka_server_brokertopicmetrics_messagesin_total{topic="t"}', "records_in"),
    ('kafka_server_BrokerTopicMetrics_Count{name="BytesInPerSec",topic="t",}', "bytes_in"),  # MSK
    ('kafka_server_BrokerTopicMetrics_Count{name="BytesOutPerSec",topic="t",}', "bytes_out"),
    ('kafka_server_BrokerTopicMetrics_Count{name="MessagesInPerSec",topic="t",}', "records_in"),
    ('kafka_server_brokertopicmetrics_bytesinpersec{topic="t"}', "bytes_in"),  # Confluent / Grafana
    ('kafka_server_brokertopicmetrics_bytesoutpersec{topic="t"}', "bytes_out"),
    ('kafka_server_brokertopicmetrics_messagesinpersec{topic="t"}', "records_in"),
    ('kafka_server_brokertopicmetrics_bytesinpersec_count{topic="t"}', "bytes_in"),  # Bitnami
    ('kafka_server_brokertopicmetrics_bytesoutpersec_count{topic="t"}', "bytes_out"),
    ('kafka_server_broker_topic_metrics_bytesin_total{topic="t"}', "bytes_in"),  # other rule files
    ('kafka_topic_partition_current_offset{topic="t",partition="0"}', "records_in"),  # kafka_exporter
    ('kafka_consumergroup_current_offset{consumergroup="g",topic="t",partition="0"}', "records_out"),
]
GAUGE_VARIANTS = [
    ('kafka_log_Log_Value{name="Size",topic="t",partition="3",}', "retained_bytes"),
    ('kafka_log_log_size{topic="t",partition="3"}', "retained_bytes"),
    ('kafka_consumergroup_lag{consumergroup="g",topic="t",partition="0"}', "consumer_lag_records"),
    ('kafka_consumergroup_lag_sum{consumergroup="g",topic="t"}', "consumer_lag_records"),
    (
        'kafka_consumer_group_ConsumerLagMetrics_Value{groupId="g",name="SumOffsetLag",topic="t",}',
        "consumer_lag_records",
    ),
    (
        'kafka_consumer_group_ConsumerLagMetrics_Value{groupId="g",name="OffsetLag",topic="t",partition="0",}',
        "consumer_lag_records",
    ),
    ('kafka_topic_partitions{topic="t"}', "partition_count"),
    ('kafka_server_socket_server_metrics_connection_count{listener="PLAINTEXT",networkProcessor="0"}', "connections"),
]


def _two_samples(tmp_path, series, v0, v1):
    path = tmp_path / "variant.txt"
    path.write_text(f"{series} {v0} {T0 * 1000}\n{series} {v1} {(T0 + 60) * 1000}\n")
    return read(path, cluster="c").points


@pytest.mark.parametrize(("series", "metric"), COUNTER_VARIANTS)
def test_counter_naming_variants(tmp_path, series, metric):
    pts = _two_samples(tmp_path, series, 1000, 1000 + 60 * 25)
    assert pts[["metric", "topic", "value"]].values.tolist() == [[metric, "t", 25.0]]


@pytest.mark.parametrize(("series", "metric"), GAUGE_VARIANTS)
def test_gauge_naming_variants(tmp_path, series, metric):
    pts = _two_samples(tmp_path, series, 7, 9)
    assert pts["metric"].tolist() == [metric, metric]
    assert pts["value"].tolist() == [7.0, 9.0]
    assert (pts["ts_end"] - pts["ts_start"] == pd.Timedelta(seconds=60)).all()


@pytest.mark.parametrize(
    "series",
    [
        'kafka_server_BrokerTopicMetrics_OneMinuteRate{name="BytesInPerSec",topic="t",}',  # EWMA: not used
        'kafka_server_BrokerTopicMetrics_Count{name="BytesRejectedPerSec",topic="t",}',
        'kafka_log_Log_Value{name="LogEndOffset",topic="t",partition="0",}',
    ],
)
def test_unmapped_series_alone_are_refused(tmp_path, series):
    path = tmp_path / "other.txt"
    path.write_text(f"{series} 1 {T0 * 1000}\n{series} 2 {(T0 + 60) * 1000}\n")
    with pytest.raises(IngestFailed, match="no Kafka broker or kafka_exporter metric"):
        ingest([path], db=tmp_path / "s.duckdb", cluster="c")


# ---------------------------------------------------------------------------------------
# Fixtures: MSK open monitoring, kafka_exporter, KIP-511


def test_msk_scrape_with_trailing_commas():
    res = read(FIX / "b-1.msk-prod.scrape.txt", cluster="msk-prod")
    pts = res.points
    assert res.cluster == "msk-prod"
    assert set(pts["broker"]) == {"1"}  # from the file name: the scrape has no target labels

    def one(metric, topic="orders.v1", **kw):
        sel = pts[(pts["metric"] == metric) & (pts["topic"].isna() if topic is None else pts["topic"] == topic)]
        for k, v in kw.items():
            sel = sel[sel[k] == v]
        return sel["value"].tolist()

    assert one("bytes_in") == [1.2e6]  # (8.41072e11 - 8.41e11) / 60
    assert one("bytes_out") == [2.4e6]  # 1.44e8 / 60
    assert one("records_in") == [1200.0]  # 72000 / 60; OneMinuteRate and BytesRejected ignored
    assert one("bytes_in", topic=None) == [1.5e6]  # all-topics series: topic NULL
    assert one("retained_bytes", partition=0) == [2.7e10, 2.71e10]  # LogEndOffset is not a size
    assert one("consumer_lag_records") == [1520.0, 1600.0]  # SumOffsetLag only, partition NULL
    assert pts.loc[pts["metric"] == "consumer_lag_records", "partition"].isna().all()
    assert one("connections", topic=None) == [23.0, 24.0]  # processors summed, REPLICATION_SECURE out

    cs = res.snapshots["client_software"].sort_values("software_name")
    assert cs[["broker", "listener", "software_name", "software_version", "connections"]].values.tolist() == [
        ["1", "CLIENT_SECURE", "apache-kafka-java", "3.6.1", 21.0],  # 13 + 8, latest scrape
        ["1", "CLIENT_SECURE", "unknown", "unknown", 3.0],
    ]
    assert (cs["observed_at"] == pd.Timestamp(T0 + 60, unit="s")).all()
    rr = res.snapshots["request_rates"].sort_values("request")
    # Produce: counters (3000 + 60) / 60 = 51/s, the EWMA 1001 is not used; Metadata: EWMA only
    assert rr[["broker", "request", "rate_per_s"]].values.tolist() == [["1", "Metadata", 2.6], ["1", "Produce", 51.0]]


def test_kafka_exporter_offsets_lag_and_partitions():
    pts = read(FIX / "kafka_exporter.prom", cluster="prod").points
    assert pts["broker"].isna().all()  # `instance` is the exporter, not a broker

    def rows(metric):
        sel = pts[pts["metric"] == metric].sort_values(["consumer_group", "partition", "ts_start"], na_position="first")
        return [
            [g, None if pd.isna(p) else int(p), v] for g, p, v in sel[["consumer_group", "partition", "value"]].values
        ]

    assert rows("records_in") == [[None, 0, 100.0], [None, 1, 50.0]]  # 6000/60, 3000/60
    assert rows("records_out") == [["billing", 0, 90.0], ["billing", 1, 50.0]]  # new-app -1: no offset
    # per-partition lag for billing (lag_sum dropped: it would double it), new-app -1 dropped,
    # audit has only the per-topic sum: kept with partition NULL
    assert rows("consumer_lag_records") == [
        ["audit", None, 42.0], ["audit", None, 40.0],
        ["billing", 0, 1000.0], ["billing", 0, 1600.0], ["billing", 1, 500.0], ["billing", 1, 500.0],
    ]  # fmt: skip
    assert rows("partition_count") == [[None, None, 2.0], [None, None, 2.0]]


def test_log_size_is_kept_per_replica(tmp_path):
    vals = counters(truth())
    pts = read_all(_strimzi(tmp_path, vals)[0])
    size = pts[(pts["metric"] == "retained_bytes") & (pts["ts_start"] == pd.Timestamp(T0, unit="s"))]
    got = sorted(zip(size["broker"], size["partition"].astype(int), size["value"], strict=True))
    assert got == [(str(b), p, 1e9 * (p + 1) + b) for b in BROKERS for p in range(2)]


def test_kip511_without_timestamps_loads_client_software_and_gauges_at_the_capture_time(tmp_path):
    db = tmp_path / "s.duckdb"
    scrape = tmp_path / "strimzi_untimed.txt"
    shutil.copy(FIX / "strimzi_untimed.txt", scrape)
    os.utime(scrape, (T0, T0))  # the capture time (issue 19 item 16: was NULL, and no gauge kept)
    (rep,) = ingest([scrape], db=db, cluster="my-cluster")
    assert any("without timestamps skipped" in n for n in rep.notes)  # the bytes-in counter
    at = pd.Timestamp(T0, unit="s").to_pydatetime()
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT cluster, broker, listener, software_name, software_version, connections, observed_at "
            "FROM client_software ORDER BY software_name"
        ).fetchall()
        points = con.execute("SELECT topic, partition, metric, ts_start, value FROM metric_points").fetchall()
    assert points == [("orders.v1", 0, "retained_bytes", at, 2.7e10)]  # the log-size gauge
    assert rows == [
        ("my-cluster", None, "TLS-9093", "apache-kafka-java", "3.7.1", 20.0, at),  # 14 + 6; 9091/9090 out
        ("my-cluster", None, "TLS-9093", "librdkafka", "2.3.0", 4.0, at),
        ("my-cluster", None, "TLS-9093", "unknown", "unknown", 2.0, at),
    ]


def test_scrape_without_timestamps_and_no_snapshot_is_refused(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text('kafka_server_brokertopicmetrics_bytesin_total{topic="t",cluster="c"} 5\n')
    with pytest.raises(IngestFailed, match="no timestamps"):
        ingest([path], db=tmp_path / "s.duckdb")


# ---------------------------------------------------------------------------------------
# query_range specifics


def _matrix(tmp_path, result, name="q.json", **extra):
    path = tmp_path / name
    path.write_text(json.dumps({"status": "success", "data": {"resultType": "matrix", "result": result}, **extra}))
    return path


def test_expression_results_need_metric_and_are_end_stamped(tmp_path):
    series = [{"metric": {"topic": "t", "cluster": "c"}, "values": [[T0 + 60, "100"], [T0 + 120, "200"]]}]
    path = _matrix(tmp_path, series, warnings=["results truncated"])
    with pytest.raises(IngestFailed, match="--metric"):
        ingest([path], db=tmp_path / "s.duckdb")
    res = read(path, metric="bytes_in")
    pts = res.points
    # rate at t covers (t - step, t]: [T0, T0+60) = 100, [T0+60, T0+120) = 200
    assert pts["ts_start"].tolist() == [pd.Timestamp(T0, unit="s"), pd.Timestamp(T0 + 60, unit="s")]
    assert pts["value"].tolist() == [100.0, 200.0]
    assert "Prometheus warning: results truncated" in res.notes


def test_instant_vector_keeps_gauges(tmp_path):
    doc = {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"__name__": "kafka_log_log_size", "topic": "t", "partition": "0", "pod": "c-kafka-1", "cluster": "c"}, "value": [T0, "123"]},
        {"metric": {"__name__": "kafka_server_brokertopicmetrics_bytesin_total", "topic": "t", "cluster": "c"}, "value": [T0, "5"]},
    ]}}  # fmt: skip
    path = tmp_path / "v.json"
    path.write_text(json.dumps(doc))
    pts = read(path).points
    assert pts[["metric", "broker", "value"]].values.tolist() == [["retained_bytes", "1", 123.0]]
    assert (pts["ts_end"] - pts["ts_start"]).tolist() == [pd.Timedelta(seconds=1)]


def test_cluster_from_label_msk_arn_or_cluster_option(tmp_path):
    arn = "arn:aws:kafka:us-east-1:123456789012:cluster/payments-prod/6f1e2d3c-aaaa-bbbb-cccc-0123456789ab-3"
    series = [
        {"metric": {"__name__": "kafka_topic_partitions", "topic": "t", "clusterArn": arn}, "values": [[T0, "3"]]}
    ]
    assert read(_matrix(tmp_path, series)).cluster == "payments-prod"
    bare = [{"metric": {"__name__": "kafka_topic_partitions", "topic": "t"}, "values": [[T0, "3"]]}]
    path = _matrix(tmp_path, bare, name="bare.json")
    with pytest.raises(IngestFailed, match="pass --cluster"):
        ingest([path], db=tmp_path / "s.duckdb")
    assert read(path, cluster="given").cluster == "given"


# ---------------------------------------------------------------------------------------
# Files: compression, names, sniffing, errors


def test_gz_and_misleading_extensions(tmp_path):
    vals = counters(truth())
    gz = tmp_path / "scrape.prom.gz"
    gz.write_bytes(gzip.compress(strimzi_text(vals).encode()))
    as_json = tmp_path / "scrape.json"  # text exposition named .json
    as_json.write_text(strimzi_text(vals))
    as_csv = tmp_path / "range.csv"  # query_range answer named .csv
    as_csv.write_text(range_json(vals))
    fmts = {Path(p).name: read_file(p)[1].name for p in (gz, as_json, as_csv)}
    assert fmts == {
        "scrape.prom.gz": "prometheus-text",
        "scrape.json": "prometheus-text",
        "range.csv": "prometheus-range",
    }
    assert topic_stats(read(gz).points, "bytes_in") == topic_stats(read(as_csv).points, "bytes_in")


def test_confluent_export_scrapes_are_left_to_their_reader():
    text = 'confluent_kafka_server_received_bytes{kafka_id="lkc-1",topic="t"} 91873452.0 1741003380000\n'
    assert not text_sniff(text, Source(path=Path("x"), data=text.encode()))
    ours = 'kafka_server_brokertopicmetrics_bytesin_total{topic="t"} 1 1741003380000\n'
    assert text_sniff(ours, Source(path=Path("x"), data=ours.encode()))


def test_prometheus_error_answer_is_refused_with_its_text(tmp_path):
    with pytest.raises(IngestFailed) as exc:
        ingest([FIX / "query_error.json"], db=tmp_path / "s.duckdb")
    assert "bad_data" in str(exc.value) and "parse error" in str(exc.value)


def _store_contents(db: Path) -> dict:
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        return {t: sorted(map(repr, con.execute(f'SELECT * FROM "{t}"').fetchall())) for t in tables}


BAD_FILES = {
    "truncated.json": lambda good: good[: len(good) // 2],
    "value.json": lambda good: good.replace('"5000000000.0"', '"five"', 1),
    "time.json": lambda good: good.replace(f"[{T0}, ", '["yesterday", ', 1),
    "bad_line.txt": lambda _: (
        'kafka_log_log_size{topic="t",partition="0"} 1 1741003200000\nkafka_log_log_size{topic="t" 12\n'
    ),
    "overflow.txt": lambda _: 'kafka_log_log_size{topic="t",partition="0"} 1 1e400\n',
    "partition.txt": lambda _: 'kafka_log_log_size{topic="t",partition="x"} 1 1741003200000\n',
}


def test_bad_files_fail_the_call_and_leave_the_store_unchanged(tmp_path):
    db = tmp_path / "s.duckdb"
    vals = counters(truth())
    good = tmp_path / "good.json"
    good.write_text(range_json(vals))
    ingest([FIX / "kafka_exporter.prom"], db=db, cluster="c")
    before = _store_contents(db)

    bad = tmp_path / "bad"
    bad.mkdir()
    for name, make in BAD_FILES.items():
        (bad / name).write_text(make(good.read_text()))
    with pytest.raises(IngestFailed) as exc:
        ingest([good, bad], db=db, cluster="c")
    errors = {Path(e.path).name: e for e in exc.value.errors}
    assert set(errors) == set(BAD_FILES)
    assert errors["bad_line.txt"].line == 2
    assert errors["overflow.txt"].line == 1 and "timestamp" in errors["overflow.txt"].message
    assert "'five' is not a number" in errors["value.json"].message
    assert "'yesterday'" in errors["time.json"].message
    assert "not valid JSON" in errors["truncated.json"].message
    assert "partition label 'x'" in errors["partition.txt"].message
    assert all("\n" not in str(e) for e in exc.value.errors)
    assert _store_contents(db) == before


# ---------------------------------------------------------------------------------------
# End to end through the profile


def test_profile_from_strimzi_scrapes(tmp_path):
    from exitkit.profile.topics import topic_profile

    rates = truth()
    db = tmp_path / "s.duckdb"
    paths, _ = _strimzi(tmp_path, counters(rates))
    ingest(paths, db=db)
    with duckdb.connect(str(db), read_only=True) as con:
        prof = topic_profile(con).set_index("topic")
    assert set(prof.index) == set(TOPICS)
    for topic in TOPICS:
        row = prof.loc[topic]
        assert row["cluster"] == "my-cluster"
        mean, p95, peak = true_stats(rates, "bytes_in", topic)
        assert row["write_bytes_per_s_mean"] == pytest.approx(mean, rel=0.005)
        assert row["write_bytes_per_s_p95"] == pytest.approx(p95, rel=0.005)
        assert row["write_bytes_per_s_peak"] == pytest.approx(peak, rel=0.005)
        assert row["read_bytes_per_s_mean"] == pytest.approx(true_stats(rates, "bytes_out", topic)[0], rel=0.005)
    # one replica per partition (the largest, broker 2): 1e9 + 2 and 2e9 + 2
    assert prof.loc["orders", "retained_bytes"] == pytest.approx(3e9 + 4)


# ---------------------------------------------------------------------------------------
# Issue 19 items 2, 3: a series repeated at one timestamp is never resolved by "last wins"

BYTES_IN = "kafka_server_brokertopicmetrics_bytesin_total"


def _capture(labels: str, rate: float, k_max: int = 4) -> list[str]:
    """One broker's scrape lines: its bytes-in counter at `rate` B/s, sampled every 60 s."""
    return [f"{BYTES_IN}{{{labels}}} {5e9 + rate * 60 * k:.1f} {(T0 + 60 * k) * 1000}" for k in range(k_max)]


def test_text_two_broker_captures_concatenated_are_refused_at_the_conflict(tmp_path):
    """Two per-broker captures without a broker label in one file: both 1.0 MB/s, the topic 2.0 MB/s;
    last-wins read 1.0 MB/s. Refused, naming the line of the conflict and the line it repeats."""
    a = _capture('topic="t",cluster="c"', 1e6)
    b = [line.replace("5000000000.0", "7000000000.0", 1) for line in _capture('topic="t",cluster="c"', 1e6)]
    path = tmp_path / "two.prom"
    path.write_text("\n".join(a + b) + "\n")
    with pytest.raises(IngestFailed) as exc:
        ingest([path], db=tmp_path / "s.duckdb", progress=False)
    msg = str(exc.value)
    assert msg.startswith(f"{path}:5: ") and "line 1" in msg and "2025-03-03T12:00:00Z" in msg
    assert f'{BYTES_IN}{{cluster="c",topic="t"}}' in msg and "\n" not in msg
    assert not (tmp_path / "s.duckdb").exists()


def test_text_captures_that_differ_by_instance_are_read_apart(tmp_path):
    a = _capture('topic="t",cluster="c",instance="b-1.c.kafka:11001"', 1e6)
    b = _capture('topic="t",cluster="c",instance="b-2.c.kafka:11001"', 1e6)
    path = tmp_path / "two.prom"
    path.write_text("\n".join(a + b) + "\n")
    pts = read(path).points
    per = pts[pts["metric"] == "bytes_in"].groupby("ts_start")["value"].sum()
    assert per.tolist() == [2e6, 2e6, 2e6]  # 2.0 MB/s: both brokers


def test_text_identical_repeats_count_once_with_a_note(tmp_path):
    a = _capture('topic="t",cluster="c"', 1e6)
    path = tmp_path / "twice.prom"
    path.write_text("\n".join(a + a) + "\n")
    res = read(path)
    assert res.points["value"].tolist() == [1e6, 1e6, 1e6]
    assert "4 repeated samples (same series, time and value) counted once" in res.notes


def _range_values(values: list) -> dict:
    return {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"__name__": BYTES_IN, "topic": "t", "cluster": "c"}, "values": [[T0 + 60, "0"]] + values},
    ]}}  # fmt: skip


def test_range_duplicate_timestamp_with_another_value_is_refused_not_a_counter_reset(tmp_path):
    """A duplicate time in `values` read as a counter reset gave 51x the true rate (1000 B/s)."""
    values = [[T0 + 60 * k, str(60_000.0 * (k - 1))] for k in range(2, 6)]
    values.insert(2, [T0 + 180, "1000"])  # the same time again, another value
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(_range_values(values)))
    with pytest.raises(IngestFailed) as exc:
        ingest([path], db=tmp_path / "s.duckdb", progress=False)
    msg = str(exc.value)
    assert msg.startswith(f"{path}: data.result[0]: ") and f'{BYTES_IN}{{cluster="c",topic="t"}}' in msg
    assert "2025-03-03T12:03:00Z" in msg and "counter reset" not in msg


def test_range_duplicate_identical_pairs_count_once(tmp_path):
    values = [[T0 + 60 * k, str(60_000.0 * (k - 1))] for k in range(2, 6)]
    values.insert(2, list(values[1]))
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(_range_values(values)))
    res = read(path)
    assert res.points["value"].tolist() == [1000.0] * 4
    assert not any("reset" in n for n in res.notes)
    assert "1 repeated samples (same series, time and value) counted once" in res.notes


# ---------------------------------------------------------------------------------------
# Issue 19 item 16: one untimed scrape gives snapshot facts, stamped with its capture time

ONE_SCRAPE = """# one `curl .../metrics` of a JMX exporter and kafka_exporter, no timestamps
kafka_log_log_size{topic="orders",partition="0",pod="c-kafka-0"} 1000
kafka_log_log_size{topic="orders",partition="0",pod="c-kafka-1"} 1000
kafka_log_log_size{topic="orders",partition="1",pod="c-kafka-0"} 500
kafka_topic_partitions{topic="orders"} 2
kafka_consumergroup_lag{consumergroup="g",topic="orders",partition="0"} 7
kafka_consumergroup_lag{consumergroup="g",topic="orders",partition="1"} 5
kafka_consumergroup_lag{consumergroup="h",topic="orders",partition="0"} 9
kafka_topic_partition_current_offset{topic="orders",partition="0"} 12345
kafka_server_brokertopicmetrics_bytesin_total{topic="orders"} 8.41e11
"""


def test_a_single_untimed_scrape_gives_retained_bytes_and_lag_in_the_profile(tmp_path):
    """Was refused ("samples have no timestamps"). Gauges are stamped with the file's modification
    time (its capture time): retained bytes 1000 + 500 (one replica per partition), 2 partitions,
    lag: group g 7 + 5 = 12 beats h's 9; the counter and the offset stay skipped, noted."""
    from exitkit.profile.topics import topic_profile
    from exitkit.store import open_store

    path = tmp_path / "scrape.prom"
    path.write_text(ONE_SCRAPE)
    os.utime(path, (T0 + 30, T0 + 30))
    db = tmp_path / "s.duckdb"
    (rep,) = ingest([path], db=db, cluster="c", progress=False)
    assert "7 gauge series without timestamps stamped with the file's modification time 2025-03-03T12:00:30Z " \
        "(taken as its capture time): a snapshot" in rep.notes  # fmt: skip
    assert any(n.startswith("2 series without timestamps skipped") for n in rep.notes)
    with open_store(db) as con:
        row = topic_profile(con).set_index("topic").loc["orders"]
        stamps = con.execute("SELECT DISTINCT ts_start FROM metric_points").fetchall()
    assert (row["retained_bytes"], row["partitions"], row["consumer_groups"], row["max_consumer_lag_records"]) == (
        1500,
        2,
        2,
        12,
    )
    assert stamps == [(pd.Timestamp(T0 + 30, unit="s").to_pydatetime(),)]


def test_an_untimed_scrape_with_an_implausible_file_time_is_stamped_with_the_ingest_time(tmp_path):
    path = tmp_path / "scrape.prom"
    path.write_text(ONE_SCRAPE)
    os.utime(path, (0, 0))  # 1970: e.g. unpacked from an archive without times
    res = read(path, cluster="c")
    assert any("stamped with the ingest time" in n and "not a plausible capture time" in n for n in res.notes)
    assert (res.points["ts_start"] > pd.Timestamp("2025-01-01")).all()
