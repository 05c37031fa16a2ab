"""Migration as a cash flow (issue 15): only what the move adds is one-time, payback month, NPV.

The worked example of docs/cost-model.md ("Cash flow"), reproduced number by number: two
platforms that cost $1,000 and $600 a month, a 2-month dual run, MirrorMaker 2 on one zone.
"""

from __future__ import annotations

import json

import pytest

from exitkit import platforms
from exitkit.cost import (
    CostAssumptions,
    CostInputs,
    CostLabor,
    CostMigration,
    CostTraffic,
    Estimate,
    cash_flows,
    evaluate,
    projection_rows,
    register,
)
from exitkit.cost.lines import Lines
from exitkit.cost.registry import unregister
from exitkit.plan.gates import cost_model
from exitkit.prices import load_catalog

MIB = 2**20
TODAY, NEW = "toy-today", "toy-new"


@pytest.fixture(scope="module")
def toys():
    """Two platforms with fixed steady costs: today $1,000/month, the candidate $600/month."""
    for pid, usd in ((TODAY, 1000.0), (NEW, 600.0)):
        platforms.register_platform(platforms.PlatformInfo(pid, pid, "cloud", 0.0))

        def model(inputs, catalog, usd=usd):
            out = Lines(catalog)
            out.add_derived("steady", "compute", "Toy run rate", 1, "months", usd, "cloud", "test fixture")
            return Estimate(out.lines)

        register(pid)(model)
    yield
    for pid in (TODAY, NEW):
        unregister(pid)
        platforms.unregister_platform(pid)


def example(discount_rate: float = 0.0) -> CostInputs:
    return CostInputs(
        CostTraffic(write_bytes_per_s=10 * MIB, fan_out=1, retention_s=86400),
        name="toy",
        zones=1,  # one zone: MirrorMaker 2's legs cross nothing, so the tool is worker hours alone
        assumptions=CostAssumptions(
            growth_per_year=0.0,
            discount_rate=discount_rate,
            migration=CostMigration(dual_run_months=2, tool="mirrormaker2", labor_hours=10),
            labor=CostLabor(hourly_rate=100),
        ),
        source_platform=TODAY,
    )


CATALOG = load_catalog(overrides={"aws.ec2.hourly.m7g.xlarge": 0.25})


def test_one_time_is_only_what_the_move_adds(toys):
    res = evaluate(example(), CATALOG, [NEW])
    mig = {ln.item: ln.monthly_usd for ln in res.platform(NEW).lines if ln.state == "migration"}
    # source kept 2 months: 2 × 1,000; MM2: max(2, ceil(10/50)) = 2 workers × 730 h × 2 months × $0.25;
    # labour 10 h × $100. No target dual-run line: the target's run is in the cash flow once.
    assert mig == {
        f"Dual run: source platform steady cost ({TODAY})": pytest.approx(2000.0),
        "MirrorMaker 2 worker hours (m7g.xlarge)": pytest.approx(730.0),
        "Engineer hours for the move": pytest.approx(1000.0),
    }
    assert res.platform(NEW).migration_usd == pytest.approx(3730.0)


def test_payback_month_and_three_year_totals(toys):
    cf = cash_flows(example(), CATALOG, [NEW])[NEW]
    m = cf.months
    assert len(m) == 2 + 36  # dual run + 36 months after it
    # months 1-2: today 1,000; candidate 600 + 3,730 / 2 = 2,465; saving −1,465 each
    assert [r["phase"] for r in m[:3]] == ["dual_run", "dual_run", "run"]
    assert m[0]["candidate_usd"] == pytest.approx(2465.0) and m[1]["saving_usd"] == pytest.approx(-1465.0)
    # month 3 on: saving 400; cumulative −2,930 + 400 (m − 2) > 0 first at m = 10 (m = 9: −130; m = 10: +270)
    assert m[8]["cumulative_saving_usd"] == pytest.approx(-130.0)
    assert m[9]["cumulative_saving_usd"] == pytest.approx(270.0)
    assert cf.payback_month == 10 and cf.payback_label == "month 10"
    assert cf.one_time_usd == pytest.approx(3730.0)
    # 3 years from the start: today 36 × 1,000; candidate 36 × 600 + 3,730
    assert cf.three_year_today_usd == pytest.approx(36000.0)
    assert cf.three_year_candidate_usd == pytest.approx(25330.0)
    assert cf.three_year_saving_usd == pytest.approx(10670.0)
    assert cf.npv_usd == pytest.approx(-2930.0 + 400 * 36)  # r = 0: the plain sum over 38 months


def test_npv_discounts_monthly_at_the_yearly_rate(toys):
    cf = cash_flows(example(discount_rate=0.12), CATALOG, [NEW])[NEW]
    q = 1.12 ** (-1 / 12)  # one month's discount factor
    expected = -1465 * (q + q**2) + 400 * q**3 * (1 - q**36) / (1 - q)
    assert cf.npv_usd == pytest.approx(expected)
    # by hand: q = 0.990600; 1,465 × (q + q²) = 2,888.8; 400 × q³ × (1 − 1.12⁻³) / (1 − q) = 11,922.6
    assert expected == pytest.approx(9033.7, abs=0.5)  # 11,470 undiscounted


def test_never_pays_back(toys):
    x = example()
    x = x.scaled(source_platform=NEW)  # moving from the $600 platform to the $1,000 one
    cf = cash_flows(x, CATALOG, [TODAY])[TODAY]
    assert cf.payback_month is None and cf.payback_label == "never"
    assert cf.three_year_saving_usd == pytest.approx(36 * -400.0 - (2 * 600 + 730 + 1000))


def test_json_carries_cash_flow_and_payback(toys):
    res = evaluate(example(), CATALOG, [NEW])
    res = res.with_cash_flows(cash_flows(example(), CATALOG, [NEW], result=res))
    doc = json.loads(res.to_json())
    by_id = {p["platform"]: p for p in doc["platforms"]}
    assert by_id[TODAY]["cash_flow"] is None and by_id[TODAY]["payback_month"] is None
    assert by_id[NEW]["payback_month"] == 10
    assert by_id[NEW]["cash_flow"]["one_time_usd"] == pytest.approx(3730.0)
    assert len(by_id[NEW]["cash_flow"]["months"]) == 38
    assert doc["assumptions"]["discount_rate"] == 0.0


def test_projection_rows_count_the_target_once(toys):
    flows = cash_flows(example(), CATALOG, [NEW])
    rows = {(r["platform"], r["year"]): r for r in projection_rows(flows)}
    # year 1: 12 × 600 + 3,730 one-time (the source's 2 extra months inside it) — not 14 months of target
    assert rows[(NEW, 1)]["annual_usd"] == pytest.approx(12 * 600 + 3730)
    assert rows[(NEW, 3)]["cumulative_usd"] == pytest.approx(25330.0)
    assert rows[(TODAY, 3)]["cumulative_usd"] == pytest.approx(36000.0)


def test_growth_steps_yearly(toys):
    """Later years are evaluated at traffic × (1 + g)^(y−1); toy totals do not move with traffic,
    so the series is flat, but the real models grow: a real pair shows year 2 > year 1."""
    x = CostInputs(
        CostTraffic(write_bytes_per_s=20 * MIB, fan_out=2, retention_s=3 * 86400, partitions=30),
        assumptions=CostAssumptions(growth_per_year=0.5),
        source_platform="msk-standard",
    )
    cf = cash_flows(x, load_catalog(), ["msk-express"])["msk-express"]
    assert cf.months[12]["today_usd"] > cf.months[11]["today_usd"]
    assert cf.months[13]["today_usd"] == cf.months[12]["today_usd"]  # constant within a year


def test_cost_gate_needs_the_move_to_pay_back(toys):
    """Saving 400 USD/month passes when the move pays back (month 10), fails when the one-time cost
    never comes back: MirrorMaker 2 at $500/h → 2 × 730 × 2 × 500 = 1,460,000 USD > 36 × 400."""
    for price, status, says in ((0.25, "pass", "pays back in month 10"), (500.0, "fail", "never pays back")):
        catalog = load_catalog(overrides={"aws.ec2.hourly.m7g.xlarge": price})
        res = evaluate(example(), catalog, [NEW])
        res = res.with_cash_flows(cash_flows(example(), catalog, [NEW], result=res))
        gate = cost_model(res, TODAY, NEW)
        assert gate.status == status and "saves 400 USD/month" in gate.reason and says in gate.reason
