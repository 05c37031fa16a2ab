"""Amazon MSK CloudWatch (namespace `AWS/Kafka`) exports saved from the aws CLI.

One reader, `cloudwatch`, for three kinds of JSON file (docs/formats/cloudwatch.md has the
commands that make them):
- `aws cloudwatch get-metric-data`: the response's `MetricDataResults` together with the
  request's `MetricDataQueries` (one object, a list of such objects, or several objects
  concatenated). Dimensions come from the queries, matched to results by `Id`.
- `aws cloudwatch get-metric-statistics`: `{"Label", "Datapoints"}`; its dimensions come from
  the request merged into the same object (`jq -s '.[0] * .[1]'`).
- a saved request alone (`--cli-input-json` form): a companion (`ReadResult(skip=True)`).
  A response whose request is not inside it takes it from `NAME.request.json` beside it.

Only `Average` of a `*PerSec` metric is a per-second rate over its period; other statistics
of rates are refused. Values are stored over [timestamp, timestamp + period).
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from exitkit.errors import BadExport
from exitkit.ingest._kafka_cli import check_json_text
from exitkit.ingest.base import POINT_COLUMNS, Reader, ReadResult, Source, iso_time, read_bytes, register

NAMESPACE = "AWS/Kafka"

# `*PerSec` metrics: the Average over a period is the per-second rate over that period.
RATE_METRICS = {"BytesInPerSec": "bytes_in", "BytesOutPerSec": "bytes_out", "MessagesInPerSec": "records_in"}
GAUGE_METRICS = {
    "SumOffsetLag": "consumer_lag_records",  # per (group, topic): partition NULL
    "OffsetLag": "consumer_lag_records",  # per (group, topic, partition)
    "GlobalPartitionCount": "partition_count",  # cluster-wide, excluding replicas: topic NULL
}
# Statistics accepted, best first. A rate needs Average; a gauge's peak is the useful figure.
RATE_STATS = ("Average",)
GAUGE_STATS = ("Maximum", "Average", "Minimum")
# Known AWS/Kafka metrics exitkit does not use: skipped without a note.
UNUSED_METRICS = frozenset(
    {
        "MaxOffsetLag", "EstimatedMaxTimeLag", "EstimatedTimeLag", "PartitionCount", "GlobalTopicCount",
        "ReplicationBytesInPerSec", "ReplicationBytesOutPerSec", "FetchMessageConversionsPerSec",
        "ProduceMessageConversionsPerSec", "ActiveControllerCount", "OfflinePartitionsCount",
        "UnderReplicatedPartitions", "UnderMinIsrPartitionCount", "LeaderCount", "ZooKeeperRequestLatencyMsMean",
        "CpuUser", "CpuSystem", "CpuIdle", "MemoryUsed", "MemoryFree", "ConnectionCount", "ClientConnectionCount",
        "NetworkRxPackets", "NetworkTxPackets", "RequestTime", "ProduceTotalTimeMsMean", "FetchConsumerTotalTimeMsMean",
    }
)  # fmt: skip
DIMENSIONS = {"Cluster Name": "cluster", "Broker ID": "broker", "Topic": "topic", "Consumer Group": "consumer_group",
              "Partition": "partition"}  # fmt: skip

# Timestamps the store can hold (pandas datetime64[ns] ends in 2262).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_MS = (datetime(2262, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(milliseconds=1)
_MAX_PERIOD_S = 366 * 86400

_HEAD_RESULTS = re.compile(r'"MetricData(Results|Queries)"\s*:')
_HEAD_DATAPOINTS = re.compile(r'"Datapoints"\s*:')
_HEAD_LABEL = re.compile(r'"Label"\s*:')
_HEAD_REQUEST = re.compile(r'"Namespace"\s*:\s*"AWS/')
_HEAD_METRIC_NAME = re.compile(r'"MetricName"\s*:')


def sniff(head: str, source: Source) -> bool:
    """Mine when the head is JSON naming get-metric-data / get-metric-statistics keys."""
    if not head.lstrip().startswith(("{", "[")):
        return False
    if _HEAD_RESULTS.search(head):
        return True
    if _HEAD_DATAPOINTS.search(head) and _HEAD_LABEL.search(head):
        return True
    return bool(_HEAD_REQUEST.search(head) and _HEAD_METRIC_NAME.search(head))


def read(source: Source) -> ReadResult:
    """Dispatch on what the whole file holds: get-metric-data, get-metric-statistics or a request."""
    text = source.text()
    docs = _documents(source, text)
    if any("MetricDataResults" in d for d in docs):
        if any("Datapoints" in d for d in docs):
            raise source.fail("mixes get-metric-data and get-metric-statistics output; save them to separate files")
        return _read_metric_data(source, text, docs)
    if any("Datapoints" in d for d in docs):
        return _read_statistics(source, text, docs)
    if all(_is_request(d) for d in docs):
        return ReadResult(
            skip=True,
            notes=["saved CloudWatch request, no data of its own: it gives the response beside it its dimensions"],
        )
    raise source.fail(
        "JSON without MetricDataResults or Datapoints; expected aws cloudwatch get-metric-data or "
        "get-metric-statistics output saved as JSON"
    )


READER = register(
    Reader(
        name="cloudwatch",
        description="Amazon MSK CloudWatch JSON (aws cloudwatch get-metric-data / get-metric-statistics)",
        sniff=sniff,
        read=read,
    )
)


# --- JSON documents and line numbers ---------------------------------------------------------


def _documents(source: Source, text: str) -> list[dict]:
    """The JSON objects in the file: one object, a list of objects, or objects concatenated."""
    decoder = json.JSONDecoder()
    docs: list[dict] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            break
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise source.fail(
                f"truncated or invalid JSON ({exc.msg}); expected complete aws CLI JSON output", exc.lineno
            ) from None
        except RecursionError:
            raise source.fail("JSON nested too deeply; expected aws CLI JSON output") from None
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, dict):
                raise source.fail(f"found JSON {type(item).__name__} where a JSON object was expected")
            docs.append(check_json_text(item, source, text=text))
    if not docs:
        raise source.fail("no JSON object; expected aws CloudWatch CLI JSON output")
    return docs


def _is_request(doc: dict) -> bool:
    return "MetricDataQueries" in doc or ("MetricName" in doc and "Namespace" in doc)


def _line(text: str, *steps: str | tuple[str, int]) -> int | None:
    """Line of the last step found, each step searched after the previous; None if one is missing.

    A step is a regex, or (regex, n) for its n-th match (from 0). Only called to report an
    error, so the scans cost nothing on good files.
    """
    pos = 0
    for step in steps:
        pattern, nth = step if isinstance(step, tuple) else (step, 0)
        for _ in range(nth + 1):
            m = re.compile(pattern).search(text, pos)
            if m is None:
                return None
            pos = m.end()
        pos = m.start()
    return text.count("\n", 0, pos) + 1


@contextmanager
def _located(source: Source, locate: Callable[[], int | None]) -> Iterator[None]:
    """Give a BadExport raised inside without a line the line `locate()` finds."""
    try:
        yield
    except BadExport as exc:
        if exc.line is not None or exc.path != str(source.path):
            raise
        raise source.fail(exc.message, locate()) from None


def _key_value(key: str, value: str) -> str:
    """Regex for `"key": <value as JSON>` in the file text."""
    return rf'"{key}"\s*:\s*' + re.escape(json.dumps(value))


# --- values ----------------------------------------------------------------------------------


def _number(value: Any, source: Source, what: str) -> float:
    """A finite float from a JSON number, or a BadExport saying what was expected."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise source.fail(f"{what} {value!r} is not a number; expected a JSON number")
    try:
        f = float(value)
    except OverflowError:
        raise source.fail(f"{what} {value} is too large; expected a float") from None
    if not math.isfinite(f):
        raise source.fail(f"{what} {value!r} is not a finite number")
    return f


def _epoch_ms(value: Any, source: Source, what: str = "timestamp") -> int:
    """Milliseconds since the epoch from an ISO-8601 string (offset optional, UTC if none) or epoch seconds."""
    try:
        if isinstance(value, str):
            dt = datetime.fromisoformat(value)
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=UTC)  # CloudWatch times are UTC
            ms = (dt - _EPOCH) // timedelta(milliseconds=1)
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            ms = round(value if abs(value) > 1e11 else value * 1000)  # epoch ms vs seconds, by magnitude
        else:
            raise ValueError
    except (ValueError, OverflowError):
        raise source.fail(f"{what} {value!r} is not a time; expected ISO-8601 like 2025-03-03T10:05:00+00:00") from None
    if not 0 <= ms < _MAX_MS:
        shown = repr(value) if isinstance(value, str) else iso_time(ms / 1000)
        raise source.fail(f"{what} {shown} is out of range; expected a time between 1970 and 2262")
    return ms


def _period(value: Any, source: Source) -> int:
    """A period in whole seconds (CloudWatch: 1, 5, 10, 30 or a multiple of 60)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= _MAX_PERIOD_S:
        raise source.fail(f"Period {value!r} is not usable; expected whole seconds, e.g. 60 or 300")
    return value


def _bulk_numbers(values: list) -> np.ndarray | None:
    """Float64 of a list of finite JSON numbers (not bools); None if any is otherwise (check one by one)."""
    types = set(map(type, values))
    if not types <= {float, int}:
        return None
    try:
        arr = np.fromiter(values if int not in types else map(float, values), np.float64, len(values))
    except OverflowError:  # an int beyond float
        return None
    return arr if np.isfinite(arr).all() else None


def _iso_layout(suffix: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Per character of `2025-03-03T10:05:00<suffix>`: the lowest byte allowed and how far above it."""
    layout = "0000-00-00T00:00:00"
    low = np.frombuffer(layout.encode() + suffix, np.uint8)
    span = np.array([9 if ch == "0" else 0 for ch in layout] + [0] * len(suffix), np.uint8)
    return low, span


# The times the aws CLI writes (2025-03-03T10:05:00+00:00, or ...:00Z, or no offset), by length.
_ISO_LAYOUTS = {19: _iso_layout(b""), 20: _iso_layout(b"Z"), 25: _iso_layout(b"+00:00")}
_BULK_YEARS = (1970, 2261)  # inside the store's range whatever the day
# Days from 1970-01-01 to the first of each month from 1970-01, and one month beyond.
_MONTH_START = (
    np.arange((_BULK_YEARS[1] - _BULK_YEARS[0] + 1) * 12 + 1).astype("datetime64[M]").astype("datetime64[D]")
).astype(np.int64)


def _bulk_epoch_ms(times: list) -> np.ndarray | None:
    """Epoch ms (int64) of UTC ISO-8601 strings of one layout, years 1970-2261; None otherwise.

    Gives exactly what `_epoch_ms` gives for these strings; None sends the page to `_epoch_ms`.
    """
    n = len(times)
    if n == 0:
        return np.empty(0, np.int64)
    try:
        raw = "".join(times).encode("ascii")  # TypeError: not all strings
    except (TypeError, UnicodeEncodeError):
        return None
    width = len(times[0])
    if width not in _ISO_LAYOUTS or set(map(len, times)) != {width}:
        return None
    chars = np.frombuffer(raw, np.uint8).reshape(n, width)
    low, span = _ISO_LAYOUTS[width]
    if not ((chars - low) <= span).all():  # uint8: a byte below `low` wraps above any span
        return None
    c = chars[:, :19].T.astype(np.int32) - ord("0")  # one row per character, digits as numbers
    year = c[0] * 1000 + c[1] * 100 + c[2] * 10 + c[3]
    month, day, hour, minute, second = (c[i] * 10 + c[i + 1] for i in (5, 8, 11, 14, 17))
    if not (
        (year >= _BULK_YEARS[0]) & (year <= _BULK_YEARS[1]) & (month >= 1) & (month <= 12) & (day >= 1)
        & (hour <= 23) & (minute <= 59) & (second <= 59)
    ).all():  # fmt: skip
        return None
    months = (year - _BULK_YEARS[0]) * 12 + month - 1
    first = _MONTH_START[months]
    if not (day <= _MONTH_START[months + 1] - first).all():
        return None
    return (first + (day - 1)) * 86_400_000 + (hour * 3600 + minute * 60 + second) * 1000


# --- series: what a query asks for, and how it maps ------------------------------------------


@dataclass(frozen=True)
class _Series:
    """One metric + dimension set + statistic + period, as a query or request names it."""

    name: str  # AWS/Kafka metric name
    dims: tuple[tuple[str, str], ...]  # (dimension name, value), sorted
    stat: str
    period: int | None  # None: infer from timestamps (get-metric-statistics without request)


@dataclass
class _Out:
    """Points and notes collected from one file."""

    labels: list[dict] = field(default_factory=list)  # per added series: store labels and metric
    times: list[np.ndarray] = field(default_factory=list)  # ts_ms (int64)
    ends: list[np.ndarray] = field(default_factory=list)  # end_ms (int64)
    values: list[np.ndarray] = field(default_factory=list)  # float64
    notes: list[str] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)
    disk_percent: bool = False
    other_namespaces: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)  # query Ids whose results said InternalError/Forbidden

    def add(self, labels: dict, metric: str, period_s: int, ts_ms: np.ndarray, values: np.ndarray) -> None:
        self.labels.append({**labels, "metric": metric})
        self.times.append(ts_ms)
        self.ends.append(ts_ms + period_s * 1000)
        self.values.append(values)

    def frame(self) -> pd.DataFrame:
        """The points as `points_frame` makes them; each series' labels repeated in bulk, not point by point."""
        counts = np.array([len(t) for t in self.times], dtype=np.int64)

        def repeated(per_series: list, dtype: Any = object) -> np.ndarray:
            arr = np.empty(len(per_series), dtype=dtype)
            arr[:] = per_series
            return np.repeat(arr, counts)

        def times(chunks: list[np.ndarray]) -> pd.Series:
            ms = np.concatenate([np.empty(0, np.int64), *chunks])
            return pd.Series(ms.astype("datetime64[ms]").astype("datetime64[ns]"))

        partitions = [lb.get("partition") for lb in self.labels]
        columns = {
            key: pd.Series(repeated([lb.get(key) for lb in self.labels]), dtype=object)
            for key in ("cluster", "topic", "broker", "consumer_group", "metric")
        }
        columns["partition"] = pd.Series(
            pd.arrays.IntegerArray(
                repeated([p or 0 for p in partitions], np.int64), repeated([p is None for p in partitions], bool)
            )
        )
        columns["ts_start"] = times(self.times)
        columns["ts_end"] = times(self.ends)
        columns["value"] = pd.Series(np.concatenate([np.empty(0, np.float64), *self.values]))
        return pd.DataFrame({key: columns[key] for key in POINT_COLUMNS})

    def clusters(self) -> set[str]:
        """The clusters of the points (the frame's distinct non-null `cluster`)."""
        return {lb["cluster"] for lb, t in zip(self.labels, self.times, strict=True) if len(t)} - {None}

    def all_notes(self) -> list[str]:
        notes = list(self.notes)
        if self.disk_percent:
            notes.append(
                "KafkaDataLogsDiskUsed is percent of disk, not bytes: skipped (use kafka-log-dirs for retained bytes)"
            )
        if self.unknown:
            notes.append(f"skipped AWS/Kafka metrics exitkit does not map: {', '.join(sorted(self.unknown))}")
        if self.other_namespaces:
            notes.append(f"skipped metrics outside {NAMESPACE}: {', '.join(sorted(self.other_namespaces))}")
        return notes


def _canonical(name: str, namespace: str, out: _Out) -> str | None:
    """The canonical metric for an AWS/Kafka metric, or None (skipped, noted where useful)."""
    if namespace != NAMESPACE:
        out.other_namespaces.add(namespace)
        return None
    if name in RATE_METRICS:
        return RATE_METRICS[name]
    if name in GAUGE_METRICS:
        return GAUGE_METRICS[name]
    if name == "KafkaDataLogsDiskUsed":
        out.disk_percent = True
    elif name not in UNUSED_METRICS:
        out.unknown.add(name)
    return None


def _dimensions(raw: Any, source: Source) -> tuple[tuple[str, str], ...]:
    """`[{"Name", "Value"}, ...]` as sorted pairs."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(
        isinstance(d, dict) and isinstance(d.get("Name"), str) and isinstance(d.get("Value"), str) for d in raw
    ):
        raise source.fail('Dimensions is not a list of {"Name": string, "Value": string} objects')
    return tuple(sorted((d["Name"], d["Value"]) for d in raw))


def _labels(series: _Series, cluster: str | None, source: Source) -> dict | None:
    """Store labels from the dimensions; None for a dimension exitkit does not know (skip)."""
    labels: dict[str, Any] = {}
    for name, value in series.dims:
        if name not in DIMENSIONS:
            return None
        labels[DIMENSIONS[name]] = value
    if "partition" in labels:
        try:
            labels["partition"] = int(labels["partition"])
        except ValueError:
            raise source.fail(f"Partition dimension {labels['partition'][:40]!r} is not an integer") from None
        if not 0 <= labels["partition"] < 2**31:  # the store's INTEGER column
            raise source.fail(f"Partition dimension {str(labels['partition'])[:40]} is not a partition number")
    labels.setdefault("cluster", cluster)
    if labels["cluster"] is None:
        raise source.fail(
            f"{series.name} has no 'Cluster Name' dimension and the cluster is unknown; pass --cluster NAME"
        )
    return labels


def _pick_stats(series: list[_Series], source: Source, line_of) -> tuple[set[_Series], list[str]]:
    """Among series differing only in statistic, keep the best accepted one per (metric, dims, period).

    Returns the kept series and notes for the ones dropped. A rate without Average is refused:
    `Sum` of a per-second rate adds per-minute samples, it is not bytes.
    """
    groups: dict[tuple, list[_Series]] = defaultdict(list)
    for s in series:
        groups[(s.name, s.dims, s.period)].append(s)
    kept: set[_Series] = set()
    notes: list[str] = []
    for (name, _dims, _period), members in groups.items():
        accepted = RATE_STATS if name in RATE_METRICS else GAUGE_STATS
        best = next((st for st in accepted if any(m.stat == st for m in members)), None)
        if best is None:
            s = members[0]
            want = "Average" if name in RATE_METRICS else " or ".join(GAUGE_STATS)
            raise source.fail(f"{name} with statistic {s.stat!r} is not usable; request {want} instead", line_of(s))
        chosen = next(m for m in members if m.stat == best)
        kept.add(chosen)
        dropped = sorted({m.stat for m in members} - {best})
        if dropped:
            notes.append(f"{name}: kept {best}, skipped {', '.join(dropped)}")
    return kept, notes


def _sorted_points(ts_ms: np.ndarray, values: np.ndarray, source: Source, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Points ascending by time (CloudWatch returns newest first); repeated times must agree.

    Of equal values at one time (0.0 and -0.0 are equal) the first in the file is kept.
    """
    order = np.argsort(ts_ms, kind="stable")
    ts_ms, values = ts_ms[order], values[order]
    same = ts_ms[1:] == ts_ms[:-1]
    if same.any():
        if (values[1:][same] != values[:-1][same]).any():
            raise source.fail(f"{what} has two different values at one timestamp; expected one per period")
        keep = np.concatenate(([True], ~same))  # the same point from two overlapping pages
        ts_ms, values = ts_ms[keep], values[keep]
    return ts_ms, values


# --- get-metric-data -------------------------------------------------------------------------


def _read_metric_data(source: Source, text: str, docs: list[dict]) -> ReadResult:
    """Results matched to their queries by Id; pages of one Id concatenated; points sorted."""
    queries = _queries(source, text, docs)
    out = _Out()
    plan = _plan_queries(source, text, queries, out)
    data = _collect_results(source, text, docs, queries, out)
    for qid, (series, labels) in plan.items():
        if qid not in data:
            if qid not in out.failed:
                out.notes.append(f"no result for query Id {qid!r}: the save looks incomplete")
            continue
        ts_pages, value_pages = data[qid]
        with _located(source, lambda qid=qid: _result_line(text, qid)):
            ts_ms, values = _sorted_points(
                np.concatenate(ts_pages), np.concatenate(value_pages), source, f"result Id {qid!r}"
            )
        # BytesIn/BytesOut per broker count partition leaders only: summing brokers is exact.
        out.add(labels, _canonical_name(series.name), series.period, ts_ms, values)
    return _result(out)


def _canonical_name(name: str) -> str:
    return RATE_METRICS.get(name) or GAUGE_METRICS[name]


def _query_line(text: str, qid: str) -> int | None:
    return _line(text, r'"MetricDataQueries"', _key_value("Id", qid))


def _result_line(text: str, qid: str, literal: Any = None) -> int | None:
    steps = [r'"MetricDataResults"', _key_value("Id", qid)]
    if isinstance(literal, str):
        steps.append(re.escape(json.dumps(literal)))
    return _line(text, *steps)


def _queries(source: Source, text: str, docs: list[dict]) -> dict[str, dict]:
    """MetricDataQueries by Id, from the file, else from NAME.request.json beside it."""
    raw = [q for d in docs for q in _query_list(d, source, text)]
    if not raw:
        req = _sibling_request(source)
        if req is None:
            raise source.fail(
                "get-metric-data results without their MetricDataQueries; save the request with the response "
                f"(jq -s '.[0] * .[1]' request.json response.json) or beside it as {_request_name(source.path)}"
            )
        req_source, req_text, req_docs = req
        raw = [q for d in req_docs for q in _query_list(d, req_source, req_text)]
    queries: dict[str, dict] = {}
    for q in raw:
        qid = q.get("Id")
        if not isinstance(qid, str):
            raise source.fail(
                f"a MetricDataQueries entry has no string Id: {json.dumps(q)[:80]}", _line(text, r'"MetricDataQueries"')
            )
        if queries.get(qid, q) != q:
            raise source.fail(f"two different queries with Id {qid!r}; expected unique Ids", _query_line(text, qid))
        queries[qid] = q
    return queries


def _query_list(doc: dict, source: Source, text: str) -> list[dict]:
    queries = doc.get("MetricDataQueries", [])
    if not isinstance(queries, list) or not all(isinstance(q, dict) for q in queries):
        raise source.fail("MetricDataQueries is not a list of objects", _line(text, r'"MetricDataQueries"'))
    return queries


def _plan_queries(source: Source, text: str, queries: dict[str, dict], out: _Out) -> dict[str, tuple[_Series, dict]]:
    """Id -> (series, store labels) for the queries whose results become points; notes for the rest."""
    series_of: dict[str, _Series] = {}
    expressions: list[str] = []
    for qid, q in queries.items():
        if q.get("ReturnData") is False:
            continue  # an input of an expression, not asked for
        if q.get("MetricStat") is None:
            expressions.append(qid)
            continue
        with _located(source, lambda qid=qid: _query_line(text, qid)):
            series, namespace = _metric_stat(q["MetricStat"], source)
        if _canonical(series.name, namespace, out):
            series_of[qid] = series
    if expressions:
        out.notes.append(
            f"skipped expression queries (exitkit reads MetricStat queries only): {', '.join(expressions)}"
        )

    def line_of(s: _Series) -> int | None:
        return _query_line(text, next(i for i, x in series_of.items() if x == s))

    kept, notes = _pick_stats(list(series_of.values()), source, line_of)
    out.notes.extend(notes)
    clusters = {v for s in kept for k, v in s.dims if k == "Cluster Name"}
    # A series without `Cluster Name` (older lag metrics) takes --cluster, else the file's only cluster.
    fallback = source.cluster or (next(iter(clusters)) if len(clusters) == 1 else None)
    plan: dict[str, tuple[_Series, dict]] = {}
    planned: set[_Series] = set()
    for qid, s in series_of.items():
        if s not in kept:
            continue  # another statistic of a kept series
        if s in planned:
            out.notes.append(f"skipped query {qid!r}: the same series as another query")
            continue
        planned.add(s)
        with _located(source, lambda qid=qid: _query_line(text, qid)):
            labels = _labels(s, fallback, source)
        if labels is None:
            out.notes.append(f"skipped query {qid!r}: dimensions {[d for d, _ in s.dims]} not known to exitkit")
            continue
        plan[qid] = (s, labels)
    return _drop_summed_lag(plan, out)


def _metric_stat(stat: Any, source: Source) -> tuple[_Series, str]:
    """A query's MetricStat as a series and its namespace."""
    metric = stat.get("Metric") if isinstance(stat, dict) else None
    if (
        not isinstance(metric, dict)
        or not isinstance(metric.get("MetricName"), str)
        or not isinstance(stat.get("Stat"), str)
    ):
        raise source.fail('MetricStat is not {"Metric": {"Namespace", "MetricName", "Dimensions"}, "Period", "Stat"}')
    series = _Series(
        name=metric["MetricName"],
        dims=_dimensions(metric.get("Dimensions"), source),
        stat=stat["Stat"],
        period=_period(stat.get("Period"), source),
    )
    return series, str(metric.get("Namespace", NAMESPACE))


def _drop_summed_lag(plan: dict[str, tuple[_Series, dict]], out: _Out) -> dict[str, tuple[_Series, dict]]:
    """Where a file has OffsetLag per partition, drop SumOffsetLag for that group and topic.

    Both become consumer_lag_records and the profile sums partitions: keeping both counts twice.
    """

    def key(lb: dict) -> tuple:
        return lb["cluster"], lb.get("consumer_group"), lb.get("topic")

    per_partition = {key(lb) for s, lb in plan.values() if s.name == "OffsetLag"}
    keep = {}
    for qid, (s, lb) in plan.items():
        if s.name == "SumOffsetLag" and key(lb) in per_partition:
            out.notes.append(f"skipped SumOffsetLag {qid!r}: OffsetLag per partition is in the file")
            continue
        keep[qid] = (s, lb)
    return keep


def _collect_results(
    source: Source, text: str, docs: list[dict], queries: dict[str, dict], out: _Out
) -> dict[str, tuple[list[np.ndarray], list[np.ndarray]]]:
    """Id -> (timestamps ms, values) page by page; status codes and messages become notes."""
    data: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    last_status: dict[str, str] = {}
    for doc in docs:
        results = doc.get("MetricDataResults", [])
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise source.fail("MetricDataResults is not a list of objects", _line(text, r'"MetricDataResults"'))
        for r in results:
            qid = r.get("Id")
            if not isinstance(qid, str) or qid not in queries:
                line = _result_line(text, qid) if isinstance(qid, str) else _line(text, r'"MetricDataResults"')
                raise source.fail(f"result Id {qid!r} has no matching query in MetricDataQueries", line)
            # The aws CLI paginates: earlier pages of an Id say PartialData, the last says Complete.
            status = last_status[qid] = str(r.get("StatusCode", "Complete"))
            out.notes.extend(f"result {qid!r}: {_message(m)}" for m in r.get("Messages") or [])
            if status not in ("Complete", "PartialData"):
                continue  # InternalError, Forbidden: no usable data in this page
            ts_ms, values = _result_arrays(r, qid, source, text)
            acc = data.setdefault(qid, ([], []))
            acc[0].append(ts_ms)
            acc[1].append(values)
        out.notes.extend(f"CloudWatch message: {_message(m)}" for m in doc.get("Messages") or [])
        if doc.get("NextToken"):
            out.notes.append(
                "the response has a NextToken: more pages exist; save them all (the aws CLI paginates by default)"
            )
    for qid, status in last_status.items():
        if status == "PartialData":
            out.notes.append(f"PartialData for id {qid}: follow NextToken")
        elif status != "Complete":
            out.notes.append(f"{status} for id {qid}: no data kept")
            out.failed.add(qid)
    return data


def _message(m: Any) -> str:
    return f"{m.get('Code')}: {m.get('Value')}" if isinstance(m, dict) else str(m)


def _result_arrays(r: dict, qid: str, source: Source, text: str) -> tuple[np.ndarray, np.ndarray]:
    """One result page's Timestamps (ms, int64) and Values (float64), checked.

    The usual page (JSON numbers, times like 2025-03-03T10:05:00+00:00) is checked and
    converted in bulk; any other page goes point by point, which also finds the error.
    """
    ts_raw, vals_raw = r.get("Timestamps", []), r.get("Values", [])
    if isinstance(ts_raw, list) and isinstance(vals_raw, list) and len(ts_raw) == len(vals_raw):
        values = _bulk_numbers(vals_raw)
        ts_ms = _bulk_epoch_ms(ts_raw) if values is not None else None
        if ts_ms is not None:
            return ts_ms, values
    ts_list, value_list = _checked_arrays(ts_raw, vals_raw, qid, source, text)
    return np.array(ts_list, dtype=np.int64), np.array(value_list, dtype=np.float64)


def _checked_arrays(ts_raw: Any, vals_raw: Any, qid: str, source: Source, text: str) -> tuple[list[int], list[float]]:
    """Timestamps and Values point by point (errors located at the result's Id, or the timestamp)."""
    what = f"result Id {qid!r}"
    with _located(source, lambda: _result_line(text, qid)):
        if not isinstance(ts_raw, list) or not isinstance(vals_raw, list):
            raise source.fail(f"{what}: Timestamps and Values must be arrays")
        if len(ts_raw) != len(vals_raw):
            raise source.fail(
                f"{what} has {len(ts_raw)} Timestamps but {len(vals_raw)} Values; expected parallel arrays"
            )
        values = [_number(v, source, f"{what}: value") for v in vals_raw]
    ts_ms: list[int] = []
    for t in ts_raw:
        try:
            ts_ms.append(_epoch_ms(t, source, f"{what}: timestamp"))
        except BadExport as exc:  # the line of this very timestamp
            raise source.fail(exc.message, _result_line(text, qid, t)) from None
    return ts_ms, values


# --- get-metric-statistics -------------------------------------------------------------------


def _read_statistics(source: Source, text: str, docs: list[dict]) -> ReadResult:
    """Each Datapoints object with its request: the object's own keys, else a request object
    before it in the file, else NAME.request.json beside the file."""
    out = _Out()
    request: dict = {}
    sibling: dict | None = None
    k = -1  # index of the Datapoints object, for line numbers
    for doc in docs:
        if "Datapoints" not in doc:
            if not _is_request(doc):
                raise source.fail("a JSON object with neither Datapoints nor request keys (Namespace, MetricName)")
            request = doc
            continue
        k += 1
        if "MetricName" not in doc and not request and sibling is None:
            found = _sibling_request(source)
            sibling = found[2][0] if found else {}
        merged = {**(sibling or {}), **request, **doc}
        with _located(source, lambda k=k: _line(text, (r'"Datapoints"', k))):
            _statistics_doc(source, text, merged, k, out)
    return _result(out)


def _statistics_doc(source: Source, text: str, doc: dict, k: int, out: _Out) -> None:
    """One get-metric-statistics response (request keys merged in) into points."""
    name = doc.get("MetricName") or doc.get("Label") or _metric_option(source)
    if not isinstance(name, str) or not name:
        raise source.fail("the metric is unknown: merge the request (MetricName) into the file or pass --metric")
    metric = _canonical(name, str(doc.get("Namespace", NAMESPACE)), out)
    points = doc["Datapoints"]
    if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
        raise source.fail("Datapoints is not a list of objects")
    if metric is None:
        return
    if not points:
        out.notes.append(f"{name}: no datapoints")
        return
    stat = _datapoint_stat(name, points, source)
    ts_ms: list[int] = []
    values: list[float] = []
    for i, p in enumerate(points):
        with _located(source, lambda i=i: _line(text, (r'"Datapoints"', k), (r'"Timestamp"\s*:', i))):
            ts_ms.append(_epoch_ms(p.get("Timestamp"), source, "Timestamp"))
            values.append(_number(p.get(stat), source, stat))
    ts_ms, values = _sorted_points(np.array(ts_ms, dtype=np.int64), np.array(values, dtype=np.float64), source, name)
    if "Dimensions" not in doc:
        out.notes.append(f"{name}: no Dimensions (request not saved with it): stored as a cluster-level series")
    series = _Series(name, _dimensions(doc.get("Dimensions"), source), stat, None)
    period = _period(doc["Period"], source) if "Period" in doc else _infer_period(ts_ms.tolist(), source)
    labels = _labels(series, source.cluster, source)
    if labels is None:
        out.notes.append(f"skipped {name}: dimensions {[d for d, _ in series.dims]} not known to exitkit")
        return
    out.add(labels, metric, period, ts_ms, values)


def _metric_option(source: Source) -> str | None:
    """--metric as an AWS/Kafka name; a canonical name (bytes_in) is translated."""
    by_canonical = {v: k for k, v in RATE_METRICS.items()} | {"partition_count": "GlobalPartitionCount"}
    return by_canonical.get(source.metric, source.metric) if source.metric else None


def _datapoint_stat(name: str, points: list[dict], source: Source) -> str:
    """The statistic to read from the datapoints: Average for rates; Maximum, Average, Minimum for gauges."""
    present = {k for p in points for k in p}
    accepted = RATE_STATS if name in RATE_METRICS else GAUGE_STATS
    for stat in accepted:
        if stat in present:
            return stat
    found = sorted(present - {"Timestamp", "Unit", "ExtendedStatistics"}) or ["none"]
    want = "--statistics Average" if name in RATE_METRICS else "--statistics Maximum (or Average)"
    raise source.fail(f"{name} datapoints carry {', '.join(found)}, not usable; request {want}")


def _infer_period(ts_ms: list[int], source: Source) -> int:
    """The smallest spacing of the (sorted, distinct) timestamps, in seconds."""
    if len(ts_ms) < 2:
        raise source.fail("cannot infer the period from one datapoint; merge the request (Period) into the file")
    return _period(min(b - a for a, b in zip(ts_ms, ts_ms[1:], strict=False)) // 1000, source)


# --- companion request files -----------------------------------------------------------------


def _request_name(path: Path) -> str:
    """`NAME.request.json` for a response saved as NAME.<ext>[.gz]."""
    name = path.name.removesuffix(".gz")
    return f"{name.rsplit('.', 1)[0] if '.' in name else name}.request.json"


def _sibling_request(source: Source) -> tuple[Source, str, list[dict]] | None:
    """The request saved beside a response (NAME.request.json, or .gz), parsed; None if there is none."""
    base = source.path.with_name(_request_name(source.path))
    for path in (base, base.with_name(base.name + ".gz")):
        if path.is_file() and path != source.path:
            req = Source(path=path, data=read_bytes(path), cluster=source.cluster, metric=source.metric)
            text = req.text()
            docs = _documents(req, text)
            if not all(_is_request(d) for d in docs):
                raise req.fail(
                    "expected a saved request (--cli-input-json form: MetricDataQueries, or Namespace and MetricName)"
                )
            return req, text, docs
    return None


def _result(out: _Out) -> ReadResult:
    clusters = out.clusters()
    return ReadResult(
        points=out.frame(), cluster=next(iter(clusters)) if len(clusters) == 1 else None, notes=out.all_notes()
    )
