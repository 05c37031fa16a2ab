"""Generate the benchmark estate once into bench/scratch/estate/ (reused while its parameters match).

What a real collector would write for one month of 1-minute traffic of a large cluster:

- Confluent Cloud `/v2/metrics/cloud/query` FLAT pages, the whole estate: per metric
  (received_bytes, sent_bytes, received_records) one request per 6 hours (PT1M caps an
  interval at 6 h), `limit: 1000` groups (topics), each response page saved beside its request
  as docs/formats/confluent.md says: `<metric>/<start>.request.json` + `<start>.page1.json`
  (a next page would be `<start>.page2.json`; 500 topics fit one page).
- Prometheus `/api/v1/query_range` answers (Strimzi `_total` counters per broker, step 60),
  one file per metric and day: a fraction of the estate (the first topics and days).
- CloudWatch `get-metric-data` request and response merged in one file per call (at most 500
  queries and 100,800 points per call), Period 60: a fraction of the estate.

The traffic is deterministic (seeded), so every run measures the same bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

SCRATCH = Path(__file__).resolve().parent / "scratch"
ESTATE = SCRATCH / "estate"
VERSION = 1  # bump when the generator's output changes

CLUSTER = "lkc-bench01"
PROM_CLUSTER = "bench-prom"
CW_CLUSTER = "bench-msk"
START = datetime(2025, 3, 1, tzinfo=UTC)
WINDOW_S = 6 * 3600  # PT1M: at most 6 h per request
STEP_S = 60
BROKERS = 3
CONFLUENT_METRICS = {"received_bytes": "bytes_in", "sent_bytes": "bytes_out", "received_records": "records_in"}
PROM_METRICS = {
    "bytes_in": "kafka_server_brokertopicmetrics_bytesin_total",
    "bytes_out": "kafka_server_brokertopicmetrics_bytesout_total",
    "records_in": "kafka_server_brokertopicmetrics_messagesin_total",
}
CW_METRICS = {"bytes_in": "BytesInPerSec", "bytes_out": "BytesOutPerSec", "records_in": "MessagesInPerSec"}
CW_MAX_POINTS = 100_800
CW_MAX_QUERIES = 500
MAX_TOPICS = 100_000  # traits are drawn for this many topics, so a topic's traffic never depends on the count


@dataclass(frozen=True)
class Params:
    topics: int = 500
    days: int = 30
    prom_topics: int = 50  # fraction written as Prometheus query_range
    prom_days: int = 2
    cw_topics: int = 50  # fraction written as CloudWatch get-metric-data
    cw_days: int = 2
    version: int = VERSION

    @property
    def confluent_points(self) -> int:
        return self.topics * self.days * 1440 * len(CONFLUENT_METRICS)

    @property
    def prom_points(self) -> int:  # stored points: per broker, the first sample of a file has no increase
        return self.prom_topics * BROKERS * len(PROM_METRICS) * self.prom_days * (1440 - 1)

    @property
    def cw_points(self) -> int:
        return self.cw_topics * BROKERS * len(CW_METRICS) * self.cw_days * 1440


def topic_name(i: int) -> str:
    return f"svc{i % 37:02d}.events-{i:04d}"


def _topic_traits(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per topic: mean write rate (B/s), fan-out, record size (B) — fixed by the seed."""
    rng = np.random.default_rng(8)
    write = np.exp(rng.normal(np.log(60_000), 1.6, n)).clip(50, 80e6)
    fan_out = rng.choice([0.0, 1.0, 1.0, 2.0, 3.0, 5.0], n)
    record = rng.choice([120.0, 512.0, 1024.0, 4096.0], n)
    return write, fan_out, record


def write_rates(params: Params, t0: float, minutes: int, topics: int) -> dict[str, np.ndarray]:
    """Per-second rates (topics × minutes) for each canonical metric, from minute t0 on."""
    write, fan_out, record = _topic_traits(MAX_TOPICS)
    write, fan_out, record = write[:topics], fan_out[:topics], record[:topics]
    t = t0 + STEP_S * np.arange(minutes)
    day = 1.0 + 0.45 * np.sin(2 * np.pi * ((t / 86400.0) % 1.0) - np.pi / 2)
    rng = np.random.default_rng(int(t0) // STEP_S)
    noise = rng.lognormal(0.0, 0.25, (topics, minutes))
    bytes_in = np.rint(write[:, None] * day[None, :] * noise)
    return {
        "bytes_in": bytes_in,
        "bytes_out": np.rint(bytes_in * fan_out[:, None]),
        "records_in": np.rint(bytes_in / record[:, None]).clip(0),
    }


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- Confluent /query FLAT ---------------------------------------------------------------


def _confluent_window(params: Params, w: int) -> int:
    t0 = START.timestamp() + w * WINDOW_S
    minutes = WINDOW_S // STEP_S
    rates = write_rates(params, t0, minutes, params.topics)
    stamps = [iso(t0 + STEP_S * k) for k in range(minutes)]
    names = [topic_name(i) for i in range(params.topics)]
    start = iso(t0)
    written = 0
    for short, canonical in CONFLUENT_METRICS.items():
        folder = ESTATE / "confluent" / CLUSTER / short
        folder.mkdir(parents=True, exist_ok=True)
        deltas = (rates[canonical] * STEP_S).astype(np.int64)  # counters are per-minute deltas
        request = {
            "aggregations": [{"metric": f"io.confluent.kafka.server/{short}"}],
            "filter": {"field": "resource.kafka.id", "op": "EQ", "value": CLUSTER},
            "group_by": ["metric.topic"],
            "granularity": "PT1M",
            "intervals": [f"{start}/{iso(t0 + WINDOW_S)}"],
            "limit": 1000,
            "format": "FLAT",
        }
        stem = start[:13]  # 2025-03-01T06
        (folder / f"{stem}.request.json").write_text(json.dumps(request))
        rows = []
        for i, name in enumerate(names):
            head = '{"timestamp":"'
            mid = f'","metric.topic":"{name}","value":'
            rows.extend(f"{head}{ts}{mid}{v}.0}}" for ts, v in zip(stamps, deltas[i].tolist(), strict=True))
        body = '{"data":[' + ",".join(rows) + '],"meta":{"pagination":{"page_size":1000}}}'
        (folder / f"{stem}.page1.json").write_text(body)
        written += len(rows)
    return written


# --- Prometheus query_range --------------------------------------------------------------


def _broker_shares(topics: int) -> np.ndarray:
    """Share of each topic's traffic led by each broker (rows sum to 1)."""
    rng = np.random.default_rng(11)
    return rng.dirichlet(np.ones(BROKERS) * 4, MAX_TOPICS)[:topics]


def _prometheus_day(params: Params, d: int) -> int:
    t0 = START.timestamp() + d * 86400
    minutes = 1440
    rates = write_rates(params, t0, minutes, params.prom_topics)
    shares = _broker_shares(params.prom_topics)
    stamps = [int(t0 + STEP_S * (k + 1)) for k in range(minutes)]  # counter samples end-stamped
    folder = ESTATE / "prometheus"
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for canonical, name in PROM_METRICS.items():
        result = []
        for i in range(params.prom_topics):
            for b in range(BROKERS):
                inc = np.rint(rates[canonical][i] * shares[i, b] * STEP_S)
                base = 1e9 * (i + 1) + d * 86400 * 1e6  # counters run since broker start
                total = base + np.cumsum(inc)
                values = [[t, f"{v:.0f}"] for t, v in zip(stamps, total.tolist(), strict=True)]
                metric = {
                    "__name__": name,
                    "cluster": PROM_CLUSTER,
                    "instance": f"my-cluster-kafka-{b}:9404",
                    "job": "kafka",
                    "topic": topic_name(i),
                }
                result.append({"metric": metric, "values": values})
                n += len(values) - 1
        doc = {"status": "success", "data": {"resultType": "matrix", "result": result}}
        (folder / f"{canonical}.{iso(t0)[:10]}.json").write_text(json.dumps(doc, separators=(",", ":")))
    return n


# --- CloudWatch get-metric-data ----------------------------------------------------------


def _cloudwatch_day(params: Params, d: int) -> int:
    t0 = START.timestamp() + d * 86400
    minutes = 1440
    rates = write_rates(params, t0, minutes, params.cw_topics)
    shares = _broker_shares(params.cw_topics)
    stamps_desc = [
        datetime.fromtimestamp(t0 + STEP_S * k, UTC).isoformat() for k in reversed(range(minutes))
    ]  # CLI v2: ISO-8601 with offset, newest first
    series = [(m, i, b) for m in CW_METRICS for i in range(params.cw_topics) for b in range(BROKERS)]
    per_call = min(CW_MAX_QUERIES, CW_MAX_POINTS // minutes)
    folder = ESTATE / "cloudwatch"
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for part, lo in enumerate(range(0, len(series), per_call)):
        queries, results = [], []
        for k, (canonical, i, b) in enumerate(series[lo : lo + per_call]):
            qid = f"m{k}"
            dims = [
                {"Name": "Cluster Name", "Value": CW_CLUSTER},
                {"Name": "Broker ID", "Value": str(b + 1)},
                {"Name": "Topic", "Value": topic_name(i)},
            ]
            queries.append(
                {
                    "Id": qid,
                    "MetricStat": {
                        "Metric": {"Namespace": "AWS/Kafka", "MetricName": CW_METRICS[canonical], "Dimensions": dims},
                        "Period": STEP_S,
                        "Stat": "Average",
                    },
                }
            )
            vals = (rates[canonical][i] * shares[i, b])[::-1].round(3).tolist()
            results.append(
                {
                    "Id": qid,
                    "Label": CW_METRICS[canonical],
                    "Timestamps": stamps_desc,
                    "Values": vals,
                    "StatusCode": "Complete",
                }
            )
            n += len(vals)
        doc = {
            "StartTime": iso(t0),
            "EndTime": iso(t0 + 86400),
            "MetricDataQueries": queries,
            "MetricDataResults": results,
            "Messages": [],
        }
        name = f"{CW_CLUSTER}.{iso(t0)[:10]}.part{part + 1:02d}.metric-data.json"
        (folder / name).write_text(json.dumps(doc, indent=1))
    return n


# --- driver ------------------------------------------------------------------------------


def manifest_path() -> Path:
    return ESTATE / "MANIFEST.json"


def ensure(params: Params | None = None, *, jobs: int | None = None, log=print) -> dict:
    """The estate's manifest; the estate is (re)written only when missing or of other parameters."""
    params = params or Params()
    mp = manifest_path()
    if mp.exists():
        m = json.loads(mp.read_text())
        if m.get("params") == asdict(params):
            return m
        log(f"estate parameters changed ({m.get('params')} → {asdict(params)}): rewriting")
    if ESTATE.exists():
        shutil.rmtree(ESTATE)
    ESTATE.mkdir(parents=True)
    jobs = jobs or os.cpu_count() or 1
    started = time.perf_counter()
    windows = params.days * 86400 // WINDOW_S
    log(
        f"writing the estate into {ESTATE}: {params.topics} topics × {params.days} days, "
        f"{params.confluent_points:,} Confluent points in {windows * len(CONFLUENT_METRICS)} pages "
        f"(+ {params.prom_points:,} Prometheus, {params.cw_points:,} CloudWatch points) …"
    )
    with ProcessPoolExecutor(jobs) as pool:
        c = sum(pool.map(_confluent_window, [params] * windows, range(windows)))
        p = sum(pool.map(_prometheus_day, [params] * params.prom_days, range(params.prom_days)))
        w = sum(pool.map(_cloudwatch_day, [params] * params.cw_days, range(params.cw_days)))
    assert c == params.confluent_points, (c, params.confluent_points)
    elapsed = time.perf_counter() - started

    def size(sub: str) -> int:
        return sum(f.stat().st_size for f in (ESTATE / sub).rglob("*") if f.is_file())

    m = {
        "params": asdict(params),
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(elapsed, 1),
        "confluent": {"points": c, "bytes": size("confluent"), "cluster": CLUSTER},
        "prometheus": {"points": p, "bytes": size("prometheus"), "cluster": PROM_CLUSTER},
        "cloudwatch": {"points": w, "bytes": size("cloudwatch"), "cluster": CW_CLUSTER},
        "start": iso(START.timestamp()),
        "end": iso((START + timedelta(days=params.days)).timestamp()),
    }
    mp.write_text(json.dumps(m, indent=2))
    log(f"estate written in {elapsed:.0f} s")
    return m


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--topics", type=int, default=Params.topics)
    ap.add_argument("--days", type=int, default=Params.days)
    ap.add_argument("--jobs", type=int, default=None)
    a = ap.parse_args(argv)
    p = Params()
    p = Params(**{**asdict(p), "topics": a.topics, "days": a.days})
    p = Params(**{**asdict(p), "prom_topics": min(p.prom_topics, p.topics), "cw_topics": min(p.cw_topics, p.topics)})
    p = Params(**{**asdict(p), "prom_days": min(p.prom_days, p.days), "cw_days": min(p.cw_days, p.days)})
    m = ensure(p, jobs=a.jobs)
    json.dump(m, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
