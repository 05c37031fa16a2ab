"""The DuckDB store: one file, normalized long tables, provenance on every row."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from exitkit import schema
from exitkit.errors import StoreError

DEFAULT_DB = "exitkit.duckdb"


def db_path(db: str | Path | None = None) -> Path:
    """`--db`, else `EXITKIT_DB`, else `exitkit.duckdb` in the working directory."""
    return Path(db or os.environ.get("EXITKIT_DB") or DEFAULT_DB)


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        msg = str(exc)
        if "lock" in msg.lower():
            raise StoreError(f"{path}: store is in use by another exitkit process; wait for it to finish") from None
        raise StoreError(f"{path}: cannot open the store ({msg.splitlines()[0]})") from None
    except duckdb.Error as exc:
        raise StoreError(f"{path}: not a DuckDB store ({str(exc).splitlines()[0]})") from None
    quiet(con)
    return con


def quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """No DuckDB progress bar: it writes to stdout and would corrupt JSON/CSV output."""
    con.execute("SET enable_progress_bar = false")
    return con


def init(con: duckdb.DuckDBPyConnection) -> None:
    for stmt in schema.ddl():
        con.execute(stmt)


@contextmanager
def open_store(db: str | Path | None = None, *, write: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the store. Reading a store that does not exist is an error that says how to make one."""
    path = db_path(db)
    if not write and not path.exists():
        raise StoreError(f"{path}: no store here; run `exitkit ingest EXPORTS...` first (or pass --db)")
    con = _connect(path, read_only=not write)
    try:
        if write:
            init(con)
        else:
            tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
            if "metric_points" not in tables:
                raise StoreError(f"{path}: not an exitkit store (no metric_points table)")
        yield con
    finally:
        con.close()


def memory_store() -> duckdb.DuckDBPyConnection:
    """An in-memory store with the full schema (tests, what-if notebooks)."""
    con = quiet(duckdb.connect(":memory:"))
    init(con)
    return con


def table_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
