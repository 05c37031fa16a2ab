"""What-if: a workload's cost inputs moved by the knobs a person turns (sliders, scenarios, growth)."""

from __future__ import annotations

import math
from dataclasses import replace

from exitkit.cost.inputs import DAY_S, CostInputs


def what_if(
    inputs: CostInputs,
    *,
    write_multiplier: float = 1.0,
    fan_out: float | None = None,
    retention_days: float | None = None,
    zone_aware_share: float | None = None,
    growth_years: float = 0,
    labor_hours_scale: float | None = None,
) -> CostInputs:
    """`inputs` moved by one or more what-if knobs: the one set of scaling rules that the notebook
    sliders, the report's scenario sliders, the scenario grid and the projection all use.

    Write rate, peak and measured retained bytes scale by `write_multiplier` × (1 + growth per
    year)^`growth_years`; a retention other than the base drops measured retained bytes (the
    model then keeps write × retention); fan-out and zone-aware share replace the base;
    `labor_hours_scale` multiplies every platform's operating hours (stated or default).
    """
    t, a = inputs.traffic, inputs.assumptions
    factor = write_multiplier * (1 + a.growth_per_year) ** growth_years
    retention_s = t.retention_s if retention_days is None else retention_days * DAY_S
    same_retention = math.isclose(retention_s, t.retention_s, rel_tol=1e-9)
    traffic = replace(
        t,
        write_bytes_per_s=t.write_bytes_per_s * factor,
        write_peak_bytes_per_s=None if t.write_peak_bytes_per_s is None else t.write_peak_bytes_per_s * factor,
        retained_bytes=t.retained_bytes * factor if (t.retained_bytes is not None and same_retention) else None,
        fan_out=t.fan_out if fan_out is None else fan_out,
        retention_s=t.retention_s if same_retention else retention_s,
    )
    assumptions = a if zone_aware_share is None else replace(a, zone_aware_consumers=zone_aware_share)
    if labor_hours_scale is not None:
        assumptions = replace(assumptions, labor=replace(a.labor, hours_scale=labor_hours_scale))
    return replace(inputs, traffic=traffic, assumptions=assumptions)
