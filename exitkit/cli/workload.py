"""CLI pieces for workloads: `exitkit schema` and `exitkit profile --workload FILE`.

Registered by `exitkit.cli` (`profile` calls `profile_with_workload` when `--workload` is given).
"""

from __future__ import annotations

import json
import math

import click
import pandas as pd

from exitkit.cli.common import emit
from exitkit.profile.workload import PROVENANCE_FIELDS, workload_profile, workload_topics
from exitkit.units import human_bytes, human_duration_ms, human_rate
from exitkit.workload.loader import load_workload, workload_json_schema

# Profile columns that the aggregate's provenance speaks for (retention_ms ← retention_s).
_PROVENANCE_COLUMN = {f: f for f in PROVENANCE_FIELDS} | {"retention_ms": "retention_s"}


@click.command()
def schema() -> None:
    """Print the workload file's JSON schema (for editor completion)."""
    click.echo(json.dumps(workload_json_schema(), indent=2))


def _table_formatters(columns) -> dict:
    return {
        **{c: human_rate for c in columns if "bytes_per_s" in c},
        "retained_bytes": human_bytes,
        "retention_bytes": lambda v: "unlimited" if v < 0 else human_bytes(v),
        "retention_ms": human_duration_ms,
        "fan_out": lambda v: f"{v:.2f}",
        "coverage": lambda v: f"{v:.0%}",
        "records_in_per_s_mean": lambda v: f"{v:,.1f}",
        "avg_record_bytes": lambda v: f"{v:,.0f} B",
        "partitions": lambda v: f"{v:.0f}",
    }


def _gib(v: float | None) -> str:
    return "—" if v is None else f"{v:,.0f}"


def _unknown(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def profile_with_workload(db: str | None, workload_path: str, fmt: str) -> None:
    """Print the workload's topics (rows of `topic_profile`) and a final `(workload) <name>` row.

    Table: assumed values end in `*`, defaults in `~`. JSON: the last record has a
    `provenance` object. CSV: the last row has an `assumed` column listing assumed fields.
    A what-if workload (no topics) needs no store.
    """
    from exitkit.store import open_store  # deferred: heavy

    wl = load_workload(workload_path)
    if wl.topics:
        from exitkit.profile.topics import topic_profile  # deferred: heavy

        with open_store(db) as con:
            con.execute("SET enable_progress_bar = false")  # DuckDB draws it on stdout: it would corrupt JSON/CSV
            df = topic_profile(con)
            rows = workload_topics(con, wl, profile_df=df)
            agg = workload_profile(con, wl, profile_df=df)
    else:
        rows = workload_topics(None, wl)
        agg = workload_profile(None, wl)
    agg_row = agg.as_profile_row() | {"driver": agg.driver}
    columns = list(rows.columns)
    if fmt == "json":
        out = pd.DataFrame([*rows.to_dict(orient="records"), agg_row], columns=columns)
        out = out.astype(object).where(out.notna(), None)
        out["provenance"] = [None] * len(rows) + [agg.provenance]
        out["notes"] = [None] * len(rows) + [list(agg.notes)]
        emit(out, "json")
        return
    if fmt == "csv":
        out = pd.DataFrame([*rows.to_dict(orient="records"), agg_row], columns=columns)
        assumed = [f for f, p in agg.provenance.items() if p == "assumed"]
        out["assumed"] = [None] * len(rows) + [";".join(assumed)]
        emit(out, "csv")
        return
    fmts = _table_formatters(columns)
    shown = pd.DataFrame([*rows.to_dict(orient="records"), agg_row], columns=columns).astype(object)
    for col, f in fmts.items():
        if col in shown:
            shown[col] = shown[col].map(lambda v, f=f: "—" if _unknown(v) else f(v))
    marks = {"assumed": "*", "default": "~"}
    last = len(shown) - 1
    for col, field in _PROVENANCE_COLUMN.items():
        if col in shown and agg.provenance.get(field) in marks and not _unknown(agg_row.get(col)):
            shown.at[last, col] = f"{shown.at[last, col]}{marks[agg.provenance[field]]}"
    emit(shown.where(shown.notna(), "—"), "table")
    click.echo("* assumed (workload file)   ~ default (docs/workloads.md)")
    if agg.driver:
        click.echo(
            f"{wl.name}: {agg.driver} — in {agg.monthly_in_gib:,.0f} GiB/month (write × RF {agg.replication_factor}), "
            f"out {_gib(agg.monthly_out_gib)} GiB/month, kept {_gib(agg.stored_gib_months)} GiB-months"
        )
    if agg.replay_window_s is not None:
        click.echo(f"replay window: {agg.replay_window_s / 3600:,.1f} h of data, bounded by {agg.replay_bound}")
    for note in agg.notes:
        click.echo(f"note: {note}")
