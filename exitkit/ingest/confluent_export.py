"""Confluent Cloud Metrics API v2 `GET /v2/metrics/cloud/export` scrapes (Prometheus text or OpenMetrics).

Each scrape holds the latest one-minute point per series; a file may hold several scrapes
appended. Counters (`received_bytes`, ...) are declared `gauge` but are per-minute deltas, so
a value is divided by 60 over [ts, ts + 60 s). Samples are parsed with prometheus_client's
text parser one line at a time, so every error names its line.
"""

from __future__ import annotations

import re

import pandas as pd
from prometheus_client.parser import text_string_to_metric_families

import exitkit.ingest._confluent as cf
from exitkit.ingest.base import Reader, ReadResult, Source, empty_points, register

_CLAIM = re.compile(r"^[ \t]*(?:#[ \t]*(?:TYPE|HELP)[ \t]+)?confluent_kafka_server_\w+", re.M)
_LABELS = {"kafka_id": "cluster", "topic": "topic", "partition": "partition", "consumer_group_id": "consumer_group"}
_SCRAPE_S = 60  # /export points are one-minute samples
_MS_THRESHOLD = 1e11  # epoch seconds pass 1e11 in year 5138; epoch ms passed it in 1973


def sniff(head: str, source: Source) -> bool:
    """Prometheus-style text with a `confluent_kafka_server_*` series (or its HELP/TYPE line)."""
    return not head.lstrip().startswith(("{", "[")) and bool(_CLAIM.search(head))


def read(source: Source) -> ReadResult:
    """Points of every scrape in the file, in canonical names and per-second units."""
    rows: dict[str, dict[tuple, dict]] = {}  # canonical metric -> (labels, ts) -> row (last scrape wins)
    notes: list[str] = []
    ignored: set[str] = set()
    replaced = 0
    for lineno, line in enumerate(source.text().split("\n"), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue  # HELP/TYPE/EOF; the type is known by name (counters are declared gauge anyway)
        sample = _sample(line, lineno, source)
        short = sample.name.removeprefix(cf.EXPORT_PREFIX).removesuffix("_total")
        metric = cf.METRICS.get(short) if sample.name.startswith(cf.EXPORT_PREFIX) else None
        if metric is None:
            notes += _status_note(sample)
            if sample.name.startswith(cf.EXPORT_PREFIX):
                ignored.add(sample.name)
            continue
        row = _row(sample, lineno, source)
        key = (tuple(sorted(sample.labels.items())), row["ts"])
        series = rows.setdefault(metric.short, {})
        replaced += key in series
        series[key] = row
    if ignored:
        notes.append(f"not stored: {', '.join(sorted(ignored))}")
    if replaced:
        notes.append(f"{replaced} points appeared in more than one scrape; the last one was kept")
    return _result(rows, source, notes)


def _sample(line: str, lineno: int, source: Source):
    """The one sample on a text line, by prometheus_client's parser (which reads the timestamp as ms → s)."""
    try:
        families = list(text_string_to_metric_families(line))
        return families[0].samples[0]
    except (ValueError, IndexError, TypeError) as exc:
        detail = f" ({exc})" if str(exc) else ""
        raise source.fail(
            f"cannot parse as a Prometheus sample{detail}; expected name{{labels}} value timestamp", lineno
        ) from None


def _row(sample, lineno: int, source: Source) -> dict:
    """Raw row of one Confluent sample: labels mapped to columns, epoch-second `ts`, raw `value`."""
    where = sample.name
    row: dict = {"cluster": None, "topic": None, "partition": None, "consumer_group": None}
    for key, val in sample.labels.items():
        col = _LABELS.get(key)
        if col == "partition":
            val = cf.partition_label(val, source, lineno, where)
        row[col or f"label.{key}"] = val  # prefixed: a label may not shadow ts/value
    row["ts"] = _epoch(sample.timestamp, lineno, source, where)
    row["value"] = cf.number(sample.value, source, lineno, where)
    return row


def _epoch(parsed: float | None, lineno: int, source: Source, where: str) -> float:
    """Epoch seconds of a sample timestamp written in seconds or in milliseconds (told by magnitude).

    prometheus_client assumes milliseconds and divides by 1000, so the written number is
    `parsed * 1000` (rounded to undo float noise).
    """
    if parsed is None:
        raise source.fail(f"{where}: no timestamp; expected the /export output, which stamps every sample", lineno)
    written = round(float(parsed) * 1000, 3)
    seconds = written / 1000 if written >= _MS_THRESHOLD else written
    return cf.check_epoch(seconds, source, lineno, where)


def _status_note(sample) -> list[str]:
    """A note for a non-zero scrape error/status sample (a partial answer), else nothing."""
    if ("error" in sample.name or "status" in sample.name) and sample.value != 0:
        labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
        return [f"{sample.name}{{{labels}}} = {sample.value:g}: the export may be partial"]
    return []


def _result(rows: dict[str, dict[tuple, dict]], source: Source, notes: list[str]) -> ReadResult:
    frames = []
    for short, series in rows.items():
        raw = pd.DataFrame.from_records(list(series.values()))
        raw = _fill_cluster(raw, source)
        pts, agg_notes = cf.canonical_points(raw, cf.METRICS[short], bucket_s=float(_SCRAPE_S))
        frames.append(pts)
        notes += [n for n in agg_notes if n not in notes]
    if not frames:
        return ReadResult(points=empty_points(), notes=[*notes, "no Confluent Kafka samples exitkit stores"])
    points = pd.concat(frames, ignore_index=True)
    clusters = points["cluster"].dropna().unique()
    return ReadResult(points=points, cluster=clusters[0] if len(clusters) == 1 else None, notes=notes)


def _fill_cluster(raw: pd.DataFrame, source: Source) -> pd.DataFrame:
    """Rows without a kafka_id label take the lkc-… id of the file name, else --cluster; else refuse."""
    missing = raw["cluster"].isna()
    if not missing.any():
        return raw
    default = cf.cluster_from_name(source.path) or source.cluster
    if default is None:
        raise source.fail(
            "cannot tell the cluster: samples have no kafka_id label; put the lkc-… id in the file name or pass --cluster lkc-…"
        )
    return raw.assign(cluster=raw["cluster"].where(~missing, default))


READER = register(
    Reader(
        name="confluent-export",
        description="Confluent Cloud Metrics API /v2/metrics/cloud/export scrape (Prometheus text / OpenMetrics)",
        sniff=sniff,
        read=read,
    )
)
