"""One-time migration lines (state `migration`): only what the move adds.

For `dual_run_months` the source keeps running beside the target. The target's own run is not
a migration line: it is counted once, in the cash flow (`exitkit.cost.cash_flow`), from the
month it starts. The one-time lines are:
- the source platform's steady cost for the dual-run months (the extra months it is kept);
- the replication tool: MirrorMaker 2 workers on EC2, MSK Replicator, Cluster Linking, or
  AutoMQ Kafka Linking (built into the AutoMQ brokers: no tool fee, only the bytes it pulls);
- the bytes moved M = D (initial copy of retention: the backfill) + W × window seconds (ongoing
  sync), billed as the tool's per-GiB price, the cross-AZ legs, the source's egress meter and,
  for the initial copy, the target's ingress meter (× compression ratio where the target bills
  uncompressed bytes);
- engineer hours for the move × the labour rate.
`monthly_usd` of a migration line is its one-time amount.
"""

from __future__ import annotations

import math

from exitkit.cost.common import EPS, Ctx
from exitkit.cost.inputs import MIB
from exitkit.cost.lines import CostLine, Lines
from exitkit.cost.registry import get_platform

MM2_INSTANCE = "m7g.xlarge"  # Connect worker instance, priced at aws.ec2.hourly.m7g.xlarge


def moved_gib(ctx: Ctx) -> float:
    """GiB the tool copies: retained D plus writes during the dual-run window."""
    months = ctx.inputs.assumptions.migration.dual_run_months
    return ctx.retained_gib + ctx.written_gib * months


def migration_lines(
    ctx: Ctx, target: str, source_steady_usd: float | None, target_steady_usd: float | None = None
) -> list[CostLine]:
    """Lines for moving the workload from `ctx.inputs.source_platform` to `target`.

    No lines when the source is unknown or is the target itself. `source_steady_usd` is None when
    the source platform has no model (its dual-run line is then omitted). `target_steady_usd` is
    accepted for compatibility and unused: the target's run is not a one-time cost.
    """
    src = ctx.inputs.source_platform
    if not src or src == target:
        return []
    mig = ctx.inputs.assumptions.migration
    months = mig.dual_run_months
    out = Lines(ctx.catalog)
    tgt = get_platform(target)
    if source_steady_usd is not None:
        s = get_platform(src)
        out.add_derived(
            "migration",
            "compute",
            f"Dual run: source platform steady cost ({src})",
            months,
            "months",
            source_steady_usd,
            s.payee,  # type: ignore[arg-type]
            f"exitkit model of {src}, steady state",
        )
    gib = moved_gib(ctx)
    note = f"{ctx.retained_gib:,.1f} GiB retained + {months:g} months × {ctx.written_gib:,.1f} GiB written"
    hours = ctx.month_hours * months
    if mig.tool == "mirrormaker2":
        workers = max(2, math.ceil(ctx.p / (ctx.catalog.value("model.mm2.worker_mibps") * MIB) - EPS))
        out.add(
            "migration",
            "compute",
            f"MirrorMaker 2 worker hours ({MM2_INSTANCE})",
            workers * hours,
            "hours",
            f"aws.ec2.hourly.{MM2_INSTANCE}",
            "cloud",
            note=f"{workers} workers × {hours:g} h",
        )
        # workers sit in one zone: the read leg and the write leg each cross with (Z−1)/Z
        out.add(
            "migration",
            "cross_zone",
            "Cross-AZ transfer (MirrorMaker 2 sync)",
            gib * 2 * ctx.cross_share,
            "GiB",
            "aws.cross_az_per_gib",
            "cloud",
            note=note,
        )
    elif mig.tool == "msk-replicator":
        out.add("migration", "replication", "MSK Replicator hours", hours, "hours", "msk.replicator.hour", "cloud")
        out.add(
            "migration",
            "replication",
            "MSK Replicator data replicated",
            gib,
            "GiB",
            "msk.replicator.per_gib",
            "cloud",
            note=note,
        )
    elif mig.tool == "automq-linking":
        # runs inside the AutoMQ brokers (no worker fleet, no tool fee); the brokers fetch from the
        # source leaders, which sit in another zone with (Z−1)/Z; the write side goes to S3 (free)
        out.add(
            "migration",
            "cross_zone",
            "Cross-AZ transfer (Kafka Linking fetch from source)",
            gib * ctx.cross_share,
            "GiB",
            "aws.cross_az_per_gib",
            "cloud",
            note=note,
        )
    else:  # cluster-linking
        out.add(
            "migration",
            "replication",
            "Cluster link hours",
            hours,
            "link-hours",
            "confluent.cluster_link.hour",
            "vendor",
        )
        out.add(
            "migration",
            "replication",
            "Cluster link data mirrored",
            gib,
            "GiB",
            "confluent.cluster_link.per_gib",
            "vendor",
            note=note,
        )
    s = get_platform(src) if source_steady_usd is not None else None
    if s is not None and s.egress_key:
        out.add(
            "migration",
            "consumer_egress",
            f"Source egress, migration sync ({src})",
            gib,
            "GiB",
            s.egress_key,
            s.payee,
            note=note,  # type: ignore[arg-type]
        )
    if tgt.ingress_key:
        # a meter on uncompressed bytes (WarpStream) sees the copy × the compression ratio
        cr = ctx.inputs.assumptions.compression_ratio if "uncompressed" in ctx.catalog.get(tgt.ingress_key).unit else 1
        out.add(
            "migration",
            "producer_ingress",
            f"Target ingress, initial copy ({target})",
            ctx.retained_gib * cr,
            "GiB",
            tgt.ingress_key,
            tgt.payee,  # type: ignore[arg-type]
            note="" if cr == 1 else f"{ctx.retained_gib:,.1f} GiB × compression ratio {cr:g}",
        )
    lab = ctx.inputs.assumptions.labor
    hours = mig.move_labor_hours(lab.hours_per_fte_month)
    given = mig.labor_hours is not None
    out.add_derived(
        "migration",
        "labor",
        "Engineer hours for the move",
        hours,
        "hours",
        lab.hourly_rate,
        "internal",
        "workload assumptions.migration.labor_hours"
        if given
        else "exitkit default assumption [U]: 0.5 FTE × dual-run months (FTE-month = 2,087 h ÷ 12, US OPM)",
        price_key="assumptions.labor.hourly_rate",
        note="" if given else f"0.5 × {months:g} months × {lab.hours_per_fte_month:.1f} h",
    )
    return out.lines
