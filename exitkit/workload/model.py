"""The workload file's model: which topics, what traffic, which candidates, under which assumptions.

Validated by the pydantic models below (unknown keys are errors everywhere); the field types
are in `exitkit.workload.fields`, the contract / cutover / owners sections in
`exitkit.workload.sections`, reading YAML with line numbers in `exitkit.workload.loader`.
See docs/workloads.md and templates/workload.yaml.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from exitkit.cost.inputs import TRAFFIC_BOUNDS, traffic_problem
from exitkit.errors import BadPrice, BadWorkload
from exitkit.prices import load_catalog
from exitkit.workload.fields import (
    NAME_PATTERN,
    Duration,
    Fraction01,
    NonNegative,
    Platform,
    Positive,
    Rate,
    Size,
    Strict,
    Tool,
    bounded,
    field_error,
    fraction_type,
    short,
)

# --- the file's sections ----------------------------------------------------------------


class Source(Strict):
    """Where the workload runs today."""

    platform: Platform = Field(description="Current platform id (one of PLATFORMS).")
    cluster: str | None = Field(
        None, min_length=1, description="Cluster id in the store; limits topic globs without a `cluster:` prefix."
    )


class Traffic(Strict):
    """Overrides of measured traffic; with no `topics`, the whole (what-if) traffic."""

    write_rate: Rate | None = Field(None, description="Mean producer write rate, e.g. '25 MiB/s'.")
    write_p95: Rate | None = Field(None, description="95th percentile write rate (default: scaled from measured).")
    write_peak: Rate | None = Field(None, description="Peak write rate, e.g. '80 MiB/s'.")
    fan_out: NonNegative | None = Field(None, description="Bytes read per byte written (consumer groups' reads).")
    retention: Duration | None = Field(None, description="Retention, e.g. '7d' (ms s m h d).")
    partitions: int | None = Field(None, ge=1, description="Partition count (leaders, not replicas).")
    retained: Size | None = Field(None, description="Logical retained size (one replica), e.g. '2 TiB'.")
    record_size: Size | None = Field(None, description="Average record size, e.g. '1 KiB'.")

    @model_validator(mode="after")
    def _peak_not_below_mean(self) -> Traffic:
        for name in TRAFFIC_BOUNDS:  # plausible ranges (exitkit.cost.inputs.TRAFFIC_BOUNDS)
            problem = traffic_problem(name, getattr(self, name))
            if problem:
                raise field_error(f"traffic.{name}", problem)
        w, p95, peak = self.write_rate, self.write_p95, self.write_peak
        if w is not None and peak is not None and peak < w:
            raise field_error("traffic.write_peak", "is lower than traffic.write_rate; expected a peak ≥ the mean rate")
        if p95 is not None and peak is not None and peak < p95:
            raise field_error("traffic.write_peak", "is lower than traffic.write_p95; expected a peak ≥ the p95 rate")
        return self


class ConsumerReplay(Strict):
    per_year: NonNegative = Field(6, description="Consumer replays (reset to an earlier offset) per year.")
    hours_of_data: NonNegative = Field(24, description="Hours of data each replay re-reads.")


class Recovery(Strict):
    """Abnormal-state events per year, each modelled separately from steady state."""

    broker_replacement: NonNegative = Field(4, description="Broker replacements per year (re-replication).")
    partition_reassignment: NonNegative = Field(12, description="Partition reassignments per year (rebalancing).")
    zone_failover: NonNegative = Field(1, description="Zone failovers per year.")
    consumer_replay: ConsumerReplay = Field(default_factory=ConsumerReplay)


class Migration(Strict):
    dual_run_months: bounded(0, 36, "months") = Field(2, description="Months source and destination run side by side.")
    tool: Tool = Field("mirrormaker2", description="Replication tool for the migration sync.")
    labor_hours: bounded(0, 100_000, "hours") | None = Field(
        None,
        description="Engineer hours for the move (runbook, rehearsals, cutover, validation); "
        "default 0.5 FTE × dual_run_months (exitkit assumption).",
    )


class Labor(Strict):
    hourly_rate: bounded(0, 10_000, "USD per hour", hi_open=True) = Field(
        120, description="Loaded cost of one engineer hour, USD."
    )
    hours_per_month: dict[Platform, bounded(0, 744, "hours per month")] = Field(
        default_factory=dict,
        description="Operating hours per month by platform id; a platform not listed uses the cost model's default.",
    )
    hours_per_fte_month: bounded(1, 744, "hours") = Field(
        2087 / 12,
        description="Hours in one full-time-equivalent month for the FTE view: 2,087 h/yr ÷ 12 "
        "(US OPM 2,087-hour divisor).",
    )


class Assumptions(Strict):
    """Every assumption has a default; a value given in the file is marked `assumed`, a default `default`."""

    replication_factor: int = Field(3, ge=1, le=10, description="Replicas per partition on the candidates.")
    zone_aware_consumers: bool = Field(
        False, description="Consumers fetch from a same-zone replica (fetch-from-follower / zone hints)."
    )
    private_link: bool = Field(True, description="Clients reach the cluster over private connectivity.")
    storage_headroom: fraction_type(0, 10) = Field(0.4, description="Provisioned disk = data × (1 + headroom).")
    local_retention: Duration | None = Field(
        None,
        description="Tiered storage: time on broker disks (kafka-ec2-tiered defaults to 24h; "
        "msk-standard tiers only when set).",
    )
    broker_utilization: fraction_type(0, 1, lo_open=True) = Field(
        0.5, description="Share of a broker's capacity that sizing may use."
    )
    month_hours: Annotated[Positive, AfterValidator(lambda v: _at_most(v, 744, "hours in a month"))] = Field(
        730, description="Hours in a billing month."
    )
    growth_per_year: fraction_type(-0.99, 100) = Field(
        0.3, description="Traffic and storage growth per year: 0.3 or '30%'."
    )
    recovery: Recovery = Field(default_factory=Recovery)
    migration: Migration = Field(default_factory=Migration)
    labor: Labor = Field(default_factory=Labor)
    compression_ratio: bounded(1, 100, "(uncompressed ÷ compressed bytes)") = Field(
        1.0,
        description="Uncompressed ÷ compressed (wire) bytes, for fees billed on uncompressed bytes "
        "(WarpStream writes and storage); 1 = no compression.",
    )
    discount_rate: fraction_type(0, 1) = Field(
        0.07, description="Yearly discount rate for the cash flow's NPV: 0.07 or '7%' (OMB Circular A-94 base case)."
    )


def _at_most(v: float, hi: float, what: str) -> float:
    if v > hi:
        raise ValueError(f"{v:g} is out of range; expected at most {hi:g} {what}")
    return v


def _topic_glob(v: str) -> str:
    cluster, sep, pattern = v.rpartition(":") if ":" in v else ("", "", v)
    if not pattern.strip() or (sep and not cluster.strip()):
        raise ValueError(f"{v!r} is not a topic glob; expected e.g. 'payments.*' or 'lkc-abc12:payments.*'")
    return v


def _name(v: str) -> str:
    if not re.fullmatch(NAME_PATTERN, v):
        raise ValueError(
            f"{v!r} is not a workload name; expected lower-case letters, digits, '-' and '_' "
            f"starting with a letter or digit ({NAME_PATTERN}); it is used in file names"
        )
    return v


class Workload(Strict):
    """A workload file. Rates are bytes/s, durations seconds, sizes bytes once validated."""

    name: Annotated[str, AfterValidator(_name)] = Field(
        max_length=64,
        description=f"Identifier used in file names: {NAME_PATTERN}.",
        json_schema_extra={"pattern": f"^{NAME_PATTERN}$"},
    )
    title: str | None = Field(None, description="Human title for reports (default: the name).")
    source: Source
    topics: list[Annotated[str, AfterValidator(_topic_glob)]] = Field(
        default_factory=list,
        description="Topic globs (fnmatch) over the store's topics; 'cluster:glob' limits one glob to a cluster. "
        "Empty: a what-if workload from `traffic` alone.",
    )
    traffic: Traffic | None = Field(None, description="Overrides of measured traffic (marked as assumed).")
    region: str = Field(min_length=1, description="Cloud region of the candidates, e.g. us-east-1.")
    zones: int = Field(3, ge=1, le=6, description="Availability zones the cluster spans.")
    candidates: list[Platform] = Field(
        default_factory=list, description="Platform ids to compare; empty: every platform in PLATFORMS."
    )
    assumptions: Assumptions = Field(default_factory=Assumptions)
    prices: dict[str, NonNegative] = Field(
        default_factory=dict,
        description="Catalog price overrides by key, e.g. {aws.cross_az_per_gib: 0.02}: a price below 1,000 USD "
        "per unit (a monthly plan fee below 1,000,000); 0 only for keys the catalog prices at 0.",
    )
    discounts: dict[Literal["cloud", "vendor", "internal"], Fraction01] = Field(
        default_factory=dict, description="Discount per payee (cloud, vendor, internal): 0.15 or '15%'."
    )
    baseline: Literal["actual", "modelled"] | None = Field(
        None,
        description="Today's cost: 'actual' (the ingested bill allocated to the workload) or 'modelled' "
        "(the source platform's model); default actual when a bill covers the workload's clusters.",
    )
    contract: dict[str, Any] = Field(
        default_factory=dict, description="Kafka contract evidence; its fields are defined by the plan step."
    )
    cutover: dict[str, Any] = Field(
        default_factory=dict, description="Cutover moments and runbook; its fields are defined by the plan step."
    )
    owners: dict[str, Any] = Field(default_factory=dict, description="Owners by role, e.g. {workload: team-payments}.")

    _path: str = PrivateAttr("<workload>")

    @field_validator("prices", mode="before")
    @classmethod
    def _bare_price_numbers(cls, v: Any) -> Any:
        """An override is a bare number in the catalog's unit; a value carrying a unit is refused,
        naming the unit the catalog uses (`0.02 USD/TB` for a USD/GiB price would be off by 1024)."""
        if not isinstance(v, dict):
            return v
        for key, raw in v.items():
            if isinstance(raw, str) and not _is_number_text(raw):
                unit = None if str(key).startswith("discount.") else _catalog_unit(str(key))
                if str(key).startswith("discount."):
                    where = "a discount is a share such as 0.15"
                else:
                    where = f"the catalog prices {key} in {unit}" if unit else f"{key} is not a catalog key"
                raise field_error(
                    f"prices.{key}", f"{short(raw)} is not a bare number; {where}: give the number in that unit"
                )
        return v

    @model_validator(mode="after")
    def _checks(self) -> Workload:
        if not self.topics and (self.traffic is None or self.traffic.write_rate is None):
            raise field_error(
                "topics",
                "selects nothing and traffic.write_rate is not set; expected topic globs to measure, "
                "or traffic.write_rate for a what-if workload",
            )
        dup = sorted(c for c, n in Counter(self.candidates).items() if n > 1)  # linear: 200k ids in ms
        if dup:
            raise field_error("candidates", f"lists {', '.join(dup)} more than once")
        return self

    @property
    def path(self) -> str:
        """The file this workload was loaded from (`<workload>` when built in code)."""
        return self._path

    @property
    def display_title(self) -> str:
        return self.title or self.name

    @property
    def what_if(self) -> bool:
        """True when the workload selects no topics: its traffic is entirely assumed."""
        return not self.topics

    def fail(self, field: str | None, message: str) -> BadWorkload:
        """A `BadWorkload` naming this workload's file and `field` (raise it)."""
        return BadWorkload(self._path, field, message)


def _is_number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _catalog_unit(key: str) -> str | None:
    """The unit of a catalog price, for error messages (None: no such key)."""
    try:
        return load_catalog().get(key).unit
    except BadPrice:
        return None
