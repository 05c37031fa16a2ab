"""What-if views over `evaluate`: 3-year projection, tornado (sensitivity), scenario grid.

Each is a loop of full recomputes on changed inputs; the models stay the only arithmetic.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from exitkit.cost.evaluate import evaluate
from exitkit.cost.inputs import DAY_S, CostInputs
from exitkit.cost.what_if import what_if
from exitkit.prices import Catalog

TORNADO_STEP = 0.25  # ±25% on every numeric assumption; booleans/shares go to 0 and 1; RF ±1


def _grow(inputs: CostInputs, factor: float) -> CostInputs:
    """Traffic × factor: write rate, peak and measured retained bytes (retention time unchanged)."""
    return what_if(inputs, write_multiplier=factor)


def project(inputs: CostInputs, catalog: Catalog, platforms: Iterable[str] | None = None, years: int = 3) -> list[dict]:
    """Year-by-year cost with traffic growing by `growth_per_year`, compounded.

    Year y (1-based) runs at traffic × (1 + g)^(y−1) for 12 months; the migration one-time cost
    falls in year 1. Rows: platform, year, growth_factor, monthly_usd, annual_usd, one_time_usd,
    cumulative_usd.
    """
    g = inputs.assumptions.growth_per_year
    rows: list[dict] = []
    cumulative: dict[str, float] = {}
    for year in range(1, years + 1):
        factor = (1 + g) ** (year - 1)
        res = evaluate(_grow(inputs, factor), catalog, platforms, migration=(year == 1))
        for p in res.platforms:
            one_time = p.migration_usd if year == 1 else 0.0
            annual = p.total_usd * 12 + one_time
            cumulative[p.platform] = cumulative.get(p.platform, 0.0) + annual
            rows.append(
                {
                    "platform": p.platform,
                    "year": year,
                    "growth_factor": factor,
                    "monthly_usd": p.total_usd,
                    "annual_usd": annual,
                    "one_time_usd": one_time,
                    "cumulative_usd": cumulative[p.platform],
                }
            )
    return rows


def _knobs(inputs: CostInputs, step: float) -> list[tuple[str, float, float, Callable[[float], CostInputs]]]:
    """(name, low, high, apply) for each assumption the tornado moves."""
    t, a = inputs.traffic, inputs.assumptions
    lo, hi = 1 - step, 1 + step
    knobs: list[tuple[str, float, float, Callable[[float], CostInputs]]] = [
        (
            "traffic.write_rate",
            t.write_bytes_per_s * lo,
            t.write_bytes_per_s * hi,
            lambda v: _grow(inputs, v / t.write_bytes_per_s if t.write_bytes_per_s else 1.0),
        ),
        ("traffic.fan_out", t.fan_out * lo, t.fan_out * hi, lambda v: inputs.scaled(traffic__fan_out=v)),
        ("traffic.retention", t.retention_s * lo, t.retention_s * hi, lambda v: inputs.scaled(traffic__retention_s=v)),
        (
            "assumptions.replication_factor",
            max(1, a.replication_factor - 1),
            a.replication_factor + 1,
            lambda v: inputs.scaled(assumptions__replication_factor=int(v)),
        ),
        ("assumptions.zone_aware_consumers", 0.0, 1.0, lambda v: inputs.scaled(assumptions__zone_aware_consumers=v)),
        (
            "assumptions.storage_headroom",
            a.storage_headroom * lo,
            a.storage_headroom * hi,
            lambda v: inputs.scaled(assumptions__storage_headroom=v),
        ),
        (
            "assumptions.broker_utilization",
            a.broker_utilization * lo,
            min(1.0, a.broker_utilization * hi),
            lambda v: inputs.scaled(assumptions__broker_utilization=v),
        ),
        (
            "assumptions.labor.hourly_rate",
            a.labor.hourly_rate * lo,
            a.labor.hourly_rate * hi,
            lambda v: inputs.scaled(assumptions__labor=replace(a.labor, hourly_rate=v)),
        ),
        (
            "assumptions.recovery (all events/yr)",
            lo,
            hi,
            lambda v: inputs.scaled(assumptions__recovery=_scale_recovery(a.recovery, v)),
        ),
    ]
    if t.write_peak_bytes_per_s is not None:
        knobs.insert(
            1,
            (
                "traffic.write_peak",
                max(t.write_bytes_per_s, t.write_peak_bytes_per_s * lo),
                t.write_peak_bytes_per_s * hi,
                lambda v: inputs.scaled(traffic__write_peak_bytes_per_s=v),
            ),
        )
    return knobs


def _scale_recovery(rec, f: float):
    cr = rec.consumer_replay
    return replace(
        rec,
        broker_replacement=rec.broker_replacement * f,
        partition_reassignment=rec.partition_reassignment * f,
        zone_failover=rec.zone_failover * f,
        consumer_replay=replace(cr, per_year=cr.per_year * f),
    )


def tornado(
    inputs: CostInputs, catalog: Catalog, platforms: Iterable[str] | None = None, step: float = TORNADO_STEP
) -> list[dict]:
    """Which assumption moves each platform's monthly total most.

    Numeric assumptions move by ±`step` (default 25%); `zone_aware_consumers` goes to 0 and 1;
    replication factor ±1; recovery event rates all together ±`step`. Rows: platform, assumption,
    low_value, high_value, base_usd, low_usd, high_usd, swing_usd (= |high − low|), sorted by
    platform order then swing, largest first.
    """
    base = evaluate(inputs, catalog, platforms, migration=False)
    order = [p.platform for p in base.platforms]
    rows = []
    for name, low, high, apply in _knobs(inputs, step):
        lo_t = evaluate(apply(low), catalog, order, migration=False).totals()
        hi_t = evaluate(apply(high), catalog, order, migration=False).totals()
        for p in base.platforms:
            rows.append(
                {
                    "platform": p.platform,
                    "assumption": name,
                    "low_value": low,
                    "high_value": high,
                    "base_usd": p.total_usd,
                    "low_usd": lo_t[p.platform],
                    "high_usd": hi_t[p.platform],
                    "swing_usd": abs(hi_t[p.platform] - lo_t[p.platform]),
                }
            )
    rows.sort(key=lambda r: (order.index(r["platform"]), -r["swing_usd"]))
    return rows


@dataclass(frozen=True)
class ScenarioGrid:
    """Monthly totals over a grid of scenarios.

    `totals_usd[i, w, f, r, z]` is platform i's monthly total (steady + abnormal) at
    write × `write_multipliers[w]`, fan-out `fan_outs[f]`, retention `retention_days[r]` days and
    zone-aware share `zone_aware_shares[z]`.
    """

    platforms: list[str]
    write_multipliers: list[float]
    fan_outs: list[float]
    retention_days: list[float]
    zone_aware_shares: list[float]
    totals_usd: np.ndarray

    def rows(self) -> list[dict]:
        """Long form: one dict per (platform, scenario) — for a DataFrame or a Plotly frame list."""
        out = []
        for idx in np.ndindex(self.totals_usd.shape):
            i, w, f, r, z = idx
            out.append(
                {
                    "platform": self.platforms[i],
                    "write_multiplier": self.write_multipliers[w],
                    "fan_out": self.fan_outs[f],
                    "retention_days": self.retention_days[r],
                    "zone_aware_share": self.zone_aware_shares[z],
                    "monthly_usd": float(self.totals_usd[idx]),
                }
            )
        return out


def scenario_grid(
    inputs: CostInputs,
    catalog: Catalog,
    platforms: Iterable[str] | None = None,
    write_multipliers: Sequence[float] = (0.5, 1.0, 2.0, 4.0),
    fan_outs: Sequence[float] = (1.0, 2.0, 3.0, 5.0),
    retention_days: Sequence[float] = (1.0, 3.0, 7.0, 30.0),
    zone_aware_shares: Sequence[float] = (0.0, 0.5, 1.0),
) -> ScenarioGrid:
    """Recompute every platform at every grid point (no migration lines): a report turns the
    array into Plotly sliders. Measured retained bytes scale with the write multiplier only when
    retention is unchanged; otherwise retained = write × retention."""
    ids = [p.platform for p in evaluate(inputs, catalog, platforms, migration=False).platforms]
    shape = (len(ids), len(write_multipliers), len(fan_outs), len(retention_days), len(zone_aware_shares))
    totals = np.zeros(shape)
    for (w, wm), (f, fo), (r, rd), (z, za) in itertools.product(
        enumerate(write_multipliers), enumerate(fan_outs), enumerate(retention_days), enumerate(zone_aware_shares)
    ):
        x = what_if(inputs, write_multiplier=wm, fan_out=fo, retention_days=rd, zone_aware_share=za)
        t = evaluate(x, catalog, ids, migration=False).totals()
        totals[:, w, f, r, z] = [t[i] for i in ids]
    return ScenarioGrid(
        ids, list(write_multipliers), list(fan_outs), list(retention_days), list(zone_aware_shares), totals
    )


def scenario_sweeps(
    inputs: CostInputs,
    catalog: Catalog,
    platforms: Iterable[str] | None = None,
    write_multipliers: Sequence[float] = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0),
    fan_outs: Sequence[float] | None = None,
    retention_days: Sequence[float] | None = None,
    zone_aware_shares: Sequence[float] = (0.0, 0.5, 1.0),
    labor_hours_scales: Sequence[float] = (0.5, 1.0, 1.5, 2.0, 3.0),
    growth_years: Sequence[float] = (0, 1, 2, 3),
    vendor_discounts: Sequence[float] = (0.0, 0.1, 0.2, 0.3),
) -> list[dict]:
    """One-at-a-time sweeps around the workload's own values, for kernel-free report sliders.

    Each parameter moves through its values with every other parameter at the workload's base
    (write ×1, measured fan-out, measured retention, the workload's zone-aware share); the base
    value is always among the steps. Rows: write_multiplier, fan_out, retention_days,
    zone_aware_share, labor_hours_scale (every platform's operating hours ×), growth_years (traffic
    grown at the workload's growth per year), vendor_discount (negotiated discount on vendor lines),
    platform, monthly_usd (steady + abnormal, no migration). Far cheaper than
    the full `scenario_grid` (Σ values, not Π values, evaluations).
    """
    t, a = inputs.traffic, inputs.assumptions
    base = {
        "write_multiplier": 1.0,
        "fan_out": round(t.fan_out, 2),
        "retention_days": round(t.retention_s / DAY_S, 2),
        "zone_aware_share": float(a.zone_aware_consumers),
        "labor_hours_scale": 1.0,
        "growth_years": 0,
        "vendor_discount": round(float(catalog.discounts.get("vendor", 0.0)), 4),
    }
    values = {
        "write_multiplier": list(write_multipliers),
        "fan_out": list(fan_outs or (1.0, 2.0, 3.0, 5.0, 8.0)),
        "retention_days": list(retention_days or (1.0, 3.0, 7.0, 14.0, 30.0)),
        "zone_aware_share": list(zone_aware_shares),
        "labor_hours_scale": list(labor_hours_scales),
        "growth_years": list(growth_years),
        "vendor_discount": list(vendor_discounts),
    }
    for k in values:
        values[k] = sorted(set(values[k]) | {base[k]})
    ids = [p.platform for p in evaluate(inputs, catalog, platforms, migration=False).platforms]
    rows: list[dict] = []
    seen: set[tuple] = set()
    for param, steps in values.items():
        for v in steps:
            state = {**base, param: v}
            key = tuple(state.values())
            if key in seen:
                continue
            seen.add(key)
            x = what_if(
                inputs,
                write_multiplier=state["write_multiplier"],
                fan_out=state["fan_out"],
                # the base is shown rounded: at the base step the workload's own retention stays exact
                retention_days=None if state["retention_days"] == base["retention_days"] else state["retention_days"],
                zone_aware_share=state["zone_aware_share"],
                labor_hours_scale=state["labor_hours_scale"],
                growth_years=state["growth_years"],
            )
            cat = catalog
            if state["vendor_discount"] != base["vendor_discount"]:
                cat = catalog.with_overrides({"discount.vendor": state["vendor_discount"]}, where="report slider")
            totals = evaluate(x, cat, ids, migration=False).totals()
            rows.extend({**state, "platform": pid, "monthly_usd": totals[pid]} for pid in ids)
    return rows
