"""`exitkit collect confluent|cloudwatch|prometheus|kafka`: pull metrics (or, for kafka, Admin API metadata) into export files.

Registered by `exitkit.cli` (`cli.add_command(collect)`). This module imports only
`exitkit.cli.common` (no import cycle) and loads httpx / boto3 only inside the command that needs
them, so registering it costs the other commands nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

import exitkit.collect  # noqa: F401  (registers manifest.json as an ingest companion, for `exitkit ingest`)
from exitkit.cli.common import DB_OPTION, user_errors

DAYS = click.option(
    "--days", type=click.FloatRange(min=0, min_open=True), required=True, help="How far back from now (e.g. 7, 0.25)."
)
OUT = click.option(
    "--out", type=click.Path(file_okay=False), default=None,
    help="Folder to write (new or empty; default exports/<source>-<cluster>-<UTC timestamp>/).",
)  # fmt: skip
INGEST = click.option("--ingest", is_flag=True, help="Then load the folder into the store (one transaction).")
DB = DB_OPTION
PROGRESS = click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def collect() -> None:
    """Pull Kafka metrics (Confluent Cloud, CloudWatch, Prometheus) or a live cluster's metadata into export files."""


@collect.command()
@click.option("--cluster", required=True, help="Confluent Kafka cluster id, lkc-….")
@DAYS
@OUT
@INGEST
@DB
@click.option("--url", default="https://api.telemetry.confluent.cloud", show_default=True, help="Metrics API base URL.")
@click.option(
    "--granularity", type=click.Choice(["PT1M", "PT5M", "PT15M", "PT30M", "PT1H", "PT4H", "PT6H", "PT12H", "P1D"],
    case_sensitive=False), default=None, help="Bucket length (default: the finest that fits the range in one request).",
)  # fmt: skip
@PROGRESS
@user_errors
def confluent(cluster, days, out, ingest, db, url, granularity, progress) -> None:
    """Confluent Cloud Metrics API v2 (key and secret from CONFLUENT_CLOUD_API_KEY / _SECRET)."""
    from exitkit.collect import confluent as cc  # deferred: heavy

    folder = cc.collect(cluster, days, out, url=url, granularity=granularity, progress=progress)
    _finish(folder, ingest, db, cluster)


@collect.command()
@click.option("--cluster", required=True, help="MSK cluster name (the 'Cluster Name' dimension).")
@DAYS
@OUT
@INGEST
@DB
@click.option("--region", default=None, help="AWS region (default: the boto3 chain's, e.g. AWS_REGION).")
@click.option("--period", type=int, default=None, help="Seconds per point (default: 60, 300 or 3600 by age).")
@PROGRESS
@user_errors
def cloudwatch(cluster, days, out, ingest, db, region, period, progress) -> None:
    """Amazon MSK CloudWatch AWS/Kafka metrics (credentials: the normal boto3 chain)."""
    from exitkit.collect import cloudwatch as cw  # deferred: heavy

    folder = cw.collect(cluster, days, out, region=region, period=period, progress=progress)
    _finish(folder, ingest, db, cluster)


@collect.command()
@click.option("--url", required=True, help="Prometheus base URL, e.g. http://prometheus:9090.")
@DAYS
@click.option("--cluster", default=None, help="Cluster name for series without a cluster label.")
@click.option(
    "--step", type=int, default=None, help="Seconds between samples (default: 60 up to 7 days, coarser beyond)."
)
@OUT
@INGEST
@DB
@PROGRESS
@user_errors
def prometheus(url, days, cluster, step, out, ingest, db, progress) -> None:
    """Prometheus query_range (optional auth: PROMETHEUS_TOKEN, or PROMETHEUS_USERNAME / _PASSWORD)."""
    from exitkit.collect import prometheus as pm  # deferred: heavy

    folder = pm.collect(url, days, out, cluster=cluster, step=step, progress=progress)
    _finish(folder, ingest, db, cluster)


@collect.command()
@click.option("--bootstrap", required=True, help="HOST:PORT of one or more brokers (comma-separated).")
@click.option("--cluster", required=True, help="The cluster's name in the store, e.g. prod-msk.")
@click.option(
    "-X",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="librdkafka setting (repeatable), e.g. -X security.protocol=SASL_SSL; also $EXITKIT_KAFKA_<NAME>.",
)
@OUT
@INGEST
@DB
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.5),
    default=10.0,
    show_default=True,
    help="Seconds to wait for the cluster and for each admin call.",
)
@PROGRESS
@user_errors
def kafka(bootstrap, cluster, settings, out, ingest, db, timeout, progress) -> None:
    """Kafka Admin API of a live cluster: topics, configs, groups and offsets, ACLs (read-only; see docs/collect.md)."""
    from exitkit.collect import kafka as ka  # deferred: heavy

    folder = ka.collect(bootstrap, cluster, out, settings=settings, timeout_s=timeout, progress=progress)
    _finish(folder, ingest, db, cluster)


def _finish(folder: Path, ingest: bool, db: str | None, cluster: str | None) -> None:
    """Say what was written; with --ingest, load the folder and say what was loaded."""

    manifest = json.loads((folder / "manifest.json").read_text())
    files = manifest["files"]
    size = sum(f["bytes"] for f in files)
    click.echo(f"wrote    {len(files)} files ({size:,} bytes) to {folder}/ (manifest.json lists them with sha256)")
    if not ingest:
        click.echo(f"next:    exitkit ingest {folder}")
        return
    from exitkit.ingest import ingest as run_ingest  # deferred: heavy
    from exitkit.store import db_path  # deferred: heavy

    reports = run_ingest([folder], db, cluster=cluster)
    loaded = [r for r in reports if r.status == "loaded"]
    rows = sum(r.rows for r in loaded)
    spans = [r for r in loaded if r.ts_from]
    span = (
        f", {min(r.ts_from for r in spans):%Y-%m-%d %H:%M} → {max(r.ts_to for r in spans):%Y-%m-%d %H:%M} UTC"
        if spans
        else ""
    )
    click.echo(f"ingested {len(loaded)} file(s), {rows:,} rows into {db_path(db)}{span}")
    for r in reports:
        if r.status == "skipped":
            click.echo(f"skipped  {r.path} (already loaded: same content)")
