"""The scenario space behind the report's combined sliders (exitkit/cost/space.py).

Truth here is a direct evaluation: for any combination of the seven sliders, the space's sum
(fixed + labour × scale + vendor × (1 − discount), from the cell of write factor, fan-out,
retention and zone-aware share) must equal `evaluate` on the inputs moved by all seven at once.
"""

import base64
import gzip
import itertools
import json
import random

import pytest

from exitkit.charts import scenario_explorer
from exitkit.cost.adapter import workload_cost
from exitkit.cost.evaluate import evaluate
from exitkit.cost.space import PARAMS, scenario_space
from exitkit.cost.what_if import what_if
from exitkit.report.present import packed_json
from exitkit.store import open_store
from exitkit.workload.loader import load_workload
from tests.conftest import WORKLOADS


def _direct(wc, space, state) -> dict[str, float | None]:
    """Every platform's monthly total with all seven assumptions moved at once."""
    base = space.base
    x = what_if(
        wc.inputs,
        write_multiplier=state["write_multiplier"],
        growth_years=state["growth_years"],
        fan_out=None if state["fan_out"] == base["fan_out"] else state["fan_out"],
        retention_days=None if state["retention_days"] == base["retention_days"] else state["retention_days"],
        zone_aware_share=state["zone_aware_share"],
        labor_hours_scale=state["labor_hours_scale"],
    )
    catalog = wc.catalog.with_overrides({"discount.vendor": state["vendor_discount"]}, where="test")
    res = evaluate(x, catalog, space.platforms, migration=False)
    return {p.platform: None if p.incomplete else p.total_usd for p in res.platforms}


def _assert_same(wc, space, state):
    direct = _direct(wc, space, state)
    for pid, want in direct.items():
        got = space.total(pid, state)
        if want is None:
            assert got is None, (pid, state)
        else:
            assert got == pytest.approx(want, rel=1e-9, abs=1e-6), (pid, state)


@pytest.fixture(scope="module")
def whatif():
    wc = workload_cost(load_workload(WORKLOADS / "whatif-ingest.yaml"))
    return wc, scenario_space(wc.inputs, wc.catalog, list(wc.workload.candidates))


def test_every_slider_combination_equals_a_direct_evaluation(whatif):
    wc, space = whatif
    rnd = random.Random(7)
    states = [{p: rnd.choice(space.values[p]) for p in PARAMS} for _ in range(40)]
    # and the corners: every slider at its lowest, every slider at its highest
    states += [{p: min(space.values[p]) for p in PARAMS}, {p: max(space.values[p]) for p in PARAMS}]
    for state in states:
        _assert_same(wc, space, state)


def test_vendor_discount_and_labour_combine_with_every_traffic_cell(whatif):
    """The two closed-form sliders, at each of their steps, on a diagonal of traffic cells."""
    wc, space = whatif
    v = space.values
    for i, (d, s) in enumerate(itertools.product(v["vendor_discount"], v["labor_hours_scale"])):
        state = {
            **space.base, "vendor_discount": d, "labor_hours_scale": s,
            "write_multiplier": v["write_multiplier"][i % len(v["write_multiplier"])],
            "fan_out": v["fan_out"][i % len(v["fan_out"])],
            "retention_days": v["retention_days"][i % len(v["retention_days"])],
        }  # fmt: skip
        _assert_same(wc, space, state)


def test_growth_and_write_share_one_axis_worked_by_hand(whatif):
    """whatif-ingest grows 50 % a year: write ×2 after 1 year is a write factor of 3, the same cell
    as write ×3 now; ×1.5 after 2 years is 1.5 × 1.5² = 3.375."""
    _, space = whatif
    assert space.growth_per_year == 0.5
    v, axis = space.values, space.axes["write_factor"]
    at = lambda m, y: axis[space.write_index[v["write_multiplier"].index(m)][v["growth_years"].index(y)]]  # noqa: E731
    assert at(2.0, 1) == pytest.approx(3.0)
    assert at(1.5, 2) == pytest.approx(3.375)
    assert (
        space.write_index[v["write_multiplier"].index(2.0)][v["growth_years"].index(1)]
        == space.write_index[v["write_multiplier"].index(3.0)][v["growth_years"].index(0)]
    )
    for p in space.platforms:
        assert space.total(p, {"write_multiplier": 2.0, "growth_years": 1}) == space.total(p, {"write_multiplier": 3.0})


def test_labour_and_vendor_parts_worked_by_hand(whatif):
    """Operating hours ×3 adds exactly twice the platform's labour (hours × rate); a 30 % vendor
    discount takes 30 % off its vendor lines and nothing else."""
    wc, space = whatif
    a = wc.inputs.assumptions.labor
    for p in space.platforms:
        assert space.labor[p] == pytest.approx(a.hours(p) * a.hourly_rate)
        base = space.total(p)
        if base is None:
            continue
        assert space.total(p, {"labor_hours_scale": 3.0}) - base == pytest.approx(2 * space.labor[p])
        cell = space.cell(space.base)
        assert base - space.total(p, {"vendor_discount": 0.3}) == pytest.approx(0.3 * space.vendor[p][cell])
    # warpstream-byoc is paid to its vendor, msk-express to AWS alone
    cell = space.cell(space.base)
    assert space.vendor["warpstream-byoc"][cell] > 0 and space.vendor["msk-express"][cell] == 0


def test_incomplete_platform_has_no_total_and_the_chart_says_needs_quote(whatif):
    wc, space = whatif
    res = evaluate(wc.inputs, wc.catalog, space.platforms, migration=False)
    incomplete = [p.platform for p in res.platforms if p.incomplete]
    assert incomplete, "the demo what-if has an unpriced platform (automq.aku_hour)"
    for p in incomplete:
        assert space.total(p) is None
    fig = scenario_explorer(space)
    assert "needs quote" in fig.layout.annotations[0].text
    assert all(s.method == "skip" for sl in fig.layout.sliders for s in sl.steps)  # the page's script moves bars
    assert [sl.name for sl in fig.layout.sliders] == list(PARAMS)
    # the axis fits the base totals (the page refits it as sliders move); the annotation wraps
    base = [t for p in space.platforms if (t := space.total(p)) is not None]
    assert fig.layout.yaxis.range[1] == pytest.approx(max(base) * 1.15)
    assert fig.layout.annotations[0].text.count("<br>") == 2 + 1  # 7 assumptions in 2 lines, 5 platforms in 2


def test_packed_space_round_trips(whatif):
    _, space = whatif
    packed = packed_json(space.to_dict(), "space")
    data = json.loads(gzip.decompress(base64.b64decode(packed)))
    assert data["platforms"] == space.platforms and data["values"]["fan_out"] == space.values["fan_out"]
    assert len(data["fixed"][space.platforms[0]]) == len(list(itertools.product(*space.axes.values())))


def test_demo_payments_space_matches_direct_evaluation(demo_db):
    """On measured traffic (fan-out and retention at their exact measured values at base)."""
    wl = load_workload(WORKLOADS / "payments.yaml")
    with open_store(demo_db) as con:
        wc = workload_cost(wl, con)
    space = scenario_space(
        wc.inputs, wc.catalog, list(wl.candidates), write_multipliers=(1.0, 2.0), growth_years=(0, 1)
    )
    assert space.base["vendor_discount"] > 0  # payments negotiated a vendor discount: the space holds list prices
    rnd = random.Random(3)
    for _ in range(12):
        _assert_same(wc, space, {p: rnd.choice(space.values[p]) for p in PARAMS})
    base_totals = evaluate(wc.inputs, wc.catalog, space.platforms, migration=False)
    for p in base_totals.platforms:
        if not p.incomplete:
            assert space.total(p.platform) == pytest.approx(p.total_usd, rel=1e-9)
