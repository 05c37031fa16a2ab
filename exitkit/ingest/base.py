"""The reader contract: every export format is one module with one `Reader` registered here.

A reader gets the whole (decompressed) file as a `Source`, decides from the content whether
it is its format (`sniff`), and turns it into plain data (`ReadResult`): metric points in
canonical names and units, and snapshot rows for the CLI-output tables. Readers never touch
the store; `exitkit.ingest.load` does that, for all files of one call in one transaction.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import threading
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from exitkit.bill.paths import Attribution
from exitkit.errors import BadExport, ExitkitError
from exitkit.units import parse_bytes

# Canonical metrics. Rates are per second over [ts_start, ts_end); gauges are the value
# observed over (or at the start of) that interval.
RATE_METRICS = ("bytes_in", "bytes_out", "records_in", "records_out")
GAUGE_METRICS = ("retained_bytes", "consumer_lag_records", "partition_count", "connections")
METRICS = RATE_METRICS + GAUGE_METRICS

POINT_COLUMNS = [
    "cluster", "topic", "partition", "broker", "consumer_group",
    "metric", "ts_start", "ts_end", "value",
]  # fmt: skip

SNIFF_BYTES = 64 * 1024


# gzip: the largest decompressed size read (`EXITKIT_MAX_DECOMPRESSED`, e.g. 4GiB, 512MB; a bare
# number is bytes). Beyond it a .gz file is refused as a possible bomb (2 MB can inflate to GBs).
MAX_DECOMPRESSED = "2GiB"
_GZIP_CHUNK = 1 << 20
# One .gz inflates at a time: the read-ahead threads never hold two bombs at once.
_GZIP_LOCK = threading.Lock()


def max_decompressed() -> int:
    """`EXITKIT_MAX_DECOMPRESSED` in bytes (default `MAX_DECOMPRESSED`)."""
    raw = os.environ.get("EXITKIT_MAX_DECOMPRESSED", "").strip() or MAX_DECOMPRESSED
    try:
        limit = parse_bytes(raw)
    except ValueError:
        limit = math.nan
    if not (math.isfinite(limit) and limit >= 1):
        raise ExitkitError(f"EXITKIT_MAX_DECOMPRESSED={raw!r}: not a size such as 4GiB or 512MB")
    return int(limit)


def _size_text(n: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n % size == 0:
            return f"{n // size} {unit}"
    return f"{n:,} bytes"


def read_bytes(path: Path, check_head: Callable[[bytes], None] | None = None) -> bytes:
    """The file's content, gunzipped when it is gzip (by its magic bytes, not its name).

    gzip is inflated as a stream, at most `max_decompressed()` bytes: `check_head` sees the
    first SNIFF_BYTES first (sniffing refuses an unknown format before the rest is inflated).
    """
    try:
        with open(path, "rb") as f:
            magic = f.read(2)
            if magic != b"\x1f\x8b":
                f.seek(0)
                return f.read()
    except OSError as exc:
        raise BadExport(path, f"cannot read: {exc.strerror}") from None
    limit = max_decompressed()
    with _GZIP_LOCK:
        try:
            return _gunzip(path, limit, check_head)
        except (EOFError, zlib.error) as exc:
            raise BadExport(path, f"broken gzip data ({exc}); expected a complete .gz file") from None
        except OSError as exc:
            if exc.strerror:
                raise BadExport(path, f"cannot read: {exc.strerror}") from None
            raise BadExport(path, f"broken gzip data ({exc}); expected a complete .gz file") from None


def _gunzip(path: Path, limit: int, check_head: Callable[[bytes], None] | None) -> bytes:
    with gzip.open(path, "rb") as g:
        head = g.read(min(SNIFF_BYTES, limit + 1))
        if check_head is not None:
            check_head(head)
        out = io.BytesIO()  # getvalue() hands over its buffer: one copy of the content, not two
        out.write(head)
        size = len(head)
        while size <= limit and (chunk := g.read(_GZIP_CHUNK)):
            out.write(chunk)
            size += len(chunk)
        if size > limit:
            out = None  # freed now, not kept alive by the error's traceback
            raise BadExport(
                path,
                f"decompresses to more than {_size_text(limit)} (EXITKIT_MAX_DECOMPRESSED); "
                "refused as a possible gzip bomb",
            )
        return out.getvalue()


@dataclass(frozen=True)
class Source:
    """One input file: its path as given, its decompressed bytes, and the caller's hints."""

    path: Path
    data: bytes
    cluster: str | None = None  # --cluster: used only where the content does not say
    metric: str | None = None  # --metric: used only where the content does not say
    group: str | None = None  # --group: used only where the content does not say (old consumer-groups)
    bill: Attribution | None = None  # --cluster-tag / --cluster-map: how bill lines find their cluster

    def text(self) -> str:
        """The content as text: UTF-8, BOM stripped. Bad bytes are a `BadExport`."""
        try:
            text = self.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadExport(self.path, f"not UTF-8 text (byte {exc.start}): expected a text export") from None
        return text.removeprefix("\ufeff")

    def fail(self, message: str, line: int | None = None) -> BadExport:
        """A `BadExport` for this file (raise it)."""
        return BadExport(self.path, message, line)


@dataclass
class ReadResult:
    """What one file holds, in canonical form."""

    points: pd.DataFrame | None = None  # POINT_COLUMNS, see `points_frame`
    snapshots: dict[str, pd.DataFrame] = field(default_factory=dict)  # table -> rows
    cluster: str | None = None  # the cluster the file is about, for `sources.cluster`
    notes: list[str] = field(default_factory=list)  # shown in the ingest summary
    skip: bool = False  # a companion file (e.g. a saved request) that holds no data itself
    # Rows too many for pandas, handed over as a Parquet file the reader wrote with DuckDB:
    # table -> (file, rows). The ingest inserts them straight from the file, then `cleanup()`.
    files: dict[str, tuple[Path, int]] = field(default_factory=dict)
    clusters: list[str] = field(default_factory=list)  # clusters of rows held in `files`

    @property
    def rows(self) -> int:
        n = 0 if self.points is None else len(self.points)
        return n + sum(len(df) for df in self.snapshots.values()) + sum(k for _, k in self.files.values())

    def cleanup(self) -> None:
        """Remove the reader's temporary `files` (after they were inserted, or when nothing is kept)."""
        for path, _ in self.files.values():
            path.unlink(missing_ok=True)
            try:
                path.parent.rmdir()
            except OSError:
                pass  # not empty or not ours: left as it is


@dataclass(frozen=True)
class Reader:
    """A registered export format."""

    name: str  # used by --format and stored in sources.format
    description: str  # one line for the README table and error messages
    sniff: Callable[[str, Source], bool]  # head (first 64 KiB as text, BOM stripped) -> mine?
    read: Callable[[Source], ReadResult]


_REGISTRY: dict[str, Reader] = {}


def register(reader: Reader) -> Reader:
    """Claim a reader name (once): a module's `READER = register(Reader(...))`; the sniffing order
    is the explicit list in `exitkit.ingest.readers`."""
    if reader.name in _REGISTRY:
        raise ValueError(f"reader {reader.name!r} defined twice")
    _REGISTRY[reader.name] = reader
    return reader


def points_frame(
    *,
    cluster: Iterable | str | None,
    topic: Iterable | str | None,
    metric: Iterable | str,
    ts_start: Iterable,
    ts_end: Iterable,
    value: Iterable,
    partition: Iterable | int | None = None,
    broker: Iterable | str | None = None,
    consumer_group: Iterable | str | None = None,
) -> pd.DataFrame:
    """Build a canonical points frame; scalars broadcast.

    Timestamps may be datetime-likes or epoch seconds (numbers); they become naive UTC
    `datetime64[ns]`. Values must be finite floats: the caller checks and raises `BadExport`
    with a line number before calling this. Numpy arrays and pandas arrays are taken as they
    are (no Python list in between): readers that work in arrays pass them.
    """
    starts = _to_utc_naive(ts_start)
    n = len(starts)

    def col(v, dtype=object):
        if v is None or isinstance(v, (str, int)):
            return pd.Series([v] * n, dtype=dtype)
        s = pd.Series(v if isinstance(v, _ARRAYS) else list(v), dtype=dtype)
        if len(s) != n:
            raise ValueError("points_frame: columns differ in length")
        return s

    df = pd.DataFrame(
        {
            "cluster": col(cluster),
            "topic": col(topic),
            "partition": col(partition, "Int64"),
            "broker": col(
                None
                if broker is None
                else (
                    str(broker) if isinstance(broker, (str, int)) else [None if b is None else str(b) for b in broker]
                )
            ),
            "consumer_group": col(consumer_group),
            "metric": col(metric),
            "ts_start": starts,
            "ts_end": _to_utc_naive(ts_end),
            "value": np.asarray(list(value) if not isinstance(value, np.ndarray) else value, dtype="float64"),
        }
    )
    return df[POINT_COLUMNS]


_ARRAYS = (np.ndarray, pd.api.extensions.ExtensionArray)


def _to_utc_naive(values) -> pd.Series:
    if isinstance(values, pd.Series) and pd.api.types.is_datetime64_any_dtype(values):
        s = values
    elif isinstance(values, np.ndarray) and values.dtype.kind in "iuf":  # epoch seconds, in bulk
        s = pd.to_datetime(pd.Series(values, dtype="float64"), unit="s", utc=True)
    else:
        vals = list(values)
        if vals and isinstance(vals[0], (int, float, np.integer, np.floating)):
            s = pd.to_datetime(pd.Series(vals, dtype="float64"), unit="s", utc=True)
        else:
            s = pd.to_datetime(pd.Series(vals, dtype=object), utc=True, format="ISO8601")
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    return s.astype("datetime64[ns]").reset_index(drop=True)


def finite(value: object, source: Source, line: int | None = None, what: str = "value") -> float:
    """A finite float from a JSON/text value, or a `BadExport` naming the file and line."""
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise source.fail(f"{what} {str(value)[:40]!r} is not a number", line) from None
    if not math.isfinite(f):
        raise source.fail(f"{what} {value!r} is not a finite number", line)
    return f


def iso_time(seconds: float) -> str:
    """Epoch seconds as ISO-8601 UTC text for messages (`2128-06-11T08:53:20Z`), never an epoch
    float a reader cannot check; a time no calendar holds says which side it falls."""
    if not math.isfinite(seconds):
        return f"{seconds!r} (not a time)"
    try:
        t = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        side = "after year 9999" if seconds > 0 else "before year 1"
        return f"{side} ({seconds:.6g} s since 1970)"
    return t.replace(tzinfo=None).isoformat() + "Z"


def empty_points() -> pd.DataFrame:
    return points_frame(cluster=None, topic=None, metric="bytes_in", ts_start=[], ts_end=[], value=[])
