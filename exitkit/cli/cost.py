"""`exitkit cost` and `exitkit prices`: a workload's monthly cost by byte path, and the catalog.

Package imports inside the commands are deferred (pandas, DuckDB, the models): see `exitkit.cli.ingest`.
"""

from __future__ import annotations

import click

from exitkit.cli.common import DB_OPTION, FORMAT_OPTION, emit, user_errors


@click.command()
@click.option(
    "--workload", "workload_path", type=click.Path(dir_okay=False), required=True, help="Workload file (YAML)."
)
@DB_OPTION
@FORMAT_OPTION
@user_errors
def cost(workload_path: str, db: str | None, fmt: str) -> None:
    """Monthly cost by byte path for today's platform and every candidate (steady, abnormal, migration)."""
    from exitkit.cost.adapter import lines_frame, totals_frame, workload_cost  # deferred: heavy
    from exitkit.store import open_store  # deferred: heavy, off the startup path
    from exitkit.workload.loader import load_workload  # deferred: heavy, off the startup path

    wl = load_workload(workload_path)
    if wl.topics:
        with open_store(db) as con:
            wc = workload_cost(wl, con)
    else:
        wc = workload_cost(wl)
    if fmt == "json":
        click.echo(wc.result.to_json())
        return
    if fmt == "csv":
        emit(lines_frame(wc.result), "csv")
        return
    usd = lambda v: f"${v:,.0f}"  # noqa: E731
    click.echo(f"{wl.display_title} — monthly USD ({wc.result.month_hours:g} h months)")
    emit(
        totals_frame(wc.result), "table", {c: usd for c in ("steady_usd", "abnormal_usd", "total_usd", "migration_usd")}
    )
    today = wc.result.today_usd()
    if wc.result.baseline == "actual":
        click.echo(
            f"baseline: actual — today {usd(today)}/month: the ingested bill allocated to this workload "
            f"({usd(wc.result.allocation.monthly_usd)}) + modelled lines on no bill ({usd(wc.result.unbilled_usd())})"
        )
    else:
        shown = "—" if today is None else usd(today)
        click.echo(f"baseline: modelled — today {shown}/month is the model of {wl.source.platform}")
    for note in (*wc.notes, *wc.result.warnings):
        click.echo(f"note: {note}")


@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@user_errors
def prices(fmt: str) -> None:
    """The price catalog: every price with its unit, region, source and date."""
    from exitkit.prices import (  # deferred: heavy, off the startup path
        catalog_frame,
        load_catalog,
    )

    df = catalog_frame(load_catalog())
    if fmt == "json":
        emit(df, "json")
    else:
        emit(df[["key", "value", "unit", "region", "as_of", "source"]], "table")
