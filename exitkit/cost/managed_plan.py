"""A generic plan-priced managed Kafka service (Aiven-style): the plan table is catalog data.

Plans are `managed.plan.<name>.{month, ingress_mibps, egress_mibps, storage_gib, partitions}`.
The plan price includes VMs, in-service transfer and backups (Aiven's documentation of plan contents); PrivateLink and
client bytes that cross AZs on the customer side are extra.
"""

from __future__ import annotations

from exitkit.cost.common import (
    Ctx,
    Sizing,
    cheapest,
    client_cross_zone_lines,
    labor_line,
    private_link_lines,
    replay_cross_zone_line,
    replay_per_gib_line,
    size_units,
)
from exitkit.cost.inputs import MIB, CostInputs
from exitkit.cost.lines import CostLine, Lines
from exitkit.cost.registry import Estimate, register
from exitkit.prices import Catalog

PREFIX = "managed.plan."


def plan_names(catalog: Catalog) -> list[str]:
    """Plan names in catalog order (from the `managed.plan.<name>.month` keys)."""
    return [v[: -len(".month")] for v in catalog.variants(PREFIX) if v.endswith(".month")]


def _size(ctx: Ctx, plan: str) -> Sizing:
    """Services of one plan needed: peak in/out at broker_utilization, stored D × (1 + headroom), partitions."""
    c = ctx.catalog
    u = ctx.utilization
    needs = {
        "ingress_peak": ctx.p / MIB / (c.value(f"{PREFIX}{plan}.ingress_mibps") * u),
        "egress_peak": ctx.p * ctx.fan_out / MIB / (c.value(f"{PREFIX}{plan}.egress_mibps") * u),
        "storage": ctx.retained_gib * (1 + ctx.headroom) / c.value(f"{PREFIX}{plan}.storage_gib"),
        "partitions": ctx.partitions / c.value(f"{PREFIX}{plan}.partitions"),
    }
    return size_units("services", plan, needs, minimum=1)


def _lines(ctx: Ctx, s: Sizing) -> list[CostLine]:
    out = Lines(ctx.catalog)
    out.add(
        "steady",
        "compute",
        f"Plan fee ({s.instance})",
        float(s.units),
        "plan-months",
        f"{PREFIX}{s.instance}.month",
        "vendor",
    )
    private_link_lines(out, ctx)
    client_cross_zone_lines(out, ctx, ctx.cross_share, ctx.follower_fetch_cross_share())
    labor_line(out, ctx, "managed-kafka-plan")
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
    return out.lines


@register("managed-kafka-plan")
def managed_kafka_plan(inputs: CostInputs, catalog: Catalog) -> Estimate:
    """The cheapest plan (or several services of one plan) that holds the workload."""
    ctx = Ctx.of(inputs, catalog)
    sizing, lines = cheapest((s, _lines(ctx, s)) for s in (_size(ctx, p) for p in plan_names(catalog)))
    return Estimate(lines, sizing)
