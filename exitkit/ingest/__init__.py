"""Ingest exports into the store: walk → decompress → sniff → read → one transaction.

All-or-nothing per call: every file is read even after a failure (so every bad file is
reported), and any failure rolls the whole call back, leaving the store as it was.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
from tqdm import tqdm

from exitkit import store
from exitkit.bill.paths import Attribution
from exitkit.errors import BadExport, ExitkitError, IngestFailed, shown_path
from exitkit.ingest import readers as reader_list
from exitkit.ingest.base import SNIFF_BYTES, Reader, ReadResult, Source, max_decompressed, read_bytes


@dataclass
class FileReport:
    path: str
    format: str | None
    status: str  # loaded | skipped | companion
    rows: int = 0
    clusters: list[str] = field(default_factory=list)
    topics: int = 0
    ts_from: datetime | None = None
    ts_to: datetime | None = None
    notes: list[str] = field(default_factory=list)
    source_id: int | None = None


def collect_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and every file below folders named (sorted; dotfiles skipped)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(
                f
                for f in sorted(p.rglob("*"))
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
        elif p.is_file():
            out.append(p)
        else:
            kind = _special_kind(p)
            if kind is None:
                raise BadExport(p, "no such file or folder")
            # Never opened: reading a FIFO blocks until a writer comes, a device may never end.
            raise BadExport(p, f"not a regular file ({kind}); expected an export file or a folder of them")
    return out


def _special_kind(p: Path) -> str | None:
    """What a path that exists but is no file or folder is (FIFO, device, socket); None: nothing there."""
    try:
        mode = p.stat().st_mode
    except OSError:
        return None
    for test, kind in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):  # fmt: skip
        if test(mode):
            return kind
    return "not a file or folder"


def sniff(source: Source, fmt: str | None = None) -> Reader:
    """The reader for this content, or a `BadExport` that lists what is supported."""
    all_readers = reader_list.readers()
    if fmt:
        for r in all_readers:
            if r.name == fmt:
                return r
        raise BadExport(
            source.path, f"unknown --format {fmt!r}; expected one of: {', '.join(r.name for r in all_readers)}"
        )
    if not source.data.strip():
        raise BadExport(source.path, "empty file; expected a metrics export or CLI output")
    head = source.data[:SNIFF_BYTES].decode("utf-8", errors="replace").removeprefix("\ufeff")
    for r in all_readers:
        if r.sniff(head, source):
            return r
    raise BadExport(
        source.path,
        "not a recognized export; expected one of the supported formats ("
        + ", ".join(r.name for r in all_readers)
        + "); see README 'Supported exports'",
    )


def read_file(
    path: Path,
    *,
    cluster: str | None = None,
    metric: str | None = None,
    fmt: str | None = None,
    group: str | None = None,
    bill: Attribution | None = None,
) -> tuple[str, Reader, ReadResult]:
    """Read one file into canonical form without touching the store: (sha256, reader, result)."""

    def check_head(head: bytes) -> None:  # an unknown format is refused before the rest is inflated
        if fmt is None and head.strip():
            sniff(Source(path=path, data=head, cluster=cluster, metric=metric, group=group, bill=bill))

    data = read_bytes(path, check_head)
    source = Source(path=path, data=data, cluster=cluster, metric=metric, group=group, bill=bill)
    reader = sniff(source, fmt)
    try:
        result = reader.read(source)
    except ExitkitError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError, RecursionError) as exc:
        # A reader that missed a case must still not print a traceback for user data.
        raise BadExport(path, f"cannot read as {reader.name}: {type(exc).__name__}: {exc}") from None
    return hashlib.sha256(data).hexdigest(), reader, result


def ingest(
    paths: Iterable[str | Path],
    db: str | Path | None = None,
    *,
    cluster: str | None = None,
    metric: str | None = None,
    fmt: str | None = None,
    progress: bool | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    group: str | None = None,
    bill: Attribution | None = None,
) -> list[FileReport]:
    """Load files into the store in one transaction; raise `IngestFailed` (store unchanged) on any bad file."""
    errors: list[BadExport] = []
    try:
        files = collect_files(paths)
    except BadExport as exc:
        raise IngestFailed([exc]) from None
    if not files:
        raise IngestFailed([BadExport(", ".join(map(str, paths)) or ".", "no files to ingest")])

    max_decompressed()  # a bad setting is one line before anything is read
    path = store.db_path(db)
    created = con is None and not path.exists()
    wal = Path(str(path) + ".wal")
    had_wal = wal.exists()
    own = con is None
    if own:
        con = store._connect(path, read_only=False)
        _tune(con)
    reports: list[FileReport] = []
    ok = False
    try:
        con.execute("BEGIN TRANSACTION")
        store.prepare(con, path)  # in the transaction: a refused load leaves any file as it was
        known = {r[0] for r in con.execute("SELECT sha256 FROM sources").fetchall()}
        next_id = con.execute("SELECT coalesce(max(source_id), 0) + 1 FROM sources").fetchone()[0]
        bar = tqdm(
            total=len(files),
            desc="ingest",
            unit="file",
            disable=not progress if progress is not None else None,
            leave=False,
        )
        for f, outcome in _read_ahead(files, cluster=cluster, metric=metric, fmt=fmt, group=group, bill=bill):
            bar.update()
            if isinstance(outcome, BadExport):
                errors.append(outcome)
                continue
            if errors:
                outcome[2].cleanup()
                continue  # keep reading to report every bad file; nothing will be kept
            sha, reader, result = outcome
            rep = _summarize(f, reader, result)
            if result.skip:
                rep.status = "companion"
            elif sha in known:
                rep.status = "skipped"
            else:
                known.add(sha)
                rep.source_id = next_id
                try:
                    _insert(con, next_id, f, sha, reader.name, result)
                except duckdb.Error as exc:  # a value the store cannot hold: this file is bad, roll back
                    if store.is_store_fault(exc):  # the disk, memory or file, not this file's values
                        raise
                    errors.append(
                        BadExport(f, f"cannot store its rows ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})")
                    )
                    continue
                finally:
                    result.cleanup()
                next_id += 1
            result.cleanup()
            reports.append(rep)
        bar.close()
        if errors:
            con.execute("ROLLBACK")
            raise IngestFailed(errors)
        _note_disagreements(con, reports)
        con.execute("COMMIT")
        ok = True
    except duckdb.Error as exc:  # the store itself failed (damaged, disk full, no WAL, memory): one line
        raise store.store_error(path, exc) from None
    finally:
        if own:
            try:
                con.close()
            except duckdb.Error:
                pass  # an invalidated database: the error being raised says why
            if created and not ok:
                for p in (path, wal):
                    p.unlink(missing_ok=True)
            elif not ok and not had_wal and wal.exists() and wal.stat().st_size == 0:
                wal.unlink()  # the empty WAL a failed COMMIT left: the folder as it was
    return reports


# Files read ahead of the one being stored: readers parse in worker threads (DuckDB and
# hashing release the GIL) while the store appends the previous file's points. Bounded, so
# at most this many files' points are held at once.
READ_AHEAD = 2


def _read_ahead(
    files: list[Path],
    *,
    cluster: str | None,
    metric: str | None,
    fmt: str | None,
    group: str | None = None,
    bill: Attribution | None = None,
) -> Iterator[tuple[Path, tuple[str, Reader, ReadResult] | BadExport]]:
    """(file, read_file(file) or its BadExport) for every file, in order, reading up to READ_AHEAD ahead."""

    def one(f: Path) -> tuple[str, Reader, ReadResult] | BadExport:
        try:
            return read_file(f, cluster=cluster, metric=metric, fmt=fmt, group=group, bill=bill)
        except BadExport as exc:
            return exc.with_traceback(None)  # its frames would keep the file's bytes alive

    if READ_AHEAD <= 1 or len(files) <= 1:
        for f in files:
            yield f, one(f)
        return
    with ThreadPoolExecutor(max_workers=READ_AHEAD, thread_name_prefix="exitkit-read") as pool:
        pending: deque = deque()
        todo = iter(files)
        for f in todo:
            pending.append((f, pool.submit(one, f)))
            if len(pending) >= READ_AHEAD:
                break
        while pending:
            f, fut = pending.popleft()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append((nxt, pool.submit(one, nxt)))
            yield f, fut.result()


def _tune(con: duckdb.DuckDBPyConnection) -> None:
    """Settings for the ingest's own connection: appends need no insertion order, and the
    store's memory stays bounded however many files one call loads (DuckDB spills to disk)."""
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET python_enable_replacements = true")  # `_insert` scans its frames by name
    store.bound(con, limit=store.memory_limit(INGEST_MEMORY_LIMIT))


INGEST_MEMORY_LIMIT = "1GB"


def _insert(con: duckdb.DuckDBPyConnection, source_id: int, path: Path, sha: str, fmt: str, result: ReadResult) -> None:
    con.execute(
        "INSERT INTO sources (source_id, path, sha256, format, cluster, loaded_at, rows) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [source_id, shown_path(path), sha, fmt, result.cluster, datetime.now(UTC).replace(tzinfo=None), result.rows],
    )
    con.execute("INSERT INTO source_paths VALUES (?, ?)", [source_id, os.fsencode(path)])
    # The frames are scanned by name from this function's locals (DuckDB's replacement scan), not
    # `con.register`ed: a registered view, even unregistered, stays in the open transaction until
    # COMMIT and keeps its frame alive — every file's points in memory at once (4.5 GiB here).
    _points = result.points
    if _points is not None and len(_points):
        con.execute(
            "INSERT INTO metric_points SELECT ?, cluster, topic, partition, broker, consumer_group, metric, ts_start, ts_end, value FROM _points",
            [source_id],
        )
    del _points
    for table, _snap in result.snapshots.items():
        if len(_snap):
            con.execute(f'INSERT INTO "{table}" BY NAME SELECT ? AS source_id, * FROM _snap', [source_id])
    for table, (file, n) in result.files.items():
        if n:
            con.execute(
                f'INSERT INTO "{table}" BY NAME SELECT ? AS source_id, * FROM read_parquet(?)', [source_id, str(file)]
            )


# Points of a file loaded in this call against the same series and interval of any file loaded
# before it (earlier calls, or earlier in this call): pairs that disagree, per (later, earlier) file.
_DISAGREEMENTS = """
WITH n AS (SELECT * FROM metric_points WHERE source_id >= ?),
pairs AS (
    SELECT n.source_id AS later, o.source_id AS earlier, n.cluster, n.topic, n.metric,
           n.value AS here, o.value AS there, n.value <> o.value AS differs,
           abs(n.value - o.value) / nullif(abs(o.value), 0) AS rel
    FROM n JOIN metric_points o
      ON o.source_id < n.source_id AND o.metric = n.metric AND o.ts_start = n.ts_start AND o.ts_end = n.ts_end
     AND o.cluster IS NOT DISTINCT FROM n.cluster AND o.topic IS NOT DISTINCT FROM n.topic
     AND o.partition IS NOT DISTINCT FROM n.partition AND o.broker IS NOT DISTINCT FROM n.broker
     AND o.consumer_group IS NOT DISTINCT FROM n.consumer_group
)
SELECT later, (SELECT path FROM sources WHERE source_id = earlier) AS earlier_path,
       count(*) AS shared, count(*) FILTER (differs) AS differ, max(rel) FILTER (differs) AS rel,
       arg_max([metric, topic, cluster], coalesce(rel, 1e308)) FILTER (differs) AS ex,
       arg_max([here, there], coalesce(rel, 1e308)) FILTER (differs) AS ex_values
FROM pairs GROUP BY later, earlier HAVING count(*) FILTER (differs) > 0 ORDER BY later, earlier
"""


def _note_disagreements(con: duckdb.DuckDBPyConnection, reports: list[FileReport]) -> None:
    """A note on each file loaded now whose points repeat an interval of an earlier file with
    another value: which file, how many intervals, how far apart. The profile's rule (one value
    per series and interval, the larger) is unchanged; the user is told it was applied."""
    by_id = {r.source_id: r for r in reports if r.source_id is not None}
    if not by_id:
        return
    for later, earlier_path, shared, differ, rel, ex, values in con.execute(_DISAGREEMENTS, [min(by_id)]).fetchall():
        metric, topic, cluster = ex[0], ex[1], ex[2]
        here, there = values
        what = f"{metric}" + (f" of topic {topic}" if topic is not None else " (all topics)")
        what += f", cluster {cluster}" if cluster is not None else ""
        apart = f"{rel:.0%} apart at most" if rel is not None else "from 0"
        by_id[later].notes.append(
            f"disagrees with {earlier_path} on {differ:,} of {shared:,} shared intervals ({what}: {here:.6g} here, "
            f"{there:.6g} there, {apart}); the profile counts the larger value of each interval"
        )


def _summarize(path: Path, reader: Reader, result: ReadResult) -> FileReport:
    rep = FileReport(
        path=shown_path(path), format=reader.name, status="loaded", rows=result.rows, notes=list(result.notes)
    )
    frames = [df for df in [result.points, *result.snapshots.values()] if df is not None and len(df)]
    clusters: set[str] = ({result.cluster} if result.cluster else set()) | set(result.clusters)
    topics: set[str] = set()
    for df in frames:
        if "cluster" in df:
            clusters.update(c for c in df["cluster"].dropna().unique())
        if "topic" in df:
            topics.update(t for t in df["topic"].dropna().unique())
    rep.clusters = sorted(clusters)
    rep.topics = len(topics)
    if result.points is not None and len(result.points):
        rep.ts_from = pd.Timestamp(result.points["ts_start"].min()).to_pydatetime()
        rep.ts_to = pd.Timestamp(result.points["ts_end"].max()).to_pydatetime()
    return rep
