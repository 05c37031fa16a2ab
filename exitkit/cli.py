"""The `exitkit` command. Thin: parse options, call the package, print; user errors exit 2."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from exitkit.cli_common import DB_OPTION, FORMAT_OPTION, emit, user_errors  # noqa: F401  (re-exported)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="exitkit")
def cli() -> None:
    """exitkit: evidence and cost for Kafka platform exit planning."""


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@DB_OPTION
@click.option("--cluster", help="Cluster name where the content does not say (CLI outputs, bare /query bodies).")
@click.option("--format", "fmt", help="Force a reader instead of sniffing the content (see README).")
@click.option("--metric", help="Metric where the content does not say (a Confluent /query body), e.g. bytes_in.")
@user_errors
def ingest(paths: tuple[str, ...], db: str | None, cluster: str | None, fmt: str | None, metric: str | None) -> None:
    """Load export files or folders (recursively, .gz too) into the store, all or nothing."""
    from exitkit.ingest import ingest as run_ingest
    from exitkit.store import db_path

    started = time.perf_counter()
    reports = run_ingest(paths, db, cluster=cluster, metric=metric, fmt=fmt)
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


@cli.command()
@DB_OPTION
@click.option("--workload", type=click.Path(dir_okay=False), help="Show this workload's topics and its aggregate.")
@FORMAT_OPTION
@user_errors
def profile(db: str | None, workload: str | None, fmt: str) -> None:
    """One row per (cluster, topic): write rate, fan-out, records, retention, lag, coverage."""
    if workload:
        from exitkit.cli_workload import profile_with_workload

        return profile_with_workload(db, workload, fmt)
    from exitkit.profile import topic_profile
    from exitkit.store import open_store
    from exitkit.units import human_bytes, human_duration_ms, human_rate

    with open_store(db) as con:
        df = topic_profile(con)
    table_fmt = {
        **{c: human_rate for c in df.columns if "bytes_per_s" in c},
        "retained_bytes": human_bytes, "retention_bytes": lambda v: "unlimited" if v < 0 else human_bytes(v),
        "retention_ms": human_duration_ms, "fan_out": lambda v: f"{v:.2f}", "coverage": lambda v: f"{v:.0%}",
        "records_in_per_s_mean": lambda v: f"{v:,.1f}", "avg_record_bytes": lambda v: f"{v:,.0f} B",
    }  # fmt: skip
    emit(df, fmt, table_fmt)


@cli.command()
@click.option(
    "--workload", "workload_path", type=click.Path(dir_okay=False), required=True, help="Workload file (YAML)."
)
@DB_OPTION
@FORMAT_OPTION
@user_errors
def cost(workload_path: str, db: str | None, fmt: str) -> None:
    """Monthly cost by byte path for today's platform and every candidate (steady, abnormal, migration)."""
    from exitkit.costing import lines_frame, totals_frame, workload_cost
    from exitkit.store import open_store
    from exitkit.workload import load_workload

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
    for note in (*wc.notes, *wc.result.warnings):
        click.echo(f"note: {note}")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@user_errors
def prices(fmt: str) -> None:
    """The price catalog: every price with its unit, region, source and date."""
    from exitkit.prices import catalog_frame, load_catalog

    df = catalog_frame(load_catalog())
    if fmt == "json":
        emit(df, "json")
    else:
        emit(df[["key", "value", "unit", "region", "as_of", "source"]], "table")


@cli.command()
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
    from exitkit.report import run_reports

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


@cli.command()
@click.option(
    "--out", "out_dir", default="out/demo", show_default=True, type=click.Path(file_okay=False), help="Reports folder."
)
@click.option(
    "--jobs", type=click.IntRange(min=1), default=None, help="Workloads run in parallel (default: CPU cores)."
)
@user_errors
def demo(out_dir: str, jobs: int | None) -> None:
    """The main job on the embedded demo estate: write its exports, ingest them, profile, report."""
    from exitkit.demo import DEMO_CLUSTERS, generate, ingest_demo
    from exitkit.profile import topic_profile
    from exitkit.report import ROOT, run_reports
    from exitkit.store import open_store
    from exitkit.units import human_bytes, human_duration_ms, human_rate

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    exports = ROOT / "data" / "demo"
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
    workloads = sorted((ROOT / "data" / "workloads").glob("*.yaml"))
    click.echo(f"\nreporting on {len(workloads)} demo workloads …")
    results = run_reports(workloads, db, out, jobs=jobs)
    _print_report_results(results, out, time.perf_counter() - started)
    if any(r["status"] != "ok" for r in results):
        sys.exit(1)


def _register() -> None:
    """Commands that live beside the feature they drive."""
    from exitkit.cli_collect import collect
    from exitkit.cli_plan import plan
    from exitkit.cli_rehearse import rehearse
    from exitkit.cli_workload import schema

    cli.add_command(collect)
    cli.add_command(schema)
    cli.add_command(plan)
    cli.add_command(rehearse)


_register()


def main() -> None:
    cli(prog_name="exitkit")


if __name__ == "__main__":
    main()
