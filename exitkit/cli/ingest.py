"""`exitkit ingest` and `exitkit profile`: exports into the store, and one row per topic.

Package imports inside the commands are deferred on purpose: pandas, DuckDB and the readers
take about a second to import, and `exitkit --help` or another command should not pay for them.
"""

from __future__ import annotations

import time

import click

from exitkit.cli.common import DB_OPTION, FORMAT_OPTION, emit, user_errors


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@DB_OPTION
@click.option("--cluster", help="Cluster name where the content does not say (CLI outputs, bare /query bodies).")
@click.option("--format", "fmt", help="Force a reader instead of sniffing the content (see README).")
@click.option("--metric", help="Metric where the content does not say (a Confluent /query body), e.g. bytes_in.")
@click.option("--group", help="Consumer group where the content does not say (kafka-consumer-groups of Kafka 1.x).")
@click.option(
    "--cluster-tag",
    "cluster_tag",
    metavar="KEY",
    help="Bills: the resource tag whose value names the cluster (EC2, EBS, S3 of self-managed Kafka).",
)
@click.option(
    "--cluster-map",
    "cluster_map",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Bills: a file of `RESOURCE_ID_OR_GLOB CLUSTER` lines tying resources to clusters.",
)
@user_errors
def ingest(
    paths: tuple[str, ...],
    db: str | None,
    cluster: str | None,
    fmt: str | None,
    metric: str | None,
    group: str | None,
    cluster_tag: str | None,
    cluster_map: str | None,
) -> None:
    """Load export files or folders (recursively, .gz too) into the store, all or nothing."""
    from exitkit.bill.paths import Attribution, read_cluster_map  # deferred: off the startup path
    from exitkit.ingest import ingest as run_ingest  # deferred: heavy, off the startup path
    from exitkit.store import db_path  # deferred: heavy, off the startup path

    bill = Attribution(tag=cluster_tag, mapping=read_cluster_map(cluster_map) if cluster_map else ())
    started = time.perf_counter()
    reports = run_ingest(paths, db, cluster=cluster, metric=metric, fmt=fmt, group=group, bill=bill)
    elapsed = time.perf_counter() - started
    points = 0
    for r in reports:
        if r.status == "loaded":
            points += r.rows
            span = f", {r.ts_from:%Y-%m-%d %H:%M} → {r.ts_to:%Y-%m-%d %H:%M} UTC" if r.ts_from else ""
            click.echo(
                f"loaded   {r.path} ({r.format}: {r.rows:,} rows, cluster {', '.join(r.clusters) or '?'}, "
                f"{r.topics} topics{span})"
            )
        elif r.status == "skipped":
            click.echo(f"skipped  {r.path} (already loaded: same content)")
        else:
            click.echo(f"used     {r.path} ({r.format}: companion file, no rows of its own)")
        for note in r.notes:
            click.echo(f"  note: {note}")
    loaded = sum(r.status == "loaded" for r in reports)
    skipped = sum(r.status == "skipped" for r in reports)
    used = len(reports) - loaded - skipped
    others = (f", {used} companion file(s) used" if used else "") + (
        f", {skipped} skipped (already loaded)" if skipped else ""
    )
    rate = f", {points / elapsed:,.0f} rows/s" if elapsed > 0 and points else ""
    click.echo(f"{loaded} file(s) loaded{others}, {points:,} rows into {db_path(db)} in {elapsed:.1f}s{rate}")


@click.command()
@DB_OPTION
@click.option("--workload", type=click.Path(dir_okay=False), help="Show this workload's topics and its aggregate.")
@FORMAT_OPTION
@user_errors
def profile(db: str | None, workload: str | None, fmt: str) -> None:
    """One row per (cluster, topic): write rate, fan-out, records, retention, lag, coverage."""
    if workload:
        from exitkit.cli.workload import (  # deferred: heavy, off the startup path
            profile_with_workload,  # deferred: heavy, off the startup path
        )

        return profile_with_workload(db, workload, fmt)
    from exitkit.profile.topics import topic_profile  # deferred: heavy, off the startup path
    from exitkit.store import open_store  # deferred: heavy, off the startup path
    from exitkit.units import (  # deferred: heavy, off the startup path
        human_bytes,
        human_duration_ms,
        human_rate,
    )

    with open_store(db) as con:
        df = topic_profile(con)
    table_fmt = {
        **{c: human_rate for c in df.columns if "bytes_per_s" in c},
        "retained_bytes": human_bytes, "retention_bytes": lambda v: "unlimited" if v < 0 else human_bytes(v),
        "retention_ms": human_duration_ms, "fan_out": lambda v: f"{v:.2f}", "coverage": lambda v: f"{v:.0%}",
        "records_in_per_s_mean": lambda v: f"{v:,.1f}", "avg_record_bytes": lambda v: f"{v:,.0f} B",
    }  # fmt: skip
    emit(df, fmt, table_fmt)
