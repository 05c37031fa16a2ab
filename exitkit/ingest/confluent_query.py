"""Confluent Cloud Metrics API v2 `POST /v2/metrics/cloud/query` response bodies (FLAT or GROUPED).

A response names neither its metric nor (unless grouped by it) its cluster, and counters are
per-bucket deltas whose bucket length only the request states. So the reader looks, in turn,
at the request saved beside the response (`NAME.request.json`, or `request.json` in the
folder), the file name, and the CLI hints; see docs/formats/confluent.md.
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import json.scanner
import os
import re
import threading

import duckdb
import numpy as np
import pandas as pd

import exitkit.ingest._confluent as cf
from exitkit.errors import BadExport
from exitkit.ingest.base import Reader, ReadResult, Source, _to_utc_naive, empty_points, register
from exitkit.store import spill_dir

_CLAIM = re.compile(r'"data"\s*:\s*\[')
_OURS = re.compile(r'"(?:timestamp|points|pagination)"\s*:')
_NOT_OURS = ('"MetricDataResults"', '"Datapoints"', '"resultType"', '"aggregations"')


def sniff(head: str, source: Source) -> bool:
    """A JSON object with a `data` array of Confluent points/groups, and no other API's keys."""
    if not head.lstrip().startswith("{") or any(k in head for k in _NOT_OURS):
        return False
    return bool(_CLAIM.search(head) and _OURS.search(head))


def read(source: Source) -> ReadResult:
    """Points of one response page, in canonical names and per-second units.

    Large FLAT pages take a DuckDB-native path (`_fast`) that gives the same points; any file
    it is not sure of (GROUPED, labels it does not map, anything malformed) is read here, in
    Python, which also gives the exact error with its line.
    """
    if len(source.data) >= fast_min_bytes():
        fast = _fast(source)
        if fast is not None:
            return fast
    text = source.text()
    doc = _parse(text, source)
    locate = _Locator(text)
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, list):
        raise source.fail('no "data" array; expected a /v2/metrics/cloud/query response {"data": [...], "meta": ...}')
    request = cf.find_request(source)
    metric, notes = _metric(source, request)
    if metric is None:
        return ReadResult(points=empty_points(), notes=notes)
    rows = _rows(data, source, locate)
    notes += _page_notes(doc)
    if rows.empty:
        return ReadResult(
            points=empty_points(), cluster=_default_cluster(source, request), notes=[*notes, "no data points"]
        )
    bucket_s, gran_notes = _bucket(rows, request, source)
    rows = _fill_cluster(rows, source, request)
    points, agg_notes = cf.canonical_points(rows.drop(columns=["_series"]), metric, bucket_s=bucket_s)
    clusters = points["cluster"].dropna().unique()
    return ReadResult(
        points=points,
        cluster=clusters[0] if len(clusters) == 1 else None,
        notes=notes + gran_notes + agg_notes,
    )


def _parse(text: str, source: Source) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise source.fail(
            f"not valid JSON ({exc.msg}, column {exc.colno}); expected a complete /query response body", exc.lineno
        ) from None
    except RecursionError:
        raise source.fail("JSON nested too deeply; expected a /query response body") from None


def _metric(source: Source, request: cf.Request | None) -> tuple[cf.Metric | None, list[str]]:
    """The metric: the saved request, else the file name, else --metric; else refuse with what to pass."""
    if request is not None:
        if request.metric is None:
            return None, [
                f"metric {request.metric_name} (from {request.path.name}) is not one exitkit stores; file ignored"
            ]
        return request.metric, [f"metric {request.metric.short} and {request.granularity} from {request.path.name}"]
    m = cf.metric_from_name(source.path)
    if m is not None:
        return m, [f"metric {m.short} from the file name"]
    m = cf.metric_from_hint(source)
    if m is not None:
        return m, [f"metric {m.short} from --metric"]
    raise source.fail(
        "a /query response does not name its metric: save the request beside it as NAME.request.json, "
        f"put the metric in the file name (e.g. lkc-abc12_received_bytes.json), or pass --metric (one of: {cf.KNOWN})"
    )


def _rows(data: list, source: Source, locate: _Locator) -> pd.DataFrame:
    """Raw rows (labels mapped to columns, epoch-second `ts`, raw `value`) of FLAT points or GROUPED groups."""
    records: list[dict] = []
    seen: set[tuple] = set()
    ts_cache: dict[str, float] = {}
    for i, item in enumerate(data):
        path: tuple = ("data", i)
        if not isinstance(item, dict):
            raise source.fail(f"data[{i}]: expected an object (a point or a group)", locate(path))
        if "points" not in item:  # FLAT: {"timestamp", labels..., "value"}
            records.append(_located(_row, source, locate, path, item, item, ts_cache, seen, source))
            continue
        points = item["points"]  # GROUPED: {labels..., "points": [{"timestamp", "value"}, ...]}
        if not isinstance(points, list):
            raise source.fail(f"data[{i}].points: expected a list of points", locate(path))
        labels = {k: v for k, v in item.items() if k != "points"}
        for j, p in enumerate(points):
            ppath = (*path, "points", j)
            if not isinstance(p, dict):
                raise source.fail(f"data[{i}].points[{j}]: expected a {{timestamp, value}} object", locate(ppath))
            extra = {k: v for k, v in p.items() if k not in ("timestamp", "value")}
            records.append(_located(_row, source, locate, ppath, labels | extra, p, ts_cache, seen, source))
    cols = ["cluster", "topic", "partition", "consumer_group", "ts", "value", "_series"]
    return pd.DataFrame.from_records(records) if records else pd.DataFrame(columns=cols)


def _located(fn, source: Source, locate: _Locator, path: tuple, *args):
    """`fn(path, *args)`, with any `BadExport` it raises given the line of the JSON object at `path`."""
    try:
        return fn(path, *args)
    except BadExport as exc:
        where = "".join(f".{p}" if isinstance(p, str) else f"[{p}]" for p in path).lstrip(".")
        raise source.fail(f"{where}: {exc.message}", locate(path)) from None


def _row(path: tuple, labels: dict, point: dict, ts_cache: dict, seen: set, source: Source) -> dict:
    """One raw row from a point and its labels; `BadExport` (no line: `_located` adds it) if malformed."""
    where = ""  # `_located` prefixes the JSON path, only when there is an error
    for key in ("timestamp", "value"):
        if key not in point:
            raise source.fail(
                f"no {key!r}; expected a FLAT point {{timestamp, labels…, value}} "
                "or a GROUPED group {labels…, points: [...]}",
            )
    stamp = point["timestamp"]
    ts = ts_cache.get(stamp) if isinstance(stamp, str) else None
    if ts is None:
        ts = cf.epoch_seconds(stamp, source, None, where)
        ts_cache[stamp] = ts
    row = {"cluster": None, "topic": None, "partition": None, "consumer_group": None}
    series = []
    for key, val in labels.items():
        if key in ("timestamp", "value"):
            continue
        key = key.replace("metric.label.", "metric.")
        col = cf.LABELS.get(key)
        if col == "partition":
            val = cf.partition_label(val, source, None, where)
        elif col is None and isinstance(val, (int, float)) and not isinstance(val, bool):
            val = str(val)  # a label exitkit does not keep: only told apart, then summed over
        elif not isinstance(val, str) or not val:
            raise source.fail(f"label {key} = {val!r}; expected a non-empty string")
        row[col or key] = val
        series.append((key, val))
    row["ts"] = ts
    row["value"] = cf.number(point["value"], source, None, where)
    row["_series"] = frozenset(series)  # order-free: FLAT rows need not list labels alike
    if (row["_series"], ts) in seen:
        raise source.fail(f"a second point for the same labels at {stamp}; expected one per bucket")
    seen.add((row["_series"], ts))
    return row


def _bucket(rows: pd.DataFrame, request: cf.Request | None, source: Source) -> tuple[float | pd.Series, list[str]]:
    """Bucket seconds per row: from the request (ALL: its interval), else inferred from the timestamps."""
    if request is not None and request.bucket_s is not None:
        return float(request.bucket_s), []
    if request is not None:  # granularity ALL: one bucket per absolute interval, stamped at its start
        ends = dict(request.intervals)
        missing = sorted(set(rows["ts"]) - set(ends))
        if missing:
            raise source.fail(
                f"granularity ALL: a point starts at {pd.Timestamp(missing[0], unit='s')}, not at any interval start of {request.path.name}"
            )
        return rows["ts"].map(lambda t: ends[t] - t), []
    groups = rows.groupby("_series", sort=False)["ts"].apply(list).to_dict()
    bucket = cf.infer_bucket_s(groups)
    if bucket is None:
        raise source.fail(
            "cannot tell the granularity: every series has a single timestamp; save the request "
            "(with its granularity) beside it as NAME.request.json"
        )
    name = cf.granularity_name(bucket)
    if name is None:
        raise source.fail(
            f"cannot tell the granularity: points are {bucket} s apart, not a Metrics API granularity; "
            "save the request beside it as NAME.request.json"
        )
    return float(bucket), [f"granularity {name} inferred from the timestamps"]


def _default_cluster(source: Source, request: cf.Request | None) -> str | None:
    """The cluster for rows without a resource.kafka.id label: request filter, file name, --cluster."""
    return (request.cluster if request else None) or cf.cluster_from_name(source.path) or source.cluster


def _fill_cluster(rows: pd.DataFrame, source: Source, request: cf.Request | None) -> pd.DataFrame:
    missing = rows["cluster"].isna()
    if not missing.any():
        return rows
    default = _default_cluster(source, request)
    if default is None:
        raise source.fail(
            "cannot tell the cluster: save the request (filter on resource.kafka.id) beside it, "
            "put the lkc-… id in the file name, or pass --cluster lkc-…"
        )
    return rows.assign(cluster=rows["cluster"].where(~missing, default))


def _page_notes(doc: dict) -> list[str]:
    meta = doc.get("meta")
    page = meta.get("pagination") if isinstance(meta, dict) else None
    if isinstance(page, dict) and page.get("next_page_token"):
        return ["this page has a next_page_token: ingest every page (each saved as its own file)"]
    return []


# --- DuckDB-native fast path for large FLAT pages -----------------------------------------

FAST_MIN_BYTES = 1 << 20  # smaller pages: the Python reader is as fast and needs no temp tables

# JSON-typed fields keep the raw JSON text, so the Python checks below see exactly what the
# Python reader sees (a number is not a string, `"3"` and `3` are different texts).
_FLAT_TYPE = json.dumps(
    {
        "data": [
            {
                "timestamp": "JSON",
                "value": "JSON",
                "metric.topic": "JSON",
                "metric.partition": "JSON",
                "metric.consumer_group_id": "JSON",
                "resource.kafka.id": "JSON",
            }
        ],
        "meta": "JSON",
    }
)
_LABEL_FIELDS = ("metric.topic", "metric.partition", "metric.consumer_group_id", "resource.kafka.id")
_TMP = ("_cq_doc", "_cq_rows", "_cq_ts", "_cq_lab")  # the scratch connection's work tables


def fast_min_bytes() -> int:
    """Pages at least this large take the DuckDB path (`EXITKIT_FAST_MIN_BYTES` overrides, for tests)."""
    env = os.environ.get("EXITKIT_FAST_MIN_BYTES")
    return int(env) if env and env.strip().isdigit() else FAST_MIN_BYTES


def _fast(source: Source) -> ReadResult | None:
    """The page read by DuckDB, or None when the Python reader must do it (see `read`).

    Exactly as strict as the Python reader: DuckDB parses the JSON and unnests the points;
    every distinct timestamp and label value is then checked by the same Python functions the
    Python reader uses (there are few: hundreds of timestamps and topics per page). Whatever
    DuckDB would let through that Python would not — a key it does not map (counted: the
    number of `":` in the text must equal the keys DuckDB saw), a trailing comma, a value
    that is not a JSON number, a second point for one series and bucket — sends the file to
    the Python reader. DuckDB works on a private in-memory connection, so nothing it refuses
    can touch the store's transaction; the points come back as numeric codes (series, bucket,
    value) and become a frame with categorical labels that the store scans without copying
    strings.
    """
    data, path = source.data, source.path
    if any(c in str(path) for c in "*?[{") or data[:1] != b"{":
        return None
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        with path.open("rb") as fh:  # DuckDB reads the file itself: it must hold these very bytes
            if fh.read(2) == b"\x1f\x8b":
                return None
    except OSError:
        return None
    scan = _scan(data)
    if scan is None:
        return None  # a trailing comma: DuckDB accepts it, Python's json does not
    request = cf.find_request(source)
    metric, notes = _metric(source, request)
    if metric is None or (request is not None and request.bucket_s is None):
        return None  # nothing to read, or granularity ALL: the Python reader handles these

    con = _scratch()
    try:
        # Bounded like the store (DuckDB's default is 80 % of RAM per instance): a page needs ~13×
        # its size while parsed; past the limit DuckDB spills, or refuses and the Python reader reads it.
        _ensure_memory(con, max(SCRATCH_MIN_MEMORY, SCRATCH_MEMORY_PER_BYTE * len(data)))
        return _fast_read(con, source, request, metric, notes, scan)
    except Exception:  # noqa: BLE001 - a BadExport, DuckDB refusing the JSON, a RecursionError on a deeply
        return None  # nested label...: the Python reader reads it and says why (always correct, only slower)
    finally:
        for t in _TMP:
            con.execute(f"DROP TABLE IF EXISTS temp.{t}")


_LOCAL = threading.local()


def _scratch():
    """This thread's private in-memory DuckDB (one thread each: the driver reads files in parallel)."""
    con = getattr(_LOCAL, "con", None)
    if con is None:
        con = _LOCAL.con = duckdb.connect(
            ":memory:",
            config={"threads": 1, "memory_limit": f"{SCRATCH_MIN_MEMORY >> 20}MiB", "temp_directory": spill_dir()},
        )
        _LOCAL.limit = SCRATCH_MIN_MEMORY
    return con


def _ensure_memory(con, limit: int) -> None:
    """Raise the scratch connection's memory limit to `limit` bytes when it is lower.

    Only ever raised, never set per page: setting it makes DuckDB release its cached buffers,
    which the next page faults in again (a third of the ingest's system time on 16 MB pages).
    """
    if limit > getattr(_LOCAL, "limit", 0):
        con.execute("SET memory_limit = ?", [f"{limit >> 20}MiB"])
        _LOCAL.limit = limit


SCRATCH_MIN_MEMORY = 1024 << 20  # bytes: the scratch connection's memory limit, at least...
SCRATCH_MEMORY_PER_BYTE = 32  # ...and this many times the page size


def _scan(data: bytes) -> int | None:
    """The number of `":` (JSON keys) in the text, or None when it has a trailing comma."""
    a = np.frombuffer(data, dtype=np.uint8)
    head, tail = a[:-1], a[1:]
    keys = int(np.count_nonzero((head == 34) & (tail == 58)))
    if np.any((head == 44) & ((tail == 93) | (tail == 125))):
        return None
    if any(c in data for c in (b" ", b"\n", b"\t", b"\r")) and re.search(rb",\s*[\]}]", data):
        return None
    return keys


def _fast_read(con, source: Source, request, metric: cf.Metric, notes: list[str], keys: int) -> ReadResult | None:
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _cq_doc AS SELECT from_json(content, '{_FLAT_TYPE}') AS doc FROM read_text(?)",
        [str(source.path)],
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _cq_rows AS SELECT unnest(doc.data, recursive := true) FROM _cq_doc")
    ((meta,),) = con.execute("SELECT doc.meta FROM _cq_doc").fetchall()
    con.execute("DROP TABLE temp._cq_doc")
    ((n, *fields, numeric, stamps, raw),) = con.execute(
        """
        SELECT count(*), count("timestamp"), count(value), count("metric.topic"), count("metric.partition"),
               count("metric.consumer_group_id"), count("resource.kafka.id"),
               -- a JSON number: starts with a digit or '-', and is finite (1e999, -Infinity are not)
               bool_and(coalesce((ascii(value) BETWEEN 48 AND 57 OR ascii(value) = 45)
                                 AND isfinite(TRY_CAST(value AS DOUBLE)), false)),
               list(DISTINCT "timestamp"),
               list(DISTINCT ["metric.topic", "metric.partition", "metric.consumer_group_id", "resource.kafka.id"])
        FROM _cq_rows
        """
    ).fetchall()
    if not n or not numeric or fields[0] != n or fields[1] != n:
        return None
    if keys != 1 + sum(fields) + (0 if meta is None else 1 + str(meta).count('":')):
        return None  # a key DuckDB did not map: an unkept label, GROUPED points, a duplicate key...

    # Every distinct timestamp, checked and converted as the Python reader does.
    epochs = [cf.epoch_seconds(json.loads(t), source, None, "") for t in stamps]
    # Every distinct label combination, mapped as the Python reader maps it.
    default = _default_cluster(source, request)
    labels = []
    for topic, part, group, cluster in raw:
        canon = (
            _label(cluster, source) or default,
            _label(topic, source),
            None if part is None else cf.partition_label(json.loads(part), source, None, ""),
            _label(group, source),
        )
        if canon[0] is None:
            return None  # no cluster: the Python reader says what to pass
        labels.append(canon)
    if len(set(labels)) != len(labels):
        return None  # two spellings of one series (e.g. partition 3 and "3"): the Python reader sums or refuses
    # Codes in the Python reader's sort order (missing first), so points come out sorted alike.
    order = sorted(range(len(labels)), key=lambda i: tuple((v is not None, v) for v in labels[i]))
    labels = [labels[i] for i in order]
    raw = [raw[i] for i in order]
    e = np.array(epochs, dtype="float64")
    uniq, tid = np.unique(e, return_inverse=True)
    cols = ["metric.topic", "metric.partition", "metric.consumer_group_id", "resource.kafka.id"]
    present = [i for i, c in enumerate(fields[2:]) if c]  # label columns some point has
    con.register("_cq_lab_df", pd.DataFrame([[r[i] for i in present] for r in raw], columns=[f"k{i}" for i in present]))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _cq_lab AS SELECT *, (row_number() OVER () - 1)::INTEGER AS lid FROM _cq_lab_df"
    )
    con.register("_cq_ts_df", pd.DataFrame({"r_ts": stamps, "tid": tid.astype("int32")}))
    con.execute("CREATE OR REPLACE TEMP TABLE _cq_ts AS SELECT r_ts::JSON AS r_ts, tid FROM _cq_ts_df")
    con.unregister("_cq_lab_df")
    con.unregister("_cq_ts_df")
    on = " AND ".join(
        (f"r.{_q(cols[i])} = l.k{i}" if fields[2 + i] == n else f"r.{_q(cols[i])} IS NOT DISTINCT FROM l.k{i}")
        for i in present
    )
    coded = con.execute(
        f"""
        SELECT {"l.lid" if present else "0::INTEGER"} AS lid, t.tid, CAST(r.value AS DOUBLE) AS value
        FROM _cq_rows r {f"JOIN _cq_lab l ON {on}" if present else ""} JOIN _cq_ts t ON r."timestamp" = t.r_ts
        """
    ).fetchnumpy()
    lid = np.asarray(coded["lid"], dtype="int64")
    tix = np.asarray(coded["tid"], dtype="int64")
    value = np.asarray(coded["value"], dtype="float64")
    if len(lid) != n:
        return None
    key = lid * len(uniq) + tix
    if len(key) > 1 and not np.all(key[1:] > key[:-1]):
        sort = np.argsort(key, kind="stable")
        key, lid, tix, value = key[sort], lid[sort], tix[sort], value[sort]
    # One point per series and bucket: sorted by (series, bucket), a repeat sits next to its twin.
    if np.any(key[1:] == key[:-1]):
        return None  # the Python reader refuses it with its line
    bucket = request.bucket_s if request is not None else None
    gran_notes: list[str] = []
    if bucket is None:
        same = lid[1:] == lid[:-1]
        gaps = (uniq[tix[1:]] - uniq[tix[:-1]])[same]
        gaps = gaps[gaps > 0]
        best = int(round(float(gaps.min()))) if len(gaps) else None
        if best is None or cf.granularity_name(best) is None:
            return None  # the Python reader explains why the granularity is unknown
        bucket = best
        gran_notes = [f"granularity {cf.granularity_name(bucket)} inferred from the timestamps"]
    if metric.delta:
        value = value / float(bucket)  # deltas per bucket → per second
    # Interval bounds exactly as the Python reader computes them (float seconds → ns → naive UTC).
    starts = _to_utc_naive(uniq.tolist()).to_numpy()
    ends = _to_utc_naive((uniq + float(bucket)).tolist()).to_numpy()
    points = pd.DataFrame(
        {
            "cluster": _coded([lab[0] for lab in labels], lid),
            "topic": _coded([lab[1] for lab in labels], lid),
            "partition": pd.array([lab[2] for lab in labels], dtype="Int64").take(lid),
            "broker": _coded([None], np.zeros(len(lid), dtype="int64")),
            "consumer_group": _coded([lab[3] for lab in labels], lid),
            "metric": _coded([metric.canonical], np.zeros(len(lid), dtype="int64")),
            "ts_start": starts[tix],
            "ts_end": ends[tix],
            "value": value,
        }
    )
    clusters = sorted({lab[0] for lab in labels})
    return ReadResult(
        points=points,
        cluster=clusters[0] if len(clusters) == 1 else None,
        notes=notes + _page_notes({"meta": json.loads(meta) if meta is not None else None}) + gran_notes,
    )


def _coded(values: list, codes: np.ndarray) -> pd.Categorical | np.ndarray:
    """`values[codes]`: a categorical (the store scans its codes, no string per row) when no value
    is missing, else an object array with None where missing (as the Python reader gives)."""
    if any(v is None for v in values):
        table = np.empty(len(values), dtype=object)
        table[:] = values
        return table[codes]
    cats = sorted(set(values))
    pos = {v: i for i, v in enumerate(cats)}
    table = np.array([pos[v] for v in values], dtype="int32")
    return pd.Categorical.from_codes(table[codes], categories=pd.Index(cats, dtype=object))


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _label(raw: str | None, source: Source) -> str | None:
    """A kept string label from its raw JSON text, checked as `_row` checks it."""
    if raw is None:
        return None
    val = json.loads(raw)
    if not isinstance(val, str) or not val:
        raise source.fail(f"label = {val!r}; expected a non-empty string")
    return val


class _Locator:
    """Line of the JSON object at a path like ("data", 3, "points", 5); computed only when an error needs it.

    The stdlib's fast parser keeps no positions, so on demand the text is parsed again with the
    pure-Python scanner, recording where each object starts.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.doc: object = None

    def __call__(self, path: tuple) -> int | None:
        if self.doc is None:
            self.doc = _parse_with_offsets(self.text)
        node, offset = self.doc, getattr(self.doc, "offset", None)
        for key in path:
            try:
                node = node[key]  # type: ignore[index]
            except (KeyError, IndexError, TypeError):
                break
            offset = getattr(node, "offset", offset)
        if offset is None:
            return None
        return bisect.bisect_right(self.newlines, offset) + 1

    @property
    def newlines(self) -> list[int]:
        if not hasattr(self, "_newlines"):
            self._newlines = [i for i, c in enumerate(self.text) if c == "\n"]
        return self._newlines


class _OffsetDict(dict):
    offset: int


class _OffsetList(list):
    offset: int


def _parse_with_offsets(text: str) -> object:
    """The JSON document with every object and array knowing the offset where it starts."""
    decoder = json.JSONDecoder()

    def parse_object(s_and_end, *args):
        obj, end = json.decoder.JSONObject(s_and_end, *args)
        out = _OffsetDict(obj)
        out.offset = s_and_end[1] - 1
        return out, end

    def parse_array(s_and_end, scan_once):
        arr, end = json.decoder.JSONArray(s_and_end, scan_once)
        out = _OffsetList(arr)
        out.offset = s_and_end[1] - 1
        return out, end

    decoder.parse_object = parse_object
    decoder.parse_array = parse_array
    decoder.scan_once = json.scanner.py_make_scanner(decoder)
    return decoder.decode(text)


READER = register(
    Reader(
        name="confluent-query",
        description="Confluent Cloud Metrics API /v2/metrics/cloud/query response (JSON, FLAT or GROUPED)",
        sniff=sniff,
        read=read,
    )
)
