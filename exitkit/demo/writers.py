"""Writers: the demo estate as the files real tools produce (the shapes documented in docs/formats/).

Every writer takes the `Estate` and a cluster folder and writes whole-number aggregations of
the per-minute model, so the truth in `estate.py` holds exactly for what is written.
File names carry what the content does not say: the `lkc-…` id and the metric short name
for Confluent `/query` bodies, `<cluster>__` for Kafka CLI outputs.
"""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

from exitkit.demo.estate import (
    CLOUDWATCH_GAP,
    CLUSTER_BY_NAME,
    CONFLUENT_GAP_HOURS,
    CONFLUENT_PT1M_FROM_H,
    DAYS,
    LAG_STEP_S,
    N_MIN,
    PROM_STEP_S,
    RESTART_BROKER,
    RESTART_DOWN,
    SNAPSHOT_AT,
    START,
    Estate,
    TopicSeries,
    lag_minute,
    prometheus_samples,
)

START_S = int(START.timestamp())
SNAPSHOT_MS = int(SNAPSHOT_AT.timestamp()) * 1000


def write_bytes(path: Path, data: bytes, gz: bool = False) -> Path:
    """Write a file (gzip with a fixed mtime, so the same estate gives the same bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data, compresslevel=1, mtime=0)
    path.write_bytes(data)
    return path


def write_text(path: Path, text: str, gz: bool = False) -> Path:
    return write_bytes(path, text.encode("utf-8"), gz)


def _iso_z(minute: int) -> str:
    return (START + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_offset(minute: int) -> str:
    return (START + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def java_double(x: float) -> str:
    """`Double.toString`: plain for 1e-3 <= |x| < 1e7, else `1.2345E9` (what JMX exporter prints)."""
    x = float(x)
    if x == 0:
        return "0.0"
    if 1e-3 <= abs(x) < 1e7:
        r = repr(x)
        return r if ("." in r or "e" in r) else r + ".0"
    sign, digits, exp = Decimal(repr(x)).normalize().as_tuple()
    ds = "".join(map(str, digits))
    e = len(ds) - 1 + exp
    mant = ds[0] + "." + (ds[1:] or "0")
    return f"{'-' if sign else ''}{mant}E{e}"


# ----------------------------------------------------------------------------- Confluent /query

CONFLUENT_METRICS = (
    ("received_bytes", "bytes_in", True),
    ("sent_bytes", "bytes_out", True),
    ("received_records", "records_in", True),
    ("retained_bytes", "retained", False),
)
CONFLUENT_PAGE = 10


def write_confluent(estate: Estate, folder: Path, cluster: str = "lkc-demo01") -> list[Path]:
    """Metrics API v2 `/query` bodies grouped by metric.topic, 10 topics per page.

    PT1H over the 14 days (two buckets missing), PT1M over the last 6 hours. retained_bytes
    PT1H is saved GROUPED, the rest FLAT. One saved request shows the `.request.json` convention.
    """
    topics = sorted(estate.of(cluster), key=lambda t: t.name)
    pages = [topics[i : i + CONFLUENT_PAGE] for i in range(0, len(topics), CONFLUENT_PAGE)]
    hours = [h for h in range(DAYS * 24) if h not in CONFLUENT_GAP_HOURS]
    minutes = list(range(CONFLUENT_PT1M_FROM_H * 60, N_MIN))
    out: list[Path] = []
    for short, attr, delta in CONFLUENT_METRICS:
        for gran in ("PT1H", "PT1M"):
            fmt = "GROUPED" if (short == "retained_bytes" and gran == "PT1H") else "FLAT"
            interval = f"{_iso_z(0)}/{_iso_z(N_MIN)}" if gran == "PT1H" else f"{_iso_z(minutes[0])}/{_iso_z(N_MIN)}"
            for n, page in enumerate(pages, start=1):
                groups = []
                for t in page:
                    arr = getattr(t, attr)
                    if gran == "PT1H":
                        per_h = arr.reshape(-1, 60)
                        vals = per_h.sum(axis=1) if delta else per_h.mean(axis=1)
                        pts = [(_iso_z(h * 60), float(vals[h])) for h in hours]
                    else:
                        pts = [(_iso_z(m), float(arr[m])) for m in minutes]
                    groups.append((t.name, pts))
                if fmt == "FLAT":
                    data = [
                        {"timestamp": ts, "metric.topic": name, "value": v} for name, pts in groups for ts, v in pts
                    ]
                else:
                    data = [{"metric.topic": name, "points": [{"timestamp": ts, "value": v} for ts, v in pts]}
                            for name, pts in groups]  # fmt: skip
                pagination: dict = {"page_size": CONFLUENT_PAGE}
                if n < len(pages):
                    pagination["next_page_token"] = f"{short[:4]}{gran}p{n + 1}".encode().hex()
                doc = {"data": data, "meta": {"pagination": pagination}}
                name = f"{cluster}_{short}_{gran}_page{n}.json"
                out.append(write_text(folder / name, json.dumps(doc, separators=(",", ":")) + "\n"))
            if short == "received_bytes" and gran == "PT1H":
                req = {
                    "aggregations": [{"metric": f"io.confluent.kafka.server/{short}"}],
                    "filter": {"field": "resource.kafka.id", "op": "EQ", "value": cluster},
                    "group_by": ["metric.topic"],
                    "granularity": gran,
                    "intervals": [interval],
                    "limit": CONFLUENT_PAGE,
                    "format": fmt,
                }
                name = f"{cluster}_{short}_{gran}.request.json"
                out.append(write_text(folder / name, json.dumps(req, indent=2) + "\n"))
    return out


# ----------------------------------------------------------------------------- CloudWatch

CW_METRICS = (("BytesInPerSec", "bytes_in"), ("BytesOutPerSec", "bytes_out"), ("MessagesInPerSec", "records_in"))


def write_cloudwatch(estate: Estate, folder: Path, cluster: str = "demo-msk") -> list[Path]:
    """`get-metric-data` (Average, Period 300) per metric per week: queries + results in one object.

    Per topic per broker (PER_TOPIC_PER_BROKER) plus the per-broker totals without a Topic
    dimension; each call stays under CloudWatch's 100,800 points.
    """
    topics = sorted(estate.of(cluster), key=lambda t: t.name)
    brokers = CLUSTER_BY_NAME[cluster].brokers
    a, b = CLOUDWATCH_GAP
    out: list[Path] = []
    for metric, attr in CW_METRICS:
        series: list[tuple[str | None, str, np.ndarray]] = []  # (topic, broker, per-period rate)
        totals = {br: np.zeros(N_MIN // 5) for br in brokers}
        for t in topics:
            split = estate.broker_split(t, getattr(t, attr))
            for br in brokers:
                per_period = split[br].reshape(-1, 5).sum(axis=1) / 300.0
                totals[br] += per_period
                if t.leaders.count(br):
                    series.append((t.name, br, per_period))
        series = [(None, br, totals[br]) for br in brokers] + series
        for week in range(DAYS // 7):
            periods = [p for p in range(week * 2016, (week + 1) * 2016) if not (a <= p * 5 < b)]
            periods.reverse()  # TimestampDescending, the default
            stamps = [_iso_offset(p * 5) for p in periods]
            idx = np.array(periods)
            queries, results = [], []
            for k, (topic, br, rate) in enumerate(series):
                qid = f"m{k}"
                dims = [{"Name": "Cluster Name", "Value": cluster}, {"Name": "Broker ID", "Value": br}]
                if topic is not None:
                    dims.append({"Name": "Topic", "Value": topic})
                queries.append(
                    {
                        "Id": qid,
                        "MetricStat": {
                            "Metric": {"Namespace": "AWS/Kafka", "MetricName": metric, "Dimensions": dims},
                            "Period": 300,
                            "Stat": "Average",
                        },
                        "ReturnData": True,
                    }  # fmt: skip
                )
                results.append(
                    {
                        "Id": qid,
                        "Label": metric,
                        "Timestamps": stamps,
                        "Values": [round(float(v), 4) for v in rate[idx]],
                        "StatusCode": "Complete",
                    }  # fmt: skip
                )
            doc = {"MetricDataQueries": queries, "MetricDataResults": results, "Messages": []}
            name = f"{cluster}_{metric}_week{week + 1}.json"
            out.append(write_text(folder / name, json.dumps(doc, separators=(",", ":")) + "\n", gz=True))
    return out


# ----------------------------------------------------------------------------- MSK open monitoring


def msk_broker_host(cluster: str, broker: str) -> str:
    return f"b-{broker}.{cluster}.x7k2qd.c3.kafka.eu-west-1.amazonaws.com"


def _replica_size(t: TopicSeries, p: int, broker: str, sizes: np.ndarray) -> tuple[int, int]:
    """(size, offsetLag) of a replica: followers are in sync except one slightly behind."""
    size = int(sizes[p])
    if broker != t.leaders[p] and p == 0 and t.index % 5 == 0 and broker == t.replicas[p][-1]:
        return max(size - 7_340_032, 0), 4_821  # a follower a little behind (smaller than the leader)
    return size, 0


def write_msk_open_monitoring(estate: Estate, folder: Path, cluster: str = "demo-msk") -> list[Path]:
    """One JMX-exporter scrape per broker (port 11001), millisecond timestamps, MSK naming."""
    topics = sorted(estate.of(cluster), key=lambda t: t.name)
    spec = CLUSTER_BY_NAME[cluster]
    out: list[Path] = []
    ts = SNAPSHOT_MS
    for br in spec.brokers:
        lines: list[str] = []
        lines += [
            "# HELP kafka_server_BrokerTopicMetrics_Count Attribute exposed for management "
            "(kafka.server<type=BrokerTopicMetrics, name=BytesInPerSec, topic=...><>Count)",
            "# TYPE kafka_server_BrokerTopicMetrics_Count untyped",
        ]
        for name, attr in (
            ("BytesInPerSec", "bytes_in"),
            ("BytesOutPerSec", "bytes_out"),
            ("MessagesInPerSec", "records_in"),
        ):
            total = 0
            rows = []
            for t in topics:
                if br not in t.leaders:
                    continue
                c = int(estate.broker_split(t, getattr(t, attr))[br].sum()) * 3  # since broker start
                total += c
                rows.append(
                    f'kafka_server_BrokerTopicMetrics_Count{{name="{name}",topic="{t.name}",}} {java_double(c)} {ts}'
                )
            lines.append(f'kafka_server_BrokerTopicMetrics_Count{{name="{name}",}} {java_double(total)} {ts}')
            lines += rows
        lines += [
            "# HELP kafka_log_Log_Value Attribute exposed for management (kafka.log<type=Log, name=Size, topic=..., partition=...><>Value)",
            "# TYPE kafka_log_Log_Value untyped",
        ]
        for t in topics:
            sizes = t.partition_sizes()
            ends = t.end_offsets()
            for p, reps in enumerate(t.replicas):
                if br not in reps:
                    continue
                size, lag = _replica_size(t, p, br, sizes)
                lab = f'topic="{t.name}",partition="{p}",'
                lines.append(f'kafka_log_Log_Value{{name="LogEndOffset",{lab}}} {java_double(int(ends[p]) - lag)} {ts}')
                lines.append(
                    f'kafka_log_Log_Value{{name="LogStartOffset",{lab}}} {java_double(int(t.log_start[p]))} {ts}'
                )
                lines.append(
                    f'kafka_log_Log_Value{{name="NumLogSegments",{lab}}} {java_double(max(1, size >> 30) + 1)} {ts}'
                )
                lines.append(f'kafka_log_Log_Value{{name="Size",{lab}}} {java_double(size)} {ts}')
        lines += [
            "# HELP kafka_server_socket_server_metrics_connections The current number of active connections. "
            "kafka.server:name=null,type=socket-server-metrics,attribute=connections",
            "# TYPE kafka_server_socket_server_metrics_connections untyped",
        ]
        clients = [
            ("apache-kafka-java", "3.6.1", "CLIENT_SASL_SCRAM", 38), ("apache-kafka-java", "2.8.1", "CLIENT_SASL_SCRAM", 11),
            ("librdkafka", "2.3.0", "CLIENT_SASL_SCRAM", 24), ("apache-kafka-java", "3.5.1", "CLIENT_IAM", 9),
            ("unknown", "unknown", "CLIENT_SASL_SCRAM", 3), ("sarama", "1.42.1", "CLIENT_SASL_SCRAM", 5),
            ("apache-kafka-java", spec.kafka_version, "REPLICATION_SECURE", 6),
        ]  # fmt: skip
        for i, (sw, ver, listener, n) in enumerate(clients):
            for proc in range(3):
                c = n // 3 + (1 if proc < n % 3 else 0) + (int(br) + i) % 2
                lines.append(
                    f'kafka_server_socket_server_metrics_connections{{clientSoftwareName="{sw}",clientSoftwareVersion="{ver}",'
                    f'listener="{listener}",networkProcessor="{proc}",}} {java_double(c)} {ts}'
                )
        name = f"{msk_broker_host(cluster, br)}_11001.prom"  # the broker id comes from the file name
        out.append(write_text(folder / name, "\n".join(lines) + "\n"))
    return out


# ----------------------------------------------------------------------------- Prometheus query_range

STRIMZI_METRICS = (
    ("kafka_server_brokertopicmetrics_bytesin_total", "bytes_in"),
    ("kafka_server_brokertopicmetrics_bytesout_total", "bytes_out"),
    ("kafka_server_brokertopicmetrics_messagesin_total", "records_in"),
)


def _strimzi_labels(cluster: str, broker: str) -> dict[str, str]:
    pod = f"{cluster}-kafka-{broker}"
    return {
        "container": "kafka", "instance": f"{pod}:9404", "job": "kafka/kafka-resources-metrics",
        "kubernetes_pod_name": pod, "namespace": "kafka", "node_ip": f"10.40.{int(broker) + 1}.17",
        "strimzi_io_cluster": cluster, "strimzi_io_kind": "Kafka", "strimzi_io_name": f"{cluster}-kafka",
    }  # fmt: skip


def _matrix(result: list[str]) -> str:
    return '{"status":"success","data":{"resultType":"matrix","result":[' + ",".join(result) + "]}}\n"


def _series(labels: dict[str, str], times: list[int], values: list[str]) -> str:
    pts = ",".join(f'[{START_S + m * 60},"{v}"]' for m, v in zip(times, values, strict=True))
    return '{"metric":' + json.dumps(labels, separators=(",", ":")) + ',"values":[' + pts + "]}"


def write_prometheus_range(estate: Estate, folder: Path, cluster: str = "demo-onprem") -> list[Path]:
    """`/api/v1/query_range` of the Strimzi per-topic counters, step 300 s, one file per metric.

    Each broker also has its all-topics series (no `topic` label). Broker 1's counters reset
    when it restarts; the scrape outage leaves samples out for every series.
    """
    topics = sorted(estate.of(cluster), key=lambda t: t.name)
    brokers = CLUSTER_BY_NAME[cluster].brokers
    samples = prometheus_samples(PROM_STEP_S)
    sidx = np.array(samples)
    ra, rb = RESTART_DOWN
    rng = np.random.default_rng(estate.seed + 404)
    out: list[Path] = []
    for metric, attr in STRIMZI_METRICS:
        result: list[str] = []
        totals = {br: np.zeros(len(samples), dtype=np.int64) for br in brokers}
        per_topic: list[tuple[str, str, np.ndarray]] = []
        for t in topics:
            split = estate.broker_split(t, getattr(t, attr))
            for br in brokers:
                per_min = split[br]
                start_count = int(per_min.mean() * 1440 * rng.uniform(2, 20))  # since the broker last started
                cum = np.concatenate([[0], np.cumsum(per_min)]) + start_count  # counter after minute m-1
                counter = cum[sidx]
                if br == RESTART_BROKER:
                    after = sidx >= rb
                    counter = np.where(after, cum[sidx] - cum[np.full_like(sidx, rb)], counter)
                totals[br] += counter
                per_topic.append((t.name, br, counter))
        for br in brokers:
            labels = {"__name__": metric, **_strimzi_labels(cluster, br)}
            result.append(_series(labels, samples, [str(int(v)) for v in totals[br]]))
        for name, br, counter in per_topic:
            labels = {"__name__": metric, **_strimzi_labels(cluster, br), "topic": name}
            result.append(_series(labels, samples, [str(int(v)) for v in counter]))
        assert ra < rb  # the restart sits inside one step
        out.append(write_text(folder / f"{cluster}_{metric}.json", _matrix(result), gz=True))
    return out


def write_kafka_exporter_lag(estate: Estate, folder: Path, cluster: str = "demo-onprem") -> list[Path]:
    """kafka_exporter `kafka_consumergroup_lag` per (group, topic, partition), query_range step 1800 s."""
    samples = prometheus_samples(LAG_STEP_S)
    base = {"instance": f"{cluster}-kafka-exporter-6d9f7c8b5-q2x7m:9404", "job": "kafka/kafka-resources-metrics",
            "namespace": "kafka", "strimzi_io_cluster": cluster, "strimzi_io_kind": "Kafka",
            "strimzi_io_name": f"{cluster}-kafka-exporter"}  # fmt: skip
    result = []
    for t in sorted(estate.of(cluster), key=lambda t: t.name):
        for g, _ in t.spec.groups:
            lags = np.array([t.partition_lag(g, lag_minute(m)) for m in samples])  # (samples, partitions)
            for p in range(t.spec.partitions):
                labels = {
                    "__name__": "kafka_consumergroup_lag",
                    "consumergroup": g,
                    **base,
                    "partition": str(p),
                    "topic": t.name,
                }
                result.append(_series(labels, samples, [str(int(v)) for v in lags[:, p]]))
    return [write_text(folder / f"{cluster}_kafka_consumergroup_lag.json", _matrix(result), gz=True)]
