"""Pieces every `exitkit` command shares: user errors as one line and exit 2, options, output."""

from __future__ import annotations

import functools
import sys

import click
import pandas as pd

from exitkit.errors import ExitkitError
from exitkit.safe_output import safe_frame, strict_json

DB_OPTION = click.option(
    "--db", type=click.Path(dir_okay=False), default=None, envvar="EXITKIT_DB",
    help="DuckDB store file (default: exitkit.duckdb here, or $EXITKIT_DB).",
)  # fmt: skip


def user_errors(fn):
    """Print `error: …` lines for ExitkitError and exit with its code; no tracebacks."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ExitkitError as exc:
            for line in str(exc).splitlines() or [type(exc).__name__]:
                click.echo(f"error: {line}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


def emit(df: pd.DataFrame, fmt: str, formatters: dict | None = None) -> None:
    """Print a frame as a human table, JSON records (nulls kept) or CSV."""
    if fmt == "json":
        out = df.copy()
        for col in out.columns:
            if (
                pd.api.types.is_datetime64_any_dtype(out[col])
                or out[col].map(lambda v: isinstance(v, pd.Timestamp)).any()
            ):
                out[col] = out[col].map(
                    lambda v: None if v is None or pd.isna(v) else pd.Timestamp(v).isoformat() + "Z"
                )
        click.echo(strict_json(out.to_dict(orient="records"), "JSON output", indent=2, default=_json_default))
    elif fmt == "csv":
        click.echo(safe_frame(df, "CSV output").to_csv(index=False), nl=False)  # no formula injection
    else:
        shown = df.copy()
        for col, f in (formatters or {}).items():
            if col in shown:
                shown[col] = shown[col].map(
                    lambda v, f=f: "—" if v is None or (isinstance(v, float) and pd.isna(v)) else f(v)
                )
        click.echo(shown.fillna("—").to_string(index=False))


def _json_default(v):
    if hasattr(v, "item"):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.isoformat() + "Z"
    return str(v)


FORMAT_OPTION = click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True
)
