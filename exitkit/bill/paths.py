"""What a bill line is: its charge category, its byte path, and the cluster it belongs to.

The rules are in docs/formats/bills.md (from the facts on AWS CUR usage types, FOCUS and the
Confluent Billing API line types). Each function works on one distinct value; the readers call
them once per distinct usage type / resource id / tag set, never once per line.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from exitkit.errors import BadExport

# Normalized charge categories (the `bill_lines.charge_category` vocabulary).
CATEGORIES = ("usage", "tax", "credit", "refund", "fee", "commitment")

# AWS usage types: the part after the region prefix (`USE2-`, `EUW1-`, `APS1-`; none in us-east-1
# for EC2/EBS/S3/transfer). Ordered: the first pattern that matches wins.
_AWS_PATHS: tuple[tuple[str, str | None], ...] = (
    (r"Kafka\.Storage\.Tiered", "storage"),
    (r"Kafka\.DataRetrieval\.Tiered", "backfill"),
    (r"(Kafka|Express)\.Storage", "storage"),
    (r"Kafka\.PrivateConnectivity", "private_connectivity"),
    (r"KafkaServerless-In-Bytes", "producer_ingress"),
    (r"KafkaServerless-Out-Bytes", "consumer_egress"),
    (r"KafkaServerless-", "compute"),
    (r"(Kafka|Express)\.", "compute"),
    (r"(BoxUsage|SpotUsage|DedicatedUsage|HostUsage)", "compute"),
    (r"EBS:", "storage"),
    (r"DataTransfer-Regional-Bytes", "cross_zone"),
    (r"TimedStorage", "storage"),
    (r"Requests-Tier", "requests"),
    (r"VpceEndpoint", "private_connectivity"),
    (r"(CW:|VendedLog)", "observability"),
    (r"NatGateway", None),  # network, not a Kafka byte path
)
_REGION_PREFIX = re.compile(r"^(?:[A-Z]{2,4}\d?-){1,2}")

# Confluent Billing API line types (docs/formats/bills.md); unknown ones count, on no path.
_CONFLUENT_PATHS = {
    "KAFKA_NUM_CKUS": "compute",
    "KAFKA_NUM_CKU": "compute",
    "KAFKA_BASE": "compute",
    "KAFKA_PARTITION": "compute",
    "KAFKA_NETWORK_WRITE": "producer_ingress",
    "KAFKA_NETWORK_READ": "consumer_egress",
    "KAFKA_STORAGE": "storage",
}

# FOCUS 1.2 from AWS has no x_UsageType: a keyword guess over SkuMeter / ChargeDescription.
_KEYWORD_PATHS: tuple[tuple[str, str], ...] = (
    (r"inter-?az|regional|cross[- ]?zone", "cross_zone"),
    (r"private ?link|endpoint", "private_connectivity"),
    (r"request", "requests"),
    (r"storage|volume|ebs", "storage"),
    (r"broker|instance|compute|cku", "compute"),
)

MSK_ARN = re.compile(r"^arn:aws[a-z-]*:kafka:[^:]*:\d{12}:cluster/([^/]+)/")


def aws_path(usage_type: str | None) -> str | None:
    """The byte path of an AWS usage type (`USE2-Kafka.m5.large` → compute), or None."""
    if not usage_type:
        return None
    for candidate in (usage_type, _REGION_PREFIX.sub("", usage_type)):
        for pattern, path in _AWS_PATHS:
            if re.match(pattern, candidate):
                return path
    return None


def confluent_path(line_type: str | None) -> str | None:
    """The byte path of a Confluent Billing API `line_type`, or None (counted, on no path)."""
    return _CONFLUENT_PATHS.get(line_type or "")


def keyword_path(*texts: str | None) -> str | None:
    """A guessed path from free text (FOCUS 1.2 SkuMeter, ChargeDescription); None when nothing fits."""
    text = " ".join(t for t in texts if t).lower()
    for pattern, path in _KEYWORD_PATHS:
        if re.search(pattern, text):
            return path
    return None


def fold_key(key: str) -> str:
    """A tag key compared across exports: lower case, `user:` dropped, `:`/`-`/`_` folded."""
    k = key.strip().lower()
    for prefix in ("user:", "user_", "resourcetags/user:", "resource_tags_user_"):
        k = k.removeprefix(prefix)
    return re.sub(r"[:\-_]", "_", k)


@dataclass(frozen=True)
class Attribution:
    """How bill lines are tied to clusters: `--cluster-tag KEY` and `--cluster-map FILE` entries."""

    tag: str | None = None
    mapping: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (resource id or glob, cluster)

    def cluster_of(self, resource_id: str | None, tags: dict | None) -> str | None:
        """MSK by the cluster name in the ARN; Confluent by `lkc-…`; then the map; then the tag."""
        rid = (resource_id or "").strip()
        m = MSK_ARN.match(rid)
        if m:
            return m.group(1)
        if rid.startswith("lkc-"):
            return rid
        for pattern, cluster in self.mapping:
            if rid and (rid == pattern or fnmatch.fnmatchcase(rid, pattern)):
                return cluster
        if self.tag and tags:
            want = fold_key(self.tag)
            for k, v in tags.items():
                if fold_key(str(k)) == want and v not in (None, "", True):
                    return str(v)
        return None


def parse_tags(text: str | None) -> dict | None:
    """A FOCUS `Tags` / CUR 2.0 `resource_tags` cell (a JSON object) as a dict; None when empty or not JSON."""
    if not text or not str(text).strip():
        return None
    try:
        value = json.loads(text)
    except (ValueError, TypeError):
        return None
    return value if isinstance(value, dict) else None


def read_cluster_map(path: str) -> tuple[tuple[str, str], ...]:
    """A `--cluster-map` file: one `RESOURCE_ID_OR_GLOB CLUSTER` (or `=`/`,`/`:`-less YAML-ish
    `pattern: cluster`) per line, `#` comments. A bad line is a one-line error naming it."""
    out: list[tuple[str, str]] = []
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadExport(path, f"cannot read the cluster map: {exc}") from None
    for n, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = re.split(r"\s*(?:=|,|:\s|\s)\s*", line, maxsplit=1)
        if len(parts) != 2 or not parts[0] or not parts[1].strip():
            raise BadExport(path, f"expected `RESOURCE_ID_OR_GLOB CLUSTER`, got {line[:60]!r}", n)
        out.append((parts[0].strip().strip("'\""), parts[1].strip().strip("'\"")))
    return tuple(out)


def distinct_map(values: Iterable, fn) -> dict:
    """{value: fn(value)} over the distinct values (the per-value rules above run once each)."""
    return {v: fn(v) for v in set(values)}
