"""One-time migration lines (state `migration`): dual run, the replication tool, the bytes it moves.

The migration window costs, for `dual_run_months`:
- both platforms' steady monthly cost (source and target run side by side);
- the replication tool: MirrorMaker 2 workers on EC2, MSK Replicator, or Cluster Linking;
- the bytes moved M = D (initial copy of retention) + W × window seconds (ongoing sync), billed
  as the tool's per-GiB price, the cross-AZ legs of MirrorMaker 2, the source's egress meter
  and, for the initial copy, the target's ingress meter.
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


def migration_lines(ctx: Ctx, target: str, source_steady_usd: float | None, target_steady_usd: float) -> list[CostLine]:
    """Lines for moving the workload from `ctx.inputs.source_platform` to `target`.

    No lines when the source is unknown or is the target itself. `source_steady_usd` is None when
    the source platform has no model (its dual-run line is then omitted).
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
    out.add_derived(
        "migration",
        "compute",
        f"Dual run: target platform steady cost ({target})",
        months,
        "months",
        target_steady_usd,
        tgt.payee,  # type: ignore[arg-type]
        f"exitkit model of {target}, steady state",
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
        out.add(
            "migration",
            "producer_ingress",
            f"Target ingress, initial copy ({target})",
            ctx.retained_gib,
            "GiB",
            tgt.ingress_key,
            tgt.payee,  # type: ignore[arg-type]
        )
    return out.lines
