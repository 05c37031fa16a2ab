"""Confluent Cloud Metrics API v2 collector: `POST /v2/metrics/cloud/query` per metric and window.

Files follow docs/formats/confluent.md so the `confluent-query` reader loads them as they are:
one folder per metric, per time window `wNN.request.json` (the exact body sent) and one
response file per page (`wNN.json`, `wNN.page2.json`, …). Pages repeat the identical body
with `?page_token=` from `meta.pagination.next_page_token`. Empty pages are not written
(the manifest counts them). Credentials: basic auth from `CONFLUENT_CLOUD_API_KEY` /
`CONFLUENT_CLOUD_API_SECRET`, never written anywhere.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from exitkit.collect._http import Retry, excerpt, send
from exitkit.collect._output import Export, bar, default_folder, json_bytes, utc_iso
from exitkit.errors import CollectError, CredentialError

DEFAULT_URL = "https://api.telemetry.confluent.cloud"
QUERY_PATH = "/v2/metrics/cloud/query"
KEY_ENV = "CONFLUENT_CLOUD_API_KEY"
SECRET_ENV = "CONFLUENT_CLOUD_API_SECRET"
PREFIX = "io.confluent.kafka.server/"

# Metric short name -> group_by. Lag is per consumer group and topic; the rest per topic.
METRICS: dict[str, tuple[str, ...]] = {
    "received_bytes": ("metric.topic",),
    "sent_bytes": ("metric.topic",),
    "received_records": ("metric.topic",),
    "sent_records": ("metric.topic",),
    "retained_bytes": ("metric.topic",),
    "consumer_lag_offsets": ("metric.consumer_group_id", "metric.topic"),
}

GRANULARITY_S = {"PT1M": 60, "PT5M": 300, "PT15M": 900, "PT30M": 1800, "PT1H": 3600, "PT4H": 14400,
                 "PT6H": 21600, "PT12H": 43200, "P1D": 86400}  # fmt: skip
# Longest interval the API accepts per granularity; PT1H and coarser accept any.
MAX_INTERVAL_S = {"PT1M": 6 * 3600, "PT5M": 86400, "PT15M": 4 * 86400, "PT30M": 7 * 86400}
LONG_WINDOW_S = 7 * 86400  # PT1H and coarser: a week per request keeps answers a sensible size
LATENCY_S = 180  # the API's data are about 3 minutes behind: end the range before that
PAGE_LIMIT = 1000  # groups per page (the API's maximum; its default of 100 silently cuts topics)
MAX_PAGES = 10_000
_CLUSTER = re.compile(r"lkc-[a-z0-9]+")


@dataclass(frozen=True)
class Plan:
    """What will be asked: range, granularity and the windows the granularity allows."""

    start: int  # epoch seconds, on a bucket boundary
    end: int
    granularity: str
    windows: tuple[tuple[int, int], ...]


def choose_granularity(range_s: float) -> str:
    """The finest granularity that covers `range_s` in one interval (PT1M up to 6 h … PT1H beyond 7 days)."""
    for name, longest in MAX_INTERVAL_S.items():
        if range_s <= longest:
            return name
    return "PT1H"


def plan(days: float, now: datetime, granularity: str | None = None) -> Plan:
    """Range ending a bucket before `now - LATENCY_S`, split into windows the granularity accepts."""
    range_s = round(days * 86400)
    gran = (granularity or choose_granularity(range_s)).upper()
    if gran not in GRANULARITY_S:
        raise CollectError(f"granularity {granularity!r}: expected one of {', '.join(GRANULARITY_S)}")
    bucket = GRANULARITY_S[gran]
    if range_s < bucket:
        raise CollectError(f"--days {days} is shorter than one {gran} bucket; ask for more days or a finer granularity")
    end = int(now.timestamp() - LATENCY_S) // bucket * bucket
    start = end - range_s // bucket * bucket
    step = MAX_INTERVAL_S.get(gran, LONG_WINDOW_S) // bucket * bucket
    windows = tuple((s, min(s + step, end)) for s in range(start, end, step))
    return Plan(start=start, end=end, granularity=gran, windows=windows)


def credentials(env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(key, secret) from the environment, or a `CredentialError` naming what to set."""
    env = os.environ if env is None else env
    key, secret = env.get(KEY_ENV, "").strip(), env.get(SECRET_ENV, "").strip()
    missing = [name for name, value in ((KEY_ENV, key), (SECRET_ENV, secret)) if not value]
    if missing:
        raise CredentialError(
            f"{' and '.join(missing)} not set: export a Confluent Cloud API key and secret with MetricsViewer "
            f"access as {KEY_ENV} and {SECRET_ENV}"
        )
    return key, secret


def request_body(metric: str, cluster: str, granularity: str, window: tuple[int, int]) -> dict[str, Any]:
    """The `/query` body for one metric and window: absolute interval, grouped, FLAT, limit 1000."""
    return {
        "aggregations": [{"metric": PREFIX + metric}],
        "filter": {"field": "resource.kafka.id", "op": "EQ", "value": cluster},
        "group_by": list(METRICS[metric]),
        "granularity": granularity,
        "intervals": [f"{utc_iso(window[0])}/{utc_iso(window[1])}"],
        "limit": PAGE_LIMIT,
        "format": "FLAT",
    }


def collect(
    cluster: str,
    days: float,
    out: str | Path | None = None,
    *,
    url: str = DEFAULT_URL,
    granularity: str | None = None,
    metrics: tuple[str, ...] = tuple(METRICS),
    now: datetime | None = None,
    env: Mapping[str, str] | None = None,
    retry: Retry | None = None,
    progress: bool | None = None,
    transport: Any = None,
) -> Path:
    """Query every metric over the last `days` into a new folder; return the folder.

    `env` replaces os.environ for the credentials, `retry.sleep` the waits and `transport`
    httpx's transport (tests). Raises `CredentialError` (missing, 401/403) or `CollectError`.
    """
    import httpx  # deferred: heavy, off the hot path

    if not _CLUSTER.fullmatch(cluster):
        raise CollectError(f"--cluster {cluster!r}: expected a Confluent Kafka cluster id like lkc-abc12")
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise CollectError(f"unknown metric {unknown[0]!r}; expected some of: {', '.join(METRICS)}")
    key, secret = credentials(env)
    now = now or datetime.now(UTC)
    p = plan(days, now, granularity)
    retry = retry or Retry()
    endpoint = url.rstrip("/") + QUERY_PATH
    export = Export(
        Path(out) if out else default_folder("confluent", cluster, now),
        {
            "source": "confluent",
            "cluster": cluster,
            "endpoint": endpoint,
            "from": utc_iso(p.start),
            "to": utc_iso(p.end),
            "days": days,
            "granularity": p.granularity,
            "windows": [f"{utc_iso(a)}/{utc_iso(b)}" for a, b in p.windows],
            "metrics": {PREFIX + m: {"group_by": list(METRICS[m])} for m in metrics},
            "limit": PAGE_LIMIT,
            "started_at": utc_iso(now),
            "credentials": f"basic auth from ${KEY_ENV} / ${SECRET_ENV} (not recorded)",
        },
        secrets=(key, secret),
    )
    stats = {"requests": 0, "pages": 0, "empty_pages": 0, "points": 0}
    width = len(str(len(p.windows)))
    try:
        with httpx.Client(auth=httpx.BasicAuth(key, secret), timeout=120, transport=transport) as client:
            jobs = [(m, i, w) for m in metrics for i, w in enumerate(p.windows, 1)]
            for metric, i, window in bar(jobs, f"confluent {cluster}", "query", progress):
                body = json_bytes(request_body(metric, cluster, p.granularity, window))
                base = f"{metric}/w{i:0{width}d}"
                _pages(client, endpoint, body, base, metric, export, retry, stats)
    except BaseException as exc:
        export.abandon(str(exc) or type(exc).__name__)
        raise
    export.close(**stats, retries=len(retry.waits), waited_s=round(sum(retry.waits), 3))
    return export.folder


def _pages(
    client, endpoint: str, body: bytes, base: str, metric: str, export: Export, retry: Retry, stats: dict
) -> None:
    """Every page of one request: same body, `page_token` from the previous page."""
    token: str | None = None
    seen: set[str] = set()
    for page in range(1, MAX_PAGES + 1):
        response = send(
            client,
            "POST",
            endpoint,
            retry=retry,
            what=f"Confluent Metrics API ({metric})",
            content=body,
            params={"page_token": token} if token else None,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        stats["requests"] += 1
        doc = _answer(response, endpoint, metric)
        stats["pages"] += 1
        if page == 1:  # written once the API accepted it: a refused first call leaves no folder behind
            export.write(f"{base}.request.json", body, kind="request", metric=PREFIX + metric)
        data = doc.get("data") or []
        if data:
            name = f"{base}.json" if page == 1 else f"{base}.page{page}.json"
            export.write(name, response.content, kind="response", metric=PREFIX + metric, page=page, points=len(data))
            stats["points"] += len(data)
        else:
            stats["empty_pages"] += 1
        meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
        pagination = meta.get("pagination") if isinstance(meta.get("pagination"), dict) else {}
        token = pagination.get("next_page_token")
        if not token:
            return
        if token in seen:
            raise CollectError(f"Confluent Metrics API ({metric}): next_page_token repeats; stopping")
        seen.add(token)
    raise CollectError(f"Confluent Metrics API ({metric}): more than {MAX_PAGES} pages; stopping")


def _answer(response, endpoint: str, metric: str) -> dict:
    """The JSON body of a 200 answer; a clear error for anything else."""
    code = response.status_code
    if code in (401, 403):
        raise CredentialError(
            f"Confluent Metrics API refused the credentials (HTTP {code}): check {KEY_ENV} and {SECRET_ENV} "
            "(a Cloud API key with MetricsViewer access to the cluster)"
        )
    if code != 200:
        raise CollectError(f"Confluent Metrics API ({metric}): HTTP {code} from {endpoint}: {_detail(response)}")
    try:
        doc = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CollectError(f"Confluent Metrics API ({metric}): answer is not JSON: {excerpt(response)}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("data", []), list):
        raise CollectError(f"Confluent Metrics API ({metric}): answer has no data list: {excerpt(response)}")
    return doc


def _detail(response) -> str:
    """`errors[].detail` of an error body, else the start of the body."""
    try:
        errors = response.json().get("errors")
        details = [e.get("detail") or e.get("title") for e in errors if isinstance(e, dict)]
        if any(details):
            return "; ".join(str(d) for d in details if d)
    except (ValueError, AttributeError, TypeError):
        pass
    return excerpt(response) or "(empty body)"
