"""Classic (replicated, disk-backed) Kafka brokers: storage layout, sizing needs, recovery events.

Shared by msk-standard, kafka-ec2 and kafka-ec2-tiered. The sizing factors are AWS's MSK sizing
script's (github.com/aws/agent-toolkit-for-aws skills/specialized-skills/analytics-skills/managing-amazon-msk/scripts/msk_sizing.py), read from the catalog (`model.sizing.*`).
"""

from __future__ import annotations

from dataclasses import dataclass

from exitkit.cost.common import Ctx, Sizing
from exitkit.cost.inputs import GIB, HOUR_S, MIB
from exitkit.cost.lines import Lines


@dataclass(frozen=True)
class Layout:
    """Where retained bytes live.

    local_s = retention, or min(local retention, retention) when tiered;
    local_gib = D × local_s / R (one copy on broker disks); replicated = local × RF;
    provisioned = replicated × (1 + headroom); tier_gib = D (one copy in object storage) when tiered.
    """

    tiered: bool
    local_s: float
    local_gib: float
    replicated_gib: float
    provisioned_gib: float
    tier_gib: float


def layout(ctx: Ctx, local_retention_s: float | None) -> Layout:
    """Storage layout; tiered iff a local retention shorter than the retention is given."""
    r = ctx.inputs.traffic.retention_s
    tiered = local_retention_s is not None and local_retention_s < r
    local_s = local_retention_s if tiered else r
    local_gib = ctx.retained_gib * (local_s / r) if r > 0 else 0.0
    replicated = local_gib * ctx.rf
    return Layout(
        tiered=tiered,
        local_s=local_s,
        local_gib=local_gib,
        replicated_gib=replicated,
        provisioned_gib=replicated * (1 + ctx.headroom),
        tier_gib=ctx.retained_gib if tiered else 0.0,
    )


def broker_needs(
    ctx: Ctx,
    lay: Layout,
    ebs_mibps: float,
    nic_mibps: float,
    storage_gib: float,
    partition_replicas: float,
) -> dict[str, float]:
    """Brokers each limit needs (before rounding), AWS MSK script factors (github.com/aws/agent-toolkit-for-aws skills/specialized-skills/analytics-skills/managing-amazon-msk/scripts/msk_sizing.py).

    EBS write per byte in: 1.5 ingress + 1.5 × (RF−1)/2 replication + 0.5 lagging (+1.5 tiered);
    NIC out: 2.2 × (RF−1)/2 replication + 0.5 lagging (+1.5 tiered) + F consumers.
    Peak P must fit in capacity × broker_utilization; the mean W plus 3.0 rebalancing (and, for
    NIC, consumers × Z/(Z−1) with one zone down) must fit in full capacity.
    """
    c = ctx.catalog
    rf_scale = (ctx.rf - 1) / 2  # factors are published for RF 3
    tier = c.value("model.sizing.tiered_extra") if lay.tiered else 0.0
    ebs_base = (
        c.value("model.sizing.ebs_write_ingress")
        + c.value("model.sizing.ebs_write_replication") * rf_scale
        + c.value("model.sizing.ebs_write_lagging")
        + tier
    )
    nic_base = c.value("model.sizing.nic_out_replication") * rf_scale + c.value("model.sizing.nic_out_lagging") + tier
    zone_loss = ctx.zones / (ctx.zones - 1) if ctx.zones > 1 else 1.0
    p, w, u, f = ctx.p / MIB, ctx.w / MIB, ctx.utilization, ctx.fan_out
    return {
        "ebs_write_peak": p * ebs_base / (ebs_mibps * u),
        "ebs_write_rebalancing": w * (ebs_base + c.value("model.sizing.ebs_write_rebalancing")) / ebs_mibps,
        "nic_out_peak": p * (nic_base + f) / (nic_mibps * u),
        "nic_out_rebalancing_zone_loss": w
        * (nic_base + f * zone_loss + c.value("model.sizing.nic_out_rebalancing"))
        / nic_mibps,
        "storage": lay.provisioned_gib / storage_gib,
        "partitions": ctx.partitions * ctx.rf / partition_replicas,
    }


def min_brokers(ctx: Ctx) -> int:
    """At least RF brokers and one per zone."""
    return max(ctx.rf, ctx.zones)


def recovery_lines(
    out: Lines, ctx: Ctx, sizing: Sizing, lay: Layout, key: str, path: str, label: str, share: float
) -> None:
    """Broker replacement, partition reassignment and zone-failover catch-up as amortized lines.

    Per event: replacement and reassignment each move one broker's local replicas
    (replicated_gib / brokers; with tiered storage only local segments move); a zone outage of
    `zone_outage_hours` leaves W × outage × RF/Z bytes to catch up when the zone returns.
    `share` is the part of those bytes billed at `key` (the cross-zone share for self-managed
    Kafka; MSK bills none of it, key `msk.replication_per_gib` = 0).
    """
    rec = ctx.inputs.assumptions.recovery
    per_broker = lay.replicated_gib / sizing.units
    events = [
        ("broker replacement re-replication", rec.broker_replacement, per_broker, share),
        ("partition reassignment", rec.partition_reassignment, per_broker, share),
        (
            "zone failover catch-up",
            rec.zone_failover,
            ctx.w * rec.zone_outage_hours * HOUR_S * ctx.rf / ctx.zones / GIB,
            1.0 if ctx.zones > 1 else 0.0,
        ),
    ]
    for what, per_year, gib, sh in events:
        out.add(
            "abnormal",
            path,
            f"{label} ({what})",
            gib * sh * ctx.per_month(per_year),
            "GiB",
            key,
            "cloud",
            note=f"{per_year:g}/yr × {gib:,.1f} GiB per event × {sh:.3g} billed share",
        )


def replay_remote_gib(ctx: Ctx, lay: Layout) -> float:
    """GiB of one replay that must come from the remote tier: W × max(0, hours − local hours)."""
    if not lay.tiered:
        return 0.0
    hours = ctx.inputs.assumptions.recovery.consumer_replay.hours_of_data
    return ctx.w * max(0.0, hours * HOUR_S - lay.local_s) / GIB
