"""Scenario space: every combination of the report's sliders, exact, small enough to embed.

A static report cannot run the model, so its sliders read precomputed totals. One-at-a-time
sweeps cannot combine (moving one slider must keep the others where they are), and the full
product of seven sliders is ~30,000 evaluations. Three of the seven act on a total in a known
closed form, so only four need the grid:

- growth: `years` of growth at g per year is the write rate × (1 + g)^years (`what_if`), so the
  write multiplier and growth share one grid axis, the *write factor*, holding every product
  multiplier × (1 + g)^years;
- operating hours ×s: labour lines are hours × s × rate and nothing else depends on hours, so a
  platform's labour at ×s is its labour at ×1 times s (the same in every cell);
- vendor discount d: every line paid to the vendor is list × (1 − d), so the grid keeps the vendor
  lines at list price (d = 0) and the slider multiplies them by (1 − d).

So a cell (write factor, fan-out, retention, zone-aware share) holds per platform the lines not
paid as labour or to the vendor (`fixed`) and the vendor lines at list (`vendor`), and

    total = fixed + labour × s + vendor × (1 − d)

which `ScenarioSpace.total` computes and the report's script repeats. `tests/test_space.py`
checks it against a direct `evaluate` at combinations of every slider. A cell where a platform has an
unpriced line has no total for it (None): the report says "needs quote", never a lower bound.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from exitkit.cost.evaluate import evaluate
from exitkit.cost.inputs import DAY_S, CostInputs
from exitkit.cost.what_if import what_if
from exitkit.prices import Catalog

# slider order, as the report shows them
PARAMS = (
    "write_multiplier", "fan_out", "retention_days", "zone_aware_share",
    "labor_hours_scale", "growth_years", "vendor_discount",
)  # fmt: skip
AXES = ("write_factor", "fan_out", "retention_days", "zone_aware_share")


def _vendor_paid(payee: str) -> bool:
    return payee == "vendor"


@dataclass(frozen=True)
class ScenarioSpace:
    """Slider values, base and per-cell totals by component (see the module docstring).

    `cells` are in row-major order over `axes` (write factor slowest, zone-aware share fastest).
    """

    values: dict[str, list[float]]  # per slider, its steps in order
    base: dict[str, float]  # per slider, the workload's own value (always one of its steps)
    growth_per_year: float
    axes: dict[str, list[float]]  # per grid axis, its values in order
    write_index: list[list[int]]  # [multiplier step][growth step] → write-factor axis index
    platforms: list[str]
    fixed: dict[str, list[float | None]]  # None: incomplete in that cell (an unpriced line)
    vendor: dict[str, list[float | None]]
    labor: dict[str, float]  # labour at operating hours ×1 (the same in every cell)

    def cell(self, state: Mapping[str, float]) -> int:
        """Index of the grid cell for a full slider state (values, not step indexes)."""
        v = self.values
        w = self.write_index[v["write_multiplier"].index(state["write_multiplier"])][
            v["growth_years"].index(state["growth_years"])
        ]
        f = self.axes["fan_out"].index(state["fan_out"])
        r = self.axes["retention_days"].index(state["retention_days"])
        z = self.axes["zone_aware_share"].index(state["zone_aware_share"])
        nf, nr, nz = (len(self.axes[a]) for a in AXES[1:])
        return ((w * nf + f) * nr + r) * nz + z

    def total(self, platform: str, state: Mapping[str, float] | None = None) -> float | None:
        """Monthly total (steady + abnormal) of `platform` at `state` (default: the base);
        any slider missing from `state` stays at base. None: incomplete (needs a quote)."""
        s = {**self.base, **(state or {})}
        i = self.cell(s)
        fixed, vendor = self.fixed[platform][i], self.vendor[platform][i]
        if fixed is None or vendor is None:
            return None
        return fixed + self.labor[platform] * s["labor_hours_scale"] + vendor * (1 - s["vendor_discount"])

    def to_dict(self) -> dict:
        """What the report's script reads (money rounded to cents)."""

        def cents(xs: list[float | None]) -> list[float | None]:
            return [None if x is None else round(x, 2) for x in xs]

        return {
            "params": list(PARAMS),
            "values": self.values,
            "base": self.base,
            "axes": {a: self.axes[a] for a in AXES},
            "write_index": self.write_index,
            "platforms": self.platforms,
            "fixed": {p: cents(self.fixed[p]) for p in self.platforms},
            "vendor": {p: cents(self.vendor[p]) for p in self.platforms},
            "labor": {p: round(self.labor[p], 2) for p in self.platforms},
        }


def _steps(given: Iterable[float], base: float) -> list[float]:
    return sorted(set(given) | {base})


def scenario_space(
    inputs: CostInputs,
    catalog: Catalog,
    platforms: Iterable[str] | None = None,
    *,
    write_multipliers: Sequence[float] = (0.5, 1.0, 1.5, 2.0, 3.0),
    fan_outs: Sequence[float] = (1.0, 2.0, 3.0, 5.0, 8.0),
    retention_days: Sequence[float] | None = None,
    zone_aware_shares: Sequence[float] = (0.0, 0.5, 1.0),
    labor_hours_scales: Sequence[float] = (0.5, 1.0, 1.5, 2.0, 3.0),
    growth_years: Sequence[float] = (0, 1, 2, 3),
    vendor_discounts: Sequence[float] = (0.0, 0.1, 0.2, 0.3),
) -> ScenarioSpace:
    """Evaluate every (write factor, fan-out, retention, zone-aware share) cell once.

    Slider steps are the given values plus the workload's own (its base). Retention defaults to
    1, 7 and 30 days plus 1×, 2×, 5× and 10× the measured retention.
    """
    t, a = inputs.traffic, inputs.assumptions
    base_retention = round(t.retention_s / DAY_S, 2)
    if retention_days is None:
        retention_days = [1.0, 7.0, 30.0, *(round(base_retention * k, 2) for k in (2, 5, 10))]
    base = {
        "write_multiplier": 1.0,
        "fan_out": round(t.fan_out, 2),
        "retention_days": base_retention,
        "zone_aware_share": float(a.zone_aware_consumers),
        "labor_hours_scale": 1.0,
        "growth_years": 0,
        "vendor_discount": round(float(catalog.discounts.get("vendor", 0.0)), 4),
    }
    values = {
        "write_multiplier": _steps(write_multipliers, base["write_multiplier"]),
        "fan_out": _steps(fan_outs, base["fan_out"]),
        "retention_days": _steps(retention_days, base["retention_days"]),
        "zone_aware_share": _steps(zone_aware_shares, base["zone_aware_share"]),
        "labor_hours_scale": _steps(labor_hours_scales, base["labor_hours_scale"]),
        "growth_years": _steps(growth_years, base["growth_years"]),
        "vendor_discount": _steps(vendor_discounts, base["vendor_discount"]),
    }
    if base["vendor_discount"] >= 1:
        raise ValueError("a vendor discount of 100% leaves no list price to scale")
    g = a.growth_per_year
    factors = sorted({m * (1 + g) ** y for m in values["write_multiplier"] for y in values["growth_years"]})

    def factor_index(m: float, y: float) -> int:
        f = m * (1 + g) ** y
        return next(i for i, x in enumerate(factors) if math.isclose(x, f, rel_tol=1e-12))

    write_index = [[factor_index(m, y) for y in values["growth_years"]] for m in values["write_multiplier"]]
    axes = {
        "write_factor": factors,
        "fan_out": values["fan_out"],
        "retention_days": values["retention_days"],
        "zone_aware_share": values["zone_aware_share"],
    }
    # the vendor lines at list price: the slider applies the discount
    list_catalog = (
        catalog.with_overrides({"discount.vendor": 0.0}, where="scenario space") if base["vendor_discount"] else catalog
    )
    ids = [p.platform for p in evaluate(inputs, list_catalog, platforms, migration=False).platforms]
    fixed: dict[str, list[float | None]] = {p: [] for p in ids}
    vendor: dict[str, list[float | None]] = {p: [] for p in ids}
    labor: dict[str, float | None] = dict.fromkeys(ids)
    for w, fan, days, share in itertools.product(*(axes[x] for x in AXES)):
        x = what_if(
            inputs,
            write_multiplier=w,
            # at the base step the workload's own fan-out and retention (and measured retained
            # bytes) stay exact: the slider shows them rounded
            fan_out=None if fan == base["fan_out"] else fan,
            retention_days=None if days == base_retention else days,
            zone_aware_share=share,
            labor_hours_scale=1.0,
        )
        for pc in evaluate(x, list_catalog, ids, migration=False).platforms:
            p = pc.platform
            lines = [ln for ln in pc.lines if ln.state in ("steady", "abnormal")]
            lab = sum((ln.monthly_usd for ln in lines if ln.path == "labor"), 0.0)
            ven = sum((ln.monthly_usd for ln in lines if ln.path != "labor" and _vendor_paid(ln.payee)), 0.0)
            rest = sum((ln.monthly_usd for ln in lines if ln.path != "labor" and not _vendor_paid(ln.payee)), 0.0)
            if labor[p] is None:
                labor[p] = lab
            elif not math.isclose(labor[p], lab, rel_tol=1e-9, abs_tol=1e-9):  # type: ignore[arg-type]
                raise ValueError(
                    f"{p}: labour changes with traffic ({labor[p]} vs {lab}); the space assumes it does not"
                )
            fixed[p].append(None if pc.incomplete else rest)
            vendor[p].append(None if pc.incomplete else ven)
    return ScenarioSpace(
        values=values,
        base=base,
        growth_per_year=g,
        axes=axes,
        write_index=write_index,
        platforms=ids,
        fixed=fixed,
        vendor=vendor,
        labor={p: float(v or 0.0) for p, v in labor.items()},
    )
