"""The DuckDB store: one file, normalized long tables, provenance on every row."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from exitkit.errors import StoreError
from exitkit.store import schema

DEFAULT_DB = "exitkit.duckdb"
# DuckDB's own default is 80 % of the machine's RAM per database instance: a profile of a large
# store took ~20 GiB. With a limit, DuckDB spills hash tables and sorts to `temp_directory`.
DEFAULT_MEMORY_LIMIT = "2GB"


def db_path(db: str | Path | None = None) -> Path:
    """`--db`, else `EXITKIT_DB`, else `exitkit.duckdb` in the working directory."""
    return Path(db or os.environ.get("EXITKIT_DB") or DEFAULT_DB)


def memory_limit(default: str = DEFAULT_MEMORY_LIMIT) -> str:
    """DuckDB's memory limit for our connections: `EXITKIT_MEMORY_LIMIT` (e.g. `4GB`), else `default`."""
    return os.environ.get("EXITKIT_MEMORY_LIMIT", "").strip() or default


def spill_dir() -> str:
    """A fresh spill folder under the system temp dir, not created: DuckDB creates it on the first
    spill and removes it when the database closes. One per database instance (their temp file
    names would clash in a shared folder)."""
    return os.path.join(tempfile.gettempdir(), f"exitkit-spill-{os.getpid()}-{uuid.uuid4().hex[:12]}")


def bound(
    con: duckdb.DuckDBPyConnection, *, limit: str | None = None, temp_directory: str | None = None
) -> duckdb.DuckDBPyConnection:
    """Bounded memory: `memory_limit` (see `memory_limit()`) and, when given, where to spill."""
    limit = limit or memory_limit()
    try:
        con.execute("SET memory_limit = ?", [limit])  # a parameter: the value comes from the environment
    except duckdb.Error as exc:
        raise StoreError(f"EXITKIT_MEMORY_LIMIT={limit!r}: not a memory size such as 2GB or 512MB ({exc})") from None
    if temp_directory:
        try:
            con.execute("SET temp_directory = ?", [temp_directory])
        except duckdb.Error:
            pass  # a database instance shared in this process already spilled: it keeps its folder
    return con


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
    try:
        # A writable store spills next to itself (DuckDB's default `<store>.tmp`); a read-only one
        # may sit where we cannot write, so it spills under the system temp dir.
        bound(con, temp_directory=spill_dir() if read_only else None)
    except StoreError:
        con.close()
        raise
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


def memory_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB bounded like the store (memory limit, spill folder not `.tmp` in the cwd)."""
    return bound(quiet(duckdb.connect(":memory:")), temp_directory=spill_dir())


def memory_store() -> duckdb.DuckDBPyConnection:
    """An in-memory store with the full schema (tests, what-if notebooks)."""
    con = memory_connection()
    init(con)
    return con


def table_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
