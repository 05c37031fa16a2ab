"""Run platform models for one workload and shape the result as the `exitkit cost` JSON (README, docs/cost-model.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from exitkit.cost.common import Ctx, Sizing
from exitkit.cost.inputs import CostInputs
from exitkit.cost.lines import CostLine
from exitkit.cost.migration import migration_lines
from exitkit.cost.registry import PLATFORMS, get_platform
from exitkit.prices import Catalog
from exitkit.safe_output import strict_json


@dataclass(frozen=True)
class PlatformCost:
    """One platform's lines and totals. `today` marks the workload's source platform."""

    platform: str
    name: str
    lines: list[CostLine]
    sizing: Sizing | None = None
    today: bool = False

    def _sum(self, state: str) -> float:
        return sum((ln.monthly_usd for ln in self.lines if ln.state == state), 0.0)

    @property
    def steady_usd(self) -> float:
        return self._sum("steady")

    @property
    def abnormal_usd(self) -> float:
        return self._sum("abnormal")

    @property
    def total_usd(self) -> float:
        """Monthly total: steady + abnormal (migration is one-time, reported apart)."""
        return self.steady_usd + self.abnormal_usd

    @property
    def migration_usd(self) -> float:
        return self._sum("migration")

    def to_dict(self) -> dict:
        return {
            "platform": self.platform,
            "name": self.name,
            "today": self.today,
            "sizing": self.sizing.to_dict() if self.sizing else None,
            "monthly_usd": {"steady": self.steady_usd, "abnormal": self.abnormal_usd, "total": self.total_usd},
            "one_time_usd": {"migration": self.migration_usd},
            "lines": [ln.to_dict() for ln in self.lines],
        }


@dataclass(frozen=True)
class CostResult:
    """All platforms for one workload; `to_dict()` / `to_json()` give the `exitkit cost` JSON shape."""

    workload: str
    month_hours: float
    platforms: list[PlatformCost]
    currency: str = "USD"
    warnings: list[str] = field(default_factory=list)
    # Today's monthly cost: "modelled" (the source platform's lines) or "actual" (an ingested bill
    # allocated to the workload). `allocation` (an exitkit.bill.allocate.Allocation) is set whenever
    # a bill covers the workload, whichever baseline is used.
    baseline: str = "modelled"
    allocation: object | None = None

    def today_usd(self) -> float | None:
        """Today's monthly cost on the baseline: the allocated bill, or the source platform's
        modelled total (None when neither is known). Savings, payback and gates use this."""
        today = next((p for p in self.platforms if p.today), None)
        if self.baseline == "actual" and self.allocation is not None:
            return float(self.allocation.monthly_usd) + self.unbilled_usd()
        return None if today is None else today.total_usd

    def unbilled_usd(self) -> float:
        """Today's modelled monthly lines of payees the ingested bills do not carry (internal labour;
        the cloud side of a Confluent cluster when only its Confluent bill is in): added to the
        allocated bill so today compares like for like with the candidates' totals."""
        today = next((p for p in self.platforms if p.today), None)
        covered = set(getattr(self.allocation, "payees", ()) or ())
        if today is None or self.allocation is None:
            return 0.0
        return sum(
            (ln.monthly_usd for ln in today.lines if ln.state in ("steady", "abnormal") and ln.payee not in covered),
            0.0,
        )

    def platform(self, platform_id: str) -> PlatformCost:
        for p in self.platforms:
            if p.platform == platform_id:
                return p
        raise KeyError(platform_id)

    def totals(self) -> dict[str, float]:
        """Monthly total (steady + abnormal) by platform id."""
        return {p.platform: p.total_usd for p in self.platforms}

    def price_keys(self) -> list[str]:
        """Catalog keys the lines used, in first-use order (for a report's price table)."""
        seen = dict.fromkeys(ln.price_key for p in self.platforms for ln in p.lines if ln.price_key)
        return [k for k in seen if k is not None and not k.startswith("assumptions.")]

    def to_dict(self) -> dict:
        return {
            "workload": self.workload,
            "currency": self.currency,
            "month_hours": self.month_hours,
            "platforms": [p.to_dict() for p in self.platforms],
            "warnings": list(self.warnings),
            "baseline": self.baseline,
            "today_usd": self.today_usd(),
            "actual_baseline": _allocation_dict(self.allocation),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return strict_json(self.to_dict(), f"cost of {self.workload!r}", indent=indent, ensure_ascii=False)


def _allocation_dict(alloc) -> dict | None:
    if alloc is None:
        return None
    return {
        "monthly_usd": alloc.monthly_usd,
        "payees": list(alloc.payees),
        "clusters": [
            {"cluster": c.cluster, "month": c.month, "traffic_share": c.traffic_share,
             "storage_share": c.storage_share, "cluster_actual_usd": c.cluster_actual_usd,
             "allocated_usd": c.allocated_usd}
            for c in alloc.clusters
        ],
        "unbilled_clusters": list(alloc.missing),
    }  # fmt: skip


def evaluate(
    inputs: CostInputs,
    catalog: Catalog,
    platforms: Iterable[str] | None = None,
    include_source: bool = True,
    migration: bool = True,
) -> CostResult:
    """Cost `platforms` (default: all registered) for `inputs` with `catalog`.

    The source platform (today) is costed first when it has a model and `include_source`; every
    other platform gets the one-time migration lines unless `migration` is False.
    """
    ids = list(PLATFORMS) if platforms is None else list(dict.fromkeys(platforms))
    for pid in ids:
        get_platform(pid)  # fail early on an unknown id
    src = inputs.source_platform
    src_known = src in PLATFORMS
    if include_source and src_known and src not in ids:
        ids.insert(0, src)
    elif src_known and src in ids:
        ids.remove(src)
        ids.insert(0, src)

    estimates = {pid: get_platform(pid).model(inputs, catalog) for pid in ids}
    source_steady = None
    if src_known and migration:
        est = estimates.get(src) or get_platform(src).model(inputs, catalog)
        source_steady = sum(ln.monthly_usd for ln in est.lines if ln.state == "steady")

    ctx = Ctx.of(inputs, catalog) if migration else None
    out = []
    for pid in ids:
        est = estimates[pid]
        lines = list(est.lines)
        if ctx is not None and pid != src:
            steady = sum(ln.monthly_usd for ln in lines if ln.state == "steady")
            lines += migration_lines(ctx, pid, source_steady, steady)
        out.append(PlatformCost(pid, get_platform(pid).name, lines, est.sizing, today=(pid == src)))
    return CostResult(inputs.name, inputs.assumptions.month_hours, out, warnings=_warnings(inputs, catalog, out))


def _warnings(inputs: CostInputs, catalog: Catalog, platforms: list[PlatformCost]) -> list[str]:
    """Things a reader must know: prices from another region, placeholders, unmodelled sources."""
    msgs = []
    used = {ln.price_key for p in platforms for ln in p.lines if ln.price_key in catalog.prices}
    other = sorted(k for k in used if catalog.prices[k].region != inputs.region)
    if other:
        regions = sorted({catalog.prices[k].region for k in other})
        msgs.append(
            f"{len(other)} prices used are list prices for {', '.join(regions)}, not {inputs.region}; "
            "override them in the workload's prices for a regional estimate"
        )
    unpriced = sorted(k for k in used if catalog.prices[k].unpriced and k not in catalog.overridden)
    if unpriced:
        msgs.append(f"unpriced (0 until overridden): {', '.join(unpriced)}")
    if inputs.source_platform and inputs.source_platform not in PLATFORMS:
        msgs.append(
            f"source platform {inputs.source_platform!r} has no model: no 'today' column and no dual-run source line"
        )
    for p in platforms:
        if p.sizing and p.sizing.bound_by == "max_ecku":
            msgs.append(f"{p.platform}: peak needs more eCKU than one cluster allows; split the workload")
    return msgs
