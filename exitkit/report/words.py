"""The report's plain words for the plan's identifiers: one table each, used by the report
sections and the fleet page alike."""

GATE_TEXT = {
    # gate: (plain title, sentence when pass, when fail, when no evidence)
    "contract_rehearsal": (
        "Application contract",
        "What the applications rely on was checked on the candidate.",
        "The candidate lacks something the applications rely on.",
        "What the applications rely on has not been checked on the candidate yet.",
    ),
    "cost_model": (
        "Cost",
        "The candidate costs less per month than today.",
        "The candidate does not cost less per month than today.",
        "The cost comparison is incomplete (a price or today's model is missing).",
    ),
    "data_boundary": (
        "Data boundary",
        "Data, logs and metrics stay inside the required boundary.",
        "Data would leave the boundary the workload requires.",
        "The required data boundary has not been stated.",
    ),
    "cutover_runbook": (
        "Cutover runbook",
        "The cutover and rollback are written down and rehearsed.",
        "The cutover runbook has a problem to fix.",
        "No cutover runbook or rollback plan is on record yet.",
    ),
    "ownership": (
        "Ownership",
        "Every role in the move has a named owner.",
        "An owner is missing.",
        "Not every role in the move has a named owner yet.",
    ),
}
STATUS_WORD = {"pass": "pass", "fail": "fail", "no_evidence": "no evidence"}
DECISION_TEXT = {
    "move": "Move to {name}",
    "fix first": "Fix first, then move to {name}",
    "stay": "Stay on {name}",
}
