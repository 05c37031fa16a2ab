"""Amazon MSK CloudWatch collector: `list_metrics` (AWS/Kafka) then `get_metric_data` in batches.

Series are discovered per metric name with the `Cluster Name` dimension (any further
dimensions: Broker ID, Topic, Consumer Group, Partition). Each call asks at most 500
queries and 100,800 points; its pages (`NextToken`) are gathered, and request and answer are
saved together as ONE object (`StartTime`, `EndTime`, `MetricDataQueries`,
`MetricDataResults`, `Messages`) — the form docs/formats/cloudwatch.md prefers. Pages of one
call keep their results in order, as the aws CLI does (one Id may appear on several pages).
Credentials: the normal boto3 chain; nothing about them is written.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from exitkit.collect._output import Export, bar, default_folder, utc_iso
from exitkit.errors import CollectError, CredentialError

NAMESPACE = "AWS/Kafka"
# Metric -> statistic. `*PerSec` need Average (the per-second rate over the period); for the
# gauges the reader prefers Maximum (the peak lag / count in the period).
METRICS: dict[str, str] = {
    "BytesInPerSec": "Average",
    "BytesOutPerSec": "Average",
    "MessagesInPerSec": "Average",
    "SumOffsetLag": "Maximum",
    "OffsetLag": "Maximum",
    "GlobalPartitionCount": "Maximum",
}
DIMENSIONS = frozenset({"Cluster Name", "Broker ID", "Topic", "Consumer Group", "Partition"})
MAX_QUERIES = 500  # per GetMetricData call
MAX_POINTS = 100_800  # per GetMetricData call
# CloudWatch keeps 60 s points for 15 days, 300 s for 63 days, 3600 s for 455 days.
RETENTION = ((15 * 86400, 60), (63 * 86400, 300), (455 * 86400, 3600))
CREDENTIAL_CODES = frozenset({
    "ExpiredToken", "ExpiredTokenException", "AccessDenied", "AccessDeniedException", "UnrecognizedClientException",
    "InvalidClientTokenId", "SignatureDoesNotMatch", "InvalidSignatureException", "AuthFailure",
})  # fmt: skip


def min_period(age_s: float) -> int:
    """The finest period CloudWatch still holds for data `age_s` old."""
    for limit, period in RETENTION:
        if age_s <= limit:
            return period
    raise CollectError("CloudWatch keeps metrics for 455 days at most; ask for fewer --days")


def plan(days: float, now: datetime, period: int | None = None) -> tuple[int, int, int]:
    """(start, end, period): the period the range's oldest point allows, unless one is given (checked)."""
    range_s = round(days * 86400)
    if range_s <= 0:
        raise CollectError("--days must be positive")
    finest = min_period(range_s)
    if period is None:
        period = finest
    elif period <= 0 or period % 60 or period % finest:
        raise CollectError(
            f"--period {period}: data {days:g} days old are kept at {finest} s; use a multiple of {finest}"
        )
    end = int(now.timestamp()) // period * period
    start = end - range_s // period * period
    if start >= end:
        raise CollectError(f"--days {days:g} is shorter than one {period} s period")
    return start, end, period


def make_client(region: str | None):
    """The CloudWatch client from the normal boto3 credential chain (tests replace this)."""
    import boto3  # deferred: heavy, off the hot path
    from botocore.config import Config  # deferred: heavy, off the hot path

    return boto3.client(
        "cloudwatch",
        region_name=region,
        config=Config(retries={"mode": "standard", "max_attempts": 8}, user_agent_extra="exitkit-collect"),
    )


def discover(client, cluster: str, metrics: tuple[str, ...] = tuple(METRICS)) -> list[dict[str, Any]]:
    """Every AWS/Kafka series of `metrics` with `Cluster Name = cluster`, in listing order.

    Series carrying a dimension exitkit does not map are left out (the reader would skip them).
    """
    found: list[dict[str, Any]] = []
    seen: set[tuple] = set()
    paginator = client.get_paginator("list_metrics")
    for name in metrics:
        pages = paginator.paginate(
            Namespace=NAMESPACE, MetricName=name, Dimensions=[{"Name": "Cluster Name", "Value": cluster}]
        )
        for page in pages:
            for m in page.get("Metrics", []):
                dims = tuple(sorted((d["Name"], d["Value"]) for d in m.get("Dimensions", [])))
                if not {d for d, _ in dims} <= DIMENSIONS or (name, dims) in seen:
                    continue
                seen.add((name, dims))
                found.append(
                    {"Namespace": NAMESPACE, "MetricName": name, "Dimensions": [dict(d) for d in m["Dimensions"]]}
                )
    return found


def batches(series: list[dict[str, Any]], points_per_series: int) -> list[list[dict[str, Any]]]:
    """Queries in groups that respect both per-call limits (500 queries, 100,800 points)."""
    if points_per_series > MAX_POINTS:
        raise CollectError(f"{points_per_series} points per series exceed {MAX_POINTS} per call; use a longer --period")
    size = max(1, min(MAX_QUERIES, MAX_POINTS // max(1, points_per_series)))
    return [series[i : i + size] for i in range(0, len(series), size)]


def queries(series: list[dict[str, Any]], period: int) -> list[dict[str, Any]]:
    """`MetricDataQueries` for one call: Ids `m0`, `m1`, … (they must start with a lower-case letter)."""
    return [
        {"Id": f"m{i}", "MetricStat": {"Metric": s, "Period": period, "Stat": METRICS[s["MetricName"]]}}
        for i, s in enumerate(series)
    ]


def collect(
    cluster: str,
    days: float,
    out: str | Path | None = None,
    *,
    region: str | None = None,
    period: int | None = None,
    now: datetime | None = None,
    client: Any = None,
    progress: bool | None = None,
) -> Path:
    """Discover and fetch every series of `cluster` over the last `days` into a new folder; return it."""
    now = now or datetime.now(UTC)
    start, end, period = plan(days, now, period)
    client = client or _aws(lambda: make_client(region), "client setup")
    series = _aws(lambda: discover(client, cluster), "ListMetrics")
    if not series:
        raise CollectError(
            f"no AWS/Kafka series of {', '.join(METRICS)} for cluster {cluster!r} in region "
            f"{client.meta.region_name}: check --cluster (the MSK cluster name) and --region, and enable "
            "enhanced monitoring PER_TOPIC_PER_BROKER for per-topic rates"
        )
    points = math.ceil((end - start) / period)
    groups = batches(series, points)
    export = Export(
        Path(out) if out else default_folder("cloudwatch", cluster, now),
        {
            "source": "cloudwatch",
            "cluster": cluster,
            "region": client.meta.region_name,
            "endpoint": client.meta.endpoint_url,
            "namespace": NAMESPACE,
            "from": utc_iso(start),
            "to": utc_iso(end),
            "days": days,
            "period_s": period,
            "metrics": dict(METRICS),
            "series": len(series),
            "calls": len(groups),
            "started_at": utc_iso(now),
            "credentials": "boto3 default chain (not recorded)",
        },
    )
    stats = {"requests": 0, "results": 0}
    width = len(str(len(groups)))
    try:
        for i, group in enumerate(bar(groups, f"cloudwatch {cluster}", "call", progress), 1):
            q = queries(group, period)
            results, messages, pages = _aws(lambda q=q: _fetch(client, q, start, end), "GetMetricData")
            stats["requests"] += pages
            stats["results"] += len(results)
            doc = {
                "StartTime": utc_iso(start),
                "EndTime": utc_iso(end),
                "MetricDataQueries": q,
                "MetricDataResults": results,
                "Messages": messages,
            }
            export.write_json(
                f"metric-data.b{i:0{width}d}.json", doc, kind="get-metric-data", queries=len(q), pages=pages
            )
    except BaseException as exc:
        export.abandon(str(exc) or type(exc).__name__)
        raise
    export.close(**stats)
    return export.folder


def _fetch(client, q: list[dict], start: int, end: int) -> tuple[list[dict], list[dict], int]:
    """All pages of one GetMetricData call (following NextToken): results, messages, page count."""
    kwargs: dict[str, Any] = {
        "MetricDataQueries": q,
        "StartTime": datetime.fromtimestamp(start, UTC),
        "EndTime": datetime.fromtimestamp(end, UTC),
    }
    results: list[dict] = []
    messages: list[dict] = []
    pages = 0
    while True:
        answer = client.get_metric_data(**kwargs)
        pages += 1
        for r in answer.get("MetricDataResults", []):
            results.append(
                {
                    "Id": r["Id"],
                    "Label": r.get("Label", ""),
                    "Timestamps": [_iso(t) for t in r.get("Timestamps", [])],
                    "Values": [float(v) for v in r.get("Values", [])],
                    "StatusCode": r.get("StatusCode", "Complete"),
                    **({"Messages": r["Messages"]} if r.get("Messages") else {}),
                }
            )
        messages.extend(answer.get("Messages", []))
        token = answer.get("NextToken")
        if not token:
            return results, messages, pages
        if token == kwargs.get("NextToken"):
            raise CollectError("CloudWatch GetMetricData: NextToken repeats; stopping")
        kwargs["NextToken"] = token


def _iso(t: Any) -> str:
    """ISO-8601 with offset, as the aws CLI prints CloudWatch timestamps."""
    if isinstance(t, datetime):
        return (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    return str(t)


def _aws(call, what: str):
    """Run a boto3 call; credential problems become `CredentialError`, other AWS errors `CollectError`."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )  # deferred: heavy, off the hot path

    try:
        return call()
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise CredentialError(
            f"no usable AWS credentials ({exc}): configure the boto3 chain (AWS_PROFILE, "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO login or an instance role)"
        ) from None
    except NoRegionError:
        raise CollectError("no AWS region: pass --region or set AWS_REGION") from None
    except ClientError as exc:
        err = exc.response.get("Error", {})
        code, message = err.get("Code", "?"), " ".join(str(err.get("Message", "")).split())
        if code in CREDENTIAL_CODES:
            raise CredentialError(
                f"AWS refused the credentials for CloudWatch {what} ({code}: {message}): renew them "
                "(aws sso login, a fresh session token) or use a role allowed cloudwatch:ListMetrics and "
                "cloudwatch:GetMetricData"
            ) from None
        raise CollectError(f"CloudWatch {what} failed ({code}: {message})") from None
    except BotoCoreError as exc:
        raise CollectError(f"CloudWatch {what} failed: {exc}") from None
