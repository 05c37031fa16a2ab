"""`exitkit plan`: contract evidence, boundaries, cutover, readiness gates for one workload.

Registered by `exitkit.cli`. Package imports inside the command are deferred (DuckDB, the
models): see `exitkit.cli.ingest`.
"""

from __future__ import annotations

import click

from exitkit.cli.common import user_errors

FORMATS = click.Choice(["table", "json"])


def _cost_result(con, workload):
    """The cost model's result for the workload (`exitkit.cost.adapter.workload_cost`)."""
    from exitkit.cost.adapter import workload_cost  # deferred: heavy

    return workload_cost(workload, con)


@click.command()
@click.option("--workload", "workload_path", type=click.Path(dir_okay=False), required=True, help="Workload YAML file.")
@click.option(
    "--db", type=click.Path(dir_okay=False), default=None, envvar="EXITKIT_DB",
    help="DuckDB store file (default: exitkit.duckdb here, or $EXITKIT_DB).",
)  # fmt: skip
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
def plan(workload_path: str, db: str | None, fmt: str) -> None:
    """Contract evidence, capability conflicts, boundaries, cutover and readiness gates."""
    user_errors(_run)(workload_path, db, fmt)


def _run(workload_path: str, db: str | None, fmt: str) -> None:
    from exitkit.plan import build_plan, plan_tables  # deferred: heavy
    from exitkit.store import db_path, open_store  # deferred: heavy
    from exitkit.workload.loader import load_workload  # deferred: heavy

    wl = load_workload(workload_path)
    if wl.topics or db_path(db).exists():
        with open_store(db) as con:
            result = build_plan(con, wl, _cost_result(con, wl))
    else:  # a what-if workload needs no store
        result = build_plan(None, wl, _cost_result(None, wl))
    if fmt == "json":
        click.echo(result.to_json())
        return
    tables = plan_tables(result)
    titles = {
        "recommendations": "Recommendations", "gates": "Readiness gates", "contract": "Contract worksheet",
        "conflicts": "Capability conflicts", "boundaries": "Boundaries", "moments": f"Cutover ({result.cutover['tool']})",
        "rollback_window": "Rollback window", "duplicates": "Duplicate estimate at the consumer move",
        "offset_validation": "Offset validation", "rehearsals": "Measured rehearsals (exitkit rehearse)",
    }  # fmt: skip
    click.echo(f"Plan: {result.title} ({result.workload}), today on {result.source_platform}")
    rec = result.recommended
    click.echo(f"Recommended: {rec['decision']}" + (f" → {rec['candidate']}" if rec.get("candidate") else ""))
    for key, title in titles.items():
        df = tables[key]
        click.echo(f"\n== {title} ==")
        if df.empty:
            click.echo("(none)")
            continue
        shown = df.copy()
        for col in shown.columns:
            shown[col] = shown[col].map(lambda v: "—" if v is None or (isinstance(v, float) and v != v) else v)
        click.echo(shown.to_string(index=False, max_colwidth=90))
    for note in result.notes:
        click.echo(f"note: {note}")
