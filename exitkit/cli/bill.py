"""`exitkit bill`: actual cost from ingested bills per cluster and month, beside the model.

Package imports inside the command are deferred (pandas, DuckDB, the models): see `exitkit.cli.ingest`.
"""

from __future__ import annotations

import click

from exitkit.cli.common import DB_OPTION, FORMAT_OPTION, emit, user_errors


@click.command()
@DB_OPTION
@click.option("--cluster", help="Only this cluster.")
@FORMAT_OPTION
@user_errors
def bill(db: str | None, cluster: str | None, fmt: str) -> None:
    """Actual cost per cluster and month by byte path (effective: after credits and commitments;
    tax apart), beside the model's estimate, the share it explains and the largest gaps."""
    from exitkit.bill.reconcile import bill_frame, bill_report  # deferred: heavy
    from exitkit.errors import ExitkitError  # deferred: with the rest
    from exitkit.safe_output import strict_json  # deferred: with the rest
    from exitkit.store import open_store  # deferred: heavy, off the startup path

    with open_store(db) as con:
        report = bill_report(con, cluster)
    if not report["clusters"] and not report["unattributed"]:
        raise ExitkitError(
            "no bill lines in the store"
            + (f" for cluster {cluster}" if cluster else "")
            + "; ingest a bill export first (exitkit ingest BILL; README 'Supported exports')"
        )
    if fmt == "json":
        click.echo(strict_json(report, "bill JSON", indent=2))
        return
    df = bill_frame(report)
    if fmt == "csv":
        emit(df, "csv")
        return
    usd = lambda v: f"${v:,.2f}"  # noqa: E731
    click.echo(f"Actual vs modelled, {report['currency']} per calendar month (effective cost; tax apart)")
    emit(df, "table", {"actual_usd": usd, "modelled_usd": usd})
    for c in report["clusters"]:
        share = "—" if c["explained"] is None else f"{c['explained']:.0%}"
        gaps = ", ".join(f"{g['path']} {g['gap_usd']:+,.2f}" for g in c["gaps"]) or "—"
        click.echo(f"{c['cluster']} {c['month']}: the model explains {share}; largest gaps (actual − model): {gaps}")
        for note in c["notes"]:
            click.echo(f"  note: {note}")
        if not c["known_cluster"] and c["modelled_usd"] is not None:
            click.echo("  note: no topic of this cluster in the store's profile")
    if report["unattributed"]:
        total = sum(r["effective_usd"] for r in report["unattributed"])
        click.echo(f"unattributed (no cluster; may be a cluster the exports missed): {usd(total)}")
        for r in report["unattributed"][:20]:
            what = r["resource_id"] or r["usage_type"] or r["service"] or "—"
            click.echo(f"  {r['month']} {r['provider']} {r['charge_category']:<10} {what}: {usd(r['effective_usd'])}")
        if len(report["unattributed"]) > 20:
            click.echo(f"  … {len(report['unattributed']) - 20} more (--format json lists all)")
    for month, tax in report["tax_usd"].items():
        click.echo(f"tax {month}: {usd(tax)} (never on a cluster or path)")
