"""Migration as a cash flow: today's platform vs each candidate, month by month.

Month m (1-based) covers [m−1, m) from the day the migration starts. For the dual-run months
(`migration.dual_run_months` = M, possibly fractional; month m holds a share
f(m) = clamp(M − (m−1), 0, 1) of it) and `months` (default 36) after them:

- today(m)     = T(y)                       the source platform's monthly total, year y = ⌈m/12⌉;
                                            on an actual baseline (an ingested bill, `baseline:
                                            actual`), A × T(y) / T(1): the bill A grown as the
                                            model grows (A × (1 + g)^(y−1) when T(1) is 0)
- candidate(m) = C(y) + O × f(m) / M        the candidate's monthly total from month 1, plus the
                                            one-time migration amount O spread over the dual run
                                            (all in month 1 when M = 0)
- saving(m)    = today(m) − candidate(m); cumulative(m) = Σ saving up to m

T(y) and C(y) are monthly totals (steady + abnormal) at traffic × (1 + growth_per_year)^(y−1),
the same yearly steps as `exitkit.cost.analysis.project`. O is the sum of the candidate's
migration lines: only what the move adds (the source's run during the dual run, the tool and its
transfer, the backfill, labour for the move); the target's run is in C(y), counted once.

- `payback_month`: the first m with cumulative(m) > 0; None = never within the horizon.
- `npv_usd` = Σ saving(m) / (1 + r)^(m/12), r = `assumptions.discount_rate` (default 7 %/yr,
  OMB Circular A-94 base case): the present value of moving rather than staying.
- `three_year_*`: Σ over months 1..36 (the dual run included).
An incomplete platform (a line without a published price) gets `incomplete` and its
`missing_prices`; its money figures are None ("needs quote"), never a number with a silent zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from exitkit.cost.common import EPS
from exitkit.cost.evaluate import CostResult, PlatformCost, evaluate
from exitkit.cost.inputs import CostInputs
from exitkit.cost.registry import PLATFORMS
from exitkit.cost.what_if import what_if
from exitkit.prices import Catalog

THREE_YEARS = 36


@dataclass(frozen=True)
class CashFlow:
    """One candidate against today's platform, month by month (see the module docstring).

    `months` rows: month, year, phase (`dual_run` | `run`), today_usd, candidate_usd,
    one_time_usd (the part of candidate_usd that is migration), saving_usd, cumulative_saving_usd.
    Money figures built on an unpriced line are None; the rows keep the priced part.
    """

    platform: str
    source: str
    dual_run_months: float
    discount_rate: float
    months: list[dict]
    one_time_usd: float | None
    payback_month: int | None
    npv_usd: float | None
    three_year_today_usd: float | None
    three_year_candidate_usd: float | None
    three_year_saving_usd: float | None
    incomplete: bool = False
    missing_prices: list[str] = field(default_factory=list)

    @property
    def payback_label(self) -> str:
        """ "month N", "never" (within the horizon) or "needs quote" (incomplete)."""
        if self.incomplete:
            return "needs quote"
        return "never" if self.payback_month is None else f"month {self.payback_month}"

    def to_dict(self) -> dict:
        return {
            "platform": self.platform,
            "source": self.source,
            "dual_run_months": self.dual_run_months,
            "discount_rate": self.discount_rate,
            "one_time_usd": self.one_time_usd,
            "payback_month": self.payback_month,
            "payback": self.payback_label,
            "npv_usd": self.npv_usd,
            "three_year_today_usd": self.three_year_today_usd,
            "three_year_candidate_usd": self.three_year_candidate_usd,
            "three_year_saving_usd": self.three_year_saving_usd,
            "incomplete": self.incomplete,
            "missing_prices": list(self.missing_prices),
            "months": [dict(r) for r in self.months],
        }


def dual_share(month: int, dual_run_months: float) -> float:
    """Share of month `month` (1-based) inside the dual run: clamp(M − (m−1), 0, 1)."""
    return min(1.0, max(0.0, dual_run_months - (month - 1)))


def cash_flows(
    inputs: CostInputs,
    catalog: Catalog,
    platforms: Iterable[str] | None = None,
    months: int = THREE_YEARS,
    result: CostResult | None = None,
) -> dict[str, CashFlow]:
    """{candidate id: CashFlow} against `inputs.source_platform` (empty when it has no model).

    `result` is the year-1 evaluation when already computed (`evaluate(inputs, catalog, platforms)`,
    migration lines included); later years are evaluated at the grown traffic without them.
    """
    src = inputs.source_platform
    if not src or src not in PLATFORMS:
        return {}
    base = result if result is not None else evaluate(inputs, catalog, platforms)
    ids = [p.platform for p in base.platforms]
    if src not in ids:
        base = evaluate(inputs, catalog, [src, *ids])
        ids = [p.platform for p in base.platforms]
    a = inputs.assumptions
    dual = a.migration.dual_run_months
    horizon = math.ceil(dual - EPS) + months
    by_year: dict[int, dict[str, PlatformCost]] = {1: {p.platform: p for p in base.platforms}}
    for year in range(2, math.ceil(horizon / 12) + 1):
        if a.growth_per_year == 0:
            by_year[year] = by_year[1]
            continue
        grown = what_if(inputs, write_multiplier=(1 + a.growth_per_year) ** (year - 1))
        by_year[year] = {p.platform: p for p in evaluate(grown, catalog, ids, migration=False).platforms}
    today_1 = by_year[1][src]
    actual = result.today_usd() if result is not None and result.baseline == "actual" else None

    def today_usd(year: int) -> float:
        modelled = by_year[year][src].total_usd
        if actual is None:
            return modelled
        if today_1.total_usd > 0:
            return actual * modelled / today_1.total_usd
        return actual * (1 + a.growth_per_year) ** (year - 1)

    today_missing = [] if actual is not None else list(today_1.missing_prices)
    out: dict[str, CashFlow] = {}
    for pid in ids:
        if pid == src:
            continue
        cand_1 = by_year[1][pid]
        one_time = cand_1.migration_usd
        rows, cumulative, npv, first_positive = [], 0.0, 0.0, None
        monthly_r = (1 + a.discount_rate) ** (1 / 12)
        for m in range(1, horizon + 1):
            year = math.ceil(m / 12)
            share = dual_share(m, dual)
            spread = (share / dual if dual > 0 else (1.0 if m == 1 else 0.0)) * one_time
            today = today_usd(year)
            cand = by_year[year][pid].total_usd + spread
            saving = today - cand
            cumulative += saving
            npv += saving / monthly_r**m
            if first_positive is None and cumulative > 1e-9:
                first_positive = m
            rows.append(
                {
                    "month": m,
                    "year": year,
                    "phase": "dual_run" if share > 0 else "run",
                    "today_usd": today,
                    "candidate_usd": cand,
                    "one_time_usd": spread,
                    "saving_usd": saving,
                    "cumulative_saving_usd": cumulative,
                }
            )
        first3 = rows[:THREE_YEARS]
        t3 = sum(r["today_usd"] for r in first3)
        c3 = sum(r["candidate_usd"] for r in first3)
        missing = sorted(set(cand_1.missing_prices) | set(today_missing))
        incomplete = bool(missing)
        out[pid] = CashFlow(
            platform=pid,
            source=src,
            dual_run_months=dual,
            discount_rate=a.discount_rate,
            months=rows,
            one_time_usd=None if cand_1.migration_incomplete else one_time,
            payback_month=None if incomplete else first_positive,
            npv_usd=None if incomplete else npv,
            three_year_today_usd=None if today_missing else t3,
            three_year_candidate_usd=None if cand_1.incomplete else c3,
            three_year_saving_usd=None if incomplete else t3 - c3,
            incomplete=incomplete,
            missing_prices=missing,
        )
    return out


def projection_rows(flows: dict[str, CashFlow], today: str | None = None, years: int = 3) -> list[dict]:
    """The cash flows as yearly rows (the report's projection and xlsx sheet): platform, year,
    monthly_usd (the year's last month), annual_usd, one_time_usd, cumulative_usd, incomplete.

    Today's platform (from any flow's `today_usd`) comes first; a candidate's year 1 carries the
    dual run and the one-time migration, its target run counted once.
    """
    rows: list[dict] = []
    if not flows:
        return rows
    first = next(iter(flows.values()))
    series = [(today or first.source, first.months, "today_usd", False, first.three_year_today_usd is None)]
    series += [(pid, cf.months, "candidate_usd", True, cf.incomplete) for pid, cf in flows.items()]
    for pid, months, col, is_cand, incomplete in series:
        cumulative = 0.0
        for year in range(1, years + 1):
            chunk = months[(year - 1) * 12 : year * 12]
            annual = sum(r[col] for r in chunk)
            one_time = sum(r["one_time_usd"] for r in chunk) if is_cand else 0.0
            cumulative += annual
            rows.append(
                {
                    "platform": pid,
                    "year": year,
                    "monthly_usd": chunk[-1][col] - (chunk[-1]["one_time_usd"] if is_cand else 0.0) if chunk else 0.0,
                    "annual_usd": annual,
                    "one_time_usd": one_time,
                    "cumulative_usd": cumulative,
                    "incomplete": incomplete,
                }
            )
    return rows
