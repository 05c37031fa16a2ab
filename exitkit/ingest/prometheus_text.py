"""Prometheus text exposition (0.0.4) and OpenMetrics scrapes of Kafka brokers / kafka_exporter.

A scrape file, or several scrapes concatenated, each sample optionally timestamped. Lines
are parsed one by one with prometheus_client's own parsers, so every error has its line
number and sample names stay exactly as written (the 0.0.4 parser would otherwise rename
`# TYPE x counter` samples). OpenMetrics (a `# EOF` line) uses the OpenMetrics parser;
anything else the 0.0.4 parser, which accepts the MSK exporter's `{a="b",}` trailing comma.
Timestamps are read by magnitude (ms or s), since collectors mix the two up.
Meaning (names → canonical metrics) is in `_prometheus` and `prometheus_metrics.yaml`.
"""

from __future__ import annotations

import math
import os
import re
import time

from prometheus_client.openmetrics.parser import text_fd_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_fd_to_metric_families as parse_text

import exitkit.ingest._prometheus as prom
from exitkit.ingest.base import Reader, ReadResult, Source, iso_time, register

# A sample line: metric name, optional {labels}, then a number-like value.
_SAMPLE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})?[ \t]+[-+]?(\d|\.\d|Inf|inf|NaN|nan)")
_OM_MARK = re.compile(r"^# EOF[ \t]*$", re.MULTILINE)
# Another reader owns Confluent Cloud's /export scrape (per-minute deltas typed gauge).
_CONFLUENT = b"confluent_kafka_server_"


def sniff(head: str, source: Source) -> bool:
    """Mine if the first line that is not a comment is a sample line `name{labels} number`."""
    if _CONFLUENT in source.data:
        return False
    for line in head.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        return bool(_SAMPLE.match(line))
    return False


def read(source: Source) -> ReadResult:
    """Parse every sample line; hand the series to the shared Prometheus logic."""
    text = source.text()
    openmetrics = bool(_OM_MARK.search(text))
    samples = prom.Samples()
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, labels, value, ts = _parse_line(line, openmetrics, source, n)
        samples.add(name, labels, ts, value, n)
    notes = ["OpenMetrics" if openmetrics else "Prometheus text 0.0.4"]
    broker = prom.broker_from_filename(source.path)
    if broker is not None:
        notes.append(f"broker {broker} (from the file name) for series without a broker label")
    return prom.to_result(samples, source, notes, default_broker=broker, capture=_capture_time(source))


def _capture_time(source: Source) -> tuple[float, str]:
    """When an untimed scrape was taken: the file's modification time (a `curl > file` writes it
    then), else, when that is no plausible time, the ingest time — each said in the note."""
    try:
        mtime = float(int(os.stat(source.path).st_mtime))
    except (OSError, ValueError, OverflowError):
        mtime = math.nan
    now = float(int(time.time()))
    if math.isfinite(mtime) and prom.TS_MIN <= mtime <= now + 86_400:
        return mtime, f"the file's modification time {iso_time(mtime)} (taken as its capture time)"
    return now, f"the ingest time {iso_time(now)} (the file's modification time is not a plausible capture time)"


def _parse_line(line: str, openmetrics: bool, source: Source, n: int) -> tuple[str, dict, float, float | None]:
    """(name, labels, value, epoch seconds or None) of one sample line, or a `BadExport`."""
    try:
        sample = _one_sample(line, openmetrics)
    except (ValueError, IndexError, TypeError, OverflowError) as exc:
        detail = str(exc).split(":")[0] if str(exc) else "syntax error"
        expected = 'name{label="v",...} value [timestamp]'
        raise source.fail(f"cannot parse sample line ({detail}); expected `{expected}`", n) from None
    value = float(sample.value)  # NaN/Inf are kept here and become gaps later
    ts = None
    if sample.timestamp is not None:
        ts = _seconds(sample.timestamp, openmetrics)
        prom.check_ts(ts, source, n)
    return sample.name, dict(sample.labels), value, ts


def _one_sample(line: str, openmetrics: bool):
    if not openmetrics:
        families = list(parse_text([line]))
        return families[0].samples[0]
    try:
        families = list(parse_openmetrics([line, "# EOF"]))
    except ValueError as exc:
        # Exemplars are only legal on typed counters/histograms, and a lone line has no
        # type: drop the exemplar (" # {...} v [ts]") and parse the sample itself.
        if "exemplar" not in str(exc) or " # " not in line:
            raise
        families = list(parse_openmetrics([line.split(" # ")[0], "# EOF"]))
    return families[0].samples[0]


def _seconds(ts, openmetrics: bool) -> float:
    """Epoch seconds from a parsed timestamp, whichever unit the file really used.

    The 0.0.4 parser divides by 1000 (the format says ms) and the OpenMetrics parser keeps
    seconds; real files get this wrong both ways, so decide by magnitude: a raw value of
    1e11 or more is milliseconds (1e11 s would be the year 5138).
    """
    value = float(ts) if not hasattr(ts, "sec") else ts.sec + ts.nsec / 1e9
    raw = value * 1000 if not openmetrics else value
    if not math.isfinite(raw):
        return raw
    return raw / 1000 if raw >= 1e11 else raw


READER = register(
    Reader(
        name="prometheus-text",
        description="Prometheus text / OpenMetrics scrape of Kafka brokers (JMX exporter, MSK open monitoring) or kafka_exporter",
        sniff=sniff,
        read=read,
    )
)
