"""The demo estate: three Kafka clusters, 14 days of per-minute traffic, and its ground truth.

The model is per minute and in whole numbers (bytes, records): every export is an exact
aggregation of these arrays, so the truth can be computed from them directly — never by
reading the exports back. `Truth` is defined at the granularity each cluster's exports give
(see `TRUTH_RULES`), with the same rules the profile documents.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

START = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday
DAYS = 14
N_MIN = DAYS * 1440
END = START + timedelta(days=DAYS)
SNAPSHOT_AT = END  # CLI outputs, log sizes and the last lag samples describe this instant

KIB = 1024
MIB = 1024 * 1024
DAY_MS = 86_400_000

TRUTH_RULES = {
    "rates": "per-interval rates (bytes or records per second over [start, end)) of the topic summed over "
    "brokers/partitions, at the resolution the cluster's exports give",
    "mean": "time-weighted mean over intervals with data (gaps excluded)",
    "p95": "nearest-rank 95th percentile of the per-interval rates: rank ceil(0.95 n) ascending, unweighted",
    "peak": "max per-interval rate",
    "lkc-demo01": "Confluent /query: PT1H buckets, except the last 6 hours where PT1M buckets win; "
    "2 PT1H buckets missing (gap)",
    "demo-msk": "CloudWatch Average, period 300 s; 9 periods missing (gap)",
    "demo-onprem": "Prometheus counters sampled every 300 s: rate over [t_prev, t) between consecutive samples "
    "one step apart (a broker restart resets its counters: the increase is the new value; the 3.5 h scrape "
    "outage is a gap: the pair of samples around it gives no interval)",
    "fan_out": "read_bytes_per_s_mean / write_bytes_per_s_mean",
    "avg_record_bytes": "write_bytes_per_s_mean / records_in_per_s_mean",
    "retained_bytes": "logical bytes (one replica per partition) at the last observation "
    "(Confluent: last PT1M retained_bytes bucket; MSK/on-prem: log sizes at the snapshot)",
    "max_consumer_lag_records": "max over observations and groups of the group's lag on the topic summed over "
    "partitions at one instant (partitions without a committed offset left out)",
    "consumer_groups": "groups with committed offsets on the topic (including groups without active members)",
}


@dataclass(frozen=True)
class ClusterSpec:
    name: str
    platform: str  # confluent-cloud | msk | self-managed
    brokers: tuple[str, ...]
    utc_offset_h: int  # where its users live: shapes the diurnal pattern
    kafka_version: str


@dataclass(frozen=True)
class TopicSpec:
    cluster: str
    name: str
    write_bps: float  # long-run mean write rate before bursts and noise
    record_bytes: float
    pattern: str  # business | consumer | flat | batch
    partitions: int
    retention_ms: int | None  # None: inherited from the broker default
    cleanup_policy: str = "delete"
    groups: tuple[tuple[str, float], ...] = ()  # (group, share of the write rate it reads)
    rf: int = 3
    configs: tuple[tuple[str, str], ...] = ()  # further topic-level overrides
    hot_keys: bool = False  # skewed partitions


CLUSTERS: tuple[ClusterSpec, ...] = (
    ClusterSpec("lkc-demo01", "confluent-cloud", tuple(str(i) for i in range(6)), -5, "3.7-IV4"),
    ClusterSpec("demo-msk", "msk", ("1", "2", "3"), 1, "3.6.0"),
    ClusterSpec("demo-onprem", "self-managed", ("0", "1", "2"), 1, "3.9.0"),
)
CLUSTER_BY_NAME = {c.name: c for c in CLUSTERS}


def _g(*names: str, mult: float = 1.0) -> tuple[tuple[str, float], ...]:
    return tuple((n, mult) for n in names)


D = DAY_MS
TOPICS: tuple[TopicSpec, ...] = (
    # --- Confluent Cloud: web shop (US users) ---
    TopicSpec("lkc-demo01", "orders.v1", 2.5 * MIB, 900, "business", 24, 7 * D,
              groups=_g("billing", "fulfillment", "analytics-sink"), configs=(("min.insync.replicas", "2"),)),
    TopicSpec("lkc-demo01", "payments.authorized", 600 * KIB, 1200, "business", 12, 7 * D,
              groups=_g("ledger-writer", "fraud-detector", "billing", "notifications-svc")),
    TopicSpec("lkc-demo01", "payments.settled", 180 * KIB, 1100, "business", 12, 14 * D,
              groups=_g("ledger-writer", "analytics-sink")),
    TopicSpec("lkc-demo01", "clickstream.raw", 28 * MIB, 650, "consumer", 48, 3 * D,
              groups=(("sessionizer", 1.0),), configs=(("compression.type", "zstd"),), hot_keys=True),
    TopicSpec("lkc-demo01", "clickstream.sessions", 4 * MIB, 2400, "consumer", 24, 7 * D,
              groups=_g("recs-trainer", "analytics-sink")),
    TopicSpec("lkc-demo01", "inventory.snapshots", 150 * KIB, 3000, "batch", 6, 7 * D, "compact",
              groups=_g("storefront-cache", "search-indexer", "pricing-engine", "warehouse-sync",
                        "analytics-sink", "recs-trainer")),
    TopicSpec("lkc-demo01", "customer.profiles", 40 * KIB, 1800, "business", 6, 7 * D, "compact",
              groups=_g("storefront-cache", "search-indexer", "notifications-svc", "recs-trainer",
                        "fraud-detector", "billing", "analytics-sink")),
    TopicSpec("lkc-demo01", "pricing.updates", 90 * KIB, 350, "business", 6, 1 * D,
              groups=_g("storefront-cache", "search-indexer", "pricing-engine", "recs-trainer",
                        "analytics-sink", "mobile-bff", "partner-feed", "billing")),
    TopicSpec("lkc-demo01", "notifications.email", 20 * KIB, 2200, "business", 3, 7 * D,
              groups=_g("email-sender")),
    TopicSpec("lkc-demo01", "audit.log", 1 * MIB, 800, "flat", 12, 90 * D, groups=_g("siem-forwarder")),
    TopicSpec("lkc-demo01", "search.index-updates", 700 * KIB, 1500, "business", 12, 2 * D,
              groups=_g("search-indexer")),
    TopicSpec("lkc-demo01", "recommendations.features", 8 * MIB, 4096, "batch", 24, 1 * D,
              groups=_g("recs-trainer")),
    TopicSpec("lkc-demo01", "fraud.scores", 250 * KIB, 300, "business", 6, 7 * D,
              groups=_g("payments-gateway", "fraud-detector", "analytics-sink")),
    TopicSpec("lkc-demo01", "shipping.events", 120 * KIB, 700, "business", 6, 14 * D,
              groups=_g("fulfillment", "notifications-svc")),
    TopicSpec("lkc-demo01", "events-2024", 5 * KIB, 500, "flat", 3, 30 * D, groups=_g("archive-loader")),
    TopicSpec("lkc-demo01", "cdc.accounts", 60 * KIB, 1400, "business", 6, 30 * D, "compact,delete",
              groups=_g("ledger-writer", "search-indexer")),
    # --- Amazon MSK: mobility platform (European users) ---
    TopicSpec("demo-msk", "telemetry.vehicle", 36 * MIB, 420, "flat", 36, 2 * D,
              groups=(("telemetry-ingest", 1.0), ("stream-analytics", 0.5)), hot_keys=True),
    TopicSpec("demo-msk", "telemetry.alerts", 90 * KIB, 600, "flat", 6, 14 * D,
              groups=_g("alert-router", "ops-dashboard", "notifications", "analytics-lake", "incident-bot")),
    TopicSpec("demo-msk", "geo.positions", 12 * MIB, 180, "consumer", 24, 1 * D,
              groups=_g("eta-service", "map-matcher")),
    TopicSpec("demo-msk", "trips.completed", 400 * KIB, 2500, "consumer", 12, 30 * D,
              groups=_g("billing-svc", "analytics-lake", "driver-payouts")),
    TopicSpec("demo-msk", "driver.status", 30 * KIB, 250, "business", 6, 7 * D, "compact",
              groups=_g("dispatch", "eta-service", "ops-dashboard", "driver-app-bff", "analytics-lake")),
    TopicSpec("demo-msk", "billing.invoices", 15 * KIB, 5000, "business", 3, 35 * D,
              groups=_g("billing-svc", "erp-bridge")),
    TopicSpec("demo-msk", "ml.training-features", 5 * MIB, 8000, "batch", 12, 3 * D,
              groups=_g("model-trainer")),
    TopicSpec("demo-msk", "app.logs", 16 * MIB, 700, "business", 24, 3 * D, groups=_g("log-shipper")),
    TopicSpec("demo-msk", "metrics.rollup-1m", 2 * MIB, 160, "flat", 12, None,
              groups=_g("tsdb-writer", "ops-dashboard")),
    TopicSpec("demo-msk", "dispatch.commands", 200 * KIB, 450, "consumer", 12, 1 * D,
              groups=_g("driver-app-bff", "dispatch", "audit-archiver", "eta-service", "analytics-lake",
                        "ops-dashboard")),
    TopicSpec("demo-msk", "maps.tiles-invalidation", 4 * KIB, 200, "business", 3, 1 * D,
              groups=tuple((f"edge-cache-{r}", 1.0) for r in
                           ("eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-central-1a", "eu-central-1b",
                            "eu-north-1a", "us-east-1a", "us-east-1b", "ap-south-1a", "ap-south-1b"))),
    TopicSpec("demo-msk", "payments.refunds", 8 * KIB, 1500, "business", 3, 30 * D,
              groups=_g("billing-svc", "erp-bridge"), rf=2),
    TopicSpec("demo-msk", "user.sessions", 1.5 * MIB, 1100, "consumer", 12, 7 * D, "compact,delete",
              groups=_g("session-store", "analytics-lake")),
    TopicSpec("demo-msk", "fleet.maintenance", 12 * KIB, 3000, "business", 3, 60 * D,
              groups=_g("maintenance-planner")),
    # --- self-managed Strimzi: manufacturing and retail (European users) ---
    TopicSpec("demo-onprem", "erp.orders", 900 * KIB, 1600, "business", 12, None,
              groups=_g("erp-sync", "warehouse-planner", "billing-batch")),
    TopicSpec("demo-onprem", "erp.invoices", 120 * KIB, 4000, "business", 6, 30 * D,
              groups=_g("accounting", "archive-writer")),
    TopicSpec("demo-onprem", "warehouse.scans", 10 * MIB, 350, "business", 24, None,
              groups=_g("inventory-engine", "wms-dashboard")),
    TopicSpec("demo-onprem", "plant.sensors", 22 * MIB, 220, "flat", 36, 1 * D,
              groups=(("historian", 1.0), ("anomaly-detector", 0.25)), hot_keys=True),
    TopicSpec("demo-onprem", "mes.events", 2 * MIB, 900, "business", 12, None,
              groups=_g("historian", "quality-engine", "oee-dashboard")),
    TopicSpec("demo-onprem", "quality.inspections", 60 * KIB, 12000, "business", 6, 365 * D,
              groups=_g("quality-engine", "audit-archiver")),
    TopicSpec("demo-onprem", "hr.employees", 6 * KIB, 2500, "business", 3, None, "compact",
              groups=_g("payroll", "directory-sync", "access-mgmt", "canteen-app", "badge-system")),
    TopicSpec("demo-onprem", "ledger.entries", 350 * KIB, 700, "business", 12, 60 * D,
              groups=_g("accounting", "reporting", "audit-archiver")),
    TopicSpec("demo-onprem", "pos.transactions", 1.2 * MIB, 1300, "consumer", 12, 7 * D,
              groups=_g("loyalty-engine", "accounting", "fraud-rules", "reporting")),
    TopicSpec("demo-onprem", "loyalty.points", 80 * KIB, 400, "consumer", 6, 30 * D, "compact,delete",
              groups=_g("loyalty-engine", "crm-sync")),
    TopicSpec("demo-onprem", "price.changes", 25 * KIB, 600, "business", 6, None,
              groups=_g("store-sync-north", "store-sync-south", "store-sync-east", "store-sync-west",
                        "webshop", "pos-gateway", "reporting")),
    TopicSpec("demo-onprem", "legacy.mainframe-batch", 3 * MIB, 32000, "batch", 6, None,
              groups=_g("erp-sync")),
    TopicSpec("demo-onprem", "logs.app", 6 * MIB, 900, "business", 12, None, groups=_g("log-shipper"),
              configs=(("retention.bytes", "21474836480"),)),
    TopicSpec("demo-onprem", "config.changes", 3 * KIB, 800, "business", 3, None, "compact",
              groups=_g("config-watcher", "webshop", "pos-gateway")),
)  # fmt: skip

# Broker defaults (what a topic without an override inherits).
BROKER_RETENTION_MS = {"lkc-demo01": 7 * D, "demo-msk": 7 * D, "demo-onprem": 3 * D}  # on-prem: log.retention.hours=72

# Time events, in minutes from START.
CONFLUENT_GAP_HOURS = (4 * 24 + 3, 4 * 24 + 4)  # 2025-03-07 03:00-05:00: PT1H buckets missing
CONFLUENT_PT1M_FROM_H = DAYS * 24 - 6  # last 6 hours also at PT1M
CLOUDWATCH_GAP = (9 * 1440 + 14 * 60, 9 * 1440 + 14 * 60 + 45)  # 2025-03-12 14:00-14:45 missing
PROM_STEP_S = 300
PROM_GAP = (6 * 1440 + 65, 6 * 1440 + 275)  # 2025-03-09 01:05-04:35: samples strictly inside are missing
RESTART_BROKER = "1"  # demo-onprem broker restarted 2025-03-11 10:20, back 10:22 with zeroed counters
RESTART_DOWN = (8 * 1440 + 10 * 60 + 20, 8 * 1440 + 10 * 60 + 22)
LAG_STEP_S = 1800  # kafka_exporter lag samples kept at this step
IDLE_GROUPS = {("lkc-demo01", "archive-loader"): 11 * 1440 + 9 * 60, ("demo-onprem", "billing-batch"): 12 * 1440}
STUCK_GROUP = ("demo-onprem", "quality-engine", 10 * 1440 + 13 * 60, 150)  # stuck 150 min: lag spike
REPLAY = {("lkc-demo01", "clickstream.sessions"): (7 * 1440 + 20 * 60, 120, 3.0),  # consumer replay
          ("demo-msk", "trips.completed"): (5 * 1440 + 2 * 60, 90, 6.0)}  # fmt: skip


@dataclass
class TopicSeries:
    """One topic's per-minute truth (whole numbers) and its partition layout."""

    spec: TopicSpec
    index: int
    bytes_in: np.ndarray  # int64 per minute
    bytes_out: np.ndarray
    records_in: np.ndarray
    retained: np.ndarray  # logical bytes at the end of each minute (int64)
    weights: np.ndarray  # partition share of the traffic (sums to 1)
    leaders: list[str]  # broker id leading each partition
    replicas: list[list[str]]
    topic_id: str
    log_start: np.ndarray  # log-start offset per partition at the snapshot
    base_offsets: np.ndarray  # log-end offset per partition at START
    lag: dict[str, np.ndarray] = field(default_factory=dict)  # group -> per-minute total lag (int64)
    _ends: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def cluster(self) -> str:
        return self.spec.cluster

    @property
    def name(self) -> str:
        return self.spec.name

    def split(self, total: np.ndarray) -> np.ndarray:
        """Whole-number split of per-minute totals across partitions: shape (partitions, minutes)."""
        parts = np.floor(np.outer(self.weights, total)).astype(np.int64)
        parts[0] += total - parts.sum(axis=0)
        return parts

    def partition_sizes(self, minute: int = N_MIN - 1) -> np.ndarray:
        """Logical bytes per partition at the end of `minute`; they sum to `retained[minute]`."""
        tot = int(self.retained[minute])
        sizes = np.floor(self.weights * tot).astype(np.int64)
        sizes[0] += tot - sizes.sum()
        return sizes

    def end_offsets(self, minute: int = N_MIN - 1) -> np.ndarray:
        """Log-end offset per partition at the end of `minute`."""
        if minute not in self._ends:
            self._ends[minute] = self.base_offsets + self.split(self.records_in[: minute + 1]).sum(axis=1)
        return self._ends[minute]

    def partition_lag(self, group: str, minute: int) -> np.ndarray:
        """Whole-number lag per partition of a group at the end of `minute` (sums to the total)."""
        tot = int(self.lag[group][minute])
        lag = np.floor(self.weights * tot).astype(np.int64)
        lag[0] += tot - lag.sum()
        return lag


@dataclass
class Estate:
    seed: int
    clusters: tuple[ClusterSpec, ...]
    topics: list[TopicSeries]

    def of(self, cluster: str) -> list[TopicSeries]:
        return [t for t in self.topics if t.cluster == cluster]

    def broker_split(self, t: TopicSeries, total: np.ndarray) -> dict[str, np.ndarray]:
        """Per-broker whole-number split of per-minute totals, by partition leadership.

        During the on-prem broker restart the restarted broker leads nothing (its partitions
        fail over to the next replica) and its counters start again from zero.
        """
        parts = t.split(total)
        brokers = CLUSTER_BY_NAME[t.cluster].brokers
        out = {b: np.zeros(N_MIN, dtype=np.int64) for b in brokers}
        for p, leader in enumerate(t.leaders):
            out[leader] += parts[p]
        if t.cluster == "demo-onprem":
            a, b = RESTART_DOWN
            backup = t.replicas[t.leaders.index(RESTART_BROKER)][1] if RESTART_BROKER in t.leaders else None
            if backup is not None:
                out[backup][a:b] += out[RESTART_BROKER][a:b]
                out[RESTART_BROKER][a:b] = 0
        return out


# ----------------------------------------------------------------------------- model


def _shape(pattern: str, utc_offset_h: int) -> np.ndarray:
    """Per-minute multiplier (mean 1 over the 14 days): hour-of-day × weekday shape."""
    minutes = np.arange(N_MIN)
    local_h = ((minutes / 60.0) + utc_offset_h) % 24
    local_day = ((minutes / 60.0 + utc_offset_h) // 24).astype(int) % 7  # 0 = Monday
    weekend = local_day >= 5
    if pattern == "business":
        s = 0.22 + 0.78 * np.exp(-(((local_h - 13.0) / 3.6) ** 2))
        s = s * np.where(weekend, 0.35, 1.0) * np.where(local_day == 4, 0.9, 1.0)
    elif pattern == "consumer":
        s = 0.25 + 0.75 * np.exp(-(((local_h - 20.5) / 2.8) ** 2)) + 0.25 * np.exp(-(((local_h - 12.5) / 1.8) ** 2))
        s = s * np.where(weekend, 1.2, 1.0)
    elif pattern == "flat":
        s = 1.0 + 0.18 * np.sin(2 * np.pi * (local_h - 9.0) / 24.0)
        s = s * np.where(weekend, 0.93, 1.0)
    elif pattern == "batch":
        s = 0.12 + 3.2 * ((local_h >= 1.0) & (local_h < 3.0)) + 0.6 * ((local_h >= 13.0) & (local_h < 13.5))
    else:
        raise ValueError(pattern)
    return s / s.mean()


def _noise(rng: np.random.Generator, sigma: float, rho: float = 0.97) -> np.ndarray:
    """Slow AR(1) log-noise times fast white noise, mean about 1."""
    eps = rng.normal(0.0, sigma * math.sqrt(1 - rho * rho), N_MIN)
    ar = np.empty(N_MIN)
    acc = 0.0
    for i in range(0, N_MIN, 1440):  # vectorised per day with a carried state (lfilter-free)
        seg = eps[i : i + 1440]
        powers = rho ** np.arange(len(seg))
        # x[k] = rho^(k+1) acc + sum_j rho^(k-j) eps[j]
        conv = np.convolve(seg, powers)[: len(seg)]
        ar[i : i + 1440] = conv + acc * rho * powers
        acc = ar[i + len(seg) - 1]
    return np.exp(ar - sigma * sigma / 2) * rng.lognormal(-0.0025 / 2, 0.05, N_MIN)


def _bursts(rng: np.random.Generator) -> np.ndarray:
    m = np.ones(N_MIN)
    for _ in range(rng.integers(3, 8)):
        start = int(rng.integers(0, N_MIN - 120))
        length = int(rng.integers(5, 90))
        m[start : start + length] *= rng.uniform(1.6, 4.0)
    return m


def _topic_id(rng: np.random.Generator) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(alphabet[i] for i in rng.integers(0, 64, 22))


def _retained(spec: TopicSpec, bytes_in: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Logical retained bytes per minute: a rolling window of writes (delete) or a key space (compact)."""
    retention_ms = spec.retention_ms or BROKER_RETENTION_MS[spec.cluster]
    window = int(retention_ms // 60000)
    # History before START: the 14 days repeated backwards (weekly patterns line up).
    reps = window // N_MIN + 1
    ext = np.concatenate([np.tile(bytes_in, reps), bytes_in]).astype(np.float64)
    cs = np.concatenate([[0.0], np.cumsum(ext)])
    hist = reps * N_MIN
    idx = np.arange(hist, hist + N_MIN) + 1  # end of each minute
    rolling = cs[idx] - cs[np.maximum(idx - window, 0)]
    if spec.cleanup_policy == "delete":
        # Whole segments are deleted: up to one segment per partition more than the window.
        seg = min(1 << 30, rolling.mean() / spec.partitions / 6)
        saw = (np.arange(N_MIN) % 720) / 720.0
        out = rolling + seg * spec.partitions * saw
    else:
        key_space = bytes_in.mean() * 1440 * rng.uniform(1.5, 4.0)  # distinct keys' latest values: days of writes
        since_clean = np.arange(N_MIN) % 240  # the cleaner runs every 4 hours
        dirty = np.array(
            [bytes_in[max(0, i - s) : i + 1].sum() for i, s in zip(range(0, N_MIN, 60), since_clean[::60], strict=True)]
        )
        dirty = np.repeat(dirty, 60)[:N_MIN]
        out = key_space + 0.85 * dirty
        if spec.cleanup_policy == "compact,delete":
            out = np.minimum(out, rolling * 0.6 + key_space * 0.2)
    cap = dict(spec.configs).get("retention.bytes")
    if cap is not None:  # per partition; whole segments go, so partitions hover a little under it
        out = np.minimum(out, 0.9 * int(cap) * spec.partitions)
    return np.round(out).astype(np.int64)


def _lag(spec: TopicSpec, group: str, records: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Total lag of a group on a topic per minute: records behind at the end of each minute."""
    rate = records / 60.0
    delay_s = rng.uniform(0.3, 4.0)
    lag = rate * delay_s * rng.lognormal(0, 0.35, N_MIN)
    idle_from = IDLE_GROUPS.get((spec.cluster, group))
    if idle_from is not None:  # no active members since then: the backlog grows
        lag[idle_from:] += np.cumsum(records[idle_from:])
    if (spec.cluster, group) == STUCK_GROUP[:2]:
        a, n = STUCK_GROUP[2], STUCK_GROUP[3]
        build = np.cumsum(records[a : a + n])
        lag[a : a + n] += build
        drain = np.linspace(build[-1], 0, 45)
        lag[a + n : a + n + 45] += drain
    return np.round(lag).astype(np.int64)


def build_estate(seed: int = 7) -> Estate:
    """The whole estate, deterministic for a seed."""
    root = np.random.SeedSequence(seed)
    children = root.spawn(len(TOPICS))
    topics: list[TopicSeries] = []
    for i, (spec, ss) in enumerate(zip(TOPICS, children, strict=True)):
        rng = np.random.default_rng(ss)
        cl = CLUSTER_BY_NAME[spec.cluster]
        shape = _shape(spec.pattern, cl.utc_offset_h)
        rate = spec.write_bps * shape * _noise(rng, 0.12) * _bursts(rng)
        bytes_in = np.maximum(np.round(rate * 60), 60).astype(np.int64)
        rec_size = spec.record_bytes * rng.lognormal(0, 0.04, N_MIN)
        records_in = np.maximum(np.round(bytes_in / rec_size), 1).astype(np.int64)

        # Reads: each group reads its share of what was written a little earlier.
        mult = np.zeros(N_MIN)
        for g, share in spec.groups:
            m = np.full(N_MIN, share)
            idle = IDLE_GROUPS.get((spec.cluster, g))
            if idle is not None:
                m[idle:] = 0.0
            mult += m
        delayed = np.concatenate([bytes_in[:2], bytes_in[:-2]]).astype(np.float64)
        read = delayed * mult * rng.lognormal(0, 0.03, N_MIN)
        replay = REPLAY.get((spec.cluster, spec.name))
        if replay:
            a, n, k = replay
            read[a : a + n] += bytes_in[a : a + n].mean() * k
        bytes_out = np.round(read).astype(np.int64)

        alpha = 1.5 if spec.hot_keys else 25.0
        weights = rng.dirichlet(np.full(spec.partitions, alpha))
        brokers = list(cl.brokers)
        first = i % len(brokers)
        replicas = [[brokers[(first + p + r) % len(brokers)] for r in range(spec.rf)] for p in range(spec.partitions)]
        leaders = [r[0] for r in replicas]
        retained = _retained(spec, bytes_in, rng)
        base_offsets = rng.integers(10**6, 5 * 10**9, spec.partitions)
        t = TopicSeries(
            spec=spec, index=i, bytes_in=bytes_in, bytes_out=bytes_out, records_in=records_in,
            retained=retained, weights=weights, leaders=leaders, replicas=replicas,
            topic_id=_topic_id(rng), log_start=np.zeros(spec.partitions, dtype=np.int64),
            base_offsets=base_offsets,
        )  # fmt: skip
        for g, _ in spec.groups:
            t.lag[g] = _lag(spec, g, records_in, rng)
        # Log-start offsets: what retention has removed (approximately, by retained records).
        end = t.end_offsets()
        kept = np.floor(t.weights * retained[-1] / spec.record_bytes).astype(np.int64)
        t.log_start = np.maximum(end - kept, 0)
        topics.append(t)
    return Estate(seed=seed, clusters=CLUSTERS, topics=topics)


# ----------------------------------------------------------------------------- intervals


def confluent_intervals() -> list[tuple[int, int]]:
    """[start, end) minutes the Confluent exports give, finest granularity winning."""
    out = [(h * 60, h * 60 + 60) for h in range(CONFLUENT_PT1M_FROM_H) if h not in CONFLUENT_GAP_HOURS]
    out += [(m, m + 1) for m in range(CONFLUENT_PT1M_FROM_H * 60, N_MIN)]
    return out


def cloudwatch_periods() -> list[int]:
    """Start minute of every 300 s period present in the CloudWatch exports."""
    a, b = CLOUDWATCH_GAP
    return [m for m in range(0, N_MIN, 5) if not (a <= m < b)]


def prometheus_samples(step_s: int = PROM_STEP_S) -> list[int]:
    """Sample times (minutes from START) of the query_range exports, START and END included."""
    step = step_s // 60
    a, b = PROM_GAP
    return [m for m in range(0, N_MIN + 1, step) if not (a < m < b)]


def lag_minute(sample_minute: int) -> int:
    """The model minute whose end-of-minute lag a sample taken at `sample_minute` sees."""
    return max(sample_minute - 1, 0)


def intervals_for(cluster: str) -> list[tuple[int, int]]:
    if cluster == "lkc-demo01":
        return confluent_intervals()
    if cluster == "demo-msk":
        return [(m, m + 5) for m in cloudwatch_periods()]
    s = prometheus_samples()
    step = PROM_STEP_S // 60
    return [(a, b) for a, b in zip(s[:-1], s[1:], strict=True) if b - a == step]


# ----------------------------------------------------------------------------- truth


@dataclass(frozen=True)
class TopicTruth:
    cluster: str
    topic: str
    write_bytes_per_s_mean: float
    write_bytes_per_s_p95: float
    write_bytes_per_s_peak: float
    read_bytes_per_s_mean: float
    read_bytes_per_s_p95: float
    fan_out: float
    records_in_per_s_mean: float
    avg_record_bytes: float
    partitions: int
    replication_factor: int
    retention_ms: int
    retention_bytes: int
    cleanup_policy: str
    retained_bytes: int
    consumer_groups: int
    max_consumer_lag_records: int
    observed_from: str
    observed_to: str
    intervals: int
    diurnal_ratio: float  # mean write rate 12:00-16:00 local over 01:00-05:00 local (weekdays)


@dataclass
class Truth:
    seed: int
    topics: list[TopicTruth]
    rules: dict[str, str] = field(default_factory=lambda: dict(TRUTH_RULES))

    def by_key(self) -> dict[tuple[str, str], TopicTruth]:
        return {(t.cluster, t.topic): t for t in self.topics}

    def to_json(self) -> str:
        doc = {"seed": self.seed, "start": _iso(START), "end": _iso(END), "rules": self.rules,
               "topics": [asdict(t) for t in self.topics]}  # fmt: skip
        return json.dumps(doc, indent=1, sort_keys=False) + "\n"

    def frame(self):

        return pd.DataFrame([asdict(t) for t in self.topics])

    @classmethod
    def load(cls, path: Path) -> Truth:
        doc = json.loads(Path(path).read_text())
        return cls(seed=doc["seed"], topics=[TopicTruth(**t) for t in doc["topics"]], rules=doc["rules"])


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _stats(per_minute: np.ndarray, ivals: list[tuple[int, int]]) -> tuple[float, float, float]:
    cs = np.concatenate([[0], np.cumsum(per_minute, dtype=np.int64)])
    a = np.array([i[0] for i in ivals])
    b = np.array([i[1] for i in ivals])
    secs = (b - a) * 60.0
    totals = (cs[b] - cs[a]).astype(np.float64)
    rates = totals / secs
    mean = totals.sum() / secs.sum()
    ranked = np.sort(rates)
    p95 = ranked[math.ceil(0.95 * len(ranked)) - 1]
    return float(mean), float(p95), float(rates.max())


def _max_lag(estate: Estate, t: TopicSeries) -> int:
    """Max over observations and groups of the group's summed lag (see TRUTH_RULES)."""
    best = 0
    minutes = [N_MIN - 1]  # the CLI snapshot
    if t.cluster == "demo-onprem":  # kafka_exporter samples too
        minutes = [lag_minute(m) for m in prometheus_samples(LAG_STEP_S)]
    for g in t.lag:
        for m in minutes:
            lag = t.partition_lag(g, m)
            if (t.cluster, g, m) in _no_commit_cells(t):
                lag = np.delete(lag, _no_commit_cells(t)[(t.cluster, g, m)])
            best = max(best, int(lag.sum()))
    return best


NO_COMMIT = ("demo-msk", "user.sessions", "session-store", 0)  # a partition with no committed offset


def _no_commit_cells(t: TopicSeries) -> dict:
    c, topic, g, p = NO_COMMIT
    return {(c, g, N_MIN - 1): [p]} if (t.cluster, t.name) == (c, topic) else {}


def _diurnal_ratio(t: TopicSeries) -> float:
    off = CLUSTER_BY_NAME[t.cluster].utc_offset_h
    minutes = np.arange(N_MIN)
    local_h = ((minutes / 60.0) + off) % 24
    day = ((minutes / 60.0 + off) // 24).astype(int) % 7
    wk = day < 5
    hi = t.bytes_in[wk & (local_h >= 12) & (local_h < 16)].mean()
    lo = t.bytes_in[wk & (local_h >= 1) & (local_h < 5)].mean()
    return float(hi / lo)


def compute_truth(estate: Estate) -> Truth:
    rows: list[TopicTruth] = []
    for t in estate.topics:
        ivals = intervals_for(t.cluster)
        w_mean, w_p95, w_peak = _stats(t.bytes_in, ivals)
        r_mean, r_p95, _ = _stats(t.bytes_out, ivals)
        rec_mean, _, _ = _stats(t.records_in, ivals)
        spec = t.spec
        retention_bytes = int(dict(spec.configs).get("retention.bytes", -1))
        rows.append(
            TopicTruth(
                cluster=t.cluster,
                topic=t.name,
                write_bytes_per_s_mean=w_mean,
                write_bytes_per_s_p95=w_p95,
                write_bytes_per_s_peak=w_peak,
                read_bytes_per_s_mean=r_mean,
                read_bytes_per_s_p95=r_p95,
                fan_out=r_mean / w_mean,
                records_in_per_s_mean=rec_mean,
                avg_record_bytes=w_mean / rec_mean,
                partitions=spec.partitions,
                replication_factor=spec.rf,
                retention_ms=int(spec.retention_ms or BROKER_RETENTION_MS[t.cluster]),
                retention_bytes=retention_bytes,
                cleanup_policy=spec.cleanup_policy,
                retained_bytes=int(t.partition_sizes().sum()),
                consumer_groups=len(spec.groups),
                max_consumer_lag_records=_max_lag(estate, t),
                observed_from=_iso(START + timedelta(minutes=ivals[0][0])),
                observed_to=_iso(START + timedelta(minutes=ivals[-1][1])),
                intervals=len(ivals),
                diurnal_ratio=_diurnal_ratio(t),
            )  # fmt: skip
        )
    return Truth(seed=estate.seed, topics=rows)
