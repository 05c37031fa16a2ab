"""exitkit.plan: gates, conflicts, boundaries, duplicates and offset validation on hand-built stores.

Every store here is built row by row, so each expected number is worked out in a comment.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

import duckdb
import pytest

from exitkit import store
from exitkit.errors import BadWorkload
from exitkit.plan import build_plan, plan_inputs, plan_tables
from exitkit.plan import catalog as plan_catalog
from exitkit.plan import contract as plan_contract
from exitkit.plan.cutover import checkpoint_gap, translation_gap
from exitkit.workload.fields import PLATFORMS
from exitkit.workload.loader import parse_workload

T0, T1 = datetime(2025, 3, 1, 0, 0), datetime(2025, 3, 1, 1, 0)


def insert(con: duckdb.DuckDBPyConnection, table: str, source_id: int, **cols: object) -> None:
    names = ", ".join(["source_id", *cols])
    marks = ", ".join("?" * (len(cols) + 1))
    con.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", [source_id, *cols.values()])


def topic(con, cluster: str, name: str, partitions: int, records_per_s: float, bytes_per_s: float = 1e4) -> None:
    """A topic seen by kafka-topics (3 partitions, delete) with one hour of rates."""
    for key, value in (("partition_count", partitions), ("replication_factor", 3), ("cleanup.policy", "delete"),
                       ("retention.ms", 604_800_000)):  # fmt: skip
        insert(con, "topic_configs", 1, cluster=cluster, topic=name, name=key, value=str(value))
    for metric, v in (("bytes_in", bytes_per_s), ("records_in", records_per_s)):
        insert(con, "metric_points", 2, cluster=cluster, topic=name, metric=metric, ts_start=T0, ts_end=T1, value=v)


def workload(**extra) -> object:
    base = {
        "name": "orders",
        "source": {"platform": "kafka-ec2", "cluster": "src"},
        "topics": ["orders", "ledger"],
        "region": "us-east-1",
        "candidates": ["msk-standard", "msk-serverless", "confluent-enterprise", "automq-byoc"],
    }
    base.update(extra)
    return parse_workload(base, "orders.yaml")


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = store.memory_store()
    for sid in range(1, 21):  # rates are read through `sources` (format decides the grain)
        c.execute("INSERT INTO sources VALUES (?, ?, ?, 'test', NULL, ?, 0)", [sid, f"f{sid}", f"sha{sid}", T0])
    topic(c, "src", "orders", 3, records_per_s=10.0)
    topic(c, "src", "ledger", 3, records_per_s=5.0)
    yield c
    c.close()


def transactions_observed(con) -> None:
    insert(con, "request_rates", 3, cluster="src", broker="1", request="InitProducerId", rate_per_s=2.1, observed_at=T0)
    insert(
        con, "request_rates", 3, cluster="src", broker="1", request="AddPartitionsToTxn", rate_per_s=4.0, observed_at=T0
    )
    insert(con, "request_rates", 3, cluster="src", broker="1", request="Produce", rate_per_s=100.0, observed_at=T0)


@pytest.fixture
def no_transactions_on_msk_standard(monkeypatch):
    """A matrix in which msk-standard does not support transactions (the logic, not the data, is tested)."""
    caps = {p: dict(cells) for p, cells in plan_catalog.capabilities().items()}
    cell = caps["msk-standard"]["transactions"]
    caps["msk-standard"]["transactions"] = dataclasses.replace(cell, status="unsupported", source="test matrix")
    monkeypatch.setattr(plan_contract, "capabilities", lambda: caps)


# --- contract rehearsal ------------------------------------------------------------------


def test_transactions_observed_on_a_platform_without_them_fail_contract_rehearsal(con, no_transactions_on_msk_standard):
    transactions_observed(con)
    plan = build_plan(con, workload())
    gate = plan.gates_by_candidate["msk-standard"]["contract_rehearsal"]
    assert gate.status == "fail"
    # the reason names the capability, the cluster and the workload's topics on it, and the source
    assert "transactions observed on src (ledger, orders)" in gate.reason
    assert "AddPartitionsToTxn peak 4/s" in gate.reason
    assert "msk-standard" in gate.reason and "unsupported" in gate.reason and "test matrix" in gate.reason
    # a blocking capability fail is something the team cannot fix: stay
    assert plan.recommendations["msk-standard"]["decision"] == "stay"
    # with no target set, the workload-level gate is the worst over candidates
    assert plan.gates["contract_rehearsal"].status == "fail"
    conflict = [
        c for c in plan.capability_conflicts if c["candidate"] == "msk-standard" and c["capability"] == "transactions"
    ]
    assert len(conflict) == 1 and conflict[0]["severity"] == "blocking"


def test_acls_observed_and_msk_serverless_real_matrix(con):
    # MSK Serverless: "Apache Kafka ACLs are not supported" (AWS docs, capabilities.yaml)
    insert(con, "acls", 4, cluster="src", resource_type="TOPIC", resource_name="orders", pattern_type="LITERAL",
           principal="User:svc-orders", host="*", operation="WRITE", permission="ALLOW")  # fmt: skip
    plan = build_plan(con, workload())
    gate = plan.gates_by_candidate["msk-serverless"]["contract_rehearsal"]
    assert gate.status == "fail"
    assert "acls observed on src (orders)" in gate.reason
    assert "serverless.md" in gate.reason
    # msk-standard supports ACLs: no conflict for it
    assert not [c for c in plan.capability_conflicts if c["candidate"] == "msk-standard" and c["capability"] == "acls"]
    # the worksheet shows the ACL export as evidence
    acl = next(r for r in plan.contract if (r["area"], r["item"]) == ("security", "acls"))
    assert acl["status"] == "exported" and "User:svc-orders" in acl["evidence"][0]["text"]


def test_unknown_capability_is_no_evidence_not_pass(con):
    transactions_observed(con)
    plan = build_plan(con, workload())
    # msk-serverless transactions: unknown in the matrix → never pass
    gate = plan.gates_by_candidate["msk-serverless"]["contract_rehearsal"]
    assert gate.status in ("fail", "no_evidence")
    assert any("transactions" in e and "unknown" in e for e in gate.evidence)


def full_contract(rehearsal: dict | None) -> dict:
    """Every worksheet item documented; one rehearsal (or none)."""
    items = {
        "producers": ["client_libraries", "acks", "idempotence", "retries", "compression", "transactions", "batching"],
        "consumers": ["group_protocol", "offset_commit", "reset_policy", "replay_window", "lag_alerts"],
        "security": ["acls", "authentication", "private_connectivity", "audit"],
        "operations": ["dashboards", "slos", "runbooks", "quotas", "topic_automation"],
    }
    out = {a: {i: {"value": "no" if i == "transactions" else "yes", "document": f"wiki/{a}/{i}"} for i in names}
           for a, names in items.items()}  # fmt: skip
    if rehearsal:
        out["producers"]["acks"]["rehearsal"] = rehearsal
    return out


def test_contract_rehearsal_needs_a_rehearsal_to_pass():
    documented = workload(topics=[], traffic={"write_rate": "1 MiB/s"}, contract=full_contract(None))
    gate = build_plan(None, documented).gates_by_candidate["msk-standard"]["contract_rehearsal"]
    assert gate.status == "no_evidence" and "no contract rehearsal has passed on msk-standard" in gate.reason
    rehearsed = workload(
        topics=[], traffic={"write_rate": "1 MiB/s"},
        contract=full_contract({"result": "pass", "date": "2026-10-01", "platform": "msk-standard"}),
    )  # fmt: skip
    plan = build_plan(None, rehearsed)
    assert plan.gates_by_candidate["msk-standard"]["contract_rehearsal"].status == "pass"
    # the rehearsal ran on msk-standard only: another candidate has none
    assert plan.gates_by_candidate["automq-byoc"]["contract_rehearsal"].status == "no_evidence"
    failed = workload(
        topics=[], traffic={"write_rate": "1 MiB/s"},
        contract=full_contract({"result": "fail", "date": "2026-10-01", "note": "acks=1 rejected"}),
    )  # fmt: skip
    gate = build_plan(None, failed).gates_by_candidate["msk-standard"]["contract_rehearsal"]
    assert gate.status == "fail" and "producers.acks: rehearsal fail" in gate.reason


# --- no evidence is never a pass -----------------------------------------------------------


def test_no_evidence_anywhere_gives_no_evidence_never_pass():
    plan = build_plan(None, workload(topics=[], traffic={"write_rate": "5 MiB/s"}))
    for cand, gates in plan.gates_by_candidate.items():
        for name, res in gates.items():
            assert res.status == "no_evidence", (cand, name, res)
    assert {r["status"] for r in plan.contract} == {"missing"}
    assert all(r["decision"] == "fix first" for r in plan.recommendations.values())
    assert plan.cutover["duplicates"] == [] and plan.cutover["offset_validation"] == []


def test_features_without_request_rates_are_missing_not_unused(con):
    plan = build_plan(con, workload())
    tx = next(r for r in plan.contract if r["item"] == "transactions")
    assert tx["status"] == "missing"  # no request-rate export: not "not used"


# --- boundaries ----------------------------------------------------------------------------


def test_customer_account_data_plane_fails_on_vendor_account_platform():
    wl = workload(topics=[], traffic={"write_rate": "1 MiB/s"},
                  candidates=["confluent-enterprise", "kafka-ec2-tiered", "automq-byoc", "msk-standard"],
                  contract={"security": {"boundary": {"data_plane": "customer-account"}}})  # fmt: skip
    plan = build_plan(None, wl)
    by = plan.gates_by_candidate
    gate = by["confluent-enterprise"]["data_boundary"]
    assert gate.status == "fail"
    assert "data_plane: required customer-account; confluent-enterprise: vendor-account" in gate.reason
    assert plan.recommendations["confluent-enterprise"]["decision"] == "stay"
    assert by["kafka-ec2-tiered"]["data_boundary"].status == "pass"
    assert (
        by["automq-byoc"]["data_boundary"].status == "pass"
    )  # data plane in your account (AutoMQ BYOC commercial docs, docs.automq.com)
    assert by["msk-standard"]["data_boundary"].status == "fail"  # AWS service-managed VPC: cloud-provider


def test_boundary_unknown_cell_is_no_evidence_and_private_network_is_checked():
    wl = workload(topics=[], traffic={"write_rate": "1 MiB/s"},
                  candidates=["automq-byoc", "confluent-standard", "confluent-dedicated"],
                  contract={"security": {"boundary": {"control_plane": ["customer", "vendor"], "network": "private"}}})  # fmt: skip
    by = build_plan(None, wl).gates_by_candidate
    assert by["automq-byoc"]["data_boundary"].status == "no_evidence"  # control plane unknown in our notes
    assert by["confluent-standard"]["data_boundary"].status == "fail"  # public endpoints only
    assert by["confluent-dedicated"]["data_boundary"].status == "pass"


def test_no_required_boundary_is_no_evidence():
    res = build_plan(None, workload(topics=[], traffic={"write_rate": "1 MiB/s"})).gates["data_boundary"]
    assert res.status == "no_evidence" and "contract.security.boundary" in res.reason


# --- ownership -----------------------------------------------------------------------------


def test_owners_missing_is_no_evidence_and_complete_owners_pass():
    bare = build_plan(None, workload(topics=[], traffic={"write_rate": "1 MiB/s"}))
    assert bare.gates["ownership"].status == "no_evidence"
    partial = build_plan(None, workload(topics=[], traffic={"write_rate": "1 MiB/s"}, owners={"workload": "team-a"}))
    assert partial.gates["ownership"].status == "no_evidence"
    assert "producers, consumers, security, operations, cutover" in partial.gates["ownership"].reason
    owners = {r: "team-a" for r in ("workload", "producers", "consumers", "security", "operations", "cutover")}
    full = build_plan(None, workload(topics=[], traffic={"write_rate": "1 MiB/s"}, owners=owners))
    assert full.gates["ownership"].status == "pass"


# --- duplicates and offset validation ------------------------------------------------------


def mm2_exports(con) -> None:
    """Group g1 reads orders (10 records/s) on src; MM2 offset syncs and checkpoints exported."""
    for p, committed in ((0, 1000), (1, 500), (2, 2000)):
        insert(con, "consumer_offsets", 5, cluster="src", consumer_group="g1", topic="orders", partition=p,
               current_offset=committed, log_end_offset=committed + 5, lag=5)  # fmt: skip
    seq = 0
    for p, up, down in ((0, 900, 400), (0, 1100, 600), (1, 500, 100), (2, 1500, 700)):
        seq += 1
        insert(con, "mm2_offset_syncs", 6, cluster="src", topic="orders", partition=p, upstream_offset=up,
               downstream_offset=down, seq=seq)  # fmt: skip
    # p1: exact sync → downstream 100; p2: an older-MM2 style checkpoint 10 records behind the
    # one-to-one position 700 + (2000 − 1500) = 1200
    for i, (p, up, down) in enumerate(((1, 500, 100), (2, 2000, 1190)), start=1):
        insert(con, "mm2_checkpoints", 7, cluster="src", consumer_group="g1", topic="orders", partition=p,
               upstream_offset=up, downstream_offset=down, metadata="", seq=i)  # fmt: skip


def test_duplicate_estimate_matches_hand_calculation(con):
    mm2_exports(con)
    plan = build_plan(con, workload(cutover={"tool": "mirrormaker2", "sync_staleness": "60s"}))
    (g1,) = plan.cutover["duplicates"]
    # p0: no checkpoint; newest sync ≤ 1000 is 900 → 1000 − 900 − 1 = 99 (the sync at 1100 is past it)
    # p1: checkpoint at an exact sync (500 → 100): (500 − 500) − (100 − 100) = 0
    # p2: checkpoint (2000 → 1190), sync (1500 → 700): (2000 − 1500) − (1190 − 700) = 10
    # staleness: 10 records/s × 60 s = 600; duplicates = 99 + 0 + 10 + 600 = 709
    assert g1["translation_gap_records"] == 109
    assert g1["consume_rate_records_per_s"] == pytest.approx(10.0)
    assert g1["staleness_gap_records"] == pytest.approx(600.0)
    assert g1["duplicates_records"] == pytest.approx(709.0)
    assert "= 109 + 10 records/s × 60 s = 709" in g1["formula"]
    assert translation_gap(1000, 900) == 99 and translation_gap(500, 500) == 0
    assert checkpoint_gap(2000, 1190, 1500, 700) == 10


def test_duplicates_default_staleness_is_mm2_defaults(con):
    mm2_exports(con)
    (g1,) = build_plan(con, workload()).cutover["duplicates"]
    # emit.checkpoints.interval 60 s + sync.group.offsets.interval 60 s = 120 s → 109 + 10 × 120 = 1309
    assert g1["staleness_s"] == 120.0 and g1["duplicates_records"] == pytest.approx(1309.0)


def test_offset_preserving_tool_has_zero_translation_gap(con):
    mm2_exports(con)
    wl = workload(candidates=["confluent-enterprise"], cutover={"tool": "cluster-linking", "sync_staleness": "30s"})
    (g1,) = build_plan(con, wl).cutover["duplicates"]
    # offsets preserved: translation 0; only staleness: 10 records/s × 30 s = 300
    assert g1["translation_gap_records"] == 0
    assert g1["duplicates_records"] == pytest.approx(300.0)
    assert "preserves offsets" in g1["notes"]


def test_offset_validation_compares_source_offsets_with_checkpoints(con):
    mm2_exports(con)
    rows = {(r["consumer_group"], r["partition"]): r for r in build_plan(con, workload()).cutover["offset_validation"]}
    assert rows[("g1", 0)]["status"] == "no_checkpoint"
    assert rows[("g1", 1)]["status"] == "ok" and rows[("g1", 1)]["expected_downstream"] == 100
    # p2: MM2 ≥ 3.5 would give 701; 1190 is still ≤ the one-to-one 1200, so nothing is skipped
    assert rows[("g1", 2)]["status"] == "ok" and rows[("g1", 2)]["expected_downstream"] == 701


def test_checkpoint_past_the_sync_position_fails_cutover_runbook(con):
    mm2_exports(con)
    # g2 committed 1000 on p0; checkpoint says downstream 800, but sync 900 → 400 allows at most
    # 400 + (1000 − 900) = 500: resuming at 800 would skip 300 records
    insert(con, "consumer_offsets", 8, cluster="src", consumer_group="g2", topic="orders", partition=0,
           current_offset=1000, log_end_offset=1000, lag=0)  # fmt: skip
    insert(con, "mm2_checkpoints", 9, cluster="src", consumer_group="g2", topic="orders", partition=0,
           upstream_offset=1000, downstream_offset=800, metadata="", seq=1)  # fmt: skip
    plan = build_plan(con, workload())
    g2 = next(r for r in plan.cutover["offset_validation"] if r["consumer_group"] == "g2")
    assert g2["status"] == "translation_mismatch"
    gate = plan.gates_by_candidate["msk-standard"]["cutover_runbook"]
    assert gate.status == "fail" and "g2/orders-0 translation_mismatch" in gate.reason


def test_cutover_runbook_passes_only_with_every_piece():
    cut = {"tool": "mirrormaker2", "runbook": "wiki/cutover", "rollback": {"plan": "wiki/rollback", "window": "48h"},
           "rehearsals": [{"result": "fail", "date": "2026-09-01"}, {"result": "pass", "date": "2026-10-01"}],
           "offset_validation": {"result": "pass", "date": "2026-10-01"}}  # fmt: skip
    plan = build_plan(None, workload(topics=[], traffic={"write_rate": "1 MiB/s"}, cutover=cut))
    assert plan.gates_by_candidate["msk-standard"]["cutover_runbook"].status == "pass"  # the later pass wins
    no_window = {**cut, "rollback": {"plan": "wiki/rollback"}}
    res = build_plan(None, workload(topics=[], traffic={"write_rate": "1 MiB/s"}, cutover=no_window))
    assert res.gates_by_candidate["msk-standard"]["cutover_runbook"].status == "no_evidence"
    linking = {**cut, "tool": "cluster-linking"}
    res = build_plan(None, workload(topics=[], traffic={"write_rate": "1 MiB/s"}, cutover=linking))
    assert res.gates_by_candidate["msk-standard"]["cutover_runbook"].status == "fail"  # links only into Confluent
    assert res.gates_by_candidate["confluent-enterprise"]["cutover_runbook"].status == "pass"


# --- cost and recommendation -----------------------------------------------------------------


@dataclasses.dataclass
class FakePlatform:
    platform: str
    total_usd: float
    steady_usd: float
    abnormal_usd: float = 0.0
    migration_usd: float = 1000.0
    lines: tuple = ()


@dataclasses.dataclass
class FakeCost:
    platforms: list
    warnings: tuple = ()

    def platform(self, pid):
        for p in self.platforms:
            if p.platform == pid:
                return p
        raise KeyError(pid)


def test_cost_gate_and_rollback_window_cost():
    cost = FakeCost([FakePlatform("kafka-ec2", 5000, 5000), FakePlatform("msk-standard", 4000, 4000),
                     FakePlatform("automq-byoc", 6000, 6000)])  # fmt: skip
    wl = workload(topics=[], traffic={"write_rate": "1 MiB/s"}, candidates=["msk-standard", "automq-byoc"],
                  cutover={"target": "msk-standard", "rollback": {"window": "73h"}})  # fmt: skip
    plan = build_plan(None, wl, cost)
    assert plan.gates_by_candidate["msk-standard"]["cost_model"].status == "pass"
    assert "saves 1,000 USD/month" in plan.gates_by_candidate["msk-standard"]["cost_model"].reason
    assert plan.gates_by_candidate["automq-byoc"]["cost_model"].status == "fail"
    assert plan.recommendations["automq-byoc"]["decision"] == "stay"
    # target set: the workload-level gates are the target's
    assert plan.gates["cost_model"].status == "pass"
    # source held 73 h of a 730 h month: 5000 × 73 / 730 = 500 USD
    assert plan.cutover["rollback_window"]["cost_usd"] == pytest.approx(500.0)


def test_every_gate_passing_recommends_move():
    owners = {r: "team-a" for r in ("workload", "producers", "consumers", "security", "operations", "cutover")}
    cut = {"target": "msk-standard", "runbook": "wiki/cutover", "rollback": {"plan": "wiki/rb", "window": "48h"},
           "rehearsals": {"result": "pass", "date": "2026-10-01"},
           "offset_validation": {"result": "pass", "date": "2026-10-01"}}  # fmt: skip
    contract = full_contract({"result": "pass", "date": "2026-10-01"})
    contract["security"]["boundary"] = {"data_plane": ["customer-account", "cloud-provider"]}
    wl = workload(topics=[], traffic={"write_rate": "1 MiB/s"}, candidates=["msk-standard"], owners=owners,
                  cutover=cut, contract=contract)  # fmt: skip
    plan = build_plan(
        None, wl, FakeCost([FakePlatform("kafka-ec2", 5000, 5000), FakePlatform("msk-standard", 4000, 4000)])
    )
    assert {n: r.status for n, r in plan.gates.items()} == dict.fromkeys(plan.gates, "pass")
    assert plan.recommendations["msk-standard"]["decision"] == "move"


# --- models, catalog, output shape -----------------------------------------------------------


def test_bad_contract_names_the_field():
    with pytest.raises(BadWorkload) as exc:
        plan_inputs(workload(contract={"producers": {"ackz": "all"}}))
    assert exc.value.field == "contract.producers.ackz" and exc.value.path == "orders.yaml"
    with pytest.raises(BadWorkload) as exc:
        plan_inputs(
            workload(contract={"producers": {"acks": {"rehearsal": {"result": "maybe", "date": "2026-01-01"}}}})
        )
    assert exc.value.field.startswith("contract.producers.acks.rehearsal")
    with pytest.raises(BadWorkload) as exc:
        plan_inputs(workload(contract={"security": {"boundary": {"data_plane": "on-prem"}}}))
    assert exc.value.field == "contract.security.boundary" and "customer-account" in exc.value.message
    with pytest.raises(BadWorkload) as exc:
        plan_inputs(workload(cutover={"tool": "rsync"}))
    assert exc.value.field == "cutover.tool"


def test_catalogs_cover_every_platform_with_sources():
    caps = plan_catalog.capabilities()
    assert set(caps) == set(PLATFORMS)
    for pid, cells in caps.items():
        assert len(cells) == len(plan_catalog.capability_names())
        for cell in cells.values():
            assert cell.source and cell.as_of and cell.status in plan_catalog.STATUSES, (pid, cell)
    assert set(plan_catalog.boundaries()) == set(PLATFORMS)
    assert caps["automq-byoc"]["per_partition_write_limit"].limit_bytes_per_s == 10_000_000


def test_per_partition_peak_above_a_documented_limit_is_blocking(con):
    # orders: 3 partitions at a 36 MB/s peak → 12 MB/s per partition > AutoMQ Cloud's 10 MB/s
    insert(con, "metric_points", 10, cluster="src", topic="orders", metric="bytes_in", ts_start=T1,
           ts_end=datetime(2025, 3, 1, 2, 0), value=36e6)  # fmt: skip
    plan = build_plan(con, workload())
    hits = [c for c in plan.capability_conflicts if c["capability"] == "per_partition_write_limit"]
    assert [(c["candidate"], c["severity"], c["where"]) for c in hits] == [("automq-byoc", "blocking", "src (orders)")]


def test_to_json_shape_and_tables(con):
    mm2_exports(con)
    plan = build_plan(con, workload())
    d = json.loads(plan.to_json())
    assert set(d) >= {
        "workload",
        "contract",
        "capability_conflicts",
        "boundaries",
        "cutover",
        "gates",
        "recommendations",
    }
    assert set(d["contract"]["areas"]) == {"producers", "consumers", "security", "operations"}
    assert set(d["cutover"]) >= {"tool", "moments", "rollback_window", "duplicates", "offset_validation"}
    assert [m["title"] for m in d["cutover"]["moments"]] == [
        "Destination eligible for validation", "Consumers move", "Producers stop writing to the source",
        "Rollback becomes unsafe",
    ]  # fmt: skip
    for gate in ("contract_rehearsal", "cost_model", "data_boundary", "cutover_runbook", "ownership"):
        assert set(d["gates"][gate]) >= {"status", "evidence", "reason", "by_candidate"}
    assert d["recommendations"]["msk-standard"]["decision"] in ("move", "fix first", "stay")
    tables = plan_tables(plan)
    assert list(tables["gates"]["gate"]) == ["contract_rehearsal", "cost_model", "data_boundary", "cutover_runbook",
                                             "ownership"]  # fmt: skip
    assert len(tables["duplicates"]) == 1 and len(tables["contract"]) == 21


def test_contract_example_template_validates():
    from pathlib import Path

    import yaml

    example = yaml.safe_load((Path(__file__).parents[1] / "templates" / "contract.example.yaml").read_text())
    wl = workload(topics=[], traffic={"write_rate": "1 MiB/s"}, **example)
    inputs = plan_inputs(wl)
    assert inputs.cutover.rollback.window == 72 * 3600
    assert inputs.contract.security.boundary.required()["data_plane"] == ["customer-account", "cloud-provider"]
    plan = build_plan(None, wl)
    # the later transactions rehearsal (pass) supersedes the earlier fail on msk-standard
    assert plan.gates_by_candidate["msk-standard"]["contract_rehearsal"].status == "pass"
    assert plan.gates["ownership"].status == "pass"
