"""Exit plan: contract worksheet with evidence, capability and boundary checks, cutover moments,
duplicate estimate and offset validation, readiness gates and a recommendation per candidate.

    from exitkit.plan import build_plan, plan_tables
    plan = build_plan(con, load_workload(workload_path("payments")), cost_result)
    plan.to_json(); plan_tables(plan)["gates"]

See docs/plan.md for the worksheet, the gates and the recommendation rule.
"""

from exitkit.plan.build import Plan, build_plan, plan_tables
from exitkit.plan.catalog import boundaries, capabilities, capability_names
from exitkit.plan.cutover import duplicates, moments, offset_validation, translation_gap
from exitkit.plan.gates import GateResult, recommend
from exitkit.workload.sections import (
    GATES,
    TOOLS,
    Boundary,
    Contract,
    Cutover,
    Document,
    Item,
    Owners,
    PlanInputs,
    Rehearsal,
    Rollback,
    plan_inputs,
)

__all__ = [
    "GATES",
    "TOOLS",
    "Boundary",
    "Contract",
    "Cutover",
    "Document",
    "GateResult",
    "Item",
    "Owners",
    "Plan",
    "PlanInputs",
    "Rehearsal",
    "Rollback",
    "boundaries",
    "build_plan",
    "capabilities",
    "capability_names",
    "duplicates",
    "moments",
    "offset_validation",
    "plan_inputs",
    "plan_tables",
    "recommend",
    "translation_gap",
]
