"""Each demo workload's plan on the demo store: gates differ, and every outcome (move, fix first, stay) occurs."""

import json
import subprocess
import sys

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
