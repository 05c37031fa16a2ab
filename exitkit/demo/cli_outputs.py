"""Kafka CLI outputs of the demo estate, printed the way the Apache Kafka tools print them.

kafka-topics --describe, kafka-configs (topics, brokers, quotas), kafka-log-dirs,
kafka-consumer-groups --describe --all-groups, kafka-acls --list, and MirrorMaker 2
checkpoints / offset syncs. Files are named `<cluster>__<what>.txt` (the cluster naming
convention of docs/formats/kafka-cli.md), so they ingest with or without --cluster.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from exitkit.demo.estate import (
    BROKER_RETENTION_MS,
    CLUSTER_BY_NAME,
    IDLE_GROUPS,
    N_MIN,
    NO_COMMIT,
    Estate,
    TopicSeries,
)
from exitkit.demo.writers import _replica_size, write_text  # the JMX scrape's follower sizes too

# (topic config, broker synonym, broker default as shown in the synonym, topic-level default value)
TOPIC_CONFIGS: tuple[tuple[str, str | None, str, str], ...] = (
    ("cleanup.policy", "log.cleanup.policy", "delete", "delete"),
    ("compression.type", "compression.type", "producer", "producer"),
    ("delete.retention.ms", "log.cleaner.delete.retention.ms", "86400000", "86400000"),
    ("file.delete.delay.ms", "log.segment.delete.delay.ms", "60000", "60000"),
    ("flush.messages", "log.flush.interval.messages", "9223372036854775807", "9223372036854775807"),
    ("flush.ms", None, "", "9223372036854775807"),
    ("follower.replication.throttled.replicas", None, "", ""),
    ("index.interval.bytes", "log.index.interval.bytes", "4096", "4096"),
    ("leader.replication.throttled.replicas", None, "", ""),
    ("local.retention.bytes", "log.local.retention.bytes", "-2", "-2"),
    ("local.retention.ms", "log.local.retention.ms", "-2", "-2"),
    ("max.compaction.lag.ms", "log.cleaner.max.compaction.lag.ms", "9223372036854775807", "9223372036854775807"),
    ("max.message.bytes", "message.max.bytes", "1048588", "1048588"),
    ("message.downconversion.enable", "log.message.downconversion.enable", "true", "true"),
    ("message.format.version", "log.message.format.version", "3.0-IV1", "3.0-IV1"),
    ("message.timestamp.after.max.ms", "log.message.timestamp.after.max.ms", "9223372036854775807", "9223372036854775807"),
    ("message.timestamp.before.max.ms", "log.message.timestamp.before.max.ms", "9223372036854775807", "9223372036854775807"),
    ("message.timestamp.difference.max.ms", "log.message.timestamp.difference.max.ms", "9223372036854775807", "9223372036854775807"),
    ("message.timestamp.type", "log.message.timestamp.type", "CreateTime", "CreateTime"),
    ("min.cleanable.dirty.ratio", "log.cleaner.min.cleanable.ratio", "0.5", "0.5"),
    ("min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms", "0", "0"),
    ("min.insync.replicas", "min.insync.replicas", "1", "1"),
    ("preallocate", "log.preallocate", "false", "false"),
    ("remote.storage.enable", None, "", "false"),
    ("retention.bytes", "log.retention.bytes", "-1", "-1"),
    ("retention.ms", "log.retention.hours", "168", "604800000"),
    ("segment.bytes", "log.segment.bytes", "1073741824", "1073741824"),
    ("segment.index.bytes", "log.index.size.max.bytes", "10485760", "10485760"),
    ("segment.jitter.ms", "log.roll.jitter.hours", "0", "0"),
    ("segment.ms", "log.roll.hours", "168", "604800000"),
    ("unclean.leader.election.enable", "unclean.leader.election.enable", "false", "false"),
)  # fmt: skip

# Broker settings that differ from Kafka's defaults (server.properties / MSK configuration / Strimzi CR).
STATIC_BROKER = {
    "demo-msk": {"min.insync.replicas": "2", "unclean.leader.election.enable": "true"},
    "demo-onprem": {"min.insync.replicas": "2", "log.retention.hours": "72", "compression.type": "producer"},
    "lkc-demo01": {"min.insync.replicas": "2"},
}


def topic_overrides(t: TopicSeries) -> dict[str, str]:
    """Dynamic topic configs (what `Configs:` lists), sorted by name."""
    spec = t.spec
    out: dict[str, str] = {}
    if spec.cleanup_policy != "delete":
        out["cleanup.policy"] = spec.cleanup_policy
    if spec.retention_ms is not None:
        out["retention.ms"] = str(spec.retention_ms)
    if "compact" in spec.cleanup_policy:
        out["min.cleanable.dirty.ratio"] = "0.3"
    out.update(dict(spec.configs))
    return dict(sorted((k, v) for k, v in out.items() if v != ""))


# ----------------------------------------------------------------------------- kafka-topics


def kafka_topics_describe(estate: Estate, cluster: str) -> str:
    spec = CLUSTER_BY_NAME[cluster]
    elr = spec.kafka_version.startswith("3.9")
    lines = []
    for t in sorted(estate.of(cluster), key=lambda t: t.name):
        cfg = ",".join(f"{k}={v}" for k, v in topic_overrides(t).items())
        lines.append(
            f"Topic: {t.name}\tTopicId: {t.topic_id}\tPartitionCount: {t.spec.partitions}\t"
            f"ReplicationFactor: {t.spec.rf}\tConfigs: {cfg}"
        )
        for p, reps in enumerate(t.replicas):
            isr = list(reps)
            if cluster == "demo-onprem" and t.index % 7 == 3 and p == 1:
                isr = isr[:-1]  # a follower out of sync
            row = (
                f"\tTopic: {t.name}\tPartition: {p}\tLeader: {reps[0]}\tReplicas: {','.join(reps)}\t"
                f"Isr: {','.join(isr)}"
            )
            if elr:
                row += "\tElr: \tLastKnownElr: "
            lines.append(row)
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- kafka-configs


def _broker_synonym(cluster: str, broker_key: str | None, broker_default: str) -> list[str]:
    if broker_key is None:
        return []
    syn = []
    static = STATIC_BROKER.get(cluster, {})
    if broker_key in static:
        syn.append(f"STATIC_BROKER_CONFIG:{broker_key}={static[broker_key]}")
    syn.append(f"DEFAULT_CONFIG:{broker_key}={broker_default}")
    return syn


def _inherited_value(cluster: str, name: str, broker_key: str | None, topic_default: str) -> str:
    static = STATIC_BROKER.get(cluster, {})
    if broker_key in static:
        v = static[broker_key]
        if broker_key == "log.retention.hours":
            return str(int(v) * 3_600_000)
        return v
    if name == "retention.ms":
        return str(BROKER_RETENTION_MS[cluster])
    return topic_default


def kafka_configs_topics(estate: Estate, cluster: str, all_configs: bool) -> str:
    """`kafka-configs --describe --entity-type topics [--all]` for every topic."""
    head = "All" if all_configs else "Dynamic"
    lines = []
    for t in sorted(estate.of(cluster), key=lambda t: t.name):
        over = topic_overrides(t)
        lines.append(f"{head} configs for topic {t.name} are:")
        for name, bkey, bdef, tdef in TOPIC_CONFIGS:
            if not all_configs and name not in over:
                continue
            syn = _broker_synonym(cluster, bkey, bdef)
            if name in over:
                value = over[name]
                syn.insert(0, f"DYNAMIC_TOPIC_CONFIG:{name}={value}")
            else:
                value = _inherited_value(cluster, name, bkey, tdef)
            if not syn and all_configs:
                syn = [f"DEFAULT_CONFIG:{name}={value}"] if value else []
            lines.append(f"  {name}={value} sensitive=false synonyms={{{', '.join(syn)}}}")
    return "\n".join(lines) + "\n"


BROKER_CONFIGS: tuple[tuple[str, str], ...] = (
    ("auto.create.topics.enable", "true"), ("auto.leader.rebalance.enable", "true"),
    ("compression.type", "producer"), ("default.replication.factor", "1"), ("delete.topic.enable", "true"),
    ("inter.broker.listener.name", "null"), ("log.cleaner.delete.retention.ms", "86400000"),
    ("log.cleaner.enable", "true"), ("log.cleaner.min.cleanable.ratio", "0.5"), ("log.cleanup.policy", "delete"),
    ("log.dirs", "null"), ("log.retention.bytes", "-1"), ("log.retention.check.interval.ms", "300000"),
    ("log.retention.hours", "168"), ("log.retention.minutes", "null"), ("log.retention.ms", "null"),
    ("log.roll.hours", "168"), ("log.segment.bytes", "1073741824"), ("message.max.bytes", "1048588"),
    ("min.insync.replicas", "1"), ("num.io.threads", "8"), ("num.network.threads", "3"), ("num.partitions", "1"),
    ("num.replica.fetchers", "1"), ("offsets.retention.minutes", "10080"), ("offsets.topic.replication.factor", "3"),
    ("replica.lag.time.max.ms", "30000"), ("ssl.keystore.password", "null"), ("ssl.truststore.password", "null"),
    ("transaction.state.log.replication.factor", "3"), ("unclean.leader.election.enable", "false"),
)  # fmt: skip
ONPREM_BROKER_STATIC = {
    "auto.create.topics.enable": "false", "default.replication.factor": "3", "inter.broker.listener.name": "REPLICATION-9091",
    "log.dirs": "/var/lib/kafka/data-0/kafka-log0,/var/lib/kafka/data-1/kafka-log0", "log.retention.hours": "72",
    "min.insync.replicas": "2", "num.partitions": "6", "offsets.topic.replication.factor": "3",
    "ssl.keystore.password": "[hidden]", "ssl.truststore.password": "[hidden]",
}  # fmt: skip


def kafka_configs_broker(broker: str) -> str:
    """`kafka-configs --describe --entity-type brokers --entity-name N --all` (a common subset)."""
    lines = [f"All configs for broker {broker} are:"]
    for name, default in BROKER_CONFIGS:
        sensitive = "password" in name
        static = ONPREM_BROKER_STATIC.get(name)
        value = "null" if sensitive else (static if static is not None else default)
        syn = []
        if static is not None:
            syn.append(f"STATIC_BROKER_CONFIG:{name}={'null' if sensitive else static}")
        if default != "null" or not syn:
            syn.append(f"DEFAULT_CONFIG:{name}={default}")
        if sensitive and static is None:
            syn = []
        lines.append(f"  {name}={value} sensitive={str(sensitive).lower()} synonyms={{{', '.join(syn)}}}")
    return "\n".join(lines) + "\n"


def kafka_configs_quotas(cluster: str) -> str:
    """`kafka-configs --describe --entity-type users` then `--entity-type clients` (two runs, one file)."""
    if cluster == "demo-msk":
        users = [
            "Quota configs for user-principal 'svc-telemetry' are producer_byte_rate=62914560.0, consumer_byte_rate=125829120.0",
            "Quota configs for user-principal 'svc-analytics', client-id 'analytics-lake' are consumer_byte_rate=20971520.0",
            "Quota configs for the default user-principal are producer_byte_rate=10485760.0, consumer_byte_rate=20971520.0",
            "SCRAM credential configs for user-principal 'svc-telemetry' are SCRAM-SHA-512=iterations=4096",
            "SCRAM credential configs for user-principal 'svc-analytics' are SCRAM-SHA-512=iterations=4096",
        ]
        clients = [
            "Quota configs for client-id 'edge-cache-us-east-1a' are consumer_byte_rate=1048576.0, request_percentage=25.0"
        ]
    else:
        users = [
            "Quota configs for user-principal 'CN=plant-gateway,O=Demo Manufacturing,C=DE' are producer_byte_rate=31457280.0",
            "Quota configs for user-principal 'svc-mainframe' are producer_byte_rate=8388608.0, request_percentage=50.0",
            "Quota configs for user-principal 'svc-reporting' are ",
        ]
        clients = [
            "Quota configs for client-id 'legacy-batch-loader' are producer_byte_rate=4194304.0",
            "Quota configs for the default client-id are consumer_byte_rate=52428800.0",
        ]
    return "\n".join(users + clients) + "\n"


# ----------------------------------------------------------------------------- kafka-log-dirs


def _log_dir(cluster: str, broker: str, p: int, t: TopicSeries) -> str:
    if cluster == "demo-msk":
        return "/kafka/datalogs/logs"
    return f"/var/lib/kafka/data-{(p + t.index) % 2}/kafka-log{broker}"


def kafka_log_dirs(estate: Estate, cluster: str) -> str:
    """`kafka-log-dirs --describe`: banner lines, then one compact JSON line."""
    spec = CLUSTER_BY_NAME[cluster]

    brokers_doc = []
    for br in spec.brokers:
        dirs: dict[str, list[dict]] = {}
        if cluster == "demo-onprem":
            dirs = {f"/var/lib/kafka/data-0/kafka-log{br}": [], f"/var/lib/kafka/data-1/kafka-log{br}": []}
        for t in sorted(estate.of(cluster), key=lambda t: t.name):
            sizes = t.partition_sizes()
            for p, reps in enumerate(t.replicas):
                if br not in reps:
                    continue
                size, lag = _replica_size(t, p, br, sizes)
                d = _log_dir(cluster, br, p, t)
                dirs.setdefault(d, []).append(
                    {"partition": f"{t.name}-{p}", "size": size, "offsetLag": lag, "isFuture": False}
                )
                if cluster == "demo-onprem" and br == "2" and t.name == "mes.events" and p == reps.index(br) + 2:
                    # An intra-broker move to the other volume, half copied: ignored for logical size.
                    other = d.replace("data-0", "data-X").replace("data-1", "data-0").replace("data-X", "data-1")
                    dirs.setdefault(other, []).append(
                        {"partition": f"{t.name}-{p}", "size": size // 2, "offsetLag": 812_455, "isFuture": True}
                    )
        brokers_doc.append(
            {
                "broker": int(br),
                "logDirs": [{"logDir": d, "error": None, "partitions": parts} for d, parts in dirs.items()],
            }
        )
    doc = {"version": 1, "brokers": brokers_doc}
    ids = ",".join(spec.brokers)
    return (
        "Querying brokers for log directories information\n"
        f"Received log directory information from brokers {ids}\n" + json.dumps(doc, separators=(",", ":")) + "\n"
    )


# ----------------------------------------------------------------------------- kafka-consumer-groups


def _hex(rng: np.random.Generator, n: int) -> str:
    return "".join("0123456789abcdef"[i] for i in rng.integers(0, 16, n))


def kafka_consumer_groups(estate: Estate, cluster: str) -> str:
    """`kafka-consumer-groups --describe --all-groups` with stderr (2>&1): state lines included."""
    rng = np.random.default_rng(estate.seed * 31 + sum(map(ord, cluster)))
    by_group: dict[str, list[TopicSeries]] = {}
    for t in estate.of(cluster):
        for g, _ in t.spec.groups:
            by_group.setdefault(g, []).append(t)

    out = []
    for g in sorted(by_group):
        idle = (cluster, g) in IDLE_GROUPS
        members = []
        if not idle:
            for i in range(3):
                cid = f"{g}-{i + 1}"
                members.append((f"{cid}-{_hex(rng, 8)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 12)}",
                                f"/10.{20 + i}.{int(rng.integers(0, 255))}.{int(rng.integers(2, 254))}", cid))  # fmt: skip
        rows = []
        k = 0
        for t in sorted(by_group[g], key=lambda t: t.name):
            ends = t.end_offsets()
            lag = t.partition_lag(g, N_MIN - 1)
            for p in range(t.spec.partitions):
                member = ("-", "-", "-") if idle else members[k % len(members)]
                k += 1
                if (cluster, t.name, g, p) == NO_COMMIT:
                    cur, lg = "-", "-"
                else:
                    cur, lg = str(int(ends[p] - lag[p])), str(int(lag[p]))
                rows.append((g, t.name, str(p), cur, str(int(ends[p])), lg, *member))
        gl = max([15] + [len(r[0]) for r in rows])
        tl = max([15] + [len(r[1]) for r in rows])
        cl = max([15] + [len(r[6]) for r in rows])
        hl = max([15] + [len(r[7]) for r in rows])
        fmt = f"\n{{:<{gl}}} {{:<{tl}}} {{:<10}} {{:<15}} {{:<15}} {{:<15}} {{:<{cl}}} {{:<{hl}}} {{}}"
        if idle:
            out.append(f"\nConsumer group '{g}' has no active members.\n")
        out.append(
            fmt.format(
                "GROUP",
                "TOPIC",
                "PARTITION",
                "CURRENT-OFFSET",
                "LOG-END-OFFSET",
                "LAG",
                "CONSUMER-ID",
                "HOST",
                "CLIENT-ID",
            )
        )
        out.extend(fmt.format(*r) for r in rows)
        out.append("\n")
    return "".join(out)


# ----------------------------------------------------------------------------- kafka-acls

ACLS = {
    "lkc-demo01": [
        (
            "TOPIC",
            "orders.",
            "PREFIXED",
            [("User:sa-orders", "WRITE"), ("User:sa-orders", "DESCRIBE"), ("User:sa-billing", "READ")],
        ),
        (
            "TOPIC",
            "payments.",
            "PREFIXED",
            [("User:sa-payments", "WRITE"), ("User:sa-ledger", "READ"), ("User:sa-fraud", "READ")],
        ),
        ("TOPIC", "clickstream.raw", "LITERAL", [("User:sa-web-edge", "WRITE"), ("User:sa-sessionizer", "READ")]),
        ("TOPIC", "*", "LITERAL", [("User:sa-analytics", "READ"), ("User:sa-analytics", "DESCRIBE_CONFIGS")]),
        ("GROUP", "analytics-", "PREFIXED", [("User:sa-analytics", "READ")]),
        ("GROUP", "billing", "LITERAL", [("User:sa-billing", "READ")]),
        (
            "TRANSACTIONAL_ID",
            "payments-tx-",
            "PREFIXED",
            [("User:sa-payments", "WRITE"), ("User:sa-payments", "DESCRIBE")],
        ),
        ("CLUSTER", "kafka-cluster", "LITERAL", [("User:sa-payments", "IDEMPOTENT_WRITE")]),
    ],
    "demo-msk": [
        ("TOPIC", "telemetry.", "PREFIXED", [("User:svc-telemetry", "WRITE"), ("User:svc-analytics", "READ")]),
        ("TOPIC", "dispatch.commands", "LITERAL", [("User:svc-dispatch", "WRITE"), ("User:svc-driver-app", "READ")]),
        ("TOPIC", "maps.", "PREFIXED", [("User:svc-maps", "WRITE"), ("User:*", "READ")]),
        ("GROUP", "*", "LITERAL", [("User:svc-analytics", "READ")]),
        ("GROUP", "edge-cache-", "PREFIXED", [("User:*", "READ")]),
        (
            "CLUSTER",
            "kafka-cluster",
            "LITERAL",
            [("User:svc-telemetry", "IDEMPOTENT_WRITE"), ("User:svc-admin", "ALTER")],
        ),
    ],
    "demo-onprem": [
        (
            "TOPIC",
            "erp.",
            "PREFIXED",
            [("User:CN=sap-connector,O=Demo Manufacturing,C=DE", "WRITE"), ("User:svc-erp-sync", "READ")],
        ),
        ("TOPIC", "plant.sensors", "LITERAL", [("User:CN=plant-gateway,O=Demo Manufacturing,C=DE", "WRITE")]),
        (
            "TOPIC",
            "legacy.mainframe-batch",
            "LITERAL",
            [("User:svc-mainframe", "WRITE"), ("User:svc-erp-sync", "READ")],
        ),
        ("TOPIC", "*", "LITERAL", [("User:svc-mirrormaker", "READ"), ("User:svc-mirrormaker", "DESCRIBE")]),
        ("GROUP", "store-sync-", "PREFIXED", [("User:svc-stores", "READ")]),
        ("CLUSTER", "kafka-cluster", "LITERAL", [("User:svc-mirrormaker", "DESCRIBE")]),
    ],
}


def kafka_acls(cluster: str) -> str:
    """`kafka-acls --list`: each block ends with a space, a newline and a blank line (AclCommand)."""
    out = []
    for rtype, name, pattern, entries in ACLS[cluster]:
        acl = [f"(principal={p}, host=*, operation={op}, permissionType=ALLOW)" for p, op in entries]
        if rtype == "TOPIC" and name == "clickstream.raw":
            acl.append("(principal=User:sa-intern, host=10.9.8.7, operation=WRITE, permissionType=DENY)")
        res = f"ResourcePattern(resourceType={rtype}, name={name}, patternType={pattern})"
        out.append(f"Current ACLs for resource `{res}`: \n " + "\n".join("\t" + a for a in acl) + " \n\n")
    return "".join(out)


# ----------------------------------------------------------------------------- MirrorMaker 2


def mm2_checkpoints(estate: Estate, cluster: str = "demo-onprem") -> tuple[str, str]:
    """CheckpointFormatter and OffsetSyncFormatter dumps of a rehearsal mirror demo-onprem -> demo-msk.

    IdentityReplicationPolicy (topic names unchanged), as migrations usually configure; the
    checkpoint topic is `demo-onprem.checkpoints.internal` on demo-msk.
    Older checkpoints come first; the latest per key wins.
    """
    mirrored = ("erp.orders", "ledger.entries", "erp.invoices")
    cps, syncs = [], []
    for t in sorted(estate.of(cluster), key=lambda t: t.name):
        if t.name not in mirrored:
            continue
        ends = t.end_offsets()
        delta = t.base_offsets - 1_000  # the target topic numbers from near zero
        for age in (3, 0):  # an older round, then the latest
            for g, _ in t.spec.groups:
                lag = t.partition_lag(g, N_MIN - 1 - age * 60)
                for p in range(t.spec.partitions):
                    up = int(ends[p] - lag[p]) - age * 5_000
                    down = max(up - int(delta[p]) - 37, 0)
                    cps.append(f"Checkpoint{{consumerGroupId={g}, topicPartition={t.name}-{p}, upstreamOffset={up}, "
                               f"downstreamOffset={down}, metadata=}}")  # fmt: skip
            for p in range(t.spec.partitions):
                up = int(ends[p]) - age * 5_000
                syncs.append(
                    f"OffsetSync{{topicPartition={t.name}-{p}, upstreamOffset={up}, downstreamOffset={max(up - int(delta[p]), 0)}}}"
                )
    cps.append(f"Processed a total of {len(cps)} messages")
    syncs.append(f"Processed a total of {len(syncs)} messages")
    return "\n".join(cps) + "\n", "\n".join(syncs) + "\n"


def write_cli(estate: Estate, folder: Path, cluster: str) -> list[Path]:
    """Every CLI output for one cluster into `folder` as `<cluster>__<what>.txt`."""
    out = []

    def put(what: str, text: str) -> None:
        out.append(write_text(folder / f"{cluster}__{what}.txt", text))

    put("kafka-topics", kafka_topics_describe(estate, cluster))
    if cluster == "demo-msk":
        put("kafka-configs-topics", kafka_configs_topics(estate, cluster, all_configs=True))
    else:
        put("kafka-configs-topics", kafka_configs_topics(estate, cluster, all_configs=False))
    if cluster == "demo-onprem":
        put("kafka-configs-brokers", kafka_configs_broker("0"))
    if cluster != "lkc-demo01":  # Confluent Cloud does not serve DescribeLogDirs; quotas live in its own CLI
        put("kafka-log-dirs", kafka_log_dirs(estate, cluster))
        put("kafka-quotas", kafka_configs_quotas(cluster))
    put("kafka-consumer-groups", kafka_consumer_groups(estate, cluster))
    put("kafka-acls", kafka_acls(cluster))
    # MirrorMaker 2 rehearsal demo-onprem -> demo-msk (docs/formats/kafka-cli.md): checkpoints are
    # read from the target cluster, offset syncs (by default) from the source.
    if cluster == "demo-msk":
        put("mm2-checkpoints", mm2_checkpoints(estate, "demo-onprem")[0])
    if cluster == "demo-onprem":
        put("mm2-offset-syncs", mm2_checkpoints(estate, "demo-onprem")[1])
    return out
