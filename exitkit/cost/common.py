"""Byte-path arithmetic shared by the platform models: the derived quantities of one workload,
zone-crossing shares, provisioned sizing, and the lines every platform has (labour,
observability, PrivateLink, consumer replay).

Notation in docstrings: W mean write rate, P peak write rate, F fan-out, R retention,
D retained bytes (one copy), RF replication factor, Z zones, a zone-aware share,
S seconds per month (month_hours × 3600), GiB = 2^30 bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from exitkit.cost.inputs import GIB, HOUR_S, MIB, CostInputs
from exitkit.cost.lines import CostLine, Lines
from exitkit.prices import Catalog

EPS = 1e-9


@dataclass(frozen=True)
class Ctx:
    """Quantities every model needs, computed once per (inputs, catalog)."""

    inputs: CostInputs
    catalog: Catalog
    w: float  # mean write, B/s
    p: float  # peak write, B/s
    fan_out: float
    rf: int
    zones: int
    aware: float  # zone-aware client share
    month_hours: float
    month_s: float
    written_gib: float  # GiB written per month (one copy)
    read_gib: float  # GiB read per month = F × written
    retained_gib: float  # D in GiB (one copy)
    partitions: int
    utilization: float
    headroom: float

    @classmethod
    def of(cls, inputs: CostInputs, catalog: Catalog) -> Ctx:
        t, a = inputs.traffic, inputs.assumptions
        month_s = a.month_s
        written = t.write_bytes_per_s * month_s / GIB
        parts = t.partitions
        if parts is None:
            # No partition count given: one partition per `model.kafka.partition_write_mibps` of peak.
            parts = max(
                1, math.ceil(t.peak_bytes_per_s / (catalog.value("model.kafka.partition_write_mibps") * MIB) - EPS)
            )
        return cls(
            inputs=inputs,
            catalog=catalog,
            w=t.write_bytes_per_s,
            p=t.peak_bytes_per_s,
            fan_out=t.fan_out,
            rf=a.replication_factor,
            zones=inputs.zones,
            aware=a.zone_aware_consumers,
            month_hours=a.month_hours,
            month_s=month_s,
            written_gib=written,
            read_gib=written * t.fan_out,
            retained_gib=t.logical_retained_bytes / GIB,
            partitions=parts,
            utilization=a.broker_utilization,
            headroom=a.storage_headroom,
        )

    @property
    def cross_share(self) -> float:
        """Share of client bytes that cross a zone when client and broker zones are independent: (Z−1)/Z."""
        return (self.zones - 1) / self.zones

    @property
    def replication_crossings(self) -> float:
        """Follower copies per written byte that land in another zone (rack-aware placement).

        Replicas are spread as evenly as possible over zones; with the leader equally likely to be
        any replica, the expected same-zone followers are Σ_z c_z/RF × (c_z − 1). RF ≤ Z gives
        RF − 1 (every follower crosses); one zone gives 0.
        """
        base, extra = divmod(self.rf, self.zones)
        counts = [base + 1] * extra + [base] * (self.zones - extra)
        same_zone = sum(c / self.rf * (c - 1) for c in counts if c)
        return (self.rf - 1) - same_zone

    def follower_fetch_cross_share(self) -> float:
        """Consumer bytes crossing zones with KIP-392 fetch-from-follower for the aware share.

        Aware consumers read in-zone when their zone holds a replica (min(RF, Z) of Z zones);
        the rest read from the leader: (1 − a) × (Z−1)/Z + a × (1 − min(RF, Z)/Z).
        """
        aware_cross = 1.0 - min(self.rf, self.zones) / self.zones
        return (1.0 - self.aware) * self.cross_share + self.aware * aware_cross

    def replay_gib(self) -> float:
        """GiB re-read by one consumer replay event: W × hours_of_data × 3600."""
        return self.w * self.inputs.assumptions.recovery.consumer_replay.hours_of_data * HOUR_S / GIB

    def per_month(self, per_year: float) -> float:
        """Events per month from events per year."""
        return per_year / 12.0


def nic_mibps(catalog: Catalog, instance: str) -> float:
    """EC2 baseline network bandwidth in MiB/s: Gbit/s × 10^9 / 8 / 2^20."""
    return catalog.value(f"aws.ec2.network_gbps.{instance}") * 1e9 / 8 / MIB


# ---------------------------------------------------------------- provisioned sizing


@dataclass(frozen=True)
class Sizing:
    """How a provisioned model sized itself, and which limit bound it.

    `needs` are the units each limit needs before rounding (e.g. `{"nic_out_peak": 7.8}`);
    `bound_by` is the largest, or `minimum` when the floor (RF, one per zone) decided.
    """

    units: int
    unit_name: str
    instance: str | None
    bound_by: str
    needs: dict[str, float] = field(default_factory=dict)
    extra: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "units": self.units,
            "unit_name": self.unit_name,
            "instance": self.instance,
            "bound_by": self.bound_by,
            "needs": {k: round(v, 4) for k, v in self.needs.items()},
            **self.extra,
        }


def size_units(
    unit_name: str, instance: str | None, needs: dict[str, float], minimum: int = 1, multiple: int = 1
) -> Sizing:
    """Units = max(ceil(need) over limits, minimum), rounded up to a multiple (e.g. of zones)."""
    bound, top = max(needs.items(), key=lambda kv: kv[1]) if needs else ("minimum", 0.0)
    units = max(1, math.ceil(top - EPS))
    if minimum > units:
        units, bound = minimum, "minimum"
    units = math.ceil(units / multiple) * multiple
    return Sizing(units=units, unit_name=unit_name, instance=instance, bound_by=bound, needs=dict(needs))


def cheapest(options: Iterable[tuple[Sizing, list[CostLine]]]) -> tuple[Sizing, list[CostLine]]:
    """The option whose lines (steady + abnormal) cost least; ties → fewer units, then catalog order.

    Choosing on the whole line set (not on instance hours alone) keeps totals from falling when
    traffic rises: every option's total is non-decreasing in traffic, so their minimum is too.
    """
    best = None
    best_key = None
    for sizing, lines in options:
        total = sum(ln.monthly_usd for ln in lines if ln.state != "migration")
        key = (round(total, 6), sizing.units)
        if best_key is None or key < best_key:
            best, best_key = (sizing, lines), key
    assert best is not None, "no sizing options"
    return best


def provisioned(
    ctx: Ctx,
    instances: Iterable[str],
    size: Callable[[Ctx, str], Sizing],
    lines_for: Callable[[Ctx, Sizing], list[CostLine]],
) -> tuple[Sizing, list[CostLine]]:
    """Size and cost the model on every instance type; keep the cheapest."""
    return cheapest((s, lines_for(ctx, s)) for s in (size(ctx, i) for i in instances))


# ---------------------------------------------------------------- lines most platforms share


def labor_line(out: Lines, ctx: Ctx, platform: str) -> None:
    """Operational labour: hours per month × hourly rate (workload assumptions, payee internal)."""
    lab = ctx.inputs.assumptions.labor
    hours = lab.hours(platform)
    if hours > 0:
        given = platform in lab.hours_per_month
        out.add_derived(
            "steady",
            "labor",
            f"Operations labour ({platform})",
            hours,
            "hours",
            lab.hourly_rate,
            "internal",
            "workload assumptions.labor" if given else "exitkit default assumption (DEFAULT_LABOR_HOURS) [U]",
            price_key="assumptions.labor.hourly_rate",
        )


def observability_lines(
    out: Lines, ctx: Ctx, brokers: int, controllers: int = 0, per_topic: bool = True, per_broker: bool = True
) -> None:
    """CloudWatch custom metrics: topics × brokers × per-topic metrics + (brokers + controllers) × node metrics.

    MSK bills only the per-topic level (its default broker metrics are free); self-run brokers,
    controllers and agents ship their node metrics as custom metrics. No published anchor exists
    (exitkit assumption, unverified); the counts are `model.obs.*`.
    """
    c = ctx.catalog
    n = 0.0
    if per_topic:
        n += ctx.inputs.traffic.topics * brokers * c.value("model.obs.metrics_per_topic_broker")
    if per_broker:
        n += (brokers + controllers) * c.value("model.obs.metrics_per_broker")
    out.add(
        "steady",
        "observability",
        "CloudWatch custom metrics",
        n,
        "metric-months",
        "aws.cloudwatch.custom_metric_month",
        "cloud",
    )


def private_link_lines(out: Lines, ctx: Ctx) -> None:
    """Customer-side AWS PrivateLink to a vendor-hosted cluster: one endpoint per zone, plus GiB processed.

    Processed bytes = written + read (W × S × (1 + F)); rates from https://aws.amazon.com/privatelink/pricing/ (catalog `aws.privatelink.*`).
    """
    if not ctx.inputs.assumptions.private_link:
        return
    out.add(
        "steady",
        "private_connectivity",
        "PrivateLink endpoint hours",
        ctx.zones * ctx.month_hours,
        "endpoint-AZ-hours",
        "aws.privatelink.endpoint_az_hour",
        "cloud",
    )
    out.add(
        "steady",
        "private_connectivity",
        "PrivateLink data processed",
        ctx.written_gib + ctx.read_gib,
        "GiB",
        "aws.privatelink.processed_per_gib",
        "cloud",
    )


def client_cross_zone_lines(out: Lines, ctx: Ctx, producer_share: float, consumer_share: float) -> None:
    """Client traffic crossing zones: producer → leader and leader → consumers, at $/GiB crossing."""
    out.add(
        "steady",
        "cross_zone",
        "Cross-AZ transfer (producer → leader)",
        ctx.written_gib * producer_share,
        "GiB",
        "aws.cross_az_per_gib",
        "cloud",
    )
    out.add(
        "steady",
        "cross_zone",
        "Cross-AZ transfer (leader → consumers)",
        ctx.read_gib * consumer_share,
        "GiB",
        "aws.cross_az_per_gib",
        "cloud",
    )


def replay_note(ctx: Ctx) -> str:
    r = ctx.inputs.assumptions.recovery.consumer_replay
    return f"{r.per_year:g}/yr × {ctx.replay_gib():,.1f} GiB ({r.hours_of_data:g} h of writes) per replay"


def replay_cross_zone_line(out: Lines, ctx: Ctx, share: float) -> None:
    """Consumer replay crossing zones: replay GiB × share × events/month."""
    per_month = ctx.per_month(ctx.inputs.assumptions.recovery.consumer_replay.per_year)
    out.add(
        "abnormal",
        "cross_zone",
        "Cross-AZ transfer (consumer replay)",
        ctx.replay_gib() * share * per_month,
        "GiB",
        "aws.cross_az_per_gib",
        "cloud",
        note=replay_note(ctx),
    )


def replay_per_gib_line(out: Lines, ctx: Ctx, item: str, key: str, payee: str, path: str = "backfill") -> None:
    """A per-GiB charge on replayed bytes (vendor egress, PrivateLink processing), amortized monthly."""
    per_month = ctx.per_month(ctx.inputs.assumptions.recovery.consumer_replay.per_year)
    out.add("abnormal", path, item, ctx.replay_gib() * per_month, "GiB", key, payee, note=replay_note(ctx))


def replay_remote_reads_line(
    out: Lines, ctx: Ctx, gib_per_event: float, item: str = "S3 GET requests (consumer replay)"
) -> None:
    """Remote-tier / object-store GETs for a replay: GiB × GETs per GiB / 1000, amortized monthly."""
    if gib_per_event <= 0:
        return
    per_month = ctx.per_month(ctx.inputs.assumptions.recovery.consumer_replay.per_year)
    gets_k = gib_per_event * ctx.catalog.value("model.remote_read.s3_get_per_gib") / 1000
    out.add(
        "abnormal",
        "backfill",
        item,
        gets_k * per_month,
        "1k requests",
        "aws.s3.get_per_1k",
        "cloud",
        note=f"{replay_note(ctx)}; {gib_per_event:,.1f} GiB from object storage per replay",
    )
