"""Run platform models for one workload and shape the result as the `exitkit cost` JSON (README, docs/cost-model.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from exitkit.cost.common import Ctx, Sizing
from exitkit.cost.inputs import DEFAULT_DISCOUNT_RATE, CostInputs
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
    def missing_prices(self) -> list[str]:
        """Catalog keys of this platform's unpriced lines (placeholders, no published rate), sorted."""
        return sorted({ln.price_key for ln in self.lines if ln.unpriced and ln.price_key})

    @property
    def incomplete(self) -> bool:
        """True when any line is unpriced: the totals are then lower bounds, shown as "needs quote"."""
        return any(ln.unpriced for ln in self.lines)

    @property
    def monthly_incomplete(self) -> bool:
        """True when a steady or abnormal line is unpriced (the monthly total is unknown)."""
        return any(ln.unpriced for ln in self.lines if ln.state != "migration")

    @property
    def migration_incomplete(self) -> bool:
        """True when a one-time migration line is unpriced."""
        return any(ln.unpriced for ln in self.lines if ln.state == "migration")

    @property
    def known_total_usd(self) -> float:
        """Monthly total of the priced lines only (= `total_usd`; a lower bound when incomplete)."""
        return self.total_usd

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
        """The documented platform fields. An unpriced line makes the affected total null
        (`monthly_usd.total`, `one_time_usd.migration`): never a silent zero; `known_total` and
        `known_migration` keep the priced part, `missing_prices` names the keys to supply."""
        return {
            "platform": self.platform,
            "name": self.name,
            "today": self.today,
            "sizing": self.sizing.to_dict() if self.sizing else None,
            "monthly_usd": {
                "steady": self.steady_usd,
                "abnormal": self.abnormal_usd,
                "total": None if self.monthly_incomplete else self.total_usd,
                "known_total": self.total_usd,
            },
            "one_time_usd": {
                "migration": None if self.migration_incomplete else self.migration_usd,
                "known_migration": self.migration_usd,
            },
            "incomplete": self.incomplete,
            "missing_prices": self.missing_prices,
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
    # per candidate: exitkit.cost.cash_flow.CashFlow (set by `with_cash_flows`; empty from `evaluate`)
    cash_flows: dict[str, Any] = field(default_factory=dict)
    assumptions: dict[str, Any] = field(default_factory=dict)  # labour, discount rate, ... as shown
    # the workload's region and the prices used from another region: [(key, catalog region)]
    region: str | None = None
    region_fallbacks: list[tuple[str, str]] = field(default_factory=list)
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
        """Monthly total (steady + abnormal) by platform id (priced lines only: see `incomplete`)."""
        return {p.platform: p.total_usd for p in self.platforms}

    def cheapest(self) -> PlatformCost | None:
        """The candidate (not today's platform) with the lowest monthly total among the complete
        ones; an incomplete platform (any unpriced line) is never named. None when none is complete."""
        complete = [p for p in self.platforms if not p.today and not p.incomplete]
        return min(complete, key=lambda p: p.total_usd) if complete else None

    def missing_prices(self) -> dict[str, list[str]]:
        """{platform: unpriced catalog keys} for the incomplete platforms."""
        return {p.platform: p.missing_prices for p in self.platforms if p.incomplete}

    def with_cash_flows(self, flows: dict[str, Any]) -> CostResult:
        """A copy carrying the candidates' cash flows (JSON `cash_flow`, `payback_month`)."""
        return replace(self, cash_flows=dict(flows))

    def price_keys(self) -> list[str]:
        """Catalog keys the lines used, in first-use order (for a report's price table)."""
        seen = dict.fromkeys(ln.price_key for p in self.platforms for ln in p.lines if ln.price_key)
        return [k for k in seen if k is not None and not k.startswith("assumptions.")]

    def to_dict(self) -> dict:
        platforms = []
        for p in self.platforms:
            d = p.to_dict()
            cf = self.cash_flows.get(p.platform)
            d["cash_flow"] = cf.to_dict() if cf is not None else None
            d["payback_month"] = cf.payback_month if cf is not None else None
            platforms.append(d)
        cheapest = self.cheapest()
        return {
            "workload": self.workload,
            "currency": self.currency,
            "month_hours": self.month_hours,
            "platforms": platforms,
            "cheapest": cheapest.platform if cheapest else None,
            "missing_prices": self.missing_prices(),
            "assumptions": dict(self.assumptions),
            "warnings": list(self.warnings),
            "region": self.region,
            "region_fallbacks": [{"key": k, "catalog_region": r} for k, r in self.region_fallbacks],
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
    used = {ln.price_key for p in out for ln in p.lines if ln.price_key in catalog.prices}
    fallbacks = catalog.other_region_keys(used, inputs.region)
    return CostResult(
        inputs.name,
        inputs.assumptions.month_hours,
        out,
        warnings=_warnings(inputs, catalog, out, fallbacks),
        assumptions=shown_assumptions(inputs, [p.platform for p in out]),
        region=inputs.region,
        region_fallbacks=fallbacks,
    )


def shown_assumptions(inputs: CostInputs, platform_ids: Iterable[str]) -> dict[str, Any]:
    """The money assumptions every output shows (JSON `assumptions`, CLI, report): labour hours,
    rate and FTE per platform with their source, compression, discount rate, migration labour."""
    a = inputs.assumptions
    lab = a.labor
    return {
        "labor": {
            "hourly_rate_usd": lab.hourly_rate,
            "hours_per_fte_month": lab.hours_per_fte_month,
            "hours_per_fte_month_source": "2,087 h/yr ÷ 12: US OPM, Computing Hourly Rates of Pay Using the "
            "2,087-Hour Divisor (opm.gov, pay & leave fact sheets)",
            "platforms": {
                pid: {
                    "hours_per_month": lab.hours(pid),
                    "fte": lab.fte(pid),
                    "monthly_usd": lab.hours(pid) * lab.hourly_rate,
                    "source": "workload assumptions.labor.hours_per_month"
                    if lab.given(pid)
                    else "exitkit default (exitkit/platforms.yaml labor_hours_per_month) [U]",
                }
                for pid in platform_ids
            },
        },
        "migration": {
            "dual_run_months": a.migration.dual_run_months,
            "tool": a.migration.tool,
            "labor_hours": a.migration.move_labor_hours(lab.hours_per_fte_month),
            "labor_hours_source": "workload assumptions.migration.labor_hours"
            if a.migration.labor_hours is not None
            else "exitkit default [U]: 0.5 FTE × dual-run months",
        },
        "compression_ratio": a.compression_ratio,
        "discount_rate": a.discount_rate,
        "discount_rate_source": "workload assumptions.discount_rate"
        if a.discount_rate != DEFAULT_DISCOUNT_RATE
        else "7 %/yr real: OMB Circular A-94 (1992) §8.b base case",
        "growth_per_year": a.growth_per_year,
    }


def _warnings(
    inputs: CostInputs, catalog: Catalog, platforms: list[PlatformCost], other: list[tuple[str, str]]
) -> list[str]:
    """Things a reader must know: prices from another region (`other`: key, catalog region),
    placeholders, unmodelled sources."""
    msgs = []
    msgs.extend(catalog.notes)
    if other:
        named = ", ".join(f"{k} ({region})" for k, region in other)
        have, use = ("price has", "uses") if len(other) == 1 else ("prices have", "use")
        msgs.append(
            f"{len(other)} {have} no {inputs.region} list price in the catalog and {use} another region's: "
            f"{named}; override them in the workload's prices for a regional estimate"
        )
    unpriced = sorted({ln.price_key for p in platforms for ln in p.lines if ln.unpriced and ln.price_key})
    if unpriced:
        who = ", ".join(p.platform for p in platforms if p.incomplete)
        msgs.append(
            f"needs quote: no published price for {', '.join(unpriced)} ({who}); these totals are not ranked — "
            f"supply your quote in the workload, e.g. `prices: {{{unpriced[0]}: <USD per unit>}}`"
        )
    if inputs.source_platform and inputs.source_platform not in PLATFORMS:
        msgs.append(
            f"source platform {inputs.source_platform!r} has no model: no 'today' column and no dual-run source line"
        )
    if inputs.assumptions.compression_ratio == 1 and any(p.platform == "warpstream-byoc" for p in platforms):
        msgs.append(
            "warpstream-byoc bills uncompressed bytes written and stored; compression_ratio is 1 (no compression), "
            "so its write and storage fees are a lower bound if producers compress: set assumptions.compression_ratio"
        )
    if any(p.platform == "msk-express" for p in platforms):
        rf = inputs.assumptions.replication_factor
        if rf != 3:
            msgs.append(
                f"msk-express: replication factor {rf} in the workload is not applied; Express brokers run RF 3"
            )
        if inputs.zones != 3:
            msgs.append(f"msk-express: {inputs.zones} zones in the workload; Express runs on 3 zones, costed so")
    for p in platforms:
        if p.sizing and p.sizing.bound_by == "max_ecku":
            msgs.append(f"{p.platform}: peak needs more eCKU than one cluster allows; split the workload")
    return msgs
