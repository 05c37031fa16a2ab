"""Shared pieces of the Confluent Cloud Metrics API readers (`/query`, its saved request, `/export`).

Naming and unit rules live here once: which Confluent metrics exitkit stores and under which
canonical name, which of them are per-bucket deltas, how a metric or cluster is told from a
file name or a CLI hint, where a response's saved request sits, and how one is parsed.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from exitkit.ingest.base import Source, iso_time, points_frame, read_bytes

PREFIX = "io.confluent.kafka.server/"
EXPORT_PREFIX = "confluent_kafka_server_"


@dataclass(frozen=True)
class Metric:
    """A Confluent metric exitkit stores: its short name, canonical name, and whether it is a delta."""

    short: str  # e.g. received_bytes
    canonical: str  # e.g. bytes_in
    delta: bool  # COUNTER_*: a count per bucket (divide by bucket seconds); else a gauge, kept as-is


METRICS: dict[str, Metric] = {
    m.short: m
    for m in (
        Metric("received_bytes", "bytes_in", True),
        Metric("sent_bytes", "bytes_out", True),
        Metric("received_records", "records_in", True),
        Metric("sent_records", "records_out", True),
        Metric("retained_bytes", "retained_bytes", False),
        Metric("consumer_lag_offsets", "consumer_lag_records", False),
        Metric("partition_count", "partition_count", False),
        Metric("active_connection_count", "connections", False),
    )
}
_BY_CANONICAL = {m.canonical: m for m in METRICS.values()}
KNOWN = ", ".join(METRICS)

# Row labels exitkit keeps, by the column they fill. Older responses spell `metric.label.topic`.
LABELS = {
    "metric.topic": "topic",
    "metric.partition": "partition",
    "metric.consumer_group_id": "consumer_group",
    "resource.kafka.id": "cluster",
}

GRANULARITIES = {
    "PT1M": 60,
    "PT5M": 300,
    "PT15M": 900,
    "PT30M": 1800,
    "PT1H": 3600,
    "PT4H": 14400,
    "PT6H": 21600,
    "PT12H": 43200,
    "P1D": 86400,
}
_SECONDS_TO_GRANULARITY = {v: k for k, v in GRANULARITIES.items()}

# Timestamps outside this range are typos or overflow (the store holds datetime64[ns]).
_MIN_TS = datetime(1970, 1, 1, tzinfo=UTC).timestamp()
_MAX_TS = datetime(2200, 1, 1, tzinfo=UTC).timestamp()

_CLUSTER_RE = re.compile(r"(?<![a-z0-9])lkc-[a-z0-9]+", re.I)
_PAGE_RE = re.compile(r"[._-](?:page|p)\d+$", re.I)


def lookup(name: str) -> Metric | None:
    """A stored metric from any spelling: `received_bytes`, `io.confluent.kafka.server/received_bytes`,
    `confluent_kafka_server_received_bytes` or the canonical `bytes_in`; None when not one exitkit stores."""
    n = name.strip()
    for prefix in (PREFIX, EXPORT_PREFIX):
        n = n.removeprefix(prefix)
    return METRICS.get(n) or _BY_CANONICAL.get(n)


def metric_from_hint(source: Source) -> Metric | None:
    """The metric from --metric, or None when not given; a --metric exitkit does not know is an error."""
    if not source.metric:
        return None
    m = lookup(source.metric)
    if m is None:
        raise source.fail(
            f"--metric {source.metric!r} is not a Confluent metric exitkit stores; expected one of: {KNOWN}"
        )
    return m


def metric_from_name(path: Path) -> Metric | None:
    """The metric whose short name appears in the file name (else its folder's name), when exactly one does."""
    for name in (path.name, path.parent.name):
        found = {m.short for m in METRICS.values() if re.search(rf"(?<![a-z]){m.short}(?![a-z])", name, re.I)}
        if len(found) == 1:
            return METRICS[found.pop()]
    return None


def cluster_from_name(path: Path) -> str | None:
    """An `lkc-…` id in the file name (else its folder's name), when exactly one appears."""
    for name in (path.name, path.parent.name):
        found = {m.lower() for m in _CLUSTER_RE.findall(name)}
        if len(found) == 1:
            return found.pop()
    return None


def request_candidates(path: Path) -> list[Path]:
    """Where the request of response `path` may be saved, most specific first.

    `orders.json`, `orders.page2.json`, `orders_p2.json.gz` and `orders.csv` all look for
    `orders.request.json` beside them; failing that, a `request.json` in the same folder serves
    every response there (one folder per query).
    """
    name = path.name.removesuffix(".gz")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    bases = dict.fromkeys([stem, _PAGE_RE.sub("", stem)])
    names = [f"{b}.request.json{gz}" for b in bases for gz in ("", ".gz")]
    names += ["request.json", "request.json.gz"]
    return [path.with_name(n) for n in names if n != path.name]


def _at(where: str, message: str) -> str:
    """`where: message`, or just the message when the caller adds the place itself."""
    return f"{where}: {message}" if where else message


def epoch_seconds(text: object, source: Source, line: int | None, where: str) -> float:
    """Epoch seconds of an ISO-8601 timestamp string (UTC when it has no offset), or a `BadExport`."""
    if not isinstance(text, str):
        raise source.fail(
            _at(where, f"timestamp {text!r} is not a string; expected ISO-8601 like 2025-03-03T00:00:00Z"), line
        )
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise source.fail(
            _at(where, f"timestamp {text!r} is not ISO-8601; expected like 2025-03-03T00:00:00Z"), line
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return check_epoch(dt.timestamp(), source, line, where)


def check_epoch(seconds: float, source: Source, line: int | None, where: str) -> float:
    """`seconds` when it is a plausible time (1970–2200), else a `BadExport`."""
    if not (math.isfinite(seconds) and _MIN_TS <= seconds < _MAX_TS):
        raise source.fail(
            _at(where, f"timestamp {iso_time(seconds)} is out of range; expected a time between 1970 and 2200"), line
        )
    return seconds


def number(value: object, source: Source, line: int | None, where: str) -> float:
    """A finite float from a JSON number (not a string, not a boolean), or a `BadExport`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise source.fail(_at(where, f"value {value!r} is not a number"), line)
    try:
        f = float(value)
    except OverflowError:
        f = math.inf
    if not math.isfinite(f):
        raise source.fail(_at(where, f"value {str(value)[:40]} is not a finite number"), line)
    return f


def partition_label(value: object, source: Source, line: int | None, where: str) -> int:
    """A partition number from a label (int or digit string), or a `BadExport`."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31:
        return value
    if isinstance(value, str) and value.strip().isdigit() and int(value) < 2**31:
        return int(value)
    raise source.fail(_at(where, f"partition {value!r} is not a partition number"), line)


@dataclass(frozen=True)
class Request:
    """What a saved `/query` request tells about its responses."""

    path: Path
    metric_name: str  # as written in the request
    metric: Metric | None  # None: a metric exitkit does not store
    granularity: str
    bucket_s: int | None  # None for ALL (one bucket per interval)
    cluster: str | None  # the single resource.kafka.id the filter pins, if any
    intervals: tuple[tuple[float, float], ...]  # absolute intervals (epoch s); empty if relative

    def note(self) -> str:
        what = self.metric.canonical if self.metric else "not stored by exitkit"
        return f"saved /query request: {self.metric_name} ({what}), {self.granularity}, cluster {self.cluster or 'not pinned'}"


def load_request(path: Path, data: bytes) -> Request:
    """Parse a saved `POST /v2/metrics/cloud/query` request body; `BadExport` (naming `path`) if it is not one."""
    src = Source(path=path, data=data)
    try:
        doc = json.loads(src.text())
    except json.JSONDecodeError as exc:
        raise src.fail(
            f"not valid JSON ({exc.msg}, column {exc.colno}); expected a saved /query request", exc.lineno
        ) from None
    except RecursionError:
        raise src.fail("JSON nested too deeply; expected a saved /query request") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("aggregations"), list) or not doc["aggregations"]:
        raise src.fail('not a /query request: expected {"aggregations": [{"metric": ...}], "granularity": ..., ...}')
    aggs = doc["aggregations"]
    if len(aggs) != 1 or not isinstance(aggs[0], dict) or not isinstance(aggs[0].get("metric"), str):
        raise src.fail('aggregations: expected exactly one {"metric": "io.confluent.kafka.server/..."}')
    name = aggs[0]["metric"]
    gran = doc.get("granularity")
    if not isinstance(gran, str) or (gran.upper() not in GRANULARITIES and gran.upper() != "ALL"):
        raise src.fail(f"granularity {gran!r}: expected one of {', '.join(GRANULARITIES)}, ALL")
    gran = gran.upper()
    intervals = _intervals(doc.get("intervals"), src)
    if gran == "ALL" and not intervals:
        raise src.fail("granularity ALL needs absolute intervals (start/end) to know each bucket's length")
    return Request(
        path=path,
        metric_name=name,
        metric=lookup(name),
        granularity=gran,
        bucket_s=GRANULARITIES.get(gran),
        cluster=_filter_cluster(doc.get("filter")),
        intervals=intervals,
    )


def find_request(source: Source) -> Request | None:
    """The saved request beside a response (see `request_candidates`), parsed; None when there is none."""

    for cand in request_candidates(source.path):
        if cand.is_file():
            return load_request(cand, read_bytes(cand))
    return None


def _filter_cluster(flt: object) -> str | None:
    """The one cluster a request filter pins with `resource.kafka.id EQ`, or None (none, or several)."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("field") == "resource.kafka.id" and str(node.get("op", "EQ")).upper() == "EQ":
                if isinstance(node.get("value"), str):
                    found.add(node["value"])
            for child in node.get("filters") or []:
                walk(child)
            walk(node.get("filter"))  # NOT wraps one filter

    walk(flt)
    return found.pop() if len(found) == 1 else None


def _intervals(value: object, src: Source) -> tuple[tuple[float, float], ...]:
    """Absolute `start/end` (or `start/PTnH`) intervals as epoch seconds; () when any is relative (`now…`)."""
    if not isinstance(value, list):
        return ()
    out = []
    for item in value:
        if not isinstance(item, str) or "/" not in item or "now" in item:
            return ()
        start_s, end_s = item.split("/", 1)
        start = epoch_seconds(start_s, src, None, "intervals")
        dur = _duration_s(end_s)
        end = start + dur if dur is not None else epoch_seconds(end_s, src, None, "intervals")
        out.append((start, end))
    return tuple(out)


def _duration_s(text: str) -> int | None:
    m = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", text.strip().upper())
    if not m or not any(m.groups()):
        return None
    d, h, mi, s = (int(g or 0) for g in m.groups())
    return ((d * 24 + h) * 60 + mi) * 60 + s


def infer_bucket_s(groups: dict[tuple, list[float]]) -> int | None:
    """The bucket length: the smallest positive spacing between distinct timestamps within any group.

    None when no group has two timestamps. Gaps only widen spacings, so the smallest one is
    the bucket unless every bucket of every group is isolated.
    """
    best: float | None = None
    for stamps in groups.values():
        ts = sorted(set(stamps))
        for a, b in zip(ts, ts[1:], strict=False):
            if best is None or b - a < best:
                best = b - a
    return None if best is None else int(round(best))


def granularity_name(bucket_s: int) -> str | None:
    return _SECONDS_TO_GRANULARITY.get(bucket_s)


def canonical_points(
    rows: pd.DataFrame, metric: Metric, *, bucket_s: float | pd.Series
) -> tuple[pd.DataFrame, list[str]]:
    """Canonical points from raw rows (cluster, topic, partition, consumer_group, ts, value[, extra label cols]).

    Rows that differ only in labels exitkit does not keep (e.g. `metric.principal_id`) are
    summed: every stored metric is additive across such a split. Deltas become per-second
    rates over [ts, ts + bucket); gauges are kept as-is over the same interval.
    Returns (points sorted by series and time, notes).
    """
    notes: list[str] = []
    keys = ["cluster", "topic", "partition", "consumer_group", "ts", "bucket_s"]
    rows = rows.assign(bucket_s=bucket_s)
    extra = [c for c in rows.columns if c not in keys + ["value"]]
    if extra and len(rows):
        notes.append(f"summed over labels exitkit does not keep: {', '.join(sorted(extra))}")
    if len(rows):
        rows = rows.groupby(keys, dropna=False, sort=False, as_index=False)["value"].sum()
        rows = rows.sort_values(["cluster", "topic", "partition", "consumer_group", "ts"], na_position="first")
    value = rows["value"] / rows["bucket_s"] if metric.delta else rows["value"]  # deltas per bucket → per second
    pts = points_frame(
        cluster=_nones(rows["cluster"]),
        topic=_nones(rows["topic"]),
        partition=[None if pd.isna(p) else int(p) for p in rows["partition"]],
        consumer_group=_nones(rows["consumer_group"]),
        metric=metric.canonical,
        ts_start=rows["ts"].astype("float64").tolist(),
        ts_end=(rows["ts"] + rows["bucket_s"]).astype("float64").tolist(),
        value=value.astype("float64").to_numpy(),
    )
    return pts, notes


def _nones(col: pd.Series) -> list:
    """Values with every missing one as None (groupby turns None keys into NaN)."""
    return [None if pd.isna(v) else v for v in col]
