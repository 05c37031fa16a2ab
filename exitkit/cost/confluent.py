"""Confluent Cloud on AWS: Standard and Enterprise (elastic eCKU), Dedicated (provisioned CKU).

Billing dimensions (Confluent Cloud documentation, docs.confluent.io): eCKU/CKU-hours, GiB written, GiB read, GiB-month stored;
replication inside the cluster is included. The customer pays AWS for PrivateLink and for client
bytes that cross AZs on their side; same-zone follower fetch cuts the consumer part.
"""

from __future__ import annotations

import math

from exitkit.cost.common import (
    EPS,
    Ctx,
    Sizing,
    client_cross_zone_lines,
    labor_line,
    private_link_lines,
    replay_cross_zone_line,
    replay_per_gib_line,
    size_units,
)
from exitkit.cost.inputs import MB, CostInputs
from exitkit.cost.lines import Lines
from exitkit.cost.registry import Estimate, register
from exitkit.prices import Catalog


def _size_elastic(ctx: Ctx, tier: str) -> Sizing:
    """eCKUs billed: elastic clusters scale with load, so size on the mean rate (W, W × F).

    The peak must still fit the cluster's eCKU ceiling; `peak_ecku` and `max_ecku` are reported
    and `bound_by` says `max_ecku` when it does not (the workload then needs several clusters).
    """
    c = ctx.catalog
    cin, cout = c.value(f"confluent.{tier}.ecku_ingress_mbps") * MB, c.value(f"confluent.{tier}.ecku_egress_mbps") * MB
    needs = {"ingress_mean": ctx.w / cin, "egress_mean": ctx.w * ctx.fan_out / cout}
    s = size_units("eCKU", None, needs, minimum=1)
    peak = max(ctx.p / cin, ctx.p * ctx.fan_out / cout)
    cap = c.value(f"confluent.{tier}.max_ecku")
    extra = {"peak_ecku": math.ceil(peak - EPS), "max_ecku": cap}
    bound = "max_ecku" if peak > cap + EPS else s.bound_by
    return Sizing(s.units, s.unit_name, None, bound, s.needs, extra)


def _common_lines(out: Lines, ctx: Ctx, tier: str, platform: str) -> None:
    """Per-GiB meters, storage, PrivateLink, customer-side cross-AZ, labour, replay."""
    out.add(
        "steady",
        "producer_ingress",
        "Kafka ingress",
        ctx.written_gib,
        "GiB",
        f"confluent.{tier}.ingress_per_gib",
        "vendor",
    )
    out.add(
        "steady", "consumer_egress", "Kafka egress", ctx.read_gib, "GiB", f"confluent.{tier}.egress_per_gib", "vendor"
    )
    out.add(
        "steady",
        "storage",
        "Kafka storage",
        ctx.retained_gib,
        "GiB-months",
        f"confluent.{tier}.storage_gib_month",
        "vendor",
    )
    private_link_lines(out, ctx)
    client_cross_zone_lines(out, ctx, ctx.cross_share, ctx.follower_fetch_cross_share())
    labor_line(out, ctx, platform)
    replay_per_gib_line(out, ctx, "Kafka egress (consumer replay)", f"confluent.{tier}.egress_per_gib", "vendor")
    if ctx.inputs.assumptions.private_link:
        replay_per_gib_line(
            out,
            ctx,
            "PrivateLink data processed (consumer replay)",
            "aws.privatelink.processed_per_gib",
            "cloud",
            "private_connectivity",
        )
    replay_cross_zone_line(out, ctx, ctx.follower_fetch_cross_share())


def _elastic(platform: str, tier: str, inputs: CostInputs, catalog: Catalog) -> Estimate:
    ctx = Ctx.of(inputs, catalog)
    s = _size_elastic(ctx, tier)
    out = Lines(catalog)
    out.add(
        "steady",
        "compute",
        "eCKU hours",
        s.units * ctx.month_hours,
        "eCKU-hours",
        f"confluent.{tier}.ecku_hour",
        "vendor",
    )
    _common_lines(out, ctx, tier, platform)
    return Estimate(out.lines, s)


@register(
    "confluent-standard",
    ingress_key="confluent.standard.ingress_per_gib",
    egress_key="confluent.standard.egress_per_gib",
)
def confluent_standard(inputs: CostInputs, catalog: Catalog) -> Estimate:
    """Confluent Cloud Standard: eCKU-hours + GiB in/out + storage + customer-side AWS charges."""
    return _elastic("confluent-standard", "standard", inputs, catalog)


@register(
    "confluent-enterprise",
    ingress_key="confluent.enterprise.ingress_per_gib",
    egress_key="confluent.enterprise.egress_per_gib",
)
def confluent_enterprise(inputs: CostInputs, catalog: Catalog) -> Estimate:
    """Confluent Cloud Enterprise: eCKU-hours + GiB in/out + storage + customer-side AWS charges."""
    return _elastic("confluent-enterprise", "enterprise", inputs, catalog)


def _size_dedicated(ctx: Ctx) -> Sizing:
    """CKUs are fixed capacity: size on the peak at broker_utilization, plus partitions.

    Multi-zone Dedicated needs at least `confluent.dedicated.min_cku_multi_zone` CKUs.
    """
    c = ctx.catalog
    u = ctx.utilization
    cin = c.value("confluent.dedicated.cku_ingress_mbps") * MB
    cout = c.value("confluent.dedicated.cku_egress_mbps") * MB
    needs = {
        "ingress_peak": ctx.p / (cin * u),
        "egress_peak": ctx.p * ctx.fan_out / (cout * u),
        "partitions": ctx.partitions / c.value("confluent.dedicated.cku_partitions"),
    }
    minimum = int(c.value("confluent.dedicated.min_cku_multi_zone")) if ctx.zones > 1 else 1
    return size_units("CKU", None, needs, minimum=minimum)


@register(
    "confluent-dedicated",
    ingress_key="confluent.dedicated.ingress_per_gib",
    egress_key="confluent.dedicated.egress_per_gib",
)
def confluent_dedicated(inputs: CostInputs, catalog: Catalog) -> Estimate:
    """Confluent Cloud Dedicated: CKU-hours sized on peak + GiB in/out + storage + AWS charges."""
    ctx = Ctx.of(inputs, catalog)
    s = _size_dedicated(ctx)
    out = Lines(catalog)
    out.add(
        "steady",
        "compute",
        "CKU hours",
        s.units * ctx.month_hours,
        "CKU-hours",
        "confluent.dedicated.cku_hour",
        "vendor",
    )
    _common_lines(out, ctx, "dedicated", "confluent-dedicated")
    return Estimate(out.lines, s)
