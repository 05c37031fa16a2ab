"""The readers, in the order sniffing tries them: an explicit list, not a walk of the package.

Each reader module defines one `READER`. Order matters only where two sniffers could both say
yes; every sniffer here looks for a marker of its own format, so the list is grouped by source
(bills, CloudWatch, collector manifests, Confluent, Kafka CLI and Admin API outputs, MirrorMaker 2,
Prometheus).
Adding a format: write its module and add it to this list.
"""

from __future__ import annotations

from exitkit.ingest import (
    bill_confluent,
    bill_cost_explorer,
    bill_cur,
    bill_focus,
    cloudwatch,
    collect_manifest,
    confluent_export,
    confluent_query,
    confluent_request,
    kafka_acls,
    kafka_admin,
    kafka_configs,
    kafka_consumer_groups,
    kafka_log_dirs,
    kafka_topics,
    mm2_offsets,
    prometheus_range,
    prometheus_text,
)
from exitkit.ingest.base import Reader

READERS: tuple[Reader, ...] = (
    bill_focus.READER,
    bill_cur.READER,
    bill_cur.READER2,
    bill_cost_explorer.READER,
    bill_confluent.READER,
    cloudwatch.READER,
    collect_manifest.READER,
    confluent_export.READER,
    confluent_query.READER,
    confluent_request.READER,
    kafka_acls.READER,
    kafka_admin.READER,
    kafka_configs.READER,
    kafka_consumer_groups.READER,
    kafka_log_dirs.READER,
    kafka_topics.READER,
    mm2_offsets.READER,
    prometheus_range.READER,
    prometheus_text.READER,
)


def readers() -> list[Reader]:
    """Every reader, in sniffing order."""
    return list(READERS)
