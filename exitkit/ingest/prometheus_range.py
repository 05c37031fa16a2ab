"""Prometheus HTTP API answers: `/api/v1/query_range` (matrix) and `/api/v1/query` (vector).

    {"status": "success", "data": {"resultType": "matrix", "result": [
      {"metric": {"__name__": "...", "topic": "...", "instance": "..."},
       "values": [[1741003200, "8.41e11"], ...]}]}, "warnings": [...]}

Times are Unix seconds (float), values strings ("NaN", "+Inf" are gaps). A series without
`__name__` is an expression result such as `rate(x[5m])`: --metric names it, and its value
at t is taken as the per-second rate over (t - step, t] (Prometheus stamps the end).
A vector is a single instant: gauges are kept, counters cannot give a rate and are noted.
Meaning (names → canonical metrics) is in `_prometheus` and `prometheus_metrics.yaml`.
"""

from __future__ import annotations

import json
import math
import re
from operator import itemgetter

import numpy as np

import exitkit.ingest._prometheus as prom
from exitkit.ingest._kafka_cli import check_json_text
from exitkit.ingest.base import Reader, ReadResult, Source, register

_first, _second = itemgetter(0), itemgetter(1)
_SNIFF = re.compile(r'"resultType"\s*:\s*"|"status"\s*:\s*"error"')


def sniff(head: str, source: Source) -> bool:
    """Mine if it is a JSON object that carries a Prometheus API `resultType` or error status."""
    return head.lstrip().startswith("{") and bool(_SNIFF.search(head))


def read(source: Source) -> ReadResult:
    """Check the envelope, collect every sample, hand the series to the shared logic."""
    try:
        doc = json.loads(text := source.text())
    except json.JSONDecodeError as exc:
        raise source.fail(f"not valid JSON ({exc.msg}); expected a Prometheus API answer", exc.lineno) from None
    except RecursionError:
        raise source.fail("JSON nested too deeply; expected a Prometheus API answer") from None
    data = _envelope(check_json_text(doc, source, text=text), source)
    kind = data.get("resultType")
    result = data.get("result")
    if kind not in ("matrix", "vector"):
        raise source.fail(f"resultType {kind!r} holds no series; expected matrix (query_range) or vector (query)")
    if not isinstance(result, list):
        raise source.fail("data.result is not a list; expected a list of series")

    samples = prom.Samples()
    for i, series in enumerate(result):
        _add_series(samples, series, i, kind, source)
    notes = [f"Prometheus API {kind}"]
    notes += [f"Prometheus warning: {w}" for w in _strings(doc.get("warnings"))]
    notes += [f"Prometheus info: {w}" for w in _strings(doc.get("infos"))]
    if kind == "vector":
        notes.append("an instant vector gives gauges only; counters need query_range")
    return prom.to_result(samples, source, notes)


def _envelope(doc: object, source: Source) -> dict:
    """The `data` object of a successful answer; an error answer is a `BadExport` quoting it."""
    if not isinstance(doc, dict) or "status" not in doc:
        raise source.fail('expected a Prometheus API answer: a JSON object with "status" and "data"')
    if doc["status"] == "error":
        raise source.fail(
            f"the saved answer is a Prometheus error ({doc.get('errorType', 'unknown')}): {doc.get('error', '')}"
        )
    if doc["status"] != "success":
        raise source.fail(f'status {doc["status"]!r}; expected "success"')
    data = doc.get("data")
    if not isinstance(data, dict):
        raise source.fail('"data" is not an object; expected {"resultType": ..., "result": [...]}')
    return data


def _add_series(samples: prom.Samples, series: object, i: int, kind: str, source: Source) -> None:
    where = f"data.result[{i}]"
    if not isinstance(series, dict) or not isinstance(series.get("metric"), dict):
        raise source.fail(f'{where} has no "metric" object; expected {{"metric": {{...}}, "values": [...]}}')
    labels = {str(k): str(v) for k, v in series["metric"].items()}
    name = labels.pop("__name__", "")
    if kind == "vector":
        pairs = [series.get("value")]
    else:
        pairs = series.get("values")
        if not isinstance(pairs, list):
            raise source.fail(f'{where} has no "values" list; expected [[time, "value"], ...]')
    arrays = _pairs_fast(pairs)
    if arrays is None:  # something to reject (or an unusual type): the per-sample checks say what
        arrays = _pairs_checked(pairs, where, source)
    # Counters in an instant vector cannot give a rate: still added; `to_result` keeps
    # gauges and, with no step, nothing from counters.
    samples.extend(name, labels, *arrays, where=where)


_TIME_TYPES = frozenset({int, float, str})  # exact JSON types: bool is its own type here


def _pairs_fast(pairs: list) -> tuple[np.ndarray, np.ndarray] | None:
    """(times, values) of a list of well-formed `[time, "value"]` pairs, checked as whole arrays.

    None when any pair would fail a check of `_pair`: the caller then runs those checks one
    by one, for the message naming the first bad sample. Same conversions (`float`) as `_pair`.
    """
    n = len(pairs)
    if n == 0:
        return np.empty(0), np.empty(0)
    if set(map(type, pairs)) != {list} or set(map(len, pairs)) != {2}:
        return None
    times = list(map(_first, pairs))
    values = list(map(_second, pairs))
    if not set(map(type, times)) <= _TIME_TYPES or not set(map(type, values)) <= _TIME_TYPES:
        return None
    try:
        ts = np.fromiter(map(float, times), dtype="float64", count=n)
        value = np.fromiter(map(float, values), dtype="float64", count=n)
    except (ValueError, OverflowError):
        return None
    if not ((ts >= prom.TS_MIN) & (ts < prom.TS_MAX)).all():  # NaN fails both comparisons
        return None
    value[~np.isfinite(value)] = np.nan  # NaN/Inf are gaps
    return ts, value


def _pairs_checked(pairs: list, where: str, source: Source) -> tuple[np.ndarray, np.ndarray]:
    """(times, values) pair by pair; the first bad sample is a `BadExport` naming it."""
    checked = [_pair(pair, f"{where} sample {j}", source) for j, pair in enumerate(pairs)]
    return np.array([c[0] for c in checked], dtype="float64"), np.array([c[1] for c in checked], dtype="float64")


def _pair(pair: object, where: str, source: Source) -> tuple[float, float]:
    """(epoch seconds, value) of one `[time, "value"]` pair; NaN/Inf values are kept as gaps."""
    if not isinstance(pair, list) or len(pair) != 2:
        raise source.fail(f'{where} is {_short(pair)}; expected [time, "value"]')
    t, v = pair
    if isinstance(t, bool) or not isinstance(t, (int, float, str)):
        raise source.fail(f"{where}: time {_short(t)} is not a number; expected Unix seconds")
    try:
        ts = float(t)
    except (ValueError, OverflowError):
        raise source.fail(f"{where}: time {_short(t)} is not a number; expected Unix seconds") from None
    prom.check_ts(ts, source, where=where)
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise source.fail(f'{where}: value {_short(v)} is not a number; expected a string such as "12.5"')
    try:
        value = float(v)
    except (ValueError, OverflowError):
        raise source.fail(f'{where}: value {_short(v)} is not a number; expected a string such as "12.5"') from None
    return ts, value if math.isfinite(value) else math.nan


def _strings(v: object) -> list[str]:
    return [str(x) for x in v] if isinstance(v, list) else []


def _short(v: object) -> str:
    s = json.dumps(v) if not isinstance(v, str) else repr(v)
    return s if len(s) <= 40 else s[:37] + "..."


READER = register(
    Reader(
        name="prometheus-range",
        description="Prometheus HTTP API answer (/api/v1/query_range matrix or /api/v1/query vector JSON)",
        sniff=sniff,
        read=read,
    )
)
