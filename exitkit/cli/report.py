"""`exitkit report` and `exitkit demo`: the report notebook once per workload, offline HTML.

Package imports inside the commands are deferred (papermill, nbconvert, DuckDB): see `exitkit.cli.ingest`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from exitkit.cli.common import DB_OPTION, emit, user_errors
from exitkit.errors import OutputError


@click.command()
@click.argument("workloads", nargs=-1, required=True, type=click.Path(dir_okay=False))
@DB_OPTION
@click.option(
    "--out", "out_dir", default="reports", show_default=True, type=click.Path(file_okay=False), help="Output folder."
)
@click.option(
    "--jobs", type=click.IntRange(min=1), default=None, help="Workloads run in parallel (default: CPU cores)."
)
@click.option(
    "--timeout", "timeout_s", type=click.FloatRange(min=1), default=600, show_default=True, help="Seconds per workload."
)
@user_errors
def report(workloads: tuple[str, ...], db: str | None, out_dir: str, jobs: int | None, timeout_s: float) -> None:
    """Run the report notebook once per workload into offline HTML, .ipynb, .costs.csv and .xlsx."""
    from exitkit.report.batch import run_reports  # deferred: heavy, off the startup path

    started = time.perf_counter()
    results = run_reports(list(workloads), db, out_dir, jobs=jobs, timeout_s=timeout_s)
    _print_report_results(results, Path(out_dir), time.perf_counter() - started)
    if any(r["status"] != "ok" for r in results):
        sys.exit(1)


def _print_report_results(results: list[dict], out: Path, elapsed: float) -> None:
    for r in results:
        if r["status"] == "ok":
            click.echo(f"ok      {r['name']}: {r['html']}")
        else:
            click.echo(f"failed  {r['name']}: {r['error']}", err=True)
    ok = sum(r["status"] == "ok" for r in results)
    click.echo(f"{ok}/{len(results)} report(s) in {elapsed:.0f}s; fleet summary: {(out / 'index.html').resolve()}")


@click.command()
@click.option(
    "--out", "out_dir", default="out/demo", show_default=True, type=click.Path(file_okay=False), help="Reports folder."
)
@click.option(
    "--jobs", type=click.IntRange(min=1), default=None, help="Workloads run in parallel (default: CPU cores)."
)
@user_errors
def demo(out_dir: str, jobs: int | None) -> None:
    """The main job on the embedded demo estate: write its exports, ingest them, profile, report."""
    from exitkit.bill.allocate import actual_by_path  # deferred: heavy, off the startup path
    from exitkit.demo import DEMO_CLUSTERS, demo_workloads, generate, ingest_demo  # deferred: heavy
    from exitkit.profile.topics import topic_profile  # deferred: heavy, off the startup path
    from exitkit.report.batch import run_reports  # deferred: heavy, off the startup path
    from exitkit.store import open_store  # deferred: heavy, off the startup path
    from exitkit.units import (  # deferred: heavy, off the startup path
        human_bytes,
        human_duration_ms,
        human_rate,
    )

    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "exports").mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot write the demo here ({exc.strerror or exc}); choose another --out") from None
    exports = out / "exports"
    started = time.perf_counter()
    click.echo(f"writing the demo estate ({', '.join(DEMO_CLUSTERS)}) to {exports} …")
    generate(exports)
    db = out / "demo.duckdb"
    for p in (db, Path(f"{db}.wal")):
        p.unlink(missing_ok=True)
    click.echo(f"ingesting into {db} …")
    ingest_demo(exports, db)
    with open_store(db) as con:
        prof = topic_profile(con)
        billed = actual_by_path(con)
    click.echo(f"\nprofile: {len(prof)} topics in {prof.cluster.nunique()} clusters")
    emit(
        prof[
            [
                "cluster",
                "topic",
                "write_bytes_per_s_mean",
                "write_bytes_per_s_p95",
                "fan_out",
                "retention_ms",
                "retained_bytes",
                "coverage",
            ]
        ],
        "table",
        {
            "write_bytes_per_s_mean": human_rate,
            "write_bytes_per_s_p95": human_rate,
            "fan_out": lambda v: f"{v:.2f}",
            "retained_bytes": human_bytes,
            "retention_ms": human_duration_ms,
            "coverage": lambda v: f"{v:.0%}",
        },
    )
    if len(billed):
        totals = billed.groupby(["cluster", "month"], as_index=False)["actual_usd"].sum()
        shown = ", ".join(f"{r.cluster} {r.month} ${r.actual_usd:,.0f}" for r in totals.itertuples())
        click.echo(f"\nbills (actual, effective cost): {shown}; the model beside them: exitkit bill --db {db}")
    workloads = demo_workloads()
    click.echo(f"\nreporting on {len(workloads)} demo workloads …")
    results = run_reports(workloads, db, out, jobs=jobs)
    _print_report_results(results, out, time.perf_counter() - started)
    if any(r["status"] != "ok" for r in results):
        sys.exit(1)
