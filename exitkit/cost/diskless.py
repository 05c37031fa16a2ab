"""Diskless / shared-storage BYOC: AutoMQ and WarpStream, brokers or agents in the customer's VPC.

Durability comes from S3 (multi-AZ; EC2↔S3 in-region transfer is free), so there is no
replication transfer. Clients that declare their zone in client.id stay in-zone (WarpStream docs,
docs.warpstream.com; AutoMQ docs, docs.automq.com/automq/eliminate-inter-zone-traffics/overview); clients that do not cross AZs like Kafka clients do. The subscription is paid to the
vendor; EC2, S3 and any transfer are paid to AWS.
"""

from __future__ import annotations

import math

from exitkit.cost.common import (
    EPS,
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
from exitkit.cost.inputs import MB, MIB, CostInputs
from exitkit.cost.lines import CostLine, Lines
from exitkit.cost.registry import Estimate, register
from exitkit.prices import Catalog


def _nic_sizer(out_per_write_key: str):
    """Brokers/agents by baseline NIC: out = P × (uploads + F) at utilization; zone loss at mean."""

    def size(ctx: Ctx, instance: str) -> Sizing:
        nic = nic_mibps(ctx.catalog, instance)
        base = ctx.catalog.value(out_per_write_key)
        zone_loss = ctx.zones / (ctx.zones - 1) if ctx.zones > 1 else 1.0
        p, w, f = ctx.p / MIB, ctx.w / MIB, ctx.fan_out
        needs = {
            "nic_out_peak": p * (base + f) / (nic * ctx.utilization),
            "nic_out_zone_loss": w * (base + f * zone_loss) / nic,
        }
        # one broker/agent per zone at least, in multiples of the zone count (balanced zones)
        return size_units("brokers", instance, needs, minimum=ctx.zones, multiple=ctx.zones)

    return size


def _s3_requests(out: Lines, ctx: Ctx, item: str, requests_per_month: float, key: str) -> None:
    out.add("steady", "requests", item, requests_per_month / 1000, "1k requests", key, "cloud")


# ------------------------------------------------------------------ automq-byoc


def automq_routed_share(ctx: Ctx) -> float:
    """Share of clients kept in-zone: zone routing needs 3 zones and S3 WAL (AutoMQ docs, docs.automq.com/automq/eliminate-inter-zone-traffics/overview).

    With EBS WAL or another zone count, clients behave like Kafka clients (routed share 0).
    """
    if ctx.inputs.assumptions.automq_wal != "s3" or ctx.zones != 3:
        return 0.0
    return ctx.aware


def _automq_lines(ctx: Ctx, s: Sizing) -> list[CostLine]:
    c = ctx.catalog
    out = Lines(c)
    n = s.units
    out.add(
        "steady",
        "compute",
        f"EC2 instance hours ({s.instance})",
        n * ctx.month_hours,
        "hours",
        f"aws.ec2.hourly.{s.instance}",
        "cloud",
    )
    akus = _akus(ctx)
    out.add(
        "steady",
        "compute",
        "AutoMQ subscription (AKU-hours)",
        akus * ctx.month_hours,
        "AKU-hours",
        "automq.aku_hour",
        "vendor",
        note=f"{akus} AKU: 1 AKU = 20 MB/s write, 20 MB/s read; sized on peak",
    )
    out.add("steady", "storage", "S3 storage", ctx.retained_gib, "GiB-months", "aws.s3.storage_gib_month", "cloud")
    wal = ctx.inputs.assumptions.automq_wal
    if wal == "ebs":
        out.add(
            "steady",
            "storage",
            "EBS gp3 WAL volumes",
            n * c.value("automq.ebs_wal_gib"),
            "GiB-months",
            "aws.ebs.gp3_gib_month",
            "cloud",
        )
    _s3_requests(
        out,
        ctx,
        "S3 PUT requests (uploads and compaction)",
        ctx.written_gib * c.value("automq.s3_put_per_gib_written"),
        "aws.s3.put_per_1k",
    )
    _s3_requests(
        out,
        ctx,
        "S3 GET requests (reads and compaction)",
        ctx.written_gib * c.value("automq.s3_get_per_gib_written"),
        "aws.s3.get_per_1k",
    )
    if wal == "s3":
        # one WAL object per broker every 250 ms
        _s3_requests(
            out,
            ctx,
            "S3 PUT requests (S3 WAL)",
            n * c.value("automq.wal_flush_per_s") * ctx.month_s,
            "aws.s3.put_per_1k",
        )
    routed = automq_routed_share(ctx)
    if routed > 0:
        # zone router: each broker flushes a batch every 250 ms; the other zones' leaders read it
        batches = n * c.value("automq.zone_router_flush_per_s") * ctx.month_s
        _s3_requests(out, ctx, "S3 PUT requests (zone router)", batches, "aws.s3.put_per_1k")
        _s3_requests(out, ctx, "S3 GET requests (zone router)", batches * (ctx.zones - 1), "aws.s3.get_per_1k")
    unrouted = (1 - routed) * ctx.cross_share
    client_cross_zone_lines(out, ctx, unrouted, unrouted)
    observability_lines(out, ctx, n)
    labor_line(out, ctx, "automq-byoc")
    replay_cross_zone_line(out, ctx, unrouted)
    replay_remote_reads_line(out, ctx, ctx.replay_gib())
    return out.lines


def _akus(ctx: Ctx) -> int:
    """AKUs for the peak: max(P / 20 MB/s write, P × F / 20 MB/s read), at least 1."""
    c = ctx.catalog
    need = max(
        ctx.p / (c.value("automq.aku_write_mbps") * MB), ctx.p * ctx.fan_out / (c.value("automq.aku_read_mbps") * MB)
    )
    return max(1, math.ceil(need - EPS))


@register("automq-byoc")
def automq_byoc(inputs: CostInputs, catalog: Catalog) -> Estimate:
    """AutoMQ BYOC: EC2 brokers, S3 storage and requests, WAL (S3 or EBS), AKU subscription."""
    ctx = Ctx.of(inputs, catalog)
    sizing, lines = provisioned(
        ctx, catalog.variants("aws.ec2.hourly."), _nic_sizer("automq.network_out_per_write"), _automq_lines
    )
    extra = {"wal": inputs.assumptions.automq_wal, "zone_routed_share": automq_routed_share(ctx), "akus": _akus(ctx)}
    return Estimate(
        lines, Sizing(sizing.units, sizing.unit_name, sizing.instance, sizing.bound_by, sizing.needs, extra)
    )


# ------------------------------------------------------------------ warpstream-byoc


# Price bands each WarpStream cluster tier lists for uncompressed GiB written and stored
# (API-Evangelist transcription of https://www.warpstream.com/pricing,
# github.com/api-evangelist/warpstream@a15b7c86fff7da0ae6f29ceb14035beb8002935f
# plans/warpstream-plans-pricing.yml [S/U]): Dev lists the first 50 TiB only, Fundamentals the
# first 50 and the next 250 TiB, Pro five bands. A tier's last listed rate applies to everything
# above its last band [I]: Dev's $0.01 to all its volume, Fundamentals' band 2 above 300 TiB too.
WARPSTREAM_BANDS = {"dev": 1, "fundamentals": 2, "pro": 5}
WARPSTREAM_SIZED_BANDS = 4  # bands with a size in the catalog (`<size_key>.t1` to `.t4`); band 5 is open
TIB_GIB = 1024.0


def warpstream_bands(catalog: Catalog, tier: str, price_key: str, size_key: str) -> list[tuple[float, float, str]]:
    """(first GiB, end GiB, price key) per band `tier` is billed in; the last band is open (end inf).

    Band 1 is priced by `price_key`, band k > 1 by `<price_key>.t<k>`; band k's size is the limit
    `<size_key>.t<k>` in TiB (1 TiB = 1,024 GiB). Sizes come from the catalog, so an override
    moves the breakpoints.
    """
    n = WARPSTREAM_BANDS[tier]
    out = []
    lo = 0.0
    for k in range(1, n + 1):
        key = price_key if k == 1 else f"{price_key}.t{k}"
        hi = lo + catalog.value(f"{size_key}.t{k}") * TIB_GIB if k < n else math.inf
        out.append((lo, hi, key))
        lo = hi
    return out


def _num(v: float) -> str:
    return f"{v:,.1f}".removesuffix(".0")


def _band_label(lo: float, hi: float, per: str) -> str:
    if lo == 0 and hi == math.inf:
        return ""
    if lo == 0:
        return f" (first {hi / TIB_GIB:,g} TiB{per})"
    if hi == math.inf:
        return f" (above {lo / TIB_GIB:,g} TiB{per})"
    return f" ({lo / TIB_GIB:,g}–{hi / TIB_GIB:,g} TiB{per})"


def _warpstream_banded(
    out: Lines,
    ctx: Ctx,
    path: str,
    item: str,
    quantity: float,
    basis: str,
    price_key: str,
    size_key: str,
) -> None:
    """One vendor line per price band the monthly uncompressed `quantity` reaches: the GiB in that
    band × the band's catalog price. Bands are monthly, so `quantity` is per `month_hours` month;
    `basis` says what it counts ("GiB written this month", "GiB-months stored")."""
    a = ctx.inputs.assumptions
    tier, cr = a.warpstream_tier, a.compression_ratio
    unit = basis.split()[0]
    per = "/month" if unit == "GiB" else ""
    bands = warpstream_bands(ctx.catalog, tier, price_key, size_key)
    for k, (lo, hi, key) in enumerate(bands, 1):
        q = min(quantity, hi) - lo
        if q <= 0:
            break
        note = f"compressed × compression ratio {cr:g} = {_num(quantity)} uncompressed {basis}"
        if len(bands) > 1:
            note += f"; GiB {_num(lo)}–{_num(lo + q)} at this band's rate"
        listed_end = (
            lo + ctx.catalog.value(f"{size_key}.t{k}") * TIB_GIB
            if hi == math.inf and k <= WARPSTREAM_SIZED_BANDS
            else math.inf
        )
        if quantity > listed_end:
            note += (
                f"; {tier} lists this rate up to {listed_end / TIB_GIB:,g} TiB and nothing above, "
                "so exitkit applies it above too [I]"
            )
        out.add("steady", path, item + _band_label(lo, hi, per), q, unit, key, "vendor", note=note)


def _warpstream_lines(ctx: Ctx, s: Sizing) -> list[CostLine]:
    c = ctx.catalog
    a = ctx.inputs.assumptions
    out = Lines(c)
    n = s.units
    out.add(
        "steady",
        "compute",
        f"Agent instance hours ({s.instance})",
        n * ctx.month_hours,
        "hours",
        f"aws.ec2.hourly.{s.instance}",
        "cloud",
    )
    out.add(
        "steady",
        "compute",
        f"WarpStream cluster fee ({a.warpstream_tier})",
        ctx.month_hours * 4,
        "15-min intervals",
        f"warpstream.cluster_15min.{a.warpstream_tier}",
        "vendor",
    )
    cr = a.compression_ratio
    _warpstream_banded(
        out,
        ctx,
        "producer_ingress",
        "Uncompressed data written",
        ctx.written_gib * cr,
        "GiB written this month",
        "warpstream.write_per_gib",
        "warpstream.write_tier_tib",
    )
    _warpstream_banded(
        out,
        ctx,
        "storage",
        "Uncompressed data stored",
        ctx.retained_gib * cr,
        "GiB-months stored",
        "warpstream.storage_gib_month",
        "warpstream.storage_tier_tib",
    )
    out.add("steady", "storage", "S3 storage", ctx.retained_gib, "GiB-months", "aws.s3.storage_gib_month", "cloud")
    _s3_requests(
        out,
        ctx,
        "S3 PUT requests (agent uploads)",
        n * c.value("warpstream.agent_flush_per_s") * ctx.month_s,
        "aws.s3.put_per_1k",
    )
    if ctx.fan_out > 0:
        # each zone's agents read each written byte once (distributed file cache)
        gets = ctx.written_gib * ctx.zones * c.value("warpstream.s3_get_per_gib_read")
        _s3_requests(out, ctx, "S3 GET requests (reads)", gets, "aws.s3.get_per_1k")
    unaware = (1 - ctx.aware) * ctx.cross_share
    client_cross_zone_lines(out, ctx, unaware, unaware)
    observability_lines(out, ctx, n)
    labor_line(out, ctx, "warpstream-byoc")
    replay_cross_zone_line(out, ctx, unaware)
    replay_remote_reads_line(out, ctx, ctx.replay_gib())
    return out.lines


@register("warpstream-byoc", ingress_key="warpstream.write_per_gib")
def warpstream_byoc(inputs: CostInputs, catalog: Catalog) -> Estimate:
    """WarpStream BYOC: EC2 agents, S3, cluster-minutes, uncompressed GiB written and stored."""
    ctx = Ctx.of(inputs, catalog)
    sizing, lines = provisioned(
        ctx,
        catalog.variants("aws.ec2.hourly."),
        _nic_sizer("warpstream.agent_network_out_per_write"),
        _warpstream_lines,
    )
    return Estimate(
        lines,
        Sizing(
            sizing.units,
            "agents",
            sizing.instance,
            sizing.bound_by,
            sizing.needs,
            {"tier": ctx.inputs.assumptions.warpstream_tier},
        ),
    )
