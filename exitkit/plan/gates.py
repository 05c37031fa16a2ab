"""Readiness gates per candidate and the recommendation rule.

Each gate is `pass | fail | no_evidence` with the evidence used and the reason. A gate never
passes without evidence: missing inputs give `no_evidence`. `fail` means the evidence shows
a problem.

Recommendation per candidate (see docs/plan.md):
1. the candidate is the current platform → stay;
2. cost_model fail (not cheaper than today) → stay;
3. data_boundary fail, or contract_rehearsal fail because the platform lacks a capability the
   applications use (a blocking conflict) → stay (the platform cannot meet it);
4. any other fail or any no_evidence → fix first (the reasons name the gates);
5. every gate passes → move.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from exitkit.plan.catalog import BOUNDARY_PLANES, boundaries
from exitkit.plan.contract import Conflict, latest
from exitkit.plan.cutover import PROBLEM_STATUSES, TOOL_TARGETS
from exitkit.workload.sections import GATES, Boundary, Owners, PlanInputs

STATUS_ORDER = {"fail": 2, "no_evidence": 1, "pass": 0}


@dataclass(frozen=True)
class GateResult:
    status: str  # pass | fail | no_evidence
    reason: str
    evidence: list[str] = field(default_factory=list)
    blocking: bool = False  # a fail the team cannot fix (platform capability or boundary)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("blocking")
        return d


def contract_rehearsal(
    rows: list[dict], conflicts: list[Conflict], inputs: PlanInputs, candidate: str, measured: dict | None = None
) -> GateResult:
    """The contract is frozen (every item has evidence) and rehearsed on the candidate, with no conflict.

    `measured`: {(area, item): [Rehearsal]} from `exitkit rehearse` runs; they count like attested ones.
    """
    mine = [c for c in conflicts if c.candidate == candidate]
    blocking = [c.text for c in mine if c.severity == "blocking"]
    unknown = [c.text for c in mine if c.severity == "unknown"]
    checks = [c.text for c in mine if c.severity == "check"]
    failed, passed = [], []
    for area, name, item in inputs.contract.items():
        attested = item.rehearsal if item is not None else []
        last = latest([*attested, *(measured or {}).get((area, name), [])], candidate)
        if last is not None:
            (passed if last.result == "pass" else failed).append(
                f"{area}.{name}: rehearsal {last.result} on {last.date}"
                + (f" ({last.platform})" if last.platform else "")
                + (f" — {last.note}" if last.note else "")
            )
    missing = [f"{r['area']}.{r['item']}" for r in rows if r["status"] == "missing"]
    evidence = [f"{sum(r['status'] != 'missing' for r in rows)} of {len(rows)} items have evidence"]
    if blocking or failed:
        return GateResult(
            "fail",
            "; ".join(
                ([f"{len(blocking)} capability conflict(s): " + " | ".join(blocking)] if blocking else [])
                + ([f"failed rehearsal: {', '.join(failed)}"] if failed else [])
            ),
            evidence + blocking + failed + checks,
            blocking=bool(blocking),
        )
    reasons = []
    if missing:
        reasons.append(f"no evidence for {len(missing)} item(s): {', '.join(missing)}")
    if unknown:
        reasons.append(f"{len(unknown)} capability(ies) unknown on {candidate}: " + " | ".join(unknown))
    if not passed:
        reasons.append(f"no contract rehearsal has passed on {candidate}")
    if reasons:
        return GateResult("no_evidence", "; ".join(reasons), evidence + passed + unknown + checks)
    return GateResult(
        "pass",
        f"every item has evidence and {len(passed)} rehearsal(s) passed on {candidate}; no capability conflict",
        evidence + passed + checks,
    )


def cost_model(
    cost_result, source_platform: str, candidate: str, unpriced: dict[str, list[str]] | None = None
) -> GateResult:
    """The candidate is cheaper per month (steady + abnormal) than today, by the cost model, and
    (when the result carries the migration cash flow) the move pays back within its horizon.

    A candidate whose lines include unpriced catalog keys has a lower-bound total: it cannot
    pass on that number (no_evidence), though a lower bound already above today still fails.
    """
    unpriced = unpriced or {}
    if cost_result is None:
        return GateResult("no_evidence", "no cost result: run the cost model (exitkit cost) for this workload")
    try:
        cand = cost_result.platform(candidate)
    except KeyError:
        return GateResult("no_evidence", f"the cost result has no line for {candidate}")
    try:
        today = cost_result.platform(source_platform)
    except KeyError:
        return GateResult(
            "no_evidence", f"the cost result has no model of today's platform {source_platform}: nothing to compare"
        )
    # today on the workload's baseline: the allocated bill when one covers it, else the model
    today_usd = cost_result.today_usd() if hasattr(cost_result, "today_usd") else today.total_usd
    actual = getattr(cost_result, "baseline", "modelled") == "actual"
    saving = today_usd - cand.total_usd
    mig = cand.migration_usd
    evidence = [
        f"{candidate}: {cand.total_usd:,.0f} USD/month (steady {cand.steady_usd:,.0f} + abnormal {cand.abnormal_usd:,.0f})",
        f"today ({source_platform}): {today_usd:,.0f} USD/month"
        + (f", actual bill (modelled {today.total_usd:,.0f})" if actual else ", modelled"),
        f"one-time migration {mig:,.0f} USD",
    ] + [f"warning: {w}" for w in getattr(cost_result, "warnings", [])]
    if unpriced.get(candidate) and saving > 0:
        keys = ", ".join(unpriced[candidate])
        return GateResult(
            "no_evidence", f"{candidate}'s total is a lower bound: unpriced catalog keys {keys}", evidence
        )
    if unpriced.get(source_platform) and saving <= 0 and not actual:
        keys = ", ".join(unpriced[source_platform])
        return GateResult(
            "no_evidence",
            f"today's total is a lower bound (unpriced: {keys}); cannot say the candidate costs more",
            evidence,
        )
    if saving > 0:
        cf = getattr(cost_result, "cash_flows", {}).get(candidate)
        share = f"saves {saving:,.0f} USD/month ({saving / today_usd:.0%} of today)"
        if cf is None:
            return GateResult("pass", f"{share}; migration pays back in {mig / saving:.1f} months", evidence)
        if cf.incomplete:
            keys = ", ".join(cf.missing_prices)
            return GateResult("no_evidence", f"{share}, but the cash flow needs a quote for {keys}", evidence)
        # the month-by-month cash flow (dual run, growth): a saving the move never earns back is no pass
        if cf.payback_month is None:
            return GateResult(
                "fail",
                f"{share}, but the one-time migration ({mig:,.0f} USD) never pays back within the dual run "
                f"+ 36 months of the cash flow",
                evidence,
            )
        return GateResult(
            "pass", f"{share}; migration pays back in month {cf.payback_month} of the cash flow", evidence
        )
    return GateResult("fail", f"not cheaper: costs {-saving:,.0f} USD/month more than today", evidence)


def data_boundary(required: Boundary | None, candidate: str) -> GateResult:
    """The candidate's control plane, data plane, ... and network paths meet the required boundary."""
    if required is None or not required.required():
        return GateResult("no_evidence", "the workload states no required boundary (contract.security.boundary)")
    pb = boundaries()[candidate]
    evidence, fails, unknown = [], [], []
    for plane in BOUNDARY_PLANES:
        accepted = getattr(required, plane)
        if accepted == "any":
            continue
        cell = pb.planes[plane]
        text = f"{plane}: required {' or '.join(accepted)}; {candidate}: {cell.cite()}"
        evidence.append(text)
        if cell.status == "unknown" or cell.status is None:
            unknown.append(text)
        elif cell.status not in accepted:
            fails.append(text)
    if required.network == "private":
        private = pb.private_path()
        paths = ", ".join(f"{k}={v}" for k, v in pb.network.items())
        text = f"network: private required; {candidate}: private path {private} ({paths}; {pb.network_source.cite()})"
        evidence.append(text)
        if private == "no":
            fails.append(text)
        elif private == "unknown":
            unknown.append(text)
    if required.document is not None:
        evidence.append(f"requirement documented in {required.document.ref}")
    if fails:
        return GateResult("fail", " | ".join(fails), evidence, blocking=True)
    if unknown:
        return GateResult("no_evidence", "unknown in the boundary catalog: " + " | ".join(unknown), evidence)
    return GateResult("pass", f"{candidate} meets every required boundary", evidence)


def cutover_runbook(inputs: PlanInputs, tool: str, candidate: str, validation: list[dict]) -> GateResult:
    """A runbook, a passing cutover rehearsal, a rollback plan with a window, and validated offsets."""
    cut = inputs.cutover
    targets, why = TOOL_TARGETS[tool]
    if targets is not None and candidate not in targets:
        return GateResult("fail", f"{tool} cannot write to {candidate}: {why}", [why])
    evidence, missing, fails = [f"tool: {tool}"], [], []
    if cut.runbook is not None:
        evidence.append(f"runbook: {cut.runbook.ref}")
    else:
        missing.append("no runbook (cutover.runbook)")
    last = latest(cut.rehearsals, candidate)
    if last is None:
        missing.append(f"no cutover rehearsal for {candidate} (cutover.rehearsals)")
    else:
        text = f"cutover rehearsal {last.result} on {last.date}" + (f" — {last.note}" if last.note else "")
        evidence.append(text)
        if last.result == "fail":
            fails.append(text)
    rb = cut.rollback
    if rb is None or rb.plan is None:
        missing.append("no rollback plan (cutover.rollback.plan)")
    else:
        evidence.append(f"rollback plan: {rb.plan.ref}")
    if rb is None or rb.window is None:
        missing.append("no rollback window (cutover.rollback.window)")
    declared = latest(cut.offset_validation, candidate)
    problems = [v for v in validation if v["status"] in PROBLEM_STATUSES]
    if declared is not None:
        text = f"offset validation {declared.result} on {declared.date}"
        evidence.append(text)
        if declared.result == "fail":
            fails.append(text)
    if problems:
        sample = ", ".join(f"{p['consumer_group']}/{p['topic']}-{p['partition']} {p['status']}" for p in problems[:5])
        fails.append(f"exported offsets: {len(problems)} partition(s) fail validation ({sample})")
    elif validation:
        ok = sum(v["status"] in ("ok", "behind") for v in validation)
        evidence.append(f"exported offsets: {ok} of {len(validation)} rows ok or behind (re-read, not skipped)")
    if declared is None and not validation:
        missing.append("no offset validation (cutover.offset_validation or MM2 checkpoint exports)")
    if fails:
        return GateResult("fail", "; ".join(fails), evidence)
    if missing:
        return GateResult("no_evidence", "; ".join(missing), evidence)
    return GateResult("pass", "runbook, rehearsal, rollback plan and offset validation in place", evidence)


def ownership(owners: Owners) -> GateResult:
    """Every role has a named owner: workload, the four contract areas, the cutover."""
    named = owners.named()
    if not named:
        return GateResult("no_evidence", "no owners named (owners: workload, producers, consumers, security, "
                                         "operations, cutover)")  # fmt: skip
    evidence = [f"{r}: {n}" for r, n in named.items()] + [f"gate {g}: {n}" for g, n in owners.gates.items()]
    missing = [r for r in Owners.ROLES if r not in named]
    if missing:
        return GateResult("no_evidence", f"no owner named for {', '.join(missing)}", evidence)
    return GateResult("pass", "every role has a named owner", evidence)


def worst(results: dict[str, GateResult]) -> GateResult:
    """Workload-level view of one gate over candidates: a gate passes only if it passes for all."""
    if not results:
        return GateResult("no_evidence", "no candidates")
    status = max((r.status for r in results.values()), key=STATUS_ORDER.__getitem__)
    reason = "; ".join(f"{c}: {r.status} — {r.reason}" for c, r in results.items() if r.status == status)
    evidence = [f"{c}: {r.status}" for c, r in results.items()]
    return GateResult(status, reason, evidence)


def recommend(candidate: str, source_platform: str, gates: dict[str, GateResult]) -> dict:
    """Decision (move | fix first | stay) and the reasons, each tied to a gate."""
    if candidate == source_platform:
        return {"decision": "stay", "reasons": [f"{candidate} is the current platform"], "rule": "current platform"}
    not_pass = {g: r for g, r in gates.items() if r.status != "pass"}
    reasons = [f"{g}: {r.status} — {r.reason}" for g, r in not_pass.items()]
    if gates["cost_model"].status == "fail":
        return {"decision": "stay", "reasons": reasons, "rule": "cost_model fail → stay"}
    hard = [g for g, r in gates.items() if r.status == "fail" and r.blocking]
    if hard:
        return {
            "decision": "stay",
            "reasons": reasons,
            "rule": f"{', '.join(hard)} fail (platform cannot meet it) → stay",
        }
    if not_pass:
        return {"decision": "fix first", "reasons": reasons, "rule": "a gate is fail or no_evidence → fix first"}
    return {"decision": "move", "reasons": [f"{g}: pass — {r.reason}" for g, r in gates.items()],
            "rule": "every gate passes → move"}  # fmt: skip


DECISION_ORDER = ("move", "fix first", "stay")


def choose(
    recommendations: dict[str, dict], monthly_usd: dict[str, float | None], unpriced: dict[str, list[str]]
) -> dict:
    """The workload's one recommendation from the per-candidate decisions.

    *move* beats *fix first*, which beats *stay*; among candidates with the same decision the
    fully priced one comes first, then the cheapest per month. When the best decision is *stay*
    there is no candidate: the workload stays where it is. Returns `{decision, candidate,
    reasons, rule}`; this is the headline of the report, `index.html` and `summary.json`.
    """
    for decision in DECISION_ORDER[:2]:
        picks = sorted(
            (c in unpriced, _money_rank(monthly_usd.get(c)), c)
            for c, r in recommendations.items()
            if r["decision"] == decision
        )
        if picks:
            cand = picks[0][2]
            rec = recommendations[cand]
            return {"decision": decision, "candidate": cand, "reasons": list(rec["reasons"]), "rule": rec["rule"]}
    return {
        "decision": "stay",
        "candidate": None,
        "reasons": [f"{c}: {'; '.join(r['reasons'])}" for c, r in recommendations.items()],
        "rule": "no candidate can move or be fixed first → stay",
    }


def _money_rank(v: float | None) -> float:
    return float("inf") if v is None else v


__all__ = ["DECISION_ORDER", "GATES", "GateResult", "choose", "contract_rehearsal", "cost_model", "cutover_runbook", "data_boundary",
           "ownership", "recommend", "worst"]  # fmt: skip
