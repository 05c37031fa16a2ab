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
import re

import pandas as pd

from exitkit.errors import BadExport
from exitkit.ingest import _confluent as cf
from exitkit.ingest.base import Reader, ReadResult, Source, empty_points, register

_CLAIM = re.compile(r'"data"\s*:\s*\[')
_OURS = re.compile(r'"(?:timestamp|points|pagination)"\s*:')
_NOT_OURS = ('"MetricDataResults"', '"Datapoints"', '"resultType"', '"aggregations"')


def sniff(head: str, source: Source) -> bool:
    """A JSON object with a `data` array of Confluent points/groups, and no other API's keys."""
    if not head.lstrip().startswith("{") or any(k in head for k in _NOT_OURS):
        return False
    return bool(_CLAIM.search(head) and _OURS.search(head))


def read(source: Source) -> ReadResult:
    """Points of one response page, in canonical names and per-second units."""
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


register(
    Reader(
        name="confluent-query",
        description="Confluent Cloud Metrics API /v2/metrics/cloud/query response (JSON, FLAT or GROUPED)",
        sniff=sniff,
        read=read,
    )
)
