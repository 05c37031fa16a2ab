"""Self-managed Apache Kafka on EC2: EBS gp3 (`kafka-ec2`) or KIP-405 tiered to S3 (`kafka-ec2-tiered`).

Every byte that crosses an AZ is billed at $0.02/GiB (catalog key `aws.cross_az_per_gib`, sources in docs/price-sources.md): producer → leader,
leader → followers ((RF−1) × written with one replica per zone), leader → consumers.
"""

from __future__ import annotations

from dataclasses import replace

from exitkit.cost.brokers import Layout, broker_needs, layout, min_brokers, recovery_lines, replay_remote_gib
from exitkit.cost.common import (
    Ctx,
    Sizing,
    client_cross_zone_lines,
    labor_line,
    nic_mibps,
    observability_lines,
    provisioned,
    replay_cross_zone_line,
    replay_remote_reads_line,
    size_units,
)
from exitkit.cost.inputs import HOUR_S, MIB, CostInputs
from exitkit.cost.lines import CostLine, Lines
from exitkit.cost.registry import Estimate, register
from exitkit.prices import Catalog

KRAFT_INSTANCE = "m7g.large"  # controller nodes are small; priced at aws.ec2.hourly.m7g.large
DEFAULT_LOCAL_RETENTION_S = 24 * HOUR_S  # kafka-ec2-tiered default (docs/workloads.md)


def _layout(ctx: Ctx, tiered: bool) -> Layout:
    if not tiered:
        return layout(ctx, None)
    local = ctx.inputs.assumptions.local_retention_s
    return layout(ctx, DEFAULT_LOCAL_RETENTION_S if local is None else local)


def _sizer(tiered: bool):
    def size(ctx: Ctx, instance: str) -> Sizing:
        c = ctx.catalog
        lay = _layout(ctx, tiered)
        needs = broker_needs(
            ctx,
            lay,
            # one gp3 volume per broker: its throughput ceiling bounds disk writes
            ebs_mibps=c.value("aws.ebs.gp3_max_mibps"),
            nic_mibps=nic_mibps(c, instance),
            storage_gib=c.value("aws.ebs.gp3_max_gib"),
            partition_replicas=c.value("model.kafka.max_partition_replicas_per_broker"),
        )
        return size_units("brokers", instance, needs, minimum=min_brokers(ctx), multiple=ctx.zones)

    return size


def _gp3_throughput_mibps(ctx: Ctx, s: Sizing) -> float:
    """gp3 throughput to provision above the included 125 MiB/s, summed over brokers.

    Per broker: the larger of the peak and rebalancing EBS needs expressed in MiB/s
    (need × 1000 MiB/s cap / brokers), capped at the volume maximum.
    """
    c = ctx.catalog
    cap = c.value("aws.ebs.gp3_max_mibps")
    per_broker = max(s.needs["ebs_write_peak"] * ctx.utilization, s.needs["ebs_write_rebalancing"]) * cap / s.units
    extra = min(cap, per_broker) - c.value("aws.ebs.gp3_included_mibps")
    return max(0.0, extra) * s.units


def _lines_for(platform: str, tiered: bool):
    def lines(ctx: Ctx, s: Sizing) -> list[CostLine]:
        c = ctx.catalog
        lay = _layout(ctx, tiered)
        out = Lines(c)
        out.add(
            "steady",
            "compute",
            f"EC2 instance hours ({s.instance})",
            s.units * ctx.month_hours,
            "hours",
            f"aws.ec2.hourly.{s.instance}",
            "cloud",
        )
        controllers = c.value("model.kraft.controllers")
        out.add(
            "steady",
            "compute",
            f"KRaft controller hours ({KRAFT_INSTANCE})",
            controllers * ctx.month_hours,
            "hours",
            f"aws.ec2.hourly.{KRAFT_INSTANCE}",
            "cloud",
        )
        out.add(
            "steady",
            "storage",
            "EBS gp3 storage",
            lay.provisioned_gib,
            "GiB-months",
            "aws.ebs.gp3_gib_month",
            "cloud",
            note=f"{lay.local_gib:,.1f} GiB on disk × RF {ctx.rf} × (1 + {ctx.headroom:g} headroom)",
        )
        out.add(
            "steady",
            "storage",
            "EBS gp3 throughput above included",
            _gp3_throughput_mibps(ctx, s),
            "MiB/s-months",
            "aws.ebs.gp3_throughput_mibps_month",
            "cloud",
        )
        if lay.tiered:
            out.add(
                "steady",
                "storage",
                "S3 storage (remote tier)",
                lay.tier_gib,
                "GiB-months",
                "aws.s3.storage_gib_month",
                "cloud",
            )
            out.add(
                "steady",
                "requests",
                "S3 PUT requests (segment uploads)",
                ctx.written_gib * c.value("model.kip405.s3_put_per_gib") / 1000,
                "1k requests",
                "aws.s3.put_per_1k",
                "cloud",
            )
        client_cross_zone_lines(out, ctx, ctx.cross_share, ctx.follower_fetch_cross_share())
        out.add(
            "steady",
            "cross_zone",
            "Cross-AZ transfer (leader → followers)",
            ctx.written_gib * ctx.replication_crossings,
            "GiB",
            "aws.cross_az_per_gib",
            "cloud",
            note=f"written × {ctx.replication_crossings:.3g} follower copies in other zones",
        )
        observability_lines(out, ctx, s.units, controllers=int(controllers))
        labor_line(out, ctx, platform)
        rf_share = ctx.replication_crossings / (ctx.rf - 1) if ctx.rf > 1 else 0.0
        recovery_lines(out, ctx, s, lay, "aws.cross_az_per_gib", "cross_zone", "Cross-AZ transfer", rf_share)
        replay_cross_zone_line(out, ctx, ctx.follower_fetch_cross_share())
        replay_remote_reads_line(out, ctx, replay_remote_gib(ctx, lay))
        return out.lines

    return lines


def _estimate(platform: str, tiered: bool, inputs: CostInputs, catalog: Catalog) -> Estimate:
    ctx = Ctx.of(inputs, catalog)
    # Size on the general-purpose and memory instances priced in aws.yaml.
    sizing, lines = provisioned(ctx, catalog.variants("aws.ec2.hourly."), _sizer(tiered), _lines_for(platform, tiered))
    lay = _layout(ctx, tiered)
    extra = {
        "tiered": lay.tiered,
        "local_retention_h": round(lay.local_s / HOUR_S, 3),
        "provisioned_storage_gib": round(lay.provisioned_gib, 3),
        "nic_mibps_per_broker": round(nic_mibps(catalog, sizing.instance), 3),
        "peak_mibps": round(ctx.p / MIB, 3),
    }
    return Estimate(lines, replace(sizing, extra=extra))


@register("kafka-ec2")
def kafka_ec2(inputs: CostInputs, catalog: Catalog) -> Estimate:
    """Self-managed Kafka, all retention on EBS gp3, RF copies across zones."""
    return _estimate("kafka-ec2", False, inputs, catalog)


@register("kafka-ec2-tiered")
def kafka_ec2_tiered(inputs: CostInputs, catalog: Catalog) -> Estimate:
    """Self-managed Kafka with KIP-405: local_retention (default 24 h) on EBS, the rest on S3."""
    return _estimate("kafka-ec2-tiered", True, inputs, catalog)
