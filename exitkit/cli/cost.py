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
    from exitkit.cost.adapter import lines_frame, quoted_frame, totals_frame, workload_cost  # deferred: heavy
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
        emit(quoted_frame(lines_frame(wc.result)), "csv")
        return
    res = wc.result
    missing = res.missing_prices()
    if missing:  # before any number: which totals are not known, and how to supply them
        keys = sorted({k for ks in missing.values() for k in ks})
        click.echo(
            f"needs quote: {', '.join(missing)} — no published price for {', '.join(keys)}; "
            f"add your quote to the workload's `prices:` (e.g. `prices: {{{keys[0]}: <USD per unit>}}`)"
        )
    click.echo(f"{wl.display_title} — monthly USD ({res.month_hours:g} h months)")
    df = quoted_frame(totals_frame(res))
    df["payback"] = [
        "" if p.today else (res.cash_flows[p.platform].payback_label if p.platform in res.cash_flows else "—")
        for p in res.platforms
    ]
    cols = ["platform", "today", "steady_usd", "abnormal_usd", "total_usd", "migration_usd", "payback"]
    cols += ["labor_hours_per_month", "labor_fte"]
    usd = lambda v: v if isinstance(v, str) else f"${v:,.0f}"  # noqa: E731
    fmts = {c: usd for c in ("steady_usd", "abnormal_usd", "total_usd", "migration_usd")}
    fmts |= {"labor_hours_per_month": lambda v: f"{v:g} h", "labor_fte": lambda v: f"{v:.2f}"}
    emit(df[cols], "table", fmts)
    lab = res.assumptions.get("labor", {})
    click.echo(
        f"labour: ${lab.get('hourly_rate_usd', 0):,.0f}/h; FTE = hours ÷ {lab.get('hours_per_fte_month', 0):.1f} h "
        f"(2,087 h/yr ÷ 12, US OPM); hours per platform: workload assumptions.labor.hours_per_month, "
        "else exitkit defaults [U] (exitkit/platforms.yaml)"
    )
    today = res.today_usd()
    if res.baseline == "actual":
        click.echo(
            f"baseline: actual — today {usd(today)}/month is the ingested bill allocated to this workload "
            f"({usd(res.allocation.monthly_usd)}) plus the modelled lines no bill carries, labour included "
            f"({usd(res.unbilled_today_usd())})"
        )
    else:
        shown = "—" if today is None else usd(today)
        click.echo(f"baseline: modelled — today {shown}/month is the model of {wl.source.platform}")
    for note in (*wc.notes, *res.warnings):
        click.echo(f"note: {note}")


@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option(
    "--region",
    default=None,
    help="List REGION's prices: a key without a REGION list price shows the catalog's and its region.",
)
@user_errors
def prices(fmt: str, region: str | None) -> None:
    """The price catalog: every price with its unit, region, source and date."""
    from exitkit.prices import (  # deferred: heavy, off the startup path
        catalog_frame,
        load_catalog,
    )

    catalog = load_catalog(region=region)
    df = catalog_frame(catalog)
    if fmt == "json":
        emit(df, "json")
        return
    emit(df[["key", "value", "unit", "region", "as_of", "source"]], "table")
    if region is not None:
        for note in catalog.notes:
            click.echo(f"note: {note}")
        other = catalog.other_region_keys(catalog.prices, region)
        if other:
            click.echo(
                f"note: {len(other)} prices have no {region} list price and show another region's: "
                + ", ".join(f"{k} ({r})" for k, r in other)
            )
