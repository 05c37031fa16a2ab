"""Measured evidence: `exitkit rehearse` runs in the store's `rehearsals` table, as contract evidence.

The latest run per (workload, platform) counts. Each of its checks that names a contract item
(`producers.acks`, `consumers.offset_commit`, …) and passed or failed becomes a `Rehearsal`
of that item on that platform, with the check's detail as the note; evidence of kind
`measured` beside the user's attested ones. Checks outside the contract (`delivery`, `run`)
and skipped checks are shown with the run, never counted for an item.
"""

from __future__ import annotations

import json

import duckdb

from exitkit.workload.fields import PLATFORMS
from exitkit.workload.sections import Contract, Rehearsal

_RUNS_SQL = """
SELECT rehearsal_id, platform, bootstrap, started_at, duration_s, result, checks, producer, consumer, path
FROM rehearsals WHERE workload = ?
QUALIFY row_number() OVER (PARTITION BY platform ORDER BY started_at DESC, rehearsal_id DESC) = 1
ORDER BY platform
"""


def measured_runs(con: duckdb.DuckDBPyConnection | None, workload: str) -> list[dict]:
    """The latest rehearsal per platform for `workload` (none without a store or a `rehearsals` table)."""
    if con is None:
        return []
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "rehearsals" not in tables:
        return []
    runs = []
    for rid, platform, boot, started, dur, result, checks, producer, consumer, path in con.execute(
        _RUNS_SQL, [workload]
    ).fetchall():
        runs.append(
            {
                "id": rid, "platform": platform, "bootstrap": boot, "started_at": started.isoformat() + "Z",
                "date": started.date(), "duration_s": dur, "result": result, "checks": json.loads(checks),
                "producer": json.loads(producer or "null"), "consumer": json.loads(consumer or "null"), "file": path,
            }
        )  # fmt: skip
    return runs


def measured_by_item(runs: list[dict], contract: Contract) -> dict[tuple[str, str], list[Rehearsal]]:
    """{(area, item): [Rehearsal]} from the runs' pass/fail checks on contract items."""
    items = {(a, n) for a, n, _ in contract.items()}
    out: dict[tuple[str, str], list[Rehearsal]] = {}
    for run in runs:
        if run["platform"] not in PLATFORMS:  # a row from another version of the platform list
            continue
        for c in run["checks"]:
            key = (c["area"], c["item"])
            if key in items and c["result"] in ("pass", "fail"):
                out.setdefault(key, []).append(
                    Rehearsal(
                        result=c["result"], date=run["date"], platform=run["platform"], note=f"measured: {c['detail']}"
                    )  # fmt: skip
                )
    return out
