"""Per-topic facts and contract evidence from the snapshot tables (Kafka CLI outputs, scrapes).

Plain functions over a store connection, returning DataFrames. Conventions:
- "Latest snapshot": the most recently loaded source (highest `source_id`), since CLI
  outputs carry no timestamp; it is chosen per topic (log-dirs), per group (consumer
  groups) or per (topic, config) so files that each cover part of a cluster add up.
- Unknown is NULL, never 0. For `retention_ms` / `retention_bytes`, -1 means unlimited
  (as in Kafka) and NULL means unknown.
- Metric-derived values (Confluent retained-bytes gauge, JMX log size, lag series) are not
  used here; `exitkit.profile.topics` merges them with these columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

import duckdb
import pandas as pd

# Kafka's own defaults, used when a topic's config listing was seen (so we know it has no
# override) but the broker-level value was not exported.
KAFKA_DEFAULT_RETENTION_MS = 604_800_000  # log.retention.hours=168
KAFKA_DEFAULT_RETENTION_BYTES = -1  # unlimited
KAFKA_DEFAULT_CLEANUP_POLICY = "delete"

TOPIC_FACT_COLUMNS = [
    "cluster", "topic", "partitions", "replication_factor", "retention_ms", "retention_bytes",
    "cleanup_policy", "retained_bytes", "consumer_groups", "max_consumer_lag_records",
]  # fmt: skip

_TOPIC_FACTS_SQL = f"""
WITH
-- Topic-level values (overrides from kafka-topics / kafka-configs, effective values from --all):
-- the latest source that mentions the (topic, config) wins.
tcfg AS (
    SELECT cluster, topic, name, value FROM topic_configs WHERE topic IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY cluster, topic, name ORDER BY source_id DESC) = 1
),
tpivot AS (
    SELECT cluster, topic,
        max(value) FILTER (WHERE name = 'partition_count') AS partition_count,
        max(value) FILTER (WHERE name = 'replication_factor') AS replication_factor,
        max(value) FILTER (WHERE name = 'retention.ms') AS retention_ms,
        max(value) FILTER (WHERE name = 'retention.bytes') AS retention_bytes,
        max(value) FILTER (WHERE name = 'cleanup.policy') AS cleanup_policy
    FROM tcfg GROUP BY cluster, topic
),
-- Broker-level values (topic NULL): latest source per config; the most common value when
-- brokers of that source disagree.
bcfg AS (
    SELECT cluster, name, mode(value) AS value FROM (
        SELECT cluster, name, value, source_id FROM topic_configs WHERE topic IS NULL AND value IS NOT NULL
        QUALIFY source_id = max(source_id) OVER (PARTITION BY cluster, name)
    ) GROUP BY cluster, name
),
broker AS (
    SELECT cluster,
        -- Kafka precedence: log.retention.ms, then .minutes, then .hours.
        coalesce(
            max(try_cast(value AS BIGINT)) FILTER (WHERE name = 'log.retention.ms'),
            max(try_cast(value AS BIGINT)) FILTER (WHERE name = 'log.retention.minutes') * 60000,
            max(try_cast(value AS BIGINT)) FILTER (WHERE name = 'log.retention.hours') * 3600000
        ) AS retention_ms,
        max(try_cast(value AS BIGINT)) FILTER (WHERE name = 'log.retention.bytes') AS retention_bytes,
        max(value) FILTER (WHERE name = 'log.cleanup.policy') AS cleanup_policy
    FROM bcfg GROUP BY cluster
),
-- Replica placement: latest source per topic; future (reassignment) replicas never count.
placement AS (
    SELECT * FROM partition_replicas WHERE NOT coalesce(is_future, false)
    QUALIFY source_id = max(source_id) OVER (PARTITION BY cluster, topic)
),
placed AS (
    SELECT cluster, topic, count(DISTINCT partition) AS partitions, max(n) AS replication_factor
    FROM (SELECT cluster, topic, partition, count(DISTINCT broker) AS n FROM placement GROUP BY ALL)
    GROUP BY ALL
),
-- Logical bytes: one replica per partition (the largest: followers may lag), latest
-- log-dirs source per topic.
sized AS (
    SELECT * FROM partition_replicas WHERE size_bytes IS NOT NULL AND NOT coalesce(is_future, false)
    QUALIFY source_id = max(source_id) OVER (PARTITION BY cluster, topic)
),
retained AS (
    SELECT cluster, topic, sum(b) AS retained_bytes, count(*) AS partitions_sized
    FROM (SELECT cluster, topic, partition, max(size_bytes) AS b FROM sized GROUP BY ALL)
    GROUP BY ALL
),
-- Consumer groups: latest source per group; a group counts when it committed an offset.
offsets AS (
    SELECT * FROM consumer_offsets
    QUALIFY source_id = max(source_id) OVER (PARTITION BY cluster, consumer_group)
),
-- Lag of a group on a topic is the sum over its partitions (as the profile counts lag
-- series); the topic's max lag is the largest group's.
group_lag AS (
    SELECT cluster, topic, consumer_group, sum(lag) AS lag
    FROM offsets WHERE topic IS NOT NULL AND current_offset IS NOT NULL GROUP BY ALL
),
groups AS (
    SELECT cluster, topic, count(DISTINCT consumer_group) AS consumer_groups, max(lag) AS max_lag
    FROM group_lag GROUP BY ALL
),
group_clusters AS (SELECT DISTINCT cluster FROM consumer_offsets),
topics AS (
    SELECT cluster, topic FROM topic_configs WHERE topic IS NOT NULL
    UNION SELECT cluster, topic FROM partition_replicas
    UNION SELECT cluster, topic FROM consumer_offsets WHERE topic IS NOT NULL
)
SELECT t.cluster, t.topic,
    coalesce(try_cast(c.partition_count AS BIGINT), p.partitions) AS partitions,
    coalesce(try_cast(c.replication_factor AS BIGINT), p.replication_factor) AS replication_factor,
    -- A topic whose config listing was seen (c.topic not NULL) without an override inherits.
    CASE WHEN c.retention_ms IS NOT NULL THEN try_cast(c.retention_ms AS BIGINT)
         WHEN c.topic IS NOT NULL THEN coalesce(b.retention_ms, {KAFKA_DEFAULT_RETENTION_MS}) END AS retention_ms,
    CASE WHEN c.retention_bytes IS NOT NULL THEN try_cast(c.retention_bytes AS BIGINT)
         WHEN c.topic IS NOT NULL THEN coalesce(b.retention_bytes, {KAFKA_DEFAULT_RETENTION_BYTES}) END AS retention_bytes,
    CASE WHEN c.cleanup_policy IS NOT NULL THEN replace(c.cleanup_policy, ' ', '')
         WHEN c.topic IS NOT NULL THEN coalesce(b.cleanup_policy, '{KAFKA_DEFAULT_CLEANUP_POLICY}') END AS cleanup_policy,
    -- A snapshot missing some partitions (offline dir, --broker-list) is not a total.
    CASE WHEN r.partitions_sized < coalesce(try_cast(c.partition_count AS BIGINT), 0) THEN NULL
         ELSE r.retained_bytes END AS retained_bytes,
    CASE WHEN gc.cluster IS NOT NULL THEN coalesce(g.consumer_groups, 0) END AS consumer_groups,
    g.max_lag AS max_consumer_lag_records
FROM topics t
LEFT JOIN tpivot c ON c.cluster IS NOT DISTINCT FROM t.cluster AND c.topic = t.topic
LEFT JOIN broker b ON b.cluster IS NOT DISTINCT FROM t.cluster
LEFT JOIN placed p ON p.cluster IS NOT DISTINCT FROM t.cluster AND p.topic = t.topic
LEFT JOIN retained r ON r.cluster IS NOT DISTINCT FROM t.cluster AND r.topic = t.topic
LEFT JOIN groups g ON g.cluster IS NOT DISTINCT FROM t.cluster AND g.topic = t.topic
LEFT JOIN group_clusters gc ON gc.cluster IS NOT DISTINCT FROM t.cluster
ORDER BY t.cluster, t.topic
"""

_INT_COLUMNS = (
    "partitions", "replication_factor", "retention_ms", "retention_bytes",
    "retained_bytes", "consumer_groups", "max_consumer_lag_records",
)  # fmt: skip


def topic_facts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per (cluster, topic) seen in the snapshot tables: `TOPIC_FACT_COLUMNS`.

    Retention resolves as Kafka does: topic value, else broker default (log.retention.ms,
    .minutes, .hours in that order; log.retention.bytes; log.cleanup.policy), else Kafka's
    default — the last two only when the topic's config listing was seen, because only then
    is "no override" known. `retained_bytes` is logical (one replica per partition).
    """
    df = con.execute(_TOPIC_FACTS_SQL).df()
    for col in _INT_COLUMNS:
        df[col] = df[col].astype("Int64")
    return df[TOPIC_FACT_COLUMNS].reset_index(drop=True)


# --- contract evidence ---------------------------------------------------------------------

# Every known topic per cluster: ACLs are matched against these names.
_KNOWN_TOPICS_SQL = """
SELECT cluster, topic FROM topic_configs WHERE topic IS NOT NULL
UNION SELECT cluster, topic FROM partition_replicas
UNION SELECT cluster, topic FROM consumer_offsets WHERE topic IS NOT NULL
UNION SELECT cluster, topic FROM metric_points WHERE topic IS NOT NULL
"""

# ACL entries: the latest source per resource pattern, so per-topic exports add up.
_ACLS_SQL = """
SELECT * EXCLUDE (source_id) FROM acls
QUALIFY source_id = max(source_id) OVER (PARTITION BY cluster, resource_type, resource_name, pattern_type)
"""

# LITERAL matches the exact name or `*`; PREFIXED matches names starting with the prefix.
_TOPIC_ACLS_SQL = f"""
WITH a AS ({_ACLS_SQL}), t AS ({_KNOWN_TOPICS_SQL})
SELECT t.cluster, t.topic, a.principal, a.operation, a.permission, a.host, a.resource_name, a.pattern_type
FROM t JOIN a ON a.cluster IS NOT DISTINCT FROM t.cluster AND a.resource_type = 'TOPIC'
 AND ((a.pattern_type = 'LITERAL' AND (a.resource_name = t.topic OR a.resource_name = '*'))
   OR (a.pattern_type = 'PREFIXED' AND starts_with(t.topic, a.resource_name)))
ORDER BY ALL
"""

_QUOTAS_SQL = """
SELECT cluster, user_principal, client_id, ip, is_default, quota, value FROM quotas
QUALIFY source_id = max(source_id) OVER (PARTITION BY cluster, user_principal, client_id, ip)
ORDER BY cluster, user_principal NULLS LAST, client_id NULLS LAST, ip NULLS LAST, quota
"""

_GROUPS_SQL = """
WITH o AS (
    SELECT * FROM consumer_offsets
    QUALIFY source_id = max(source_id) OVER (PARTITION BY cluster, consumer_group)
)
SELECT cluster, topic, consumer_group,
    count(partition) AS partitions,
    count(current_offset) AS committed_partitions,
    sum(lag) AS total_lag_records,
    max(lag) AS max_lag_records,
    count(DISTINCT consumer_id) AS members
FROM o WHERE topic IS NOT NULL GROUP BY ALL ORDER BY ALL
"""

# KIP-511 connections: the latest row per (broker, listener, software), summed over brokers.
_CLIENT_SOFTWARE_SQL = """
WITH latest AS (
    SELECT * FROM client_software
    QUALIFY row_number() OVER (PARTITION BY cluster, broker, listener, software_name, software_version
                               ORDER BY observed_at DESC NULLS LAST, source_id DESC) = 1
)
SELECT *, connections / sum(connections) OVER (PARTITION BY cluster) AS share FROM (
    SELECT cluster, software_name, software_version, sum(connections) AS connections
    FROM latest GROUP BY ALL
) ORDER BY cluster, connections DESC, software_name, software_version
"""

# Rates summed over brokers per observation, then mean and peak over observations.
_REQUEST_RATES_SQL = """
WITH per_obs AS (
    SELECT cluster, request, observed_at, sum(rate_per_s) AS rate
    FROM request_rates GROUP BY ALL
)
SELECT cluster, request, avg(rate) AS mean_rate_per_s, max(rate) AS peak_rate_per_s, count(*) AS observations
FROM per_obs GROUP BY ALL ORDER BY ALL
"""

# Request APIs that show a client-side feature in use (KIP-272 request metrics).
FEATURE_REQUESTS: dict[str, tuple[str, ...]] = {
    "idempotent_or_transactional_producers": ("InitProducerId",),
    "transactions": ("AddPartitionsToTxn", "AddOffsetsToTxn", "TxnOffsetCommit", "EndTxn"),
    "kip848_consumers": ("ConsumerGroupHeartbeat",),
    "share_groups": ("ShareGroupHeartbeat", "ShareFetch", "ShareAcknowledge"),
}
TRANSACTION_STATE_TOPIC = "__transaction_state"


def contract_evidence(
    con: duckdb.DuckDBPyConnection,
    cluster: str | None = None,
    topics: Iterable[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Evidence of what applications rely on, per cluster (and topic where it applies).

    `topics` are names or globs (`payments.*`); None means every topic. Frames:
    - `topic_acls`: every TOPIC ACL entry that applies to each topic (LITERAL = exact name
      or `*`, PREFIXED = name starts with the prefix), ALLOW and DENY alike;
    - `topic_principals`: per (topic, principal) the allowed and denied operations, and
      `can_write` / `can_read` (`ALL` covers every operation; a DENY wins, as in Kafka —
      host-specific entries are treated as if they applied to every host);
    - `other_acls`: GROUP, TRANSACTIONAL_ID, CLUSTER, ... entries (cluster-level);
    - `quotas`: client quotas (bytes/s, percent, rates; enforced per broker);
    - `consumer_groups`: per (topic, group) partitions, committed partitions, lag, members;
    - `transactions`: whether `__transaction_state` exists, its partitions and logical bytes;
    - `client_software`: KIP-511 connections per client software name/version and share;
    - `request_rates`: per request API, mean and peak rate (summed over brokers);
    - `features`: idempotent/transactional producers, transactions, KIP-848 consumers,
      share groups — `used` / `not_seen` / `no_evidence`, with the evidence in words.
    """
    patterns = list(topics) if topics is not None else None

    def scoped(df: pd.DataFrame, by_topic: bool = False) -> pd.DataFrame:
        # .loc with a bool mask: an empty object-dtype mask would select columns, not rows
        if cluster is not None:
            df = df.loc[(df["cluster"] == cluster).astype(bool)]
        if by_topic and patterns is not None:
            df = df.loc[df["topic"].map(lambda t: any(fnmatchcase(t, p) for p in patterns)).astype(bool)]
        return df.reset_index(drop=True)

    topic_acls = scoped(con.execute(_TOPIC_ACLS_SQL).df(), by_topic=True)
    other_acls = scoped(con.execute(f"SELECT * FROM ({_ACLS_SQL}) WHERE resource_type <> 'TOPIC' ORDER BY ALL").df())
    facts = scoped(topic_facts(con))
    requests = scoped(con.execute(_REQUEST_RATES_SQL).df())
    transactions = _transactions(facts, other_acls)
    return {
        "topic_acls": topic_acls,
        "topic_principals": _principals(topic_acls),
        "other_acls": other_acls,
        "quotas": scoped(con.execute(_QUOTAS_SQL).df()),
        "consumer_groups": _ints(scoped(con.execute(_GROUPS_SQL).df(), by_topic=True)),
        "transactions": transactions,
        "client_software": scoped(con.execute(_CLIENT_SOFTWARE_SQL).df()),
        "request_rates": requests,
        "features": _features(requests, transactions, facts),
    }


def _ints(df: pd.DataFrame) -> pd.DataFrame:
    for col in ("partitions", "committed_partitions", "total_lag_records", "max_lag_records", "members"):
        df[col] = df[col].astype("Int64")
    return df


def _principals(topic_acls: pd.DataFrame) -> pd.DataFrame:
    """Per (cluster, topic, principal): allowed and denied operations, comma-joined, sorted."""
    cols = ["cluster", "topic", "principal", "allowed_operations", "denied_operations", "can_write", "can_read"]
    if topic_acls.empty:
        return pd.DataFrame(columns=cols)

    def ops(s: pd.Series) -> str:
        return ",".join(sorted(set(s)))

    allowed = (
        topic_acls[topic_acls["permission"] == "ALLOW"].groupby(["cluster", "topic", "principal"])["operation"].agg(ops)
    )
    denied = (
        topic_acls[topic_acls["permission"] == "DENY"].groupby(["cluster", "topic", "principal"])["operation"].agg(ops)
    )
    out = pd.concat({"allowed_operations": allowed, "denied_operations": denied}, axis=1).reset_index()
    for col in ("allowed_operations", "denied_operations"):
        out[col] = out[col].where(out[col].notna(), "")
    for op in ("WRITE", "READ"):
        out[f"can_{op.lower()}"] = [
            _grants(a, op) and not _grants(d, op)
            for a, d in zip(out["allowed_operations"], out["denied_operations"], strict=True)
        ]
    return out[cols].sort_values(cols[:3]).reset_index(drop=True)


def _grants(operations: str, op: str) -> bool:
    """Whether a comma-joined operation list covers `op` (`ALL` covers everything)."""
    ops = set(operations.split(","))
    return op in ops or "ALL" in ops


def _transactions(facts: pd.DataFrame, other_acls: pd.DataFrame) -> pd.DataFrame:
    """Per cluster: `__transaction_state` present (in any topic listing), partitions, bytes."""
    rows = []
    for cl in sorted(set(facts["cluster"].dropna())):
        ts = facts[(facts["cluster"] == cl) & (facts["topic"] == TRANSACTION_STATE_TOPIC)]
        acl = other_acls[(other_acls["cluster"] == cl) & (other_acls["resource_type"] == "TRANSACTIONAL_ID")]
        rows.append(
            {
                "cluster": cl,
                "transaction_state_present": not ts.empty,
                "transaction_state_partitions": ts["partitions"].iloc[0] if not ts.empty else pd.NA,
                "transaction_state_bytes": ts["retained_bytes"].iloc[0] if not ts.empty else pd.NA,
                "transactional_id_acls": len(acl),
            }
        )
    df = pd.DataFrame(
        rows,
        columns=[
            "cluster",
            "transaction_state_present",
            "transaction_state_partitions",
            "transaction_state_bytes",
            "transactional_id_acls",
        ],
    )
    for col in ("transaction_state_partitions", "transaction_state_bytes"):
        df[col] = df[col].astype("Int64")
    return df


def _features(requests: pd.DataFrame, transactions: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    """Feature use per cluster from request rates, plus `__transaction_state` for transactions.

    `not_seen` needs request-rate evidence for the cluster (the APIs were measured and stayed
    at zero); without any, the answer is `no_evidence`, never "not used".
    """
    clusters = sorted(set(requests["cluster"].dropna()) | set(facts["cluster"].dropna()))
    rows = []
    for cl in clusters:
        req = requests[requests["cluster"] == cl]
        rates = {r.lower(): p for r, p in zip(req["request"], req["peak_rate_per_s"], strict=True)}
        for feature, apis in FEATURE_REQUESTS.items():
            used = [f"{api} peak {rates[api.lower()]:.3g}/s" for api in apis if rates.get(api.lower(), 0) > 0]
            status = "used" if used else "not_seen" if rates else "no_evidence"
            evidence = used or ([f"{', '.join(apis)} measured at 0/s"] if rates else [])
            if feature == "transactions":
                tx = transactions[transactions["cluster"] == cl]
                if not tx.empty and bool(tx["transaction_state_present"].iloc[0]):
                    status = "used"
                    evidence.append(
                        f"{TRANSACTION_STATE_TOPIC} exists ({_bytes(tx['transaction_state_bytes'].iloc[0])})"
                    )
                    evidence = [e for e in evidence if "measured at 0" not in e]
                if not tx.empty and tx["transactional_id_acls"].iloc[0]:
                    evidence.append(f"{tx['transactional_id_acls'].iloc[0]} TRANSACTIONAL_ID ACL entries")
            rows.append(
                {
                    "cluster": cl,
                    "feature": feature,
                    "status": status,
                    "evidence": "; ".join(evidence) or "no request-rate export",
                }
            )
    return pd.DataFrame(rows, columns=["cluster", "feature", "status", "evidence"])


def _bytes(value: object) -> str:
    return "size unknown" if pd.isna(value) else f"{int(value)} bytes"


# --- MirrorMaker 2 -----------------------------------------------------------------------


def mm2_checkpoints(con: duckdb.DuckDBPyConnection, cluster: str | None = None) -> pd.DataFrame:
    """The latest checkpoint per (cluster, group, topic, partition): last loaded source, last line.

    The checkpoints topic is compacted, so only the newest record per key is meaningful.
    """
    return con.execute(
        """
        SELECT cluster, consumer_group, topic, partition, upstream_offset, downstream_offset, metadata
        FROM mm2_checkpoints WHERE ? IS NULL OR cluster = ?
        QUALIFY row_number() OVER (PARTITION BY cluster, consumer_group, topic, partition
                                   ORDER BY source_id DESC, seq DESC) = 1
        ORDER BY ALL
        """,
        [cluster, cluster],
    ).df()


def mm2_offset_syncs(con: duckdb.DuckDBPyConnection, cluster: str | None = None) -> pd.DataFrame:
    """The latest offset sync per (cluster, topic, partition)."""
    return con.execute(
        """
        SELECT cluster, topic, partition, upstream_offset, downstream_offset
        FROM mm2_offset_syncs WHERE ? IS NULL OR cluster = ?
        QUALIFY row_number() OVER (PARTITION BY cluster, topic, partition ORDER BY source_id DESC, seq DESC) = 1
        ORDER BY ALL
        """,
        [cluster, cluster],
    ).df()
