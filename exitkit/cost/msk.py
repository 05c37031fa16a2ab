"""Amazon MSK: Standard brokers (optionally tiered), Express brokers, Serverless.

MSK does not bill data transfer used for replication between brokers; client traffic that
crosses AZs is billed (https://aws.amazon.com/msk/pricing/). Replication and recovery copies therefore appear as
`replication` lines priced at `msk.replication_per_gib` = 0, so the reader sees the bytes.
"""

from __future__ import annotations

from dataclasses import replace

from exitkit.cost.brokers import Layout, broker_needs, layout, min_brokers, recovery_lines
from exitkit.cost.common import (
    Ctx,
    Sizing,
    client_cross_zone_lines,
    labor_line,
    observability_lines,
    provisioned,
    replay_cross_zone_line,
    replay_per_gib_line,
    size_units,
)
from exitkit.cost.inputs import MIB, CostInputs
from exitkit.cost.lines import CostLine, Lines
from exitkit.cost.registry import Estimate, register
from exitkit.prices import Catalog


def _replication_line(out: Lines, ctx: Ctx) -> None:
    """Leader → follower copies: written × (RF−1) GiB, not billed on MSK."""
    out.add(
        "steady",
        "replication",
        "Inter-broker replication (not billed on MSK)",
        ctx.written_gib * (ctx.rf - 1),
        "GiB",
        "msk.replication_per_gib",
        "cloud",
    )


# ------------------------------------------------------------------ msk-standard


def _standard_layout(ctx: Ctx) -> Layout:
    # Tiered only when the workload sets local_retention shorter than retention.
    return layout(ctx, ctx.inputs.assumptions.local_retention_s)


def _size_standard(ctx: Ctx, instance: str) -> Sizing:
    c = ctx.catalog
    lay = _standard_layout(ctx)
    needs = broker_needs(
        ctx,
        lay,
        ebs_mibps=c.value(f"msk.standard.ebs_mibps.{instance}"),
        nic_mibps=c.value(f"msk.standard.nic_mibps.{instance}"),
        storage_gib=c.value("msk.standard.max_storage_gib"),
        partition_replicas=c.value(f"msk.standard.max_partitions.{instance}"),
    )
    return size_units("brokers", instance, needs, minimum=min_brokers(ctx), multiple=ctx.zones)


def _standard_lines(ctx: Ctx, s: Sizing) -> list[CostLine]:
    lay = _standard_layout(ctx)
    out = Lines(ctx.catalog)
    out.add(
        "steady",
        "compute",
        f"Broker instance hours ({s.instance})",
        s.units * ctx.month_hours,
        "hours",
        f"msk.standard.hourly.{s.instance}",
        "cloud",
        note=_sizing_note(s),
    )
    out.add(
        "steady",
        "storage",
        "Broker storage (EBS)",
        lay.provisioned_gib,
        "GiB-months",
        "msk.standard.storage_gib_month",
        "cloud",
        note=f"D {lay.local_gib:,.1f} GiB on disk × RF {ctx.rf} × (1 + {ctx.headroom:g} headroom)",
    )
    out.add("steady", "storage", "Tiered storage", lay.tier_gib, "GiB-months", "msk.tiered.storage_gib_month", "cloud")
    _replication_line(out, ctx)
    client_cross_zone_lines(out, ctx, ctx.cross_share, ctx.follower_fetch_cross_share())
    observability_lines(out, ctx, s.units, per_topic=True, per_broker=False)
    labor_line(out, ctx, "msk-standard")
    recovery_lines(out, ctx, s, lay, "msk.replication_per_gib", "replication", "Inter-broker transfer, not billed", 1.0)
    replay_cross_zone_line(out, ctx, ctx.follower_fetch_cross_share())
    # Remote-tier retrieval is billed by MSK but its rate was not found (https://aws.amazon.com/msk/pricing/): not modelled.
    return out.lines


@register("msk-standard")
def msk_standard(inputs: CostInputs, catalog: Catalog) -> Estimate:
    """MSK provisioned, Standard brokers: cheapest instance type that fits; EBS storage; tiered if set."""
    ctx = Ctx.of(inputs, catalog)
    sizing, lines = provisioned(ctx, catalog.variants("msk.standard.hourly."), _size_standard, _standard_lines)
    lay = _standard_layout(ctx)
    extra = {"tiered": lay.tiered, "provisioned_storage_gib": round(lay.provisioned_gib, 3)}
    return Estimate(lines, replace(sizing, extra=extra))


# ------------------------------------------------------------------ msk-express


EXPRESS_RF = 3  # Express brokers replicate 3 ways over 3 AZs; the workload's RF is not applied
EXPRESS_ZONES = 3


def _express_ctx(inputs: CostInputs, catalog: Catalog) -> Ctx:
    """The workload as Express runs it: RF 3 on 3 zones whatever the workload says (a warning says so)."""
    return replace(Ctx.of(inputs, catalog), rf=EXPRESS_RF, zones=EXPRESS_ZONES)


def _size_express(ctx: Ctx, instance: str) -> Sizing:
    """Express brokers by every published per-broker limit (AWS MSK sizing script, github.com/aws/agent-toolkit-for-aws
    skills/specialized-skills/analytics-skills/managing-amazon-msk/scripts/msk_sizing.py; Amazon MSK Developer Guide,
    Express broker quotas): ingress, egress = 2.5 × ingress, and partition replicas (partitions × 3)
    against the recommended and the maximum partitions per broker; 3 zones, multiples of 3."""
    c = ctx.catalog
    ing = c.value(f"msk.express.ingress_mibps.{instance}")
    egr = ing * c.value("msk.express.egress_ratio")
    zone_loss = ctx.zones / (ctx.zones - 1) if ctx.zones > 1 else 1.0
    p, w, u, f = ctx.p / MIB, ctx.w / MIB, ctx.utilization, ctx.fan_out
    replicas = ctx.partitions * EXPRESS_RF
    needs = {
        "ingress_peak": p / (ing * u),
        "egress_peak": p * f / (egr * u),
        "egress_zone_loss": w * f * zone_loss / egr,
        "partitions_recommended": replicas / c.value(f"msk.express.recommended_partitions.{instance}"),
        "partitions_max": replicas / c.value(f"msk.express.max_partitions.{instance}"),
    }
    return size_units("brokers", instance, needs, minimum=EXPRESS_ZONES, multiple=EXPRESS_ZONES)


def _sizing_note(s: Sizing) -> str:
    """The binding constraint of a broker count, for the broker-hours line."""
    if s.bound_by == "minimum":
        return f"{s.units} brokers: the minimum (one per zone, at least RF)"
    return f"{s.units} brokers, bound by {s.bound_by} (needs {s.needs[s.bound_by]:,.2f} before rounding)"


def _express_lines(ctx: Ctx, s: Sizing) -> list[CostLine]:
    out = Lines(ctx.catalog)
    out.add(
        "steady",
        "compute",
        f"Broker instance hours ({s.instance})",
        s.units * ctx.month_hours,
        "hours",
        f"msk.express.hourly.{s.instance}",
        "cloud",
        note=_sizing_note(s),
    )
    out.add(
        "steady", "storage", "Express storage", ctx.retained_gib, "GiB-months", "msk.express.storage_gib_month", "cloud"
    )
    out.add(
        "steady",
        "producer_ingress",
        "Express data written",
        ctx.written_gib,
        "GiB",
        "msk.express.write_per_gib",
        "cloud",
    )
    _replication_line(out, ctx)
    client_cross_zone_lines(out, ctx, ctx.cross_share, ctx.follower_fetch_cross_share())
    observability_lines(out, ctx, s.units, per_topic=True, per_broker=False)
    labor_line(out, ctx, "msk-express")
    replay_cross_zone_line(out, ctx, ctx.follower_fetch_cross_share())
    return out.lines


@register("msk-express", ingress_key="msk.express.write_per_gib")
def msk_express(inputs: CostInputs, catalog: Catalog) -> Estimate:
    """MSK Express brokers: storage is pay-as-you-go on D (one copy) plus a per-GiB write charge."""
    ctx = _express_ctx(inputs, catalog)
    sizing, lines = provisioned(ctx, catalog.variants("msk.express.hourly."), _size_express, _express_lines)
    return Estimate(lines, sizing)


# ------------------------------------------------------------------ msk-serverless


def _size_serverless(ctx: Ctx) -> Sizing:
    """Clusters needed by the per-cluster write, read and partition quotas (peak traffic)."""
    c = ctx.catalog
    p = ctx.p / MIB
    needs = {
        "write_quota": p / c.value("msk.serverless.max_write_mibps"),
        "read_quota": p * ctx.fan_out / c.value("msk.serverless.max_read_mibps"),
        "partitions": ctx.partitions / c.value("msk.serverless.max_partitions"),
    }
    return size_units("clusters", None, needs, minimum=1)


@register(
    "msk-serverless",
    ingress_key="msk.serverless.ingress_per_gib",
    egress_key="msk.serverless.egress_per_gib",
)
def msk_serverless(inputs: CostInputs, catalog: Catalog) -> Estimate:
    """MSK Serverless: cluster-hours, partition-hours, GiB in/out, GiB-month stored.

    No cross-AZ lines: AutoMQ reads the pricing page as billing only cross-region and internet
    traffic for Serverless (AutoMQ's reading of https://aws.amazon.com/msk/pricing/ [S/U]).
    """
    ctx = Ctx.of(inputs, catalog)
    s = _size_serverless(ctx)
    out = Lines(catalog)
    out.add(
        "steady",
        "compute",
        "Serverless cluster hours",
        s.units * ctx.month_hours,
        "hours",
        "msk.serverless.cluster_hour",
        "cloud",
    )
    out.add(
        "steady",
        "compute",
        "Serverless partition hours",
        ctx.partitions * ctx.month_hours,
        "partition-hours",
        "msk.serverless.partition_hour",
        "cloud",
    )
    out.add(
        "steady",
        "producer_ingress",
        "Serverless data in",
        ctx.written_gib,
        "GiB",
        "msk.serverless.ingress_per_gib",
        "cloud",
    )
    out.add(
        "steady",
        "consumer_egress",
        "Serverless data out",
        ctx.read_gib,
        "GiB",
        "msk.serverless.egress_per_gib",
        "cloud",
    )
    out.add(
        "steady",
        "storage",
        "Serverless storage",
        ctx.retained_gib,
        "GiB-months",
        "msk.serverless.storage_gib_month",
        "cloud",
    )
    labor_line(out, ctx, "msk-serverless")
    replay_per_gib_line(out, ctx, "Serverless data out (consumer replay)", "msk.serverless.egress_per_gib", "cloud")
    return Estimate(out.lines, s)
