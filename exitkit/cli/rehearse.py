"""`exitkit rehearse`: the workload's contract run on a candidate cluster with real clients.

Registered by `exitkit.cli`. Exit 0 pass, 1 fail, 2 bad input or an
unreachable cluster (one `error:` line). See docs/rehearse.md.
"""

from __future__ import annotations

import contextlib
import sys

import click

from exitkit.cli.common import DB_OPTION, user_errors


@click.command()
@click.option("--workload", "workload_path", type=click.Path(dir_okay=False), required=True, help="Workload YAML file.")
@click.option("--bootstrap", required=True, help="HOST:PORT of the candidate cluster (comma-separated for several).")
@click.option("--platform", required=True, help="The candidate's platform id (one of the workload's candidates).")
@click.option(
    "-X",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="librdkafka setting for every client (repeatable); also $EXITKIT_KAFKA_<NAME>.",
)
@click.option("--duration", type=float, default=60.0, show_default=True, help="Seconds of producing.")
@click.option("--rate", type=float, default=None, help="Records/s (default: 10% of the workload's, 50-2000/s).")
@click.option("--max-partitions", type=click.IntRange(min=1), default=None, help="Scale partitions down to at most N.")
@click.option("--keep", is_flag=True, help="Keep the rehearsal topics (default: deleted at the end).")
@click.option("--fault-command", default=None, help="Shell command run at mid-point (e.g. a scripted broker restart).")
@DB_OPTION
@click.option("--out", type=click.Path(file_okay=False), default="rehearsals", show_default=True,
              help="Folder for rehearsal-<workload>-<platform>-<UTC>.json.")  # fmt: skip
@click.option("--timeout", type=click.FloatRange(min=0.5), default=10.0, show_default=True,
              help="Seconds to wait for the cluster and each admin call.")  # fmt: skip
@click.option("--progress/--no-progress", default=None, help="Progress on stderr (default: on a terminal).")
@user_errors
def rehearse(workload_path, bootstrap, platform, settings, duration, rate, max_partitions, keep, fault_command, db,
             out, timeout, progress) -> None:  # fmt: skip
    """Run the workload's Kafka contract on a candidate cluster: loss, duplicates, order, resume, latency."""
    from exitkit import rehearse as rh  # deferred: heavy
    from exitkit.kafka_client import client_settings  # deferred: heavy
    from exitkit.store import db_path, open_store  # deferred: heavy
    from exitkit.workload.loader import load_workload  # deferred: heavy

    wl = load_workload(workload_path)
    cs = client_settings(bootstrap, settings)  # a bad -X is exit 2 before anything runs
    # the store shapes the topics (partitions, retention, record size) when the workload selects some
    store = open_store(db) if wl.topics and db_path(db).exists() else contextlib.nullcontext(None)
    with store as con:
        doc = rh.rehearse(
            wl, bootstrap, platform, settings=settings, duration_s=duration, rate=rate, max_partitions=max_partitions,
            keep=keep, fault_command=fault_command, con=con, timeout_s=timeout, progress=progress,
        )  # fmt: skip
    path = rh.write(doc, out, cs.secrets)
    with open_store(db, write=True) as con:
        rh.store_row(con, doc, path)
    for line in rh.summary(doc):
        click.echo(line)
    click.echo(f"wrote    {path} and a rehearsals row in {db_path(db)}")
    if doc["result"] != "pass":
        sys.exit(1)
