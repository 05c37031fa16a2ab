"""Each demo workload's plan on the demo store: gates differ, and every outcome (move, fix first, stay) occurs."""

import json
import subprocess
import sys

import pytest

from tests.conftest import WORKLOADS


def _plan(name, db):
    out = subprocess.run(
        [sys.executable, "-m", "exitkit", "plan", "--workload", str(WORKLOADS / f"{name}.yaml"), "--db", str(db), "--format", "json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


def test_demo_plans_differ_and_cover_every_decision(demo_db):
    plans = {n: _plan(n, demo_db) for n in ("payments", "compliance", "telemetry", "dispatch")}
    gates = {n: tuple(g["status"] for g in p["gates"].values()) for n, p in plans.items()}
    assert len(set(gates.values())) == len(gates)  # no two workloads share their gate states
    # payments carries a full contract, rehearsals, runbook and owners for msk-express
    assert set(plans["payments"]["gates"][g]["status"] for g in plans["payments"]["gates"]) == {"pass"}
    assert plans["payments"]["recommendations"]["msk-express"]["decision"] == "move"
    # compliance requires a customer-account data plane: the AWS-managed MSK fails the boundary
    assert plans["compliance"]["gates"]["data_boundary"]["status"] == "fail"
    assert plans["compliance"]["recommendations"]["msk-standard"]["decision"] == "stay"
    decisions = {r["decision"] for p in plans.values() for r in p["recommendations"].values()}
    assert decisions == {"move", "fix first", "stay"}
    # no gate passes without evidence: telemetry has no contract, runbook or owners
    assert plans["telemetry"]["gates"]["ownership"]["status"] == "no_evidence"
    assert plans["telemetry"]["gates"]["contract_rehearsal"]["status"] != "pass"


def test_report_headline_names_the_best_decision_not_the_cheapest_candidate(demo_db):
    """payments: confluent-enterprise is cheapest but must stay (vendor data plane); msk-express can move."""
    from exitkit.report.context import headline, load_context

    h = headline(load_context(WORKLOADS / "payments.yaml", demo_db))
    assert h["cheapest"] == "confluent-enterprise"
    assert h["recommendation"] == "move: msk-express"
    assert set(h["gates"].values()) == {"pass"}


def test_plan_names_one_recommended_candidate_for_every_demo_workload(demo_db):
    """The plan's headline: move beats fix first beats stay; within a decision, the cheaper priced one."""
    expected = {
        "payments": ("move", "msk-express"),  # every gate passes for msk-express only
        # msk-standard fails the boundary; kafka-ec2-tiered never pays back within the horizon (stay);
        # automq-byoc's total needs a quote (cost_model no_evidence) → fix first
        "compliance": ("fix first", "automq-byoc"),
        "telemetry": ("fix first", "warpstream-byoc"),
        "dispatch": ("fix first", "warpstream-byoc"),
    }
    for name, (decision, candidate) in expected.items():
        rec = _plan(name, demo_db)["recommended"]
        assert (rec["decision"], rec["candidate"]) == (decision, candidate), name


def test_choose_orders_decisions_then_priced_then_cheaper():
    from exitkit.plan.gates import choose

    recs = {
        "a": {"decision": "fix first", "reasons": ["x"], "rule": "r"},
        "b": {"decision": "fix first", "reasons": ["y"], "rule": "r"},
        "c": {"decision": "stay", "reasons": ["z"], "rule": "r"},
    }
    # b is cheaper but unpriced (a lower bound): a comes first
    assert choose(recs, {"a": 200.0, "b": 100.0, "c": 50.0}, {"b": ["k"]})["candidate"] == "a"
    assert choose(recs, {"a": 200.0, "b": 100.0, "c": 50.0}, {})["candidate"] == "b"
    recs["c"]["decision"] = "move"
    assert choose(recs, {"a": 200.0, "b": 100.0, "c": 500.0}, {})["candidate"] == "c"
    stay = choose({"a": {"decision": "stay", "reasons": ["boundary"], "rule": "r"}}, {"a": 1.0}, {})
    assert stay["decision"] == "stay" and stay["candidate"] is None


def test_report_money_is_for_the_recommended_candidate(demo_db):
    """payments: the saving, migration and payback are msk-express's, from `exitkit cost` by hand."""
    import math

    from exitkit.report.context import headline, load_context

    cost = subprocess.run(
        [sys.executable, "-m", "exitkit", "cost", "--workload", str(WORKLOADS / "payments.yaml"), "--db", str(demo_db), "--format", "json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    p = {x["platform"]: x for x in json.loads(cost.stdout)["platforms"]}
    today = p["confluent-dedicated"]["monthly_usd"]["total"]
    cand = p["msk-express"]["monthly_usd"]["total"]
    mig = p["msk-express"]["one_time_usd"]["migration"]
    h = headline(load_context(WORKLOADS / "payments.yaml", demo_db))
    assert (h["decision"], h["candidate"]) == ("move", "msk-express")
    assert h["monthly_saving_usd"] == pytest.approx(today - cand, rel=1e-9)
    assert h["migration_usd"] == pytest.approx(mig, rel=1e-9)
    assert h["payback_month"] == math.ceil(mig / (today - cand))
