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


# DuckDB errors that are about the store file or the machine, never about an input file.
_DAMAGED = ("checksum", "corrupt", "could not read enough bytes", "not a valid duckdb database", "truncated")
_NO_SPACE = ("no space left", "disk full", "not enough space")
_NO_WRITE = ("permission denied", "read-only file system", "read only file system")


def store_error(path: Path | str, exc: BaseException) -> StoreError:
    """One line for a DuckDB error on the store: the store's path, what happened, what to do."""
    detail = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
    low = detail.lower()
    name = Path(path).name
    if isinstance(exc, duckdb.OutOfMemoryException) or "out of memory" in low:
        return StoreError(
            f"{path}: DuckDB ran out of memory ({detail}); raise EXITKIT_MEMORY_LIMIT (now {memory_limit()}), "
            "or free disk space in the temp folder it spills to"
        )
    if any(k in low for k in _NO_SPACE):
        return StoreError(
            f"{path}: the disk is full ({detail}); free space beside the store (DuckDB writes {name}.wal there) "
            "and run again; the store was not changed"
        )
    if any(k in low for k in _NO_WRITE):
        return StoreError(
            f"{path}: cannot write beside the store ({detail}); DuckDB creates {name}.wal in the store's folder: "
            "make the folder writable, or copy the store somewhere writable and pass --db"
        )
    if any(k in low for k in _DAMAGED):
        return StoreError(
            f"{path}: the store file is damaged ({detail}); restore it from a backup, or move it away and "
            "ingest the exports again"
        )
    return StoreError(f"{path}: the store failed ({type(exc).__name__}: {detail}); the store was not changed")


def is_store_fault(exc: BaseException) -> bool:
    """A DuckDB error caused by the store or the machine (space, permissions, memory, damage),
    not by the values being stored."""
    low = str(exc).lower()
    return isinstance(exc, (duckdb.IOException, duckdb.OutOfMemoryException, duckdb.FatalException)) or any(
        k in low for k in (*_DAMAGED, *_NO_SPACE, *_NO_WRITE, "out of memory")
    )


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        msg = str(exc)
        if "lock" in msg.lower():
            raise StoreError(f"{path}: store is in use by another exitkit process; wait for it to finish") from None
        if is_store_fault(exc) and "cannot open file" not in msg.lower():
            raise store_error(path, exc) from None
        if any(k in msg.lower() for k in _NO_WRITE):
            raise StoreError(
                f"{path}: cannot open the store for writing ({msg.splitlines()[0][:200]}); make the file and its "
                "folder writable, or copy the store somewhere writable and pass --db"
            ) from None
        raise StoreError(f"{path}: cannot open the store ({msg.splitlines()[0]})") from None
    except duckdb.Error as exc:
        if is_store_fault(exc):
            raise store_error(path, exc) from None
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


LAYOUT_VERSION = schema.LAYOUT_VERSION


def init(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table of the current layout (those missing) and record the layout version."""
    for stmt in schema.ddl():
        con.execute(stmt)
    con.execute("INSERT OR REPLACE INTO exitkit_meta VALUES ('layout_version', ?)", [str(LAYOUT_VERSION)])


def layout(con: duckdb.DuckDBPyConnection, path: Path | str = "store") -> int | None:
    """The layout version of the store on `con`; 1 for a store written before versions; None when
    the file holds no exitkit table (a new file, or another application's)."""
    tables = table_names(con)
    if "exitkit_meta" in tables:
        row = con.execute("SELECT value FROM exitkit_meta WHERE key = 'layout_version'").fetchone()
        try:
            return int(row[0]) if row else 1
        except ValueError:
            raise StoreError(f"{path}: layout_version {row[0][:20]!r} in exitkit_meta is not a number") from None
    if "sources" in tables or "metric_points" in tables:
        return 1
    return None


def check_layout(con: duckdb.DuckDBPyConnection, path: Path | str) -> int | None:
    """`layout()`, refusing a newer layout and a `sources` table that is not exitkit's."""
    version = layout(con, path)
    if version is not None and version > LAYOUT_VERSION:
        raise StoreError(
            f"{path}: store layout {version} was written by a newer exitkit; this one knows layouts up to "
            f"{LAYOUT_VERSION}: upgrade exitkit, or use another --db"
        )
    if version is not None and "sources" in table_names(con):
        cols = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                          "WHERE table_name = 'sources' AND table_schema = 'main'").fetchall()}  # fmt: skip
        missing = [c for c in schema.SOURCES_V1_COLUMNS if c not in cols]
        if missing:
            raise StoreError(
                f"{path}: not an exitkit store (its table sources has no {', '.join(missing)}); pass another --db"
            )
    return version


def prepare(con: duckdb.DuckDBPyConnection, path: Path | str) -> None:
    """Make the store on `con` the current layout, inside the caller's open transaction (so a
    refused load leaves any file exactly as it was): create it in a file without exitkit tables,
    migrate an older layout forward step by step, refuse a newer one (`StoreError`)."""
    version = check_layout(con, path)
    if version is not None:
        while version < LAYOUT_VERSION:
            for stmt in schema.MIGRATIONS[version]:
                con.execute(stmt)
            version += 1
    init(con)


@contextmanager
def open_store(db: str | Path | None = None, *, write: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the store. Reading a store that does not exist is an error that says how to make one."""
    path = db_path(db)
    if not write and not path.exists():
        raise StoreError(f"{path}: no store here; run `exitkit ingest EXPORTS...` first (or pass --db)")
    con = _connect(path, read_only=not write)
    try:
        if write:
            con.execute("BEGIN TRANSACTION")
            prepare(con, path)
            con.execute("COMMIT")
        else:
            check_layout(con, path)
            if "metric_points" not in table_names(con):
                raise StoreError(f"{path}: not an exitkit store (no metric_points table)")
        yield con
    except duckdb.Error as exc:  # damaged file, full disk, memory: one line, never a traceback
        if not is_store_fault(exc):
            raise
        raise store_error(path, exc) from None
    finally:
        try:
            con.close()
        except duckdb.Error:
            pass  # a damaged or invalidated database: the error above already says so


def memory_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB bounded like the store (memory limit, spill folder not `.tmp` in the cwd)."""
    return bound(quiet(duckdb.connect(":memory:")), temp_directory=spill_dir())


def memory_store() -> duckdb.DuckDBPyConnection:
    """An in-memory store with the full schema (tests, what-if notebooks)."""
    con = memory_connection()
    init(con)
    return con


def table_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        r[0]
        for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()
    }
