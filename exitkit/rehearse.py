"""`exitkit rehearse`: run a workload's Kafka contract on a candidate cluster with real clients.

Pipeline: workload + contract → `Shape` (topics, record size, producer and consumer settings,
what the contract allows) → create prefixed topics → consumer group joins → producer writes
keyed records carrying (key, sequence) at a bounded rate, in transactions with some aborted
where the contract uses them → the consumer restarts mid-run and must resume from its commit →
optional fault command at mid-point → drain → checks → `rehearsal-*.json` and a `rehearsals`
row. Everything is counted on the consumer side from the payloads, never from watermarks.

Only the rehearsal's own topics (`exitkit-rehearsal-<workload>-<run>-N`), group and
transactional id are written or deleted; the topics are deleted at the end unless `keep`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import struct
import subprocess
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic
from tqdm import tqdm

from exitkit.errors import ExitkitError
from exitkit.kafka_client import ClientLog, ClientSettings, client_settings, connect
from exitkit.plan.contract import _declared
from exitkit.profile.workload import workload_topics
from exitkit.units import parse_bytes
from exitkit.workload.fields import PLATFORMS
from exitkit.workload.model import Workload
from exitkit.workload.sections import plan_inputs

PREFIX = "exitkit-rehearsal"
DEFAULT_RECORD_BYTES = 1024
MAX_RECORD_BYTES = 1_000_000
MAX_TOPICS = 3
RATE_SHARE = 0.1  # default rate: this share of the workload's record rate …
RATE_BOUNDS = (50.0, 2000.0)  # … within these records/s
ABORT_EVERY = 4  # with transactions, every 4th transaction is aborted
TXN_SECONDS = 0.2  # records per transaction: about this much time at the rate
HEADER = struct.Struct(">IQqB")  # key id, sequence, produce time (ns), aborted flag
CHECK_RESULTS = ("pass", "fail", "skipped")


class RehearsalError(ExitkitError):
    """A rehearsal that cannot start (bad input, cluster unreachable, topics refused): exit 2."""


# --- what to run --------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicShape:
    name: str
    partitions: int
    config: dict[str, str]  # cleanup.policy, retention.ms, compression.type as the workload has them
    like: str  # the workload topic (or "traffic") it is shaped after


@dataclass(frozen=True)
class Shape:
    """Everything the rehearsal runs, derived from the workload and its contract (see `shape_of`)."""

    topics: tuple[TopicShape, ...]
    record_bytes: int
    rate: float  # records/s over all topics
    producer: dict[str, str]
    consumer: dict[str, str]
    transactions: bool
    commit: str  # sync | async | auto
    exactly_once: bool  # duplicates not allowed at the consumer
    origins: dict[str, str] = field(default_factory=dict)  # what each choice came from


def _item_value(contract, area: str, item: str) -> Any:
    it = getattr(getattr(contract, area), item)
    return None if it is None else it.value


def _settings_text(value: Any) -> dict[str, str]:
    """`"linger.ms=5, batch.size=64KiB"` → {"linger.ms": "5", "batch.size": "65536"}."""

    out = {}
    for m in re.finditer(r"([a-z][a-z0-9.]*)\s*=\s*([^,;\s]+)", str(value or "")):
        k, v = m.group(1), m.group(2)
        if k in ("batch.size", "max.request.size") and not v.isdigit():
            try:
                v = str(int(parse_bytes(v)))
            except (ValueError, TypeError):
                continue
        if k == "retries" and v.upper() in ("MAX", "MAX_INT", "INTEGER.MAX_VALUE"):
            v = "2147483647"
        out[k] = v
    return out


def shape_of(
    workload: Workload,
    con=None,
    *,
    rate: float | None = None,
    max_partitions: int | None = None,
    run_id: str = "run",
) -> Shape:
    """The rehearsal's topics, record size, rate and client settings for `workload`."""

    contract = plan_inputs(workload).contract
    origins: dict[str, str] = {}
    rows = _workload_rows(workload, con)
    t = workload.traffic
    # record size: assumed, else measured, else a default
    if t is not None and t.record_size:
        record_bytes, origins["record_bytes"] = int(t.record_size), "traffic.record_size"
    elif rows and any(r.get("avg_record_bytes") for r in rows):
        vals = [float(r["avg_record_bytes"]) for r in rows if r.get("avg_record_bytes")]
        record_bytes, origins["record_bytes"] = int(sum(vals) / len(vals)), "measured avg_record_bytes"
    else:
        record_bytes, origins["record_bytes"] = DEFAULT_RECORD_BYTES, "default (no record size known)"
    record_bytes = max(HEADER.size, min(record_bytes, MAX_RECORD_BYTES))
    # topics: one per workload topic (the busiest first), at most MAX_TOPICS
    compression = _item_value(contract, "producers", "compression")
    codec = str(compression).strip().lower() if compression else None
    if codec not in (None, "none", "gzip", "snappy", "lz4", "zstd"):
        raise workload.fail(
            "contract.producers.compression", f"{compression!r}: expected none, gzip, snappy, lz4 or zstd"
        )
    shapes = []
    base = f"{PREFIX}-{workload.name}-{run_id}"
    picked = sorted(rows, key=lambda r: -(r.get("write_bytes_per_s_mean") or 0))[:MAX_TOPICS] if rows else []
    for i, r in enumerate(picked or [None]):
        parts = (r or {}).get("partitions") or (t.partitions if t is not None and t.partitions else None) or 3
        parts = int(parts) if max_partitions is None else min(int(parts), max_partitions)
        cfg = {}
        if r and r.get("cleanup_policy"):
            cfg["cleanup.policy"] = str(r["cleanup_policy"])
        retention = (r or {}).get("retention_ms")
        if retention is None and t is not None and t.retention:
            retention = int(t.retention * 1000)
        if retention is not None:
            cfg["retention.ms"] = str(int(retention))
        if codec:
            cfg["compression.type"] = "producer"  # keep the producer's codec on disk, as clients send it
        shapes.append(TopicShape(f"{base}-{i}", max(1, parts), cfg, r["topic"] if r else "traffic"))
    origins["topics"] = "the workload's topics in the store" if picked else "traffic (what-if workload)"
    # rate: a safe fraction of the workload's record rate unless given
    if rate is None:
        rec_rate = sum(float(r.get("records_in_per_s_mean") or 0) for r in rows) if rows else 0.0
        if not rec_rate and t is not None and t.write_rate:
            rec_rate = float(t.write_rate) / record_bytes
        rate = min(max(rec_rate * RATE_SHARE, RATE_BOUNDS[0]), RATE_BOUNDS[1])
        origins["rate"] = (
            f"{RATE_SHARE:.0%} of the workload's record rate within {RATE_BOUNDS[0]:g}-{RATE_BOUNDS[1]:g}/s"
        )
    else:
        origins["rate"] = "--rate"
    # producer settings the contract shows
    producer: dict[str, str] = {"partitioner": "murmur2_random"}  # place keys as Java producers do
    acks = _item_value(contract, "producers", "acks")
    producer["acks"] = "all" if acks is None else str(acks).strip().lower().replace("-1", "all")
    idem = contract.producers.idempotence
    transactions = _declared(contract.producers.transactions)
    if idem is not None or transactions:
        producer["enable.idempotence"] = "true" if (_declared(idem) or transactions) else "false"
    if codec:
        producer["compression.type"] = codec
    for item in ("batching", "retries"):
        for k, v in _settings_text(_item_value(contract, "producers", item)).items():
            k = {"delivery.timeout.ms": "message.timeout.ms"}.get(k, k)
            if k in ("linger.ms", "batch.size", "batch.num.messages", "retries", "message.timeout.ms",
                     "retry.backoff.ms", "max.in.flight.requests.per.connection"):  # fmt: skip
                producer[k] = v
    # consumer settings: commit pattern and isolation
    commit_text = str(_item_value(contract, "consumers", "offset_commit") or "").lower()
    commit = "auto" if "auto" in commit_text else "async" if "async" in commit_text else "sync"
    consumer = {
        "enable.auto.commit": "true" if commit == "auto" else "false",
        "auto.offset.reset": "earliest",  # the rehearsal topics are new: earliest == the first record
        "isolation.level": "read_committed" if transactions else "read_uncommitted",
        "enable.partition.eof": "false",
    }
    gp = _item_value(contract, "consumers", "group_protocol")
    if isinstance(gp, str) and gp.strip().lower() in ("consumer", "kip-848", "kip848"):
        consumer["group.protocol"] = "consumer"
    origins["commit"] = f"contract.consumers.offset_commit ({commit_text})" if commit_text else "default (sync)"
    return Shape(
        topics=tuple(shapes),
        record_bytes=record_bytes,
        rate=float(rate),
        producer=producer,
        consumer=consumer,
        transactions=transactions,
        commit=commit,
        exactly_once=transactions,
        origins=origins,
    )


def _workload_rows(workload: Workload, con) -> list[dict]:
    if con is None or not workload.topics:
        return []

    df = workload_topics(con, workload)
    return [{k: (None if _na(v) else v) for k, v in r.items()} for r in df.to_dict(orient="records")]


def _na(v) -> bool:
    try:
        return v is None or (isinstance(v, float) and math.isnan(v)) or bool(v != v)
    except (TypeError, ValueError):
        return False


# --- the run ------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the producer sent and the consumer read, by (topic, key id, sequence)."""

    produced: int = 0
    produced_bytes: int = 0
    acked: set = field(default_factory=set)  # (topic, key, seq) of committed-intent records acknowledged
    acked_bytes: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    txn_committed: int = 0
    txn_aborted: int = 0
    aborted_records: int = 0
    # consumer side
    deliveries: int = 0
    seen: dict = field(default_factory=dict)  # (topic, key, seq) -> set of (partition, offset)
    log: dict = field(default_factory=dict)  # (topic, partition) -> {offset: (key, seq)}
    aborted_seen: int = 0
    corrupt: int = 0
    consumer_errors: dict[str, int] = field(default_factory=dict)
    redelivered: int = 0  # (partition, offset) delivered again to the group (after the restart)
    pending: list = field(default_factory=list)  # transactional records delivered, counted when their txn commits
    lock: threading.Lock = field(default_factory=threading.Lock)


def payload(key: int, seq: int, t_ns: int, aborted: bool, size: int) -> bytes:
    head = HEADER.pack(key, seq, t_ns, 1 if aborted else 0)
    pad = size - len(head)
    return head + (b"%016x" % (seq * 2654435761 % (1 << 64)) * (pad // 16 + 1))[:pad]


def _percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (as the profile's p95)."""
    if not values:
        return None
    v = sorted(values)
    return round(v[max(0, math.ceil(q / 100 * len(v)) - 1)], 3)


class _Consumer(threading.Thread):
    """The rehearsal's consumer group member, restarted once at `restart_at` (monotonic time)."""

    def __init__(self, settings: dict, topics: list[str], tally: Tally, shape: Shape, restart_at: float) -> None:
        super().__init__(daemon=True, name="exitkit-rehearsal-consumer")
        self.settings, self.topics, self.tally, self.shape, self.restart_at = settings, topics, tally, shape, restart_at
        self.stop = threading.Event()
        self.assigned = threading.Event()
        self.joins: list[float] = []  # seconds from subscribe to first assignment, per member
        self.committed_at_restart: dict[tuple[str, int], int] = {}
        self.first_after_restart: dict[tuple[str, int], int] = {}
        self.restarted = False
        self.problem: str | None = None
        self.delivered_offsets: set = set()

    def run(self) -> None:

        try:
            c = self._member(Consumer)
            while not self.stop.is_set():
                if not self.restarted and time.monotonic() >= self.restart_at and self.assigned.is_set():
                    self.committed_at_restart = self._close(c)
                    self.restarted = True
                    self.assigned.clear()
                    c = self._member(Consumer)
                self._poll(c)
            self._close(c)
        except Exception as exc:  # reported as a failed check, never a traceback
            self.problem = f"{type(exc).__name__}: {exc}"

    def _member(self, Consumer):
        c = Consumer(self.settings)
        started = time.monotonic()

        def on_assign(consumer, partitions):
            if not self.assigned.is_set():
                self.joins.append(round(time.monotonic() - started, 2))
            self.assigned.set()

        c.subscribe(self.topics, on_assign=on_assign)
        return c

    def _poll(self, c) -> None:
        msgs = c.consume(num_messages=500, timeout=0.2)
        got = False
        t = self.tally
        for m in msgs:
            err = m.error()
            if err is not None:
                with t.lock:
                    t.consumer_errors[err.name()] = t.consumer_errors.get(err.name(), 0) + 1
                continue
            got = True
            tp = (m.topic(), m.partition())
            if self.restarted and tp not in self.first_after_restart:
                self.first_after_restart[tp] = m.offset()
            value = m.value() or b""
            with t.lock:
                t.deliveries += 1
                where = (m.topic(), m.partition(), m.offset())
                if where in self.delivered_offsets:
                    t.redelivered += 1
                self.delivered_offsets.add(where)
                if len(value) < HEADER.size:
                    t.corrupt += 1
                    continue
                key, seq, t_ns, aborted = HEADER.unpack_from(value)
                if value != payload(key, seq, t_ns, bool(aborted), len(value)) or len(value) != self.shape.record_bytes:
                    t.corrupt += 1
                if aborted:
                    t.aborted_seen += 1
                    continue
                t.seen.setdefault((m.topic(), key, seq), set()).add((m.partition(), m.offset()))
                t.log.setdefault(tp, {})[m.offset()] = (key, seq)
        if got and self.shape.commit in ("sync", "async"):
            self._commit(c, asynchronous=self.shape.commit == "async")

    def _commit(self, c, asynchronous: bool) -> None:

        try:
            c.commit(asynchronous=asynchronous)
        except KafkaException as exc:
            err = exc.args[0]
            if err.name() != "_NO_OFFSET":
                with self.tally.lock:
                    self.tally.consumer_errors[f"commit {err.name()}"] = (
                        self.tally.consumer_errors.get(f"commit {err.name()}", 0) + 1
                    )

    def _close(self, c) -> dict[tuple[str, int], int]:
        """Commit what was processed (sync, whatever the pattern: a clean shutdown), read it back, close."""
        committed: dict[tuple[str, int], int] = {}
        try:
            assignment = c.assignment()
            if self.shape.commit != "auto":
                self._commit(c, asynchronous=False)
            if assignment:
                for tp in c.committed(assignment, timeout=10):
                    if tp.offset >= 0:
                        committed[(tp.topic, tp.partition)] = tp.offset
        except Exception as exc:  # a dead cluster: the restart check says so
            self.problem = f"{type(exc).__name__}: {exc}"
        c.close()
        return committed


@dataclass
class Check:
    area: str
    item: str
    result: str  # pass | fail | skipped
    detail: str


def rehearse(
    workload: Workload,
    bootstrap: str,
    platform: str,
    *,
    settings: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
    duration_s: float = 60.0,
    rate: float | None = None,
    max_partitions: int | None = None,
    keep: bool = False,
    fault_command: str | None = None,
    con=None,
    timeout_s: float = 10.0,
    progress: bool | None = None,
) -> dict:
    """Run the rehearsal and return the result document (the JSON written by the CLI)."""

    candidates = list(workload.candidates) or [p for p in PLATFORMS if p != workload.source.platform]
    if platform not in candidates:
        raise RehearsalError(
            f"--platform {platform!r}: expected one of the workload's candidates ({', '.join(candidates)})"
        )
    if not duration_s > 0:
        raise RehearsalError(f"--duration {duration_s:g}: expected a positive number of seconds")
    if rate is not None and not rate > 0:
        raise RehearsalError(f"--rate {rate:g}: expected a positive number of records per second")
    cs = client_settings(bootstrap, settings, env)
    run_id = uuid.uuid4().hex[:8]
    shape = shape_of(workload, con, rate=rate, max_partitions=max_partitions, run_id=run_id)
    started = datetime.now(UTC)
    log = ClientLog("exitkit.rehearse")
    admin = AdminClient({**_only(cs.settings, "admin"), **log.config()})
    connect(admin, cs, log, timeout_s)
    run = _Run(workload, platform, cs, shape, admin, log, run_id, timeout_s)
    try:
        run.create_topics()
        checks, producer, consumer = run.execute(duration_s, fault_command, progress)
    finally:
        if not keep:
            run.cleanup()
    result = "fail" if any(c.result == "fail" for c in checks) else "pass"
    return {
        "workload": workload.name,
        "platform": platform,
        "bootstrap": bootstrap,
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_s": round(run.elapsed, 3),
        "result": result,
        "checks": [asdict(c) for c in checks],
        "producer": producer,
        "consumer": consumer,
        "run": {
            "id": run_id,
            "topics": [asdict(t) for t in shape.topics],
            "group": run.group,
            "transactional_id": run.txn_id if shape.transactions else None,
            "record_bytes": shape.record_bytes,
            "rate_records_per_s": shape.rate,
            "producer_settings": run.shown("producer"),
            "consumer_settings": run.shown("consumer"),
            "origins": shape.origins,
            "credentials": cs.credentials(),
            "fault_command": fault_command,
            "kept_topics": keep,
            "consumer_joins_s": run.joins,
        },
    }


_CONSUMER_ONLY = ("session.timeout.ms", "heartbeat.interval.ms", "max.poll.interval.ms", "group.", "isolation.level",
                  "auto.offset.reset", "enable.auto.commit", "fetch.", "partition.assignment.strategy")  # fmt: skip
_PRODUCER_ONLY = ("acks", "enable.idempotence", "linger.ms", "batch.", "compression.", "message.timeout.ms",
                  "delivery.timeout.ms", "transaction", "partitioner", "retries", "queue.buffering.")  # fmt: skip


def _only(settings: dict, role: str) -> dict:
    """The -X settings that apply to a client role (librdkafka warns about the others)."""
    out = {}
    for k, v in settings.items():
        consumer_only = k.startswith(_CONSUMER_ONLY)
        producer_only = k.startswith(_PRODUCER_ONLY)
        if (
            (role == "admin" and (consumer_only or producer_only))
            or (role == "producer" and consumer_only)
            or (role == "consumer" and producer_only)
        ):
            continue
        out[k] = v
    return out


class _Run:
    def __init__(self, workload, platform, cs: ClientSettings, shape: Shape, admin, log, run_id, timeout_s) -> None:
        self.workload, self.platform, self.cs, self.shape, self.admin, self.log = (
            workload, platform, cs, shape, admin, log
        )  # fmt: skip
        self.run_id, self.timeout_s = run_id, timeout_s
        self.group = f"{PREFIX}-{workload.name}-{run_id}"
        self.txn_id = f"{PREFIX}-{workload.name}-{run_id}-tx"
        self.created: list[str] = []
        self.elapsed = 0.0
        self.joins: list[float] = []
        self.shaped: Check | None = None
        self.conf: dict[str, dict] = {}

    def shown(self, role: str) -> dict:
        """A client's settings as run, credentials as `***` (never the logger and callbacks)."""
        return {k: ("***" if k in self.cs.settings and self.cs.shown().get(k) == "***" else v)
                for k, v in sorted(self.conf.get(role, {}).items()) if isinstance(v, str)}  # fmt: skip

    # -- topics -------------------------------------------------------------------------
    def create_topics(self) -> None:

        new = [NewTopic(t.name, t.partitions, -1, config=t.config) for t in self.shape.topics]
        futures = self.admin.create_topics(new, request_timeout=self.timeout_s, operation_timeout=self.timeout_s)
        for name, fut in futures.items():
            try:
                fut.result(timeout=self.timeout_s + 5)
                self.created.append(name)
            except Exception as exc:
                raise RehearsalError(
                    self.cs.scrub(
                        f"kafka {self.cs.bootstrap}: cannot create rehearsal topic {name} ({_err(exc)}); "
                        f"rehearse needs CREATE and DELETE on topics prefixed {PREFIX}-"
                    )
                ) from None
        self.shaped = self._read_back()

    def _read_back(self) -> Check:
        """Topics as created: partitions from Metadata, the set configs from DescribeConfigs."""

        problems, seen = [], []
        md = self.admin.list_topics(timeout=self.timeout_s)
        futs = self.admin.describe_configs(
            [ConfigResource(ConfigResource.Type.TOPIC, t.name) for t in self.shape.topics],
            request_timeout=self.timeout_s,
        )
        by_name = {r.name: f for r, f in futs.items()}
        for t in self.shape.topics:
            got = len(md.topics[t.name].partitions) if t.name in md.topics else 0
            if got != t.partitions:
                problems.append(f"{t.name}: {got} partitions, asked {t.partitions}")
            try:
                entries = by_name[t.name].result(timeout=self.timeout_s + 5)
            except Exception as exc:
                problems.append(f"{t.name}: DescribeConfigs {_err(exc)}")
                continue
            for k, v in t.config.items():
                e = entries.get(k)
                if e is None or e.value != v:
                    problems.append(f"{t.name}: {k}={None if e is None else e.value}, asked {v}")
            seen.append(f"{t.name} ({t.partitions} partitions, {', '.join(f'{k}={v}' for k, v in t.config.items())})")
        if problems:
            return Check("operations", "topic_automation", "fail", "; ".join(problems))
        return Check("operations", "topic_automation", "pass", "created and read back: " + "; ".join(seen))

    def cleanup(self) -> None:
        """Delete the rehearsal's topics and group (bounded; a dead cluster leaves them, said nowhere fatal)."""
        if self.created:
            futs = self.admin.delete_topics(self.created, request_timeout=self.timeout_s,
                                            operation_timeout=self.timeout_s)  # fmt: skip
            for f in futs.values():
                try:
                    f.result(timeout=self.timeout_s + 5)
                except Exception:
                    pass
        try:
            futs = self.admin.delete_consumer_groups([self.group], request_timeout=self.timeout_s)
            for f in futs.values():
                f.result(timeout=self.timeout_s + 5)
        except Exception:
            pass

    # -- produce / consume ----------------------------------------------------------------
    def execute(self, duration_s: float, fault_command: str | None, progress: bool | None):

        shape, tally = self.shape, Tally()
        budget = max(5.0, min(30.0, duration_s))  # for joins, flush and drain each
        consumer_conf = {
            "session.timeout.ms": "10000", "heartbeat.interval.ms": "1000",
            **_only(self.cs.settings, "consumer"), **shape.consumer, "group.id": self.group,
            "logger": ClientLog("exitkit.rehearse.consumer").logger,
        }  # fmt: skip
        producer_conf = {
            "message.timeout.ms": str(int(budget * 1000) + int(duration_s * 1000)),
            **shape.producer, **_only(self.cs.settings, "producer"), **self.log.config(),
        }  # fmt: skip
        if shape.transactions:
            producer_conf["transactional.id"] = self.txn_id
        self.conf = {"producer": producer_conf, "consumer": consumer_conf}
        topics = [t.name for t in shape.topics]
        restart_at = time.monotonic() + 10**9  # set once the consumer has joined
        consumer = _Consumer(consumer_conf, topics, tally, shape, restart_at)
        fault: dict | None = None
        t0 = time.monotonic()
        consumer.start()
        if not consumer.assigned.wait(budget + 2 * float(consumer_conf.get("session.timeout.ms", 10000)) / 1000):
            consumer.stop.set()
            raise RehearsalError(
                f"kafka {self.cs.bootstrap}: consumer group {self.group} got no partitions within the join budget "
                f"({consumer.problem or 'no assignment'}); check group ACLs (READ on group {PREFIX}-*)"
            )
        producer = Producer(producer_conf)
        producer.list_topics(timeout=self.timeout_s)  # connected before the clock starts: latency is steady state
        if shape.transactions:
            try:
                producer.init_transactions(self.timeout_s)
            except KafkaException as exc:
                consumer.stop.set()
                raise RehearsalError(
                    f"kafka {self.cs.bootstrap}: init_transactions failed ({_err(exc)}); rehearse needs WRITE and "
                    f"DESCRIBE on transactional id {PREFIX}-*"
                ) from None
        start = time.monotonic()
        consumer.restart_at = start + duration_s / 3
        fault_at = start + duration_s / 2
        end = start + duration_s
        n_keys = {t.name: max(4, t.partitions * 4) for t in shape.topics}
        seqs: dict[tuple[str, int], int] = {}
        per_txn = max(1, int(shape.rate * TXN_SECONDS))
        txn_open, txn_count, txn_aborting = False, 0, False
        i = 0
        bar = tqdm(total=round(duration_s), unit="s", desc="rehearse", leave=False,
                   disable=None if progress is None else not progress)  # fmt: skip
        last_bar = start

        def deliver(topic, key, seq, aborting, t_send):
            def cb(err, msg):
                with tally.lock:
                    if err is not None:
                        # purged at the end: counted once as "undelivered" below, not again here
                        if not aborting and err.name() != "_PURGE_QUEUE":
                            tally.errors[err.name()] = tally.errors.get(err.name(), 0) + 1
                        return
                    if not aborting:
                        if shape.transactions:
                            tally.pending.append((topic, key, seq, len(msg.value())))
                        else:
                            tally.acked.add((topic, key, seq))
                            tally.acked_bytes += len(msg.value())
                        tally.latencies_ms.append((time.monotonic() - t_send) * 1000)

            return cb

        try:
            while True:
                now = time.monotonic()
                if now >= end:
                    break
                if fault_command and fault is None and now >= fault_at:
                    fault = self._fault(fault_command, budget)
                due = start + i / shape.rate
                if due > now:
                    producer.poll(min(due - now, 0.05))
                    continue
                if shape.transactions and not txn_open:
                    txn_aborting = (txn_count + 1) % ABORT_EVERY == 0
                    producer.begin_transaction()
                    txn_open = True
                topic = topics[i % len(topics)]
                key = (i // len(topics)) % n_keys[topic]
                if txn_aborting:
                    seq = 0
                else:
                    seq = seqs.get((topic, key), 0) + 1
                    seqs[(topic, key)] = seq
                t_send = time.monotonic()
                value = payload(key, seq, time.time_ns(), txn_aborting, shape.record_bytes)
                try:
                    producer.produce(topic, key=b"k%d" % key, value=value,
                                     on_delivery=deliver(topic, key, seq, txn_aborting, t_send))  # fmt: skip
                except BufferError:
                    producer.poll(0.05)
                    if not txn_aborting:
                        seqs[(topic, key)] = seq - 1
                    continue
                tally.produced += 1
                tally.produced_bytes += len(value)
                if txn_aborting:
                    tally.aborted_records += 1
                i += 1
                producer.poll(0)
                if shape.transactions and i % per_txn == 0:
                    self._end_txn(producer, tally, txn_aborting)
                    txn_open, txn_count = False, txn_count + 1
                if now - last_bar >= 0.5:
                    bar.n = min(round(now - start), bar.total)
                    bar.set_postfix(produced=tally.produced, consumed=tally.deliveries, refresh=True)
                    last_bar = now
            if shape.transactions and txn_open:
                self._end_txn(producer, tally, txn_aborting)
            left = producer.flush(budget)
            if left:
                producer.purge()
                producer.flush(0)
                tally.errors["undelivered at the end (flush timed out)"] = left
        finally:
            bar.close()
        produce_s = time.monotonic() - start
        # drain: until every acknowledged record was read, or the budget ends
        drain_end = time.monotonic() + budget
        while time.monotonic() < drain_end and not self._drained(tally):
            time.sleep(0.1)
        consumer.stop.set()
        consumer.join(budget)
        self.elapsed = time.monotonic() - t0
        self.joins = consumer.joins
        return self._checks(tally, consumer, fault, produce_s, bool(fault_command))

    def _end_txn(self, producer, tally: Tally, aborting: bool) -> None:

        try:
            producer.flush(self.timeout_s)
            if aborting:
                producer.abort_transaction(self.timeout_s)
                tally.txn_aborted += 1
            else:
                producer.commit_transaction(self.timeout_s)
                tally.txn_committed += 1
                with tally.lock:
                    for topic, key, seq, size in tally.pending:
                        tally.acked.add((topic, key, seq))
                        tally.acked_bytes += size
            tally.pending.clear()
        except KafkaException as exc:
            name = exc.args[0].name() if exc.args else "error"
            tally.errors[f"transaction {name}"] = tally.errors.get(f"transaction {name}", 0) + 1
            tally.pending.clear()
            try:
                producer.abort_transaction(self.timeout_s)
            except KafkaException:
                pass

    def _drained(self, tally: Tally) -> bool:
        with tally.lock:
            return all(k in tally.seen for k in tally.acked)

    def _fault(self, command: str, budget: float) -> dict:
        t = time.monotonic()
        try:
            p = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=max(60.0, budget * 4))
            rc, err = p.returncode, (p.stderr or p.stdout).strip().splitlines()[-1:] or [""]
        except subprocess.TimeoutExpired:
            rc, err = None, ["timed out"]
        return {"exit_code": rc, "seconds": round(time.monotonic() - t, 2), "last_line": self.cs.scrub(err[0])[:200]}

    # -- checks ---------------------------------------------------------------------------
    def _checks(self, tally: Tally, consumer: _Consumer, fault: dict | None, produce_s: float, faulted: bool):
        shape = self.shape
        checks: list[Check] = [self.shaped] if self.shaped else []
        with tally.lock:
            acked = set(tally.acked)
            seen = dict(tally.seen)
        lost = [k for k in acked if k not in seen]
        log_dups = sum(len(v) - 1 for v in seen.values() if len(v) > 1)  # same record at two offsets: producer dup
        redelivered = tally.redelivered
        out_of_order = 0
        for _tp, offsets in tally.log.items():
            last: dict[int, int] = {}
            for off in sorted(offsets):
                key, seq = offsets[off]
                if seq < last.get(key, 0):
                    out_of_order += 1
                last[key] = max(last.get(key, 0), seq)
        errors = sum(tally.errors.values())
        cerrors = sum(tally.consumer_errors.values())
        under = " under the fault" if faulted else ""
        err_text = ", ".join(f"{k} ×{v}" for k, v in sorted(tally.errors.items())) or "none"
        p = shape.producer
        # producers.acks: every acknowledged record was read (no loss)
        checks.append(
            Check("producers", "acks", "fail" if lost or not acked else "pass",
                  f"acks={p.get('acks')}: {len(acked)} acknowledged, {len(acked) - len(lost)} read, {len(lost)} lost"
                  + ("" if acked else "; nothing was acknowledged") + under)
        )  # fmt: skip
        idem = p.get("enable.idempotence") == "true"
        checks.append(
            Check("producers", "idempotence",
                  ("fail" if log_dups or out_of_order else "pass") if idem else "skipped",
                  f"enable.idempotence={p.get('enable.idempotence', 'librdkafka default')}: {log_dups} duplicate(s) "
                  f"in the log, {out_of_order} out of order per key")
        )  # fmt: skip
        checks.append(
            Check("producers", "retries", "fail" if errors else "pass",
                  f"{errors} delivery error(s) ({err_text}); message.timeout.ms={self.conf['producer']['message.timeout.ms']}"
                  f", retries={p.get('retries', 'librdkafka default')}" + under)
        )  # fmt: skip
        codec = p.get("compression.type")
        checks.append(
            Check("producers", "compression", ("fail" if tally.corrupt else "pass") if codec else "skipped",
                  f"compression.type={codec or 'none'}: {tally.deliveries} records read back, {tally.corrupt} not "
                  f"byte-identical")
        )  # fmt: skip
        achieved = len(acked) / produce_s if produce_s > 0 else 0.0
        checks.append(
            Check("producers", "batching", "pass" if achieved >= 0.8 * shape.rate and not errors else "fail",
                  f"linger.ms={p.get('linger.ms', 'default')}, batch.size={p.get('batch.size', 'default')}: "
                  f"{achieved:.0f} records/s acknowledged of {shape.rate:.0f}/s asked; latency p50 "
                  f"{_percentile(tally.latencies_ms, 50)} ms, p99 {_percentile(tally.latencies_ms, 99)} ms")
        )  # fmt: skip
        if shape.transactions:
            checks.append(
                Check("producers", "transactions", "fail" if tally.aborted_seen or lost or tally.txn_committed == 0
                      else "pass",
                      f"{tally.txn_committed} committed, {tally.txn_aborted} aborted transactions "
                      f"({tally.aborted_records} aborted records); isolation.level=read_committed saw "
                      f"{tally.aborted_seen} aborted record(s)")
            )  # fmt: skip
        else:
            checks.append(Check("producers", "transactions", "skipped", "the contract does not use transactions"))
        # consumers.offset_commit: the restarted member resumed from the commit
        resume_problems = []
        if not consumer.restarted:
            resume_problems.append("the consumer was not restarted (no assignment before the restart point)")
        for tp, c in sorted(consumer.committed_at_restart.items()):
            f = consumer.first_after_restart.get(tp)
            if f is None:
                continue
            if f < c or (f > c and not shape.transactions):
                resume_problems.append(f"{tp[0]}-{tp[1]} committed {c}, resumed at {f}")
        if consumer.problem:
            resume_problems.append(consumer.problem)
        dup_allowed = not shape.exactly_once
        dup_text = f"{redelivered} re-delivered after the restart ({'allowed: at-least-once' if dup_allowed else 'not allowed: exactly-once'})"
        commit_fail = bool(resume_problems) or (redelivered and not dup_allowed)
        checks.append(
            Check("consumers", "offset_commit", "fail" if commit_fail else "pass",
                  f"commit {shape.commit}; restarted mid-run, resumed on {len(consumer.first_after_restart)} "
                  f"partition(s) from {len(consumer.committed_at_restart)} committed; {dup_text}"
                  + ("; " + "; ".join(resume_problems) if resume_problems else ""))
        )  # fmt: skip
        protocol = shape.consumer.get("group.protocol", "classic")
        checks.append(
            Check("consumers", "group_protocol", "pass" if len(consumer.joins) >= 2 else "fail",
                  f"group.protocol={protocol}: {len(consumer.joins)} join(s), "
                  f"{', '.join(f'{j:g} s' for j in consumer.joins) or 'none'} to assignment; "
                  f"consumer errors: {cerrors}")
        )  # fmt: skip
        checks.append(
            Check("delivery", "per_key_order", "fail" if out_of_order else "pass",
                  f"{out_of_order} record(s) out of sequence per key in partition order")
        )  # fmt: skip
        if faulted:
            ok = fault is not None and fault["exit_code"] == 0
            checks.append(
                Check("run", "fault_command", "pass" if ok else "fail",
                      "not run (the run ended first)" if fault is None else
                      f"exit {fault['exit_code']} after {fault['seconds']} s at mid-point"
                      + (f": {fault['last_line']}" if fault["last_line"] else ""))
            )  # fmt: skip
        for c in checks:
            c.detail = self.cs.scrub(c.detail)
        producer = {
            "records": tally.produced,
            "bytes": tally.produced_bytes,
            "acknowledged": len(acked),
            "latency_ms_p50": _percentile(tally.latencies_ms, 50),
            "latency_ms_p99": _percentile(tally.latencies_ms, 99),
            "errors": errors,
            "throughput_records_per_s": round(achieved, 1),
            "throughput_bytes_per_s": round(tally.acked_bytes / produce_s, 1) if produce_s > 0 else None,
        }
        consumer_doc = {
            "records": tally.deliveries,
            "lost": len(lost),
            "duplicates": log_dups + redelivered,
            "out_of_order": out_of_order,
            "aborted_seen": tally.aborted_seen,
            "errors": cerrors,
        }
        return checks, producer, consumer_doc


def _err(exc: BaseException) -> str:
    err = exc.args[0] if getattr(exc, "args", None) else None
    if hasattr(err, "name"):
        return f"{err.name()}: {err.str()}"
    return f"{type(exc).__name__}: {exc}"


# --- output -------------------------------------------------------------------------------


def file_name(doc: dict) -> str:
    """`rehearsal-<workload>-<platform>-<UTC>.json`."""
    ts = doc["started_at"].replace("-", "").replace(":", "")
    return f"rehearsal-{doc['workload']}-{doc['platform']}-{ts}.json"


def write(doc: dict, out_dir: str | Path, secrets: Iterable[str] = ()) -> Path:
    """The result document as JSON in `out_dir` (written whole: temp file, then rename)."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    data = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    for s in secrets:
        data = data.replace(s, "***")
    path = folder / file_name(doc)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(data, encoding="utf-8")
    os.replace(tmp, path)
    return path


def store_row(con, doc: dict, path: Path) -> None:
    """One `rehearsals` row (one INSERT: all or nothing)."""
    data = path.read_bytes()
    con.execute(
        "INSERT INTO rehearsals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            doc["run"]["id"], doc["workload"], doc["platform"], doc["bootstrap"],
            datetime.strptime(doc["started_at"], "%Y-%m-%dT%H:%M:%SZ"), doc["duration_s"], doc["result"],
            json.dumps(doc["checks"]), json.dumps(doc["producer"]), json.dumps(doc["consumer"]), str(path),
            hashlib.sha256(data).hexdigest(),
        ],
    )  # fmt: skip


def summary(doc: dict) -> list[str]:
    """Lines for the terminal: the result, each failed check, the counts."""
    failed = [c for c in doc["checks"] if c["result"] == "fail"]
    passed = sum(c["result"] == "pass" for c in doc["checks"])
    p, c = doc["producer"], doc["consumer"]
    lines = [
        f"rehearsal {doc['result']}: {doc['workload']} on {doc['platform']} ({doc['bootstrap']}), "
        f"{passed} check(s) passed, {len(failed)} failed, {doc['duration_s']:.1f} s",
        f"producer {p['records']:,} records, {p['acknowledged']:,} acknowledged, {p['errors']} error(s), "
        f"latency p50 {p['latency_ms_p50']} ms p99 {p['latency_ms_p99']} ms",
        f"consumer {c['records']:,} records, {c['lost']} lost, {c['duplicates']} duplicate(s), "
        f"{c['out_of_order']} out of order",
    ]
    lines += [f"fail     {x['area']}.{x['item']}: {x['detail']}" for x in failed]
    return lines
