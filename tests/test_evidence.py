"""exitkit.profile.evidence: per-topic facts and contract evidence, values worked out by hand.

The c1 fixtures (tests/fixtures/kafka_cli/c1) are ingested as they would be by a user;
cases the fixtures cannot show (precedence, several snapshots, Prometheus-fed tables) use
rows inserted directly.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from exitkit import store
from exitkit.ingest import ingest
from exitkit.profile import evidence

C1 = Path(__file__).parent / "fixtures" / "kafka_cli" / "c1"


@pytest.fixture(scope="module")
def c1(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    db = tmp_path_factory.mktemp("evidence") / "s.duckdb"
    ingest([C1], db=db, cluster="c1", progress=False)
    con = duckdb.connect(str(db), read_only=True)
    yield con
    con.close()


def rows(df: pd.DataFrame, cols: list[str] | None = None) -> list[tuple]:
    cols = cols or list(df.columns)
    return [tuple(None if pd.isna(v) else v for v in r) for r in df[cols].itertuples(index=False)]


def insert(con: duckdb.DuckDBPyConnection, table: str, source_id: int, **cols: object) -> None:
    names = ", ".join(["source_id", *cols])
    marks = ", ".join("?" * (len(cols) + 1))
    con.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", [source_id, *cols.values()])


def config(
    con: duckdb.DuckDBPyConnection, source_id: int, cluster: str, topic: str | None, name: str, value: str | None
) -> None:
    insert(con, "topic_configs", source_id, cluster=cluster, topic=topic, name=name, value=value)


# --- topic_facts ---------------------------------------------------------------------------


def test_topic_facts_from_cli_exports(c1: duckdb.DuckDBPyConnection) -> None:
    df = evidence.topic_facts(c1)
    assert list(df.columns) == evidence.TOPIC_FACT_COLUMNS
    assert rows(df) == [
        # cluster, topic, partitions, rf, retention_ms, retention_bytes, cleanup, retained, groups, max lag
        ("c1", "__transaction_state", 1, 3, 172800000, -1, "compact", 50, 0, None),
        # retention.ms=-1 override: unlimited; no log-dirs entry: retained unknown, not 0
        ("c1", "audit.log", 1, 1, -1, -1, "delete", None, 0, None),
        # partitions 0..3 one replica each: 100 + 200 (200 vs lagging 150) + 300 + 400
        ("c1", "events-2024", 4, 2, 172800000, 1073741824, "delete", 1000, 2, 12),
        # 1000 + 2010 + 3000 (the 9999-byte future replica is ignored); lag is per group summed over
        # partitions: audit 500 + 50 = 550 beats billing 212 + 250 = 462;
        # fraud has no committed offset so only audit and billing count
        ("c1", "orders.v1", 3, 3, 259200000, -1, "compact,delete", 6010, 2, 550),
        # no override: inherits the broker default log.retention.minutes=2880 (over hours=72)
        ("c1", "orders.v1.dlq", 1, 3, 172800000, -1, "delete", None, 0, None),
    ]
    assert str(df["retention_ms"].dtype) == "Int64"


@pytest.mark.parametrize(
    ("broker", "expected_ms"),
    [
        ({"log.retention.hours": "24"}, 86_400_000),
        ({"log.retention.hours": "24", "log.retention.minutes": "60"}, 3_600_000),
        ({"log.retention.hours": "24", "log.retention.minutes": "60", "log.retention.ms": "1000"}, 1000),
        ({"log.retention.hours": "24", "log.retention.ms": None}, 86_400_000),  # `null`: unset
        ({"log.retention.ms": "-1"}, -1),
        ({}, evidence.KAFKA_DEFAULT_RETENTION_MS),
    ],
)
def test_broker_retention_precedence(broker: dict[str, str | None], expected_ms: int) -> None:
    con = store.memory_store()
    config(con, 1, "k", "t", "partition_count", "3")  # the topic's listing was seen: no override
    for name, value in broker.items():
        config(con, 2, "k", None, name, value)
    (row,) = rows(evidence.topic_facts(con), ["retention_ms", "retention_bytes", "cleanup_policy"])
    assert row == (expected_ms, -1, "delete")


def test_broker_bytes_and_cleanup_policy_inherited() -> None:
    con = store.memory_store()
    config(con, 1, "k", "t", "partition_count", "3")
    config(con, 2, "k", None, "log.retention.bytes", "5000")
    config(con, 2, "k", None, "log.cleanup.policy", "compact")
    (row,) = rows(evidence.topic_facts(con), ["retention_bytes", "cleanup_policy"])
    assert row == (5000, "compact")


def test_unknown_stays_null() -> None:
    con = store.memory_store()
    # Seen only in log-dirs: sizes known, configs unknown (no listing, so no defaults).
    for broker, size in (("1", 10), ("2", 10)):
        insert(
            con,
            "partition_replicas",
            1,
            cluster="k",
            topic="sized",
            partition=0,
            broker=broker,
            size_bytes=size,
            is_future=False,
        )
    # Seen only in consumer groups.
    insert(
        con,
        "consumer_offsets",
        2,
        cluster="k",
        consumer_group="g",
        topic="consumed",
        partition=0,
        current_offset=5,
        log_end_offset=9,
        lag=4,
    )
    # Another cluster, no consumer-group export at all.
    config(con, 3, "other", "t", "partition_count", "1")
    df = evidence.topic_facts(con).set_index(["cluster", "topic"])
    assert rows(df.reset_index()) == [
        ("k", "consumed", None, None, None, None, None, None, 1, 4),
        ("k", "sized", 1, 2, None, None, None, 10, 0, None),
        ("other", "t", 1, None, evidence.KAFKA_DEFAULT_RETENTION_MS, -1, "delete", None, None, None),
    ]


def test_latest_log_dirs_snapshot_wins_and_partial_snapshot_is_unknown() -> None:
    con = store.memory_store()
    config(con, 1, "k", "t", "partition_count", "2")
    for source_id, sizes in ((2, {0: 100, 1: 100}), (3, {0: 300, 1: 400})):
        for partition, size in sizes.items():
            insert(
                con,
                "partition_replicas",
                source_id,
                cluster="k",
                topic="t",
                partition=partition,
                broker="1",
                size_bytes=size,
                is_future=False,
            )
    assert rows(evidence.topic_facts(con), ["retained_bytes"]) == [(700,)]
    # A later snapshot missing partition 1 (offline dir): the total is unknown, not 500.
    insert(
        con, "partition_replicas", 4, cluster="k", topic="t", partition=0, broker="1", size_bytes=500, is_future=False
    )
    assert rows(evidence.topic_facts(con), ["retained_bytes"]) == [(None,)]


# --- contract_evidence ---------------------------------------------------------------------


def test_write_principals_per_topic(c1: duckdb.DuckDBPyConnection) -> None:
    p = evidence.contract_evidence(c1)["topic_principals"]
    writers = {t: sorted(p[(p["topic"] == t) & p["can_write"]]["principal"]) for t in sorted(set(p["topic"]))}
    assert writers == {
        "__transaction_state": ["User:admin"],  # `*` LITERAL with ALL
        "audit.log": ["User:admin"],
        "events-2024": ["User:CN=svc-events,OU=streaming, O=Example", "User:admin"],  # PREFIXED events
        # PREFIXED orders. + LITERAL orders.v1; User:intern is allowed by LITERAL but denied by PREFIXED
        "orders.v1": ["User:admin", "User:svc-legacy", "User:svc-orders"],
        # LITERAL orders.v1 must not match the longer name orders.v1.dlq
        "orders.v1.dlq": ["User:admin", "User:svc-orders"],
    }
    intern = p[(p["topic"] == "orders.v1") & (p["principal"] == "User:intern")]
    assert rows(intern, ["allowed_operations", "denied_operations", "can_write"]) == [("WRITE", "WRITE", False)]
    billing = p[(p["topic"] == "orders.v1") & (p["principal"] == "User:svc-billing")]
    assert rows(billing, ["allowed_operations", "can_write", "can_read"]) == [("READ", False, True)]


def test_topic_and_cluster_filters(c1: duckdb.DuckDBPyConnection) -> None:
    ev = evidence.contract_evidence(c1, cluster="c1", topics=["orders.*"])
    assert set(ev["topic_acls"]["topic"]) == {"orders.v1", "orders.v1.dlq"}
    assert set(ev["consumer_groups"]["topic"]) == {"orders.v1"}
    ev = evidence.contract_evidence(c1, topics=["orders.v1"])
    assert set(ev["topic_principals"]["topic"]) == {"orders.v1"}
    ev = evidence.contract_evidence(c1, cluster="nope")
    assert all(df.empty for df in ev.values())


def test_quotas_groups_transactions(c1: duckdb.DuckDBPyConnection) -> None:
    ev = evidence.contract_evidence(c1)
    assert len(ev["quotas"]) == 6
    orders = ev["quotas"][ev["quotas"]["user_principal"] == "svc-orders"]
    assert dict(zip(orders["quota"], orders["value"], strict=True)) == {
        "producer_byte_rate": 5242880.0,
        "consumer_byte_rate": 10485760.0,
    }
    g = ev["consumer_groups"]
    assert rows(
        g,
        [
            "topic",
            "consumer_group",
            "partitions",
            "committed_partitions",
            "total_lag_records",
            "max_lag_records",
            "members",
        ],
    ) == [
        ("events-2024", "analytics", 1, 1, 12, 12, 0),
        ("events-2024", "billing", 1, 1, 7, 7, 1),
        ("orders.v1", "audit", 2, 2, 550, 500, 0),
        ("orders.v1", "billing", 3, 2, 462, 250, 1),
        ("orders.v1", "fraud", 1, 0, None, None, 0),
    ]
    assert rows(ev["transactions"]) == [("c1", True, 1, 50, 1)]
    assert set(ev["other_acls"]["resource_type"]) == {"CLUSTER", "GROUP", "TRANSACTIONAL_ID"}
    features = ev["features"].set_index("feature")
    assert features.loc["transactions", "status"] == "used"
    assert "__transaction_state exists (50 bytes)" in features.loc["transactions", "evidence"]
    assert features.loc["idempotent_or_transactional_producers", "status"] == "no_evidence"  # no request rates


def test_client_software_and_request_rates() -> None:
    con = store.memory_store()
    t1, t2 = pd.Timestamp("2025-03-01 00:00"), pd.Timestamp("2025-03-01 00:01")
    cs = [  # broker, software, version, connections, observed_at
        ("1", "apache-kafka-java", "3.7.1", 10.0, t1),
        ("1", "apache-kafka-java", "3.7.1", 12.0, t2),  # latest for broker 1
        ("2", "apache-kafka-java", "3.7.1", 8.0, t2),
        ("1", "librdkafka", "2.3.0", 5.0, t2),
    ]
    for broker, name, version, n, ts in cs:
        insert(
            con,
            "client_software",
            1,
            cluster="p",
            broker=broker,
            listener="PLAIN",
            software_name=name,
            software_version=version,
            connections=n,
            observed_at=ts,
        )
    rr = [  # broker, request, rate, observed_at
        ("1", "InitProducerId", 0.5, t1), ("2", "InitProducerId", 0.5, t1),
        ("1", "InitProducerId", 1.5, t2), ("2", "InitProducerId", 0.0, t2),
        ("1", "EndTxn", 0.0, t1), ("1", "ConsumerGroupHeartbeat", 2.0, t1),
    ]  # fmt: skip
    for broker, request, rate, ts in rr:
        insert(con, "request_rates", 2, cluster="p", broker=broker, request=request, rate_per_s=rate, observed_at=ts)
    ev = evidence.contract_evidence(con)
    assert rows(ev["client_software"]) == [
        ("p", "apache-kafka-java", "3.7.1", 20.0, 0.8),
        ("p", "librdkafka", "2.3.0", 5.0, 0.2),
    ]
    # InitProducerId: t1 0.5 + 0.5 = 1.0, t2 1.5 + 0 = 1.5 -> mean 1.25, peak 1.5
    assert rows(ev["request_rates"]) == [
        ("p", "ConsumerGroupHeartbeat", 2.0, 2.0, 1),
        ("p", "EndTxn", 0.0, 0.0, 1),
        ("p", "InitProducerId", 1.25, 1.5, 2),
    ]
    status = dict(zip(ev["features"]["feature"], ev["features"]["status"], strict=True))
    assert status == {
        "idempotent_or_transactional_producers": "used",
        "transactions": "not_seen",  # EndTxn measured at 0, no __transaction_state seen
        "kip848_consumers": "used",
        "share_groups": "not_seen",
    }


# --- MirrorMaker 2 -------------------------------------------------------------------------


def test_mm2_latest_checkpoint_per_key(c1: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    assert rows(evidence.mm2_checkpoints(c1)) == [
        ("c1", "analytics", "primary.events-2024", 3, 10, 9, ""),
        ("c1", "billing", "primary.events-2024", 3, 50, 45, ""),
        ("c1", "billing", "primary.orders.v1", 0, 200, 180, "replayed"),  # line 4 beats line 1
    ]
    assert rows(evidence.mm2_offset_syncs(c1, cluster="c1")) == [
        ("c1", "events-2024", 3, 40, 36),
        ("c1", "orders.v1", 0, 190, 171),
    ]
    # A later file overrides earlier ones per key, whatever its line order.
    db = tmp_path / "s.duckdb"
    later = tmp_path / "later.txt"
    later.write_text(
        "Checkpoint{consumerGroupId=billing, topicPartition=primary.events-2024-3, upstreamOffset=60, downstreamOffset=55, metadata=}\n"
    )
    ingest([C1 / "mm2-checkpoints.txt"], db=db, cluster="c1", progress=False)
    ingest([later], db=db, cluster="c1", progress=False)
    with store.open_store(db) as con:
        latest = evidence.mm2_checkpoints(con)
    assert rows(latest, ["consumer_group", "topic", "partition", "upstream_offset", "downstream_offset"]) == [
        ("analytics", "primary.events-2024", 3, 10, 9),
        ("billing", "primary.events-2024", 3, 60, 55),
        ("billing", "primary.orders.v1", 0, 200, 180),
    ]


def test_contract_evidence_with_a_topic_filter_and_no_group_export() -> None:
    """Regression: an empty consumer-groups frame filtered by topic keeps its columns."""
    con = store.memory_store()
    config(con, 1, "c", "t", "partition_count", "3")
    ev = evidence.contract_evidence(con, "c", topics=["t"])
    assert len(ev["consumer_groups"]) == 0 and "partitions" in ev["consumer_groups"].columns
