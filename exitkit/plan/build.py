"""`build_plan`: store + workload (+ cost result) → Plan; `plan_tables` for the CLI and the report.

Pipeline: validate contract/cutover/owners → scope the workload in the store → worksheet and
requirements → capability conflicts → boundaries → cutover (moments, rollback window,
duplicates, offset validation) → gates per candidate → recommendations.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from exitkit import platforms
from exitkit.cost.adapter import incomplete_platforms
from exitkit.plan import gates as g
from exitkit.plan.catalog import BOUNDARY_PLANES, boundaries, capabilities
from exitkit.plan.contract import conflicts, export_evidence, requirements, scope_of, worksheet
from exitkit.plan.cutover import DEFAULT_STALENESS, duplicates, moments, offset_validation, rollback_window
from exitkit.plan.measured import measured_by_item, measured_runs
from exitkit.safe_output import strict_json
from exitkit.workload.model import Workload
from exitkit.workload.sections import AREAS, GATES, plan_inputs


@dataclass
class Plan:
    """Everything `exitkit plan` shows for one workload; `to_dict()` is the JSON shape."""

    workload: str
    title: str
    source_platform: str
    candidates: list[str]
    target: str | None
    contract: list[dict]
    boundary_required: dict | None
    requirements: list[dict]
    capability_conflicts: list[dict]
    boundaries: dict
    cutover: dict
    gates: dict[str, g.GateResult]
    gates_by_candidate: dict[str, dict[str, g.GateResult]]
    recommendations: dict[str, dict]
    notes: list[str] = field(default_factory=list)
    rehearsals: list[dict] = field(default_factory=list)  # measured runs (exitkit rehearse), latest per platform
    recommended: dict = field(default_factory=dict)  # the one decision for the workload (gates.choose)

    def to_dict(self) -> dict:
        areas: dict[str, list[dict]] = {a: [] for a in AREAS}
        for row in self.contract:
            areas[row["area"]].append({k: v for k, v in row.items() if k != "area"})
        gate_scope = self.target or "every candidate (worst status)"
        return {
            "workload": self.workload,
            "title": self.title,
            "source_platform": self.source_platform,
            "candidates": self.candidates,
            "contract": {"areas": areas, "boundary": self.boundary_required, "requirements": self.requirements},
            "capability_conflicts": self.capability_conflicts,
            "boundaries": self.boundaries,
            "cutover": self.cutover,
            "gates": {
                name: {
                    **res.to_dict(),
                    "scope": gate_scope,
                    "by_candidate": {c: self.gates_by_candidate[c][name].to_dict() for c in self.gates_by_candidate},
                }
                for name, res in self.gates.items()
            },
            "recommendations": self.recommendations,
            "recommended": self.recommended,
            "notes": self.notes,
            "rehearsals": self.rehearsals,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return strict_json(self.to_dict(), "plan", indent=indent, ensure_ascii=False, default=_json_default)


def _json_default(v):
    if isinstance(v, dt.date | pd.Timestamp):
        return v.isoformat()
    if hasattr(v, "item"):
        return v.item()
    return str(v)


def _clean(v):
    """NaN/NA → None so JSON has nulls, never NaN."""
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v.item() if hasattr(v, "item") else v


def build_plan(
    con: duckdb.DuckDBPyConnection | None, workload: Workload, cost_result=None, profile_df: pd.DataFrame | None = None
) -> Plan:
    """The plan for `workload`: contract evidence, conflicts, boundaries, cutover, gates, decisions.

    `con` may be None (no exports: every export-based item is missing). `cost_result` is an
    `exitkit.cost.adapter.WorkloadCost` (preferred: it knows which lines are unpriced) or an
    `exitkit.cost.CostResult` for this workload; without it cost_model is no_evidence.
    """
    inputs = plan_inputs(workload)
    unpriced: dict[str, list[str]] = {}
    if cost_result is not None and hasattr(cost_result, "result"):  # an exitkit.cost.adapter.WorkloadCost
        unpriced = incomplete_platforms(cost_result)
        cost_result = cost_result.result
    source = workload.source.platform
    candidates = list(workload.candidates) or [p for p in platforms.platform_ids() if p != source]
    target = inputs.cutover.target
    if target is not None and target not in candidates:
        raise workload.fail("cutover.target", f"{target!r} is not among the candidates ({', '.join(candidates)})")
    tool = inputs.cutover.tool or workload.assumptions.migration.tool
    notes: list[str] = []

    scope = scope_of(con, workload, profile_df)  # profile_df: the store's topic_profile, if already computed
    if con is None or not workload.topics:
        notes.append("no store or no topics: export evidence, duplicates and offset validation are missing")
    exports = export_evidence(scope)
    runs = measured_runs(con, workload.name)
    measured = measured_by_item(runs, inputs.contract)
    rows = worksheet(inputs.contract, exports, measured)
    reqs = requirements(scope, inputs.contract, workload)
    movable = [c for c in candidates if c != source]
    confl = conflicts(reqs, movable)

    # cutover
    staleness = inputs.cutover.sync_staleness
    staleness_src = "cutover.sync_staleness"
    if staleness is None:
        staleness, staleness_src = DEFAULT_STALENESS[tool]
    dups, _ = duplicates(con, scope, tool, staleness)
    validation = offset_validation(con, scope, inputs.cutover.target_cluster)
    rb = inputs.cutover.rollback
    window = rb.window if rb is not None else None
    a = workload.assumptions
    rollback = rollback_window(window, source, target, cost_result, a.month_hours, a.migration.dual_run_months)
    if rb is not None:
        rollback["plan"] = None if rb.plan is None else rb.plan.ref
        rollback["reverse_replication"] = rb.reverse_replication
    cutover = {
        "tool": tool,
        "target": target,
        "moments": moments(tool),
        "rollback_window": rollback,
        "staleness_s": staleness,
        "staleness_source": staleness_src,
        "duplicates": [{k: _clean(v) if not isinstance(v, list) else v for k, v in d.items()} for d in dups],
        "offset_validation": [{k: _clean(v) for k, v in v.items()} for v in validation],
    }

    # boundaries
    required = inputs.contract.security.boundary
    by_cand: dict[str, dict[str, g.GateResult]] = {}
    for c in movable:
        by_cand[c] = {
            "contract_rehearsal": g.contract_rehearsal(rows, confl, inputs, c, measured),
            "cost_model": g.cost_model(cost_result, source, c, unpriced),
            "data_boundary": g.data_boundary(required, c),
            "cutover_runbook": g.cutover_runbook(inputs, tool, c, validation),
            "ownership": g.ownership(inputs.owners),
        }
    bnd = {"required": None if required is None else required.required(), "platforms": {}}
    for c in [source, *movable]:
        pb = boundaries()[c]
        entry = {p: {"place": pb.planes[p].status, "tag": pb.planes[p].tag, "source": pb.planes[p].source,
                     "note": pb.planes[p].note} for p in BOUNDARY_PLANES}  # fmt: skip
        entry["network"] = {**pb.network, "private_path": pb.private_path(), "source": pb.network_source.source,
                            "note": pb.network_source.note}  # fmt: skip
        entry["check"] = by_cand[c]["data_boundary"].status if c in by_cand else "current platform"
        bnd["platforms"][c] = entry

    if target is not None:
        top = by_cand[target]
    else:
        top = {name: g.worst({c: by_cand[c][name] for c in by_cand}) for name in GATES}
    recs = {c: g.recommend(c, source, by_cand.get(c, {})) if c in by_cand else g.recommend(c, source, {})
            for c in candidates}  # fmt: skip
    monthly = {} if cost_result is None else {p.platform: p.total_usd for p in cost_result.platforms}
    recommended = g.choose({c: r for c, r in recs.items() if c != source}, monthly, unpriced)
    return Plan(
        workload=workload.name,
        title=workload.display_title,
        source_platform=source,
        candidates=candidates,
        target=target,
        contract=rows,
        boundary_required=None if required is None else required.required(),
        requirements=[
            {"capability": r.capability, "where": r.where, "evidence": r.evidence, "origin": r.origin} for r in reqs
        ],
        capability_conflicts=[c.to_dict() for c in confl],
        boundaries=bnd,
        cutover=cutover,
        gates=top,
        gates_by_candidate=by_cand,
        recommendations=recs,
        notes=notes,
        rehearsals=[{k: v for k, v in r.items() if k != "date"} for r in runs],
        recommended=recommended,
    )


# --- tables ------------------------------------------------------------------------------


def _evidence_text(ev: list[dict]) -> str:
    parts = []
    for e in ev:
        if e["kind"] == "export":
            parts.append(f"export: {e['text']}")
        elif e["kind"] == "rehearsal":
            parts.append(f"rehearsal {e['result']} {e['date']}" + (f" ({e['platform']})" if e.get("platform") else ""))
        elif e["kind"] == "measured":
            parts.append(
                f"measured {e['result']} {e['date']} ({e['platform']}): {e['note'].removeprefix('measured: ')}"
            )
        else:
            parts.append(f"document: {e['ref']}")
    return "; ".join(parts) or "— missing —"


def plan_tables(plan: Plan) -> dict[str, pd.DataFrame]:
    """The plan as DataFrames: contract, conflicts, capabilities, boundaries, moments, duplicates,
    offset_validation, gates (gate × candidate) and recommendations."""
    contract = pd.DataFrame(
        [
            {
                "area": r["area"],
                "item": r["item"],
                "value": None if r["value"] is None else str(r["value"]),
                "status": r["status"],
                "evidence": _evidence_text(r["evidence"]),
            }  # fmt: skip
            for r in plan.contract
        ],
        columns=["area", "item", "value", "status", "evidence"],
    )
    conflicts_df = pd.DataFrame(
        plan.capability_conflicts,
        columns=["candidate", "capability", "severity", "where", "observed", "platform_status", "source", "text"],
    )
    caps = capabilities()
    cap_names = list(next(iter(caps.values())))
    platforms = [plan.source_platform, *[c for c in plan.candidates if c != plan.source_platform]]
    capabilities_df = pd.DataFrame([{"capability": k, **{p: caps[p][k].status for p in platforms}} for k in cap_names])
    bnd_rows = []
    for p, e in plan.boundaries["platforms"].items():
        row = {"platform": p, **{pl: e[pl]["place"] for pl in BOUNDARY_PLANES}}
        row.update(private_path=e["network"]["private_path"], public=e["network"]["public"], check=e["check"])
        bnd_rows.append(row)
    boundaries_df = pd.DataFrame(bnd_rows)
    moments_df = pd.DataFrame(
        [
            {
                "step": m["step"],
                "moment": m["title"],
                "entry_criteria": "; ".join(m["entry_criteria"]),
                "signal": m["signal"],
                "source": m["source"],
            }  # fmt: skip
            for m in plan.cutover["moments"]
        ]
    )
    dup_cols = ["cluster", "consumer_group", "topics", "partitions", "translation_gap_records",
                "consume_rate_records_per_s", "staleness_s", "staleness_gap_records", "duplicates_records", "formula"]  # fmt: skip
    duplicates_df = pd.DataFrame(
        [{**d, "topics": ", ".join(d["topics"])} for d in plan.cutover["duplicates"]], columns=dup_cols
    )
    val_cols = ["cluster", "consumer_group", "topic", "partition", "source_committed", "checkpoint_upstream",
                "checkpoint_downstream", "expected_downstream", "behind_records", "target_committed", "status"]  # fmt: skip
    validation_df = pd.DataFrame(plan.cutover["offset_validation"], columns=val_cols)
    gate_rows = []
    for name in GATES:
        row = {"gate": name, "workload": plan.gates[name].status}
        row.update({c: plan.gates_by_candidate[c][name].status for c in plan.gates_by_candidate})
        row["reason"] = plan.gates[name].reason
        gate_rows.append(row)
    gates_df = pd.DataFrame(gate_rows)
    recs_df = pd.DataFrame(
        [
            {"candidate": c, "decision": r["decision"], "rule": r["rule"], "reasons": " | ".join(r["reasons"])}
            for c, r in plan.recommendations.items()
        ]  # fmt: skip
    )
    rb = plan.cutover["rollback_window"]
    rollback_df = pd.DataFrame(
        [{"item": k, "value": None if isinstance(v, float) and math.isnan(v) else v} for k, v in rb.items()]
    )
    rehearsals_df = pd.DataFrame(
        [
            {"platform": r["platform"], "started_at": r["started_at"], "run": r["result"], "area": c["area"],
             "item": c["item"], "result": c["result"], "detail": c["detail"]}
            for r in plan.rehearsals
            for c in r["checks"]
        ],
        columns=["platform", "started_at", "run", "area", "item", "result", "detail"],
    )  # fmt: skip
    return {
        "contract": contract,
        "conflicts": conflicts_df,
        "capabilities": capabilities_df,
        "boundaries": boundaries_df,
        "moments": moments_df,
        "rollback_window": rollback_df,
        "duplicates": duplicates_df,
        "offset_validation": validation_df,
        "gates": gates_df,
        "recommendations": recs_df,
        "rehearsals": rehearsals_df,
    }
