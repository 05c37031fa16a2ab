"""Kafka CLI readers: each output parsed into the snapshot tables, truth worked out by hand.

Fixtures: tests/fixtures/kafka_cli/c1 (one cluster's outputs), .../malformed (one bad line each).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from exitkit.ingest import IngestFailed, ingest, read_file

FIXTURES = Path(__file__).parent / "fixtures" / "kafka_cli"
C1 = FIXTURES / "c1"
MALFORMED = FIXTURES / "malformed"

READERS = {
    "acls.txt": "kafka-acls",
    "broker-configs.txt": "kafka-configs",
    "consumer-groups.txt": "kafka-consumer-groups",
    "log-dirs.txt": "kafka-log-dirs",
    "mm2-checkpoints.txt": "mm2-offsets",
    "mm2-offset-syncs.txt": "mm2-offsets",
    "quotas.txt": "kafka-configs",
    "topic-configs.txt": "kafka-configs",
    "topics.txt": "kafka-topics",
}


def snap(name: str, table: str, cluster: str = "c1") -> pd.DataFrame:
    _, _, result = read_file(C1 / name, cluster=cluster)
    return result.snapshots[table]


def records(df: pd.DataFrame, cols: list[str]) -> set[tuple]:
    return {tuple(None if pd.isna(v) else v for v in row) for row in df[cols].itertuples(index=False)}


@pytest.mark.parametrize("name", sorted(READERS))
def test_sniffed_by_content(name: str) -> None:
    _, reader, result = read_file(C1 / name, cluster="c1")
    assert reader.name == READERS[name]
    assert result.cluster == "c1"


# --- kafka-log-dirs ------------------------------------------------------------------------


def test_log_dirs_replicas() -> None:
    df = snap("log-dirs.txt", "partition_replicas")
    assert len(df) == 21  # 7 + 7 + 6 current replicas + 1 future
    assert set(df["cluster"]) == {"c1"}
    # `events-2024-3` is topic events-2024, partition 3 (split on the LAST hyphen).
    p3 = df[(df["topic"] == "events-2024") & (df["partition"] == 3)]
    assert sorted(p3["broker"]) == ["1", "2"] and list(p3["size_bytes"]) == [400, 400]
    # Future replicas are kept, flagged.
    fut = df[df["is_future"]]
    assert records(fut, ["topic", "partition", "broker", "log_dir", "size_bytes"]) == {
        ("orders.v1", 2, "3", "/data2", 9999)
    }
    # Broker 2's entry had its keys in another order and extra keys: read the same.
    b2 = df[(df["broker"] == "2") & (df["topic"] == "orders.v1") & (df["partition"] == 0)]
    assert list(b2["size_bytes"]) == [1000]
    lag = df[(df["broker"] == "3") & (df["topic"] == "events-2024") & (df["partition"] == 1)]
    assert list(lag["offset_lag"]) == [50]
    assert df["dir_error"].isna().all()


def test_log_dirs_offline_dir_is_a_note() -> None:
    _, _, result = read_file(C1 / "log-dirs.txt", cluster="c1")
    assert len(result.notes) == 1
    assert "broker 3" in result.notes[0] and "/data3" in result.notes[0] and "KafkaStorageException" in result.notes[0]


# --- kafka-topics --------------------------------------------------------------------------


def test_topics_configs_and_pseudo_configs() -> None:
    df = snap("topics.txt", "topic_configs")
    orders = dict(zip(*df[df["topic"] == "orders.v1"][["name", "value"]].T.values, strict=True))
    assert orders == {
        "partition_count": "3",
        "replication_factor": "3",
        "topic_id": "3yF0wQ9tS2e1kQ7h5nJp1A",
        "min.insync.replicas": "2",
        "cleanup.policy": "compact,delete",  # the comma inside the value survives
        "retention.ms": "259200000",
    }
    events = dict(zip(*df[df["topic"] == "events-2024"][["name", "value"]].T.values, strict=True))
    assert events == {"partition_count": "4", "replication_factor": "2", "retention.bytes": "1073741824"}  # no TopicId
    audit = dict(zip(*df[df["topic"] == "audit.log"][["name", "value"]].T.values, strict=True))
    assert audit["retention.ms"] == "-1" and audit["marked_for_deletion"] == "true"
    dlq = df[df["topic"] == "orders.v1.dlq"]
    assert set(dlq["name"]) == {"partition_count", "replication_factor", "topic_id"}  # empty Configs:
    assert df["config_source"].isna().all() and not df["sensitive"].any()


def test_topics_replicas() -> None:
    df = snap("topics.txt", "partition_replicas")
    assert len(df) == 9 + 3 + 9 + 3 + 1
    assert df["size_bytes"].isna().all()
    cols = ["partition", "broker", "is_leader", "in_sync"]
    orders = df[df["topic"] == "orders.v1"]
    assert records(orders, cols) == {
        (0, "1", True, True), (0, "2", False, True), (0, "3", False, True),
        (1, "2", False, False), (1, "3", False, False), (1, "1", False, False),  # Leader: none, Isr empty
        (2, "3", True, True), (2, "1", False, True), (2, "2", False, False),
    }  # fmt: skip
    # Space-padded lines with Adding/Removing Replicas read like tab-separated ones.
    e1 = df[(df["topic"] == "events-2024") & (df["partition"] == 1)]
    assert records(e1, cols) == {(1, "2", True, True), (1, "3", False, True), (1, "1", False, False)}


def test_topics_marked_for_deletion_note() -> None:
    _, _, result = read_file(C1 / "topics.txt", cluster="c1")
    assert result.notes == ["topic audit.log is marked for deletion"]


def test_topics_old_header_without_space_after_colon(tmp_path: Path) -> None:
    f = tmp_path / "old.txt"
    f.write_text(
        "Topic:orders\tPartitionCount:2\tReplicationFactor:1\tConfigs:segment.bytes=1073741824\n\tTopic: orders\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\n"
    )
    _, reader, result = read_file(f, cluster="c1")
    assert reader.name == "kafka-topics"
    cfg = result.snapshots["topic_configs"]
    assert records(cfg, ["topic", "name", "value"]) == {
        ("orders", "partition_count", "2"), ("orders", "replication_factor", "1"), ("orders", "segment.bytes", "1073741824"),
    }  # fmt: skip


# --- kafka-configs (topics, brokers, quotas) -----------------------------------------------


def test_topic_configs_value_and_first_synonym_source() -> None:
    df = snap("topic-configs.txt", "topic_configs")
    assert records(df, ["topic", "name", "value", "config_source"]) == {
        ("orders.v1", "cleanup.policy", "compact,delete", "DYNAMIC_TOPIC_CONFIG"),
        ("orders.v1", "min.insync.replicas", "2", "DYNAMIC_TOPIC_CONFIG"),
        ("orders.v1", "retention.ms", "259200000", "DYNAMIC_TOPIC_CONFIG"),
        ("events-2024", "cleanup.policy", "delete", "DEFAULT_CONFIG"),
        ("events-2024", "compression.type", "producer", "DEFAULT_CONFIG"),
        ("events-2024", "retention.bytes", "1073741824", "DYNAMIC_TOPIC_CONFIG"),
        ("events-2024", "retention.ms", "172800000", "DYNAMIC_DEFAULT_BROKER_CONFIG"),
        ("events-2024", "segment.bytes", "1073741824", "DEFAULT_CONFIG"),
    }  # orders.v1.dlq: a header with no lines, no rows


def test_broker_configs_are_topic_null_and_sensitive_is_null() -> None:
    df = snap("broker-configs.txt", "topic_configs")
    assert df["topic"].isna().all()
    assert records(df, ["name", "value", "config_source", "sensitive"]) == {
        ("ssl.keystore.password", None, "DYNAMIC_BROKER_CONFIG", True),  # never the text "null"
        ("log.retention.hours", "72", "DYNAMIC_DEFAULT_BROKER_CONFIG", False),
        ("log.retention.minutes", "2880", "DYNAMIC_DEFAULT_BROKER_CONFIG", False),
        ("log.retention.bytes", "-1", "DYNAMIC_DEFAULT_BROKER_CONFIG", False),  # unlimited kept as "-1"
        ("min.insync.replicas", "2", "DYNAMIC_DEFAULT_BROKER_CONFIG", False),
    }


def test_quotas_without_scram_lines() -> None:
    _, _, result = read_file(C1 / "quotas.txt", cluster="c1")
    assert len(result.snapshots["topic_configs"]) == 0
    df = result.snapshots["quotas"]
    assert records(df, ["user_principal", "client_id", "ip", "is_default", "quota", "value"]) == {
        ("svc-orders", "orders-writer", None, False, "producer_byte_rate", 5242880.0),
        ("svc-orders", "orders-writer", None, False, "consumer_byte_rate", 10485760.0),  # 1.048576E7
        ("<default>", None, None, True, "producer_byte_rate", 1048576.0),
        (None, "legacy-app", None, False, "request_percentage", 25.0),
        (None, None, "10.0.0.7", False, "connection_creation_rate", 10.0),
        (None, None, "<default>", True, "connection_creation_rate", 100.0),
    }  # 'svc-billing ... are ' has none; SCRAM lines are not quotas


# --- kafka-consumer-groups -----------------------------------------------------------------


def test_consumer_groups() -> None:
    _, _, result = read_file(C1 / "consumer-groups.txt", cluster="c1")
    df = result.snapshots["consumer_offsets"]
    cols = ["consumer_group", "topic", "partition", "current_offset", "log_end_offset", "lag", "host", "client_id"]
    assert records(df, cols) == {
        ("audit", "orders.v1", 0, 500, 1000, 500, None, None),
        ("audit", "orders.v1", 1, 900, 950, 50, None, None),
        ("billing", "orders.v1", 0, 18441859, 18442071, 212, "10.1.2.3", "consumer-billing-1"),
        ("billing", "orders.v1", 1, 100, 350, 250, "10.1.2.3", "consumer-billing-1"),
        ("billing", "orders.v1", 2, None, 40, None, "10.1.2.3", "consumer-billing-1"),
        ("billing", "events-2024", 3, 993, 1000, 7, "10.1.2.4", "billing app 2"),  # spaces in the last column
        ("billing", None, None, None, None, None, "10.1.2.5", "consumer-billing-3"),  # member without partitions
        ("analytics", "events-2024", 0, 88, 100, 12, None, None),
        ("fraud", "orders.v1", 0, None, 1000, None, None, None),
    }
    assert result.notes == [
        "Consumer group 'audit' has no active members.",
        "Consumer group 'fraud' has no active members.",
    ]


def test_consumer_groups_state_variant_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "state.txt"
    f.write_text(
        "\nGROUP                     COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE           #MEMBERS\nbilling                   kafka-1:9092 (1)          range                Stable          2\n"
    )
    with pytest.raises(IngestFailed) as exc:
        ingest([f], db=tmp_path / "s.duckdb", cluster="c1", progress=False)
    msg = str(exc.value)
    assert f"{f}:2:" in msg and "--state" in msg and "--describe --all-groups" in msg


# --- kafka-acls ----------------------------------------------------------------------------


def test_acls() -> None:
    df = snap("acls.txt", "acls")
    assert len(df) == 11
    cols = ["resource_type", "resource_name", "pattern_type", "principal", "host", "operation", "permission"]
    rows = records(df, cols)
    assert ("TOPIC", "orders.", "PREFIXED", "User:svc-orders", "*", "WRITE", "ALLOW") in rows
    assert ("TOPIC", "orders.v1", "LITERAL", "User:svc-legacy", "10.0.0.5", "WRITE", "ALLOW") in rows
    assert ("TOPIC", "orders.", "PREFIXED", "User:intern", "*", "WRITE", "DENY") in rows
    # A principal holding ", " (TLS distinguished name) stays whole.
    assert ("TOPIC", "events", "PREFIXED", "User:CN=svc-events,OU=streaming, O=Example", "*", "WRITE", "ALLOW") in rows
    assert ("TRANSACTIONAL_ID", "orders-tx-", "PREFIXED", "User:svc-orders", "*", "WRITE", "ALLOW") in rows
    assert ("CLUSTER", "kafka-cluster", "LITERAL", "User:svc-orders", "*", "IDEMPOTENT_WRITE", "ALLOW") in rows


def test_acls_principal_preamble_and_old_header(tmp_path: Path) -> None:
    f = tmp_path / "acls.txt"
    f.write_text(
        "ACLs for principal `User:svc-orders`\n"
        "Current ACLs for resource `Topic:PREFIXED:orders.`: \n"
        " \tUser:svc-orders has Allow permission for operations: Write from hosts: *\n"
    )
    with pytest.raises(IngestFailed) as exc:  # pre-2.0 prose entries are not read
        ingest([f], db=tmp_path / "s.duckdb", cluster="c1", progress=False)
    assert f"{f}:3:" in str(exc.value)
    f.write_text(
        "ACLs for principal `User:svc-orders`\n"
        "Current ACLs for resource `Topic:PREFIXED:orders.`: \n"
        " \t(principal=User:svc-orders, host=*, operation=WRITE, permissionType=ALLOW)\n"
    )
    _, _, result = read_file(f, cluster="c1")
    assert records(
        result.snapshots["acls"], ["resource_type", "resource_name", "pattern_type", "principal", "operation"]
    ) == {("TOPIC", "orders.", "PREFIXED", "User:svc-orders", "WRITE")}


# --- MirrorMaker 2 -------------------------------------------------------------------------


def test_mm2_checkpoints_and_offset_syncs() -> None:
    cp = snap("mm2-checkpoints.txt", "mm2_checkpoints")
    assert list(cp.itertuples(index=False, name=None)) == [
        ("c1", "billing", "primary.orders.v1", 0, 100, 90, "", 1),
        ("c1", "billing", "primary.events-2024", 3, 50, 45, "", 2),
        ("c1", "analytics", "primary.events-2024", 3, 10, 9, "", 3),
        ("c1", "billing", "primary.orders.v1", 0, 200, 180, "replayed", 4),
    ]
    syncs = snap("mm2-offset-syncs.txt", "mm2_offset_syncs")
    assert list(syncs.itertuples(index=False, name=None)) == [
        ("c1", "orders.v1", 0, 0, 0, 1),
        ("c1", "events-2024", 3, 40, 36, 2),
        ("c1", "orders.v1", 0, 190, 171, 3),
    ]


# --- cluster naming --------------------------------------------------------------------------


def test_cluster_from_file_name(tmp_path: Path) -> None:
    f = tmp_path / "prod-eu__kafka-topics.txt"
    shutil.copy(C1 / "topics.txt", f)
    db = tmp_path / "s.duckdb"
    ingest([f], db=db, progress=False)
    con = duckdb.connect(str(db))
    assert con.execute("SELECT DISTINCT cluster FROM sources").fetchall() == [("prod-eu",)]
    assert con.execute("SELECT DISTINCT cluster FROM partition_replicas").fetchall() == [("prod-eu",)]
    con.close()
    # --cluster wins over the file name.
    _, _, result = read_file(f, cluster="other")
    assert set(result.snapshots["topic_configs"]["cluster"]) == {"other"}


def test_no_cluster_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "kafka-topics.txt"
    shutil.copy(C1 / "topics.txt", f)
    with pytest.raises(IngestFailed) as exc:
        ingest([f], db=tmp_path / "s.duckdb", progress=False)
    msg = str(exc.value)
    assert str(f) in msg and "--cluster" in msg and "<cluster>__kafka-topics.txt" in msg
    assert len(msg.splitlines()) == 1


# --- encodings -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(READERS))
def test_bom_and_crlf_parse_like_plain(name: str, tmp_path: Path) -> None:
    plain = C1 / name
    variant = tmp_path / name
    variant.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes().replace(b"\n", b"\r\n"))
    _, reader_a, a = read_file(plain, cluster="c1")
    _, reader_b, b = read_file(variant, cluster="c1")
    assert reader_a.name == reader_b.name
    assert a.notes == b.notes
    assert a.snapshots.keys() == b.snapshots.keys()
    for table in a.snapshots:
        pd.testing.assert_frame_equal(a.snapshots[table], b.snapshots[table])


# --- malformed files -----------------------------------------------------------------------

# file -> (line, words the message must hold)
MALFORMED_CASES = {
    "log-dirs.txt": (3, "broken JSON"),
    "log-dirs-missing-size.txt": (3, "brokers[0].logDirs[0].partitions[1].size is missing"),
    "topics.txt": (4, "Partition 'x' is not an integer"),
    "topic-configs.txt": (3, "expected an indented `name=value sensitive=true|false synonyms={...}` line"),
    "quotas.txt": (2, "quota 'producer_byte_rate=fast' is not name=<number>"),
    "consumer-groups.txt": (4, "LAG 'abc' is not an integer"),
    "acls.txt": (3, "expected ``Current ACLs for resource"),
    "mm2-checkpoints.txt": (2, "topicPartition 'primary.orders' is not `<topic>-<partition number>`"),
}


def table_counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
    counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    con.close()
    return counts


@pytest.mark.parametrize("name", sorted(MALFORMED_CASES))
def test_malformed_names_file_and_line_and_store_is_unchanged(name: str, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    ingest([C1 / "acls.txt", C1 / "topics.txt"], db=db, cluster="c1", progress=False)
    before = table_counts(db)
    assert before["acls"] == 11
    line, words = MALFORMED_CASES[name]
    bad = MALFORMED / name
    with pytest.raises(IngestFailed) as exc:
        ingest([C1 / "log-dirs.txt", bad], db=db, cluster="c1", progress=False)
    assert len(exc.value.errors) == 1
    msg = str(exc.value)
    assert msg.startswith(f"{bad}:{line}: ")
    assert words in msg
    assert table_counts(db) == before


def test_mm2_checkpoint_metatadata_spelling_is_read(tmp_path: Path) -> None:
    """Issue 19 item 14: `Checkpoint.toString()` printed `metatadata=` (sic) in some Kafka releases."""
    f = tmp_path / "c1__checkpoints.txt"
    f.write_text(
        "Checkpoint{consumerGroupId=billing, topicPartition=primary.orders.v1-0, upstreamOffset=100, "
        "downstreamOffset=90, metatadata=}\n"
        "Checkpoint{consumerGroupId=billing, topicPartition=primary.orders.v1-1, upstreamOffset=7, "
        "downstreamOffset=5, metadata=x}\n"
    )
    _, reader, result = read_file(f)
    assert reader.name == "mm2-offsets"
    assert list(result.snapshots["mm2_checkpoints"].itertuples(index=False, name=None)) == [
        ("c1", "billing", "primary.orders.v1", 0, 100, 90, "", 1),
        ("c1", "billing", "primary.orders.v1", 1, 7, 5, "x", 2),
    ]


def test_max_consumer_lag_is_the_largest_groups_lag_summed_over_partitions(tmp_path: Path) -> None:
    """Issue 19 item 17: code and docs agree — the largest group's lag summed over the topic's partitions
    (group a: 5 + 5 = 10 on two partitions; group b: 8 on one; the largest per-row LAG would be 8)."""
    from exitkit.profile.topics import topic_profile
    from exitkit.store import open_store

    f = tmp_path / "c1__groups.txt"
    f.write_text(
        "GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID\n"
        "a     t     0         5              10             5   -           -    -\n"
        "a     t     1         5              10             5   -           -    -\n"
        "b     t     0         2              10             8   -           -    -\n"
    )
    db = tmp_path / "s.duckdb"
    ingest([f], db=db, progress=False)
    with open_store(db) as con:
        row = topic_profile(con).iloc[0]
    assert (row["consumer_groups"], row["max_consumer_lag_records"]) == (2, 10)
    doc = " ".join((Path(__file__).parents[1] / "docs" / "formats" / "kafka-cli.md").read_text().split())
    assert "the largest LAG among those rows" not in doc
    assert "`max_consumer_lag_records`: the largest group's lag on the topic, summed over the topic's partitions" in doc


# Kafka 0.10.2–1.x `kafka-consumer-groups.sh --describe --group G` (ConsumerGroupCommand of those
# releases): no GROUP column, a leading `Note:` line; the shape as printed in public runbooks.
OLD_GROUPS = """Note: This will not show information about old Zookeeper-based consumers.

TOPIC                          PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG        CONSUMER-ID                                       HOST                           CLIENT-ID
test                           0          10              10              0          consumer-1-0000f0c2-eee7-432b-833b-c882334c8f71   /192.168.100.26                consumer-1
test                           1          7               9               2          consumer-1-0000f0c2-eee7-432b-833b-c882334c8f71   /192.168.100.26                consumer-1
"""
OLD_GROUPS_IDLE = """Note: This will not show information about old Zookeeper-based consumers.

Consumer group 'group_test' has no active members.

TOPIC                          PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG        CONSUMER-ID                                       HOST                           CLIENT-ID
test                           0          2               8               6          -                                                 -                              -
"""


def test_consumer_groups_kafka_1x_without_group_column_takes_the_group_option(tmp_path: Path) -> None:
    """Issue 19 item 15: the group comes from `--group` (as given to kafka-consumer-groups.sh)."""
    f = tmp_path / "c1__my-group.txt"
    f.write_text(OLD_GROUPS)
    _, reader, result = read_file(f, group="my-group")
    assert reader.name == "kafka-consumer-groups"
    cols = ["cluster", "consumer_group", "topic", "partition", "current_offset", "log_end_offset", "lag", "host",
            "client_id"]  # fmt: skip
    assert records(result.snapshots["consumer_offsets"], cols) == {
        ("c1", "my-group", "test", 0, 10, 10, 0, "192.168.100.26", "consumer-1"),
        ("c1", "my-group", "test", 1, 7, 9, 2, "192.168.100.26", "consumer-1"),
    }
    assert result.notes == ["Note: This will not show information about old Zookeeper-based consumers."]


def test_consumer_groups_kafka_1x_group_from_its_status_line_or_a_clear_error(tmp_path: Path) -> None:
    f = tmp_path / "c1__idle.txt"
    f.write_text(OLD_GROUPS_IDLE)
    _, _, result = read_file(f)
    df = result.snapshots["consumer_offsets"]
    assert records(df, ["consumer_group", "topic", "partition", "lag"]) == {("group_test", "test", 0, 6)}
    g = tmp_path / "c1__anon.txt"
    g.write_text(OLD_GROUPS)
    with pytest.raises(IngestFailed) as exc:
        ingest([g], db=tmp_path / "s.duckdb", progress=False)
    assert str(exc.value) == (
        f"{g}:3: this kafka-consumer-groups output (Kafka 0.10.2-1.x) has no GROUP column and does not name "
        "its group: pass --group NAME (the --group given to kafka-consumer-groups.sh)"
    )
    assert not (tmp_path / "s.duckdb").exists()


def test_cli_ingest_group_option(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from exitkit.cli import cli

    f = tmp_path / "c1__g.txt"
    f.write_text(OLD_GROUPS)
    db = tmp_path / "s.duckdb"
    res = CliRunner().invoke(cli, ["ingest", str(f), "--db", str(db), "--group", "billing"])
    assert res.exit_code == 0, res.output
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT DISTINCT consumer_group FROM consumer_offsets").fetchall() == [("billing",)]
    con.close()
