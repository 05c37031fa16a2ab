"""What a cost model needs, in plain SI units (bytes/s, seconds, bytes), with the documented defaults (docs/workloads.md).

The workload file (`exitkit.workload.model`) parses units and is adapted onto `CostInputs`; the
models never see a unit string. Every default below is the one docs/workloads.md documents, or, where
the docs have none, an exitkit assumption named as such.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal

from exitkit import platforms

DAY_S = 86_400.0
HOUR_S = 3_600.0
GIB = float(2**30)
MIB = float(2**20)
MB = 1e6

MIGRATION_TOOLS = platforms.COSTED_TOOLS  # the tools whose one-time lines are modelled
AUTOMQ_WALS = ("s3", "ebs")
WARPSTREAM_TIERS = ("dev", "fundamentals", "pro")

# exitkit assumption [U]: operating hours per month when the workload names none for a platform;
# one column of the platform table (exitkit/platforms.yaml says where each figure comes from).
DEFAULT_LABOR_HOURS = platforms.default_labor_hours()

# Hours in one full-time-equivalent month: 2,087 paid hours a year ÷ 12 (US OPM, "Computing Hourly
# Rates of Pay Using the 2,087-Hour Divisor", opm.gov pay & leave fact sheet; 5 U.S.C. 5504).
HOURS_PER_FTE_MONTH = 2087 / 12
# Discount rate for NPV: 7 %/yr real, OMB Circular A-94 (1992) §8.b base case, "the marginal pretax
# rate of return on an average investment in the private sector". A company's own WACC replaces it.
DEFAULT_DISCOUNT_RATE = 0.07
# exitkit assumption [U]: labour for the move when the workload names none = half an engineer
# (0.5 FTE) for each dual-run month (cutover runbook, rehearsals, validation; docs/cost-model.md).
MIGRATION_FTE_SHARE = 0.5
COMPRESSION_RANGE = (1.0, 100.0)  # uncompressed ÷ compressed bytes; Kafka codecs rarely exceed 10


# Plausible ranges of traffic values (issue 15): beyond them a figure is a typo or a unit slip, not a
# workload. The largest published Kafka deployments run at single-digit GiB/s per cluster.
# field: (upper bound in SI units, the bound as the user reads it)
TRAFFIC_BOUNDS: dict[str, tuple[float, str]] = {
    "write_rate": (100 * 2**30, "below 100 GiB/s"),
    "write_p95": (100 * 2**30, "below 100 GiB/s"),
    "write_peak": (100 * 2**30, "below 100 GiB/s"),
    "fan_out": (1_000, "at most 1,000 (bytes read per byte written)"),
    "retention": (100 * 365 * 86_400.0, "at most 100 years (36,500d)"),
    "partitions": (10_000_000, "at most 10,000,000"),
    "retained": (100 * 2**50, "at most 100 PiB"),
    "record_size": (2**30, "at most 1 GiB"),
}


def traffic_problem(name: str, value: float | None) -> str | None:
    """Why a traffic value is implausible ("… out of range; expected …"), or None."""
    if value is None or name not in TRAFFIC_BOUNDS:
        return None
    hi, text = TRAFFIC_BOUNDS[name]
    if not math.isfinite(value) or value > hi or (name.startswith("write") and value >= hi):
        unit = {"write": " B/s", "retention": " s", "retained": " B", "record_size": " B"}
        shown = next((u for k, u in unit.items() if name.startswith(k)), "")
        return f"{value:g}{shown} is out of range; expected {text}"
    return None


def _check(cond: bool, field_name: str, expected: str, value: object) -> None:
    if not cond:
        raise ValueError(f"{field_name}: expected {expected}, got {value!r}")


@dataclass(frozen=True)
class CostTraffic:
    """Measured or declared traffic of the workload (all topics together).

    - `write_bytes_per_s`: mean write rate (producer bytes in, one copy, as on the wire).
    - `write_peak_bytes_per_s`: peak write rate; None → the mean. Provisioned models size on it.
    - `fan_out`: bytes read per byte written (consumer groups reading everything ≈ their count).
    - `retention_s`: time retention (documented example 7 d).
    - `partitions`: None → ceil(peak / `model.kafka.partition_write_mibps`) (an assumption).
    - `retained_bytes`: logical retained bytes (one copy); None → write rate × retention.
    - `avg_record_bytes`, `records_per_s`: informative only; no model prices records today.
    - `topics`: topic count, used for per-topic metrics (observability).
    """

    write_bytes_per_s: float
    write_peak_bytes_per_s: float | None = None
    fan_out: float = 1.0
    retention_s: float = 7 * DAY_S
    partitions: int | None = None
    retained_bytes: float | None = None
    avg_record_bytes: float | None = None
    records_per_s: float | None = None
    topics: int = 1

    def __post_init__(self) -> None:
        for name, value in (
            ("write_rate", self.write_bytes_per_s),
            ("write_peak", self.write_peak_bytes_per_s),
            ("fan_out", self.fan_out),
            ("retention", self.retention_s),
            ("partitions", self.partitions),
            ("retained", self.retained_bytes),
            ("record_size", self.avg_record_bytes),
        ):
            problem = traffic_problem(name, value) if isinstance(value, int | float) and value >= 0 else None
            if problem:
                raise ValueError(f"traffic.{name}: {problem}")
        _check(
            _finite_ge(self.write_bytes_per_s, 0), "traffic.write_rate", "a finite rate >= 0", self.write_bytes_per_s
        )
        if self.write_peak_bytes_per_s is not None:
            _check(
                _finite_ge(self.write_peak_bytes_per_s, self.write_bytes_per_s),
                "traffic.write_peak",
                "a finite rate >= write_rate",
                self.write_peak_bytes_per_s,
            )
        _check(_finite_ge(self.fan_out, 0), "traffic.fan_out", "a finite number >= 0", self.fan_out)
        _check(_finite_ge(self.retention_s, 0), "traffic.retention", "a finite duration >= 0", self.retention_s)
        if self.partitions is not None:
            _check(self.partitions >= 1, "traffic.partitions", "an integer >= 1", self.partitions)
        if self.retained_bytes is not None:
            _check(_finite_ge(self.retained_bytes, 0), "traffic.retained", "bytes >= 0", self.retained_bytes)
        else:  # W × R must be a real size: name the field the user wrote, not a derived one
            _check(
                math.isfinite(self.write_bytes_per_s * self.retention_s),
                "traffic.retention",
                "a retention whose write rate × retention is a finite size",
                self.retention_s,
            )
        _check(self.topics >= 1, "traffic.topics", "an integer >= 1", self.topics)

    @property
    def peak_bytes_per_s(self) -> float:
        """The peak write rate, defaulting to the mean."""
        return self.write_bytes_per_s if self.write_peak_bytes_per_s is None else self.write_peak_bytes_per_s

    @property
    def logical_retained_bytes(self) -> float:
        """Retained bytes, one copy: measured if given, else write rate × retention."""
        if self.retained_bytes is not None:
            return self.retained_bytes
        return self.write_bytes_per_s * self.retention_s


@dataclass(frozen=True)
class CostConsumerReplay:
    """Consumer replay (backfill): `per_year` events, each re-reading `hours_of_data` hours of writes."""

    per_year: float = 6.0
    hours_of_data: float = 24.0


@dataclass(frozen=True)
class CostRecovery:
    """Abnormal events per year (documented defaults) and the zone-outage length (exitkit assumption, 4 h)."""

    broker_replacement: float = 4.0
    partition_reassignment: float = 12.0
    zone_failover: float = 1.0
    consumer_replay: CostConsumerReplay = field(default_factory=CostConsumerReplay)
    zone_outage_hours: float = 4.0


@dataclass(frozen=True)
class CostMigration:
    """Migration from the source platform: months both run, and the replication tool."""

    dual_run_months: float = 2.0
    tool: str = "mirrormaker2"
    labor_hours: float | None = None  # engineer hours for the move; None → MIGRATION_FTE_SHARE FTE × months

    def __post_init__(self) -> None:
        _check(self.tool in MIGRATION_TOOLS, "assumptions.migration.tool", f"one of {MIGRATION_TOOLS}", self.tool)
        _check(
            _finite_ge(self.dual_run_months, 0) and self.dual_run_months <= 36,
            "assumptions.migration.dual_run_months",
            "months in [0, 36]",
            self.dual_run_months,
        )
        if self.labor_hours is not None:
            _check(
                _finite_ge(self.labor_hours, 0) and self.labor_hours <= 100_000,
                "assumptions.migration.labor_hours",
                "hours in [0, 100000]",
                self.labor_hours,
            )

    def move_labor_hours(self, hours_per_fte_month: float = HOURS_PER_FTE_MONTH) -> float:
        """Engineer hours for the move: the workload's figure, else 0.5 FTE × dual-run months."""
        if self.labor_hours is not None:
            return float(self.labor_hours)
        return MIGRATION_FTE_SHARE * self.dual_run_months * hours_per_fte_month


@dataclass(frozen=True)
class CostLabor:
    """Operational labour: rate (USD/h) and hours per month by platform id (missing → DEFAULT_LABOR_HOURS)."""

    hourly_rate: float = 120.0
    hours_per_month: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    hours_per_fte_month: float = HOURS_PER_FTE_MONTH
    hours_scale: float = 1.0  # a what-if on every platform's hours (the labour slider); 1 = as stated

    def __post_init__(self) -> None:
        if not isinstance(self.hours_per_month, MappingProxyType):
            object.__setattr__(self, "hours_per_month", MappingProxyType(dict(self.hours_per_month)))
        _check(
            _finite_ge(self.hourly_rate, 0) and self.hourly_rate < 10_000,
            "assumptions.labor.hourly_rate",
            "USD per hour in [0, 10000)",
            self.hourly_rate,
        )
        _check(
            _finite_ge(self.hours_per_fte_month, 1) and self.hours_per_fte_month <= 744,
            "assumptions.labor.hours_per_fte_month",
            "hours in [1, 744]",
            self.hours_per_fte_month,
        )

        _check(
            _finite_ge(self.hours_scale, 0) and self.hours_scale <= 10,
            "labour hours scale",
            "a factor in [0, 10]",
            self.hours_scale,
        )

    def given(self, platform: str) -> bool:
        """True when the workload names the hours for `platform` (else the platform table's default)."""
        return platform in self.hours_per_month

    def fte(self, platform: str) -> float:
        """Full-time equivalents: hours per month ÷ hours per FTE-month."""
        return self.hours(platform) / self.hours_per_fte_month

    def hours(self, platform: str) -> float:
        """Hours per month for `platform`: the workload's figure, else the documented default."""
        if platform in self.hours_per_month:
            return float(self.hours_per_month[platform]) * self.hours_scale
        row = platforms.TABLE.get(platform)  # the table as it is now: run-time registrations too
        return (row.labor_hours_per_month if row else 0.0) * self.hours_scale


@dataclass(frozen=True)
class CostAssumptions:
    """the workload file's `assumptions` block plus a few model knobs, each with its default.

    - `replication_factor` 3.
    - `zone_aware_consumers` False: share (0–1; a bool is 0 or 1) of client traffic whose zone the
      platform knows. Kafka/MSK/Confluent: consumers fetch from a same-zone follower (KIP-392).
      AutoMQ/WarpStream: producers *and* consumers give their zone in client.id, so the platform
      keeps them in-zone (WarpStream docs, docs.warpstream.com, ws_az=; AutoMQ docs, docs.automq.com/automq/eliminate-inter-zone-traffics/overview, automq_az=).
    - `private_link` True: vendor-hosted services are reached over AWS PrivateLink.
    - `storage_headroom` 0.4: provisioned disk = data × RF × (1 + headroom).
    - `local_retention_s` None: tiered storage time on broker disks; kafka-ec2-tiered uses 24 h
      when None; msk-standard tiers only when it is set and shorter than retention.
    - `broker_utilization` 0.5: share of a broker's capacity that peak traffic may use.
    - `month_hours` 730; `growth_per_year` 0.3 (projections only).
    - `compression_ratio` 1.0: uncompressed ÷ wire (compressed) bytes, for meters billed on
      uncompressed bytes (WarpStream writes and storage); 1 means "no compression" (a lower bound
      on those fees when producers compress); bounded to [1, 100].
    - `discount_rate` 0.07 a year: the cash flow's NPV (OMB Circular A-94 base case).
    - `automq_wal` "s3" (zone routing needs S3 WAL), `warpstream_tier` "fundamentals" (its cluster
      fee and which write/storage price bands apply, `exitkit.cost.diskless.WARPSTREAM_BANDS`).
    """

    replication_factor: int = 3
    zone_aware_consumers: float = 0.0
    private_link: bool = True
    storage_headroom: float = 0.4
    local_retention_s: float | None = None
    broker_utilization: float = 0.5
    month_hours: float = 730.0
    growth_per_year: float = 0.3
    recovery: CostRecovery = field(default_factory=CostRecovery)
    migration: CostMigration = field(default_factory=CostMigration)
    labor: CostLabor = field(default_factory=CostLabor)
    compression_ratio: float = 1.0
    discount_rate: float = DEFAULT_DISCOUNT_RATE
    automq_wal: Literal["s3", "ebs"] = "s3"
    warpstream_tier: Literal["dev", "fundamentals", "pro"] = "fundamentals"

    def __post_init__(self) -> None:
        # the workload's field is a bool; a share lets scenario grids move it continuously.
        object.__setattr__(self, "zone_aware_consumers", float(self.zone_aware_consumers))
        _check(
            self.replication_factor >= 1, "assumptions.replication_factor", "an integer >= 1", self.replication_factor
        )
        _check(
            0 <= self.zone_aware_consumers <= 1,
            "assumptions.zone_aware_consumers",
            "true/false or a share in [0, 1]",
            self.zone_aware_consumers,
        )
        _check(_finite_ge(self.storage_headroom, 0), "assumptions.storage_headroom", ">= 0", self.storage_headroom)
        _check(
            0 < self.broker_utilization <= 1,
            "assumptions.broker_utilization",
            "a share in (0, 1]",
            self.broker_utilization,
        )
        _check(_finite_ge(self.month_hours, 1), "assumptions.month_hours", "hours >= 1", self.month_hours)
        if self.local_retention_s is not None:
            _check(
                _finite_ge(self.local_retention_s, 0),
                "assumptions.local_retention",
                "a duration >= 0",
                self.local_retention_s,
            )
        lo, hi = COMPRESSION_RANGE
        _check(
            _finite_ge(self.compression_ratio, lo) and self.compression_ratio <= hi,
            "assumptions.compression_ratio",
            f"a ratio in [{lo:g}, {hi:g}] (uncompressed ÷ compressed bytes)",
            self.compression_ratio,
        )
        _check(
            _finite_ge(self.discount_rate, 0) and self.discount_rate <= 1,
            "assumptions.discount_rate",
            "a yearly rate in [0, 1]",
            self.discount_rate,
        )
        _check(self.automq_wal in AUTOMQ_WALS, "assumptions.automq_wal", f"one of {AUTOMQ_WALS}", self.automq_wal)
        _check(
            self.warpstream_tier in WARPSTREAM_TIERS,
            "assumptions.warpstream_tier",
            f"one of {WARPSTREAM_TIERS}",
            self.warpstream_tier,
        )

    @property
    def month_s(self) -> float:
        """Seconds in a billing month."""
        return self.month_hours * HOUR_S


@dataclass(frozen=True)
class CostInputs:
    """Everything a platform model reads: workload name, traffic, region, zones, assumptions.

    `source_platform` is the platform the workload runs on today (the workload's `source.platform`); it is
    costed too, for the "today" comparison and the dual-run migration lines.
    """

    traffic: CostTraffic
    name: str = "workload"
    region: str = "us-east-1"
    zones: int = 3
    assumptions: CostAssumptions = field(default_factory=CostAssumptions)
    source_platform: str | None = None

    def __post_init__(self) -> None:
        _check(self.zones >= 1, "zones", "an integer >= 1", self.zones)

    def scaled(self, **changes: object) -> CostInputs:
        """A copy with traffic and/or assumption fields replaced (`traffic__fan_out=3` style)."""
        t = {k.split("__", 1)[1]: v for k, v in changes.items() if k.startswith("traffic__")}
        a = {k.split("__", 1)[1]: v for k, v in changes.items() if k.startswith("assumptions__")}
        top = {k: v for k, v in changes.items() if "__" not in k}
        return replace(
            self,
            traffic=replace(self.traffic, **t) if t else self.traffic,
            assumptions=replace(self.assumptions, **a) if a else self.assumptions,
            **top,
        )


def _finite_ge(x: float, lo: float) -> bool:
    return isinstance(x, int | float) and math.isfinite(x) and x >= lo
