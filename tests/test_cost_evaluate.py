"""evaluate(): the documented JSON shape, today column, migration lines, discounts; projection, tornado, grid."""

from __future__ import annotations

import json

import numpy as np
import pytest

from exitkit.cost import (
    CostAssumptions,
    CostInputs,
    CostLabor,
    CostMigration,
    CostTraffic,
    evaluate,
    project,
    scenario_grid,
    tornado,
)
from exitkit.cost.inputs import DAY_S
from exitkit.prices import load_catalog

MIB = 2**20
WG = 25_664.0625  # 10 MiB/s × 2,628,000 s / 1024
RG = 2 * WG
D = 2_531.25  # 10 MiB/s × 3 d / 1024

# Steady totals of the golden workload (tests/test_cost_golden.py), added up by hand:
DEDICATED_STEADY = (
    2 * 730 * 3.81  # CKU hours
    + WG * 0.05  # ingress
    + RG * 0.05  # egress
    + D * 0.08  # storage
    + 3 * 730 * 0.01  # PrivateLink endpoints
    + (WG + RG) * 0.01  # PrivateLink processed
    + WG * 2 / 3 * 0.02  # producer → leader
    + RG * 2 / 3 * 0.02  # leader → consumers
    + 10 * 120  # labour
)
KAFKA_EC2_STEADY = (
    2 * 3 * 730 * 0.0816  # brokers + KRaft controllers
    + D * 3 * 1.4 * 0.08  # EBS
    + WG * 2 / 3 * 0.02
    + RG * 2 / 3 * 0.02
    + WG * 2 * 0.02  # leader → followers
    + (12 + 180) * 0.30  # metrics
    + 80 * 120  # labour
)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def golden(source: str | None = "confluent-dedicated", **assumptions) -> CostInputs:
    return CostInputs(
        CostTraffic(
            write_bytes_per_s=10 * MIB, write_peak_bytes_per_s=20 * MIB, fan_out=2, retention_s=3 * DAY_S, partitions=30
        ),
        name="golden",
        assumptions=CostAssumptions(**assumptions),
        source_platform=source,
    )


def test_json_shape(catalog):
    res = evaluate(golden(), catalog, ["kafka-ec2", "automq-byoc"])
    doc = json.loads(res.to_json())
    assert doc["workload"] == "golden" and doc["currency"] == "USD" and doc["month_hours"] == 730
    assert [p["platform"] for p in doc["platforms"]] == ["confluent-dedicated", "kafka-ec2", "automq-byoc"]
    for p in doc["platforms"]:
        assert set(p) >= {"platform", "name", "monthly_usd", "one_time_usd", "lines"}
        # issue 15 added fields (never renamed): known_total/known_migration, incomplete, missing_prices
        assert set(p["monthly_usd"]) == {"steady", "abnormal", "total", "known_total"}
        assert set(p["one_time_usd"]) == {"migration", "known_migration"}
        assert {"incomplete", "missing_prices", "cash_flow", "payback_month"} <= set(p)
        for ln in p["lines"]:
            assert set(ln) == {
                "unpriced",
                "state",
                "path",
                "item",
                "quantity",
                "unit",
                "unit_price",
                "monthly_usd",
                "payee",
                "source",
                "price_key",
                "note",
                "region",
            }


def test_source_platform_is_today_without_migration_lines(catalog):
    res = evaluate(golden(), catalog, ["kafka-ec2"])
    today = res.platform("confluent-dedicated")
    assert today.today and today.migration_usd == 0
    assert today.steady_usd == pytest.approx(DEDICATED_STEADY)
    assert res.platform("kafka-ec2").steady_usd == pytest.approx(KAFKA_EC2_STEADY)


def test_migration_lines_mirrormaker2(catalog):
    mig = {
        ln.item: ln
        for ln in evaluate(golden(), catalog, ["kafka-ec2"]).platform("kafka-ec2").lines
        if ln.state == "migration"
    }
    moved = D + 2 * WG  # retained + 2 months of writes
    # issue 15: the target's dual-run line is gone (its run is counted once, in the cash flow);
    # labour for the move is added: 0.5 FTE × 2 months × 2087/12 h at $120/h
    expected = {
        "Dual run: source platform steady cost (confluent-dedicated)": (2, DEDICATED_STEADY),
        "Engineer hours for the move": (0.5 * 2 * 2087 / 12, 120),
        # max(2, ceil(20 MiB/s / 50 MiB/s per worker)) = 2 workers × 730 h × 2 months
        "MirrorMaker 2 worker hours (m7g.xlarge)": (2 * 730 * 2, 0.1632),
        "Cross-AZ transfer (MirrorMaker 2 sync)": (moved * 2 * 2 / 3, 0.02),  # read + write legs
        "Source egress, migration sync (confluent-dedicated)": (moved, 0.05),
    }
    assert set(mig) == set(expected)
    for item, (qty, price) in expected.items():
        assert mig[item].quantity == pytest.approx(qty) and mig[item].unit_price == pytest.approx(price), item


def test_migration_managed_tools_and_target_ingress(catalog):
    res = evaluate(
        golden(source="msk-standard", migration=CostMigration(1, "msk-replicator")), catalog, ["warpstream-byoc"]
    )
    mig = {ln.item: ln for ln in res.platform("warpstream-byoc").lines if ln.state == "migration"}
    assert mig["MSK Replicator hours"].quantity == 730
    assert mig["MSK Replicator data replicated"].quantity == pytest.approx(D + WG)
    assert mig["Target ingress, initial copy (warpstream-byoc)"].quantity == pytest.approx(D)
    assert not any("Source egress" in i for i in mig)  # MSK has no per-GiB egress meter
    # MSK Replicator list prices (us-east-1, AWS's MSK price map): $0.30/replicator-hour, $0.08/GiB
    assert (mig["MSK Replicator hours"].unit_price, mig["MSK Replicator data replicated"].unit_price) == (0.30, 0.08)
    assert not any("msk.replicator" in w for w in res.warnings if w.startswith("unpriced"))
    cl = evaluate(golden(migration=CostMigration(2, "cluster-linking")), catalog, ["confluent-enterprise"])
    items = {ln.item for ln in cl.platform("confluent-enterprise").lines if ln.state == "migration"}
    assert {"Cluster link hours", "Cluster link data mirrored"} <= items


def test_unknown_migration_tool():
    with pytest.raises(ValueError, match="assumptions.migration.tool"):
        CostMigration(2, "rsync")


def test_unknown_platform(catalog):
    with pytest.raises(ValueError, match="unknown platform 'kafka-on-mars'"):
        evaluate(golden(), catalog, ["kafka-on-mars"])


def test_vendor_discount_touches_vendor_lines_only(catalog):
    base = evaluate(golden(source=None), catalog, ["confluent-enterprise"]).platform("confluent-enterprise")
    disc = evaluate(golden(source=None), catalog.with_overrides({"discount.vendor": 0.2}), ["confluent-enterprise"])
    disc = disc.platform("confluent-enterprise")
    for a, b in zip(base.lines, disc.lines, strict=True):
        factor = 0.8 if a.payee == "vendor" else 1.0
        assert b.monthly_usd == pytest.approx(a.monthly_usd * factor), a.item
    # vendor part: eCKU 730 × 2.25 + ingress WG × 0.05 + egress RG × 0.05 + storage D × 0.08, less 20%
    vendor = 730 * 2.25 + WG * 0.05 + RG * 0.05 + D * 0.08
    assert base.steady_usd - disc.steady_usd == pytest.approx(0.2 * vendor)


def test_labor_hours_from_workload(catalog):
    inputs = golden(source=None, labor=CostLabor(hourly_rate=100, hours_per_month={"kafka-ec2": 40}))
    ln = next(x for x in evaluate(inputs, catalog, ["kafka-ec2"]).platform("kafka-ec2").lines if x.path == "labor")
    assert (ln.quantity, ln.unit_price, ln.monthly_usd, ln.payee) == (40, 100, 4000, "internal")


def test_warnings_name_region_and_placeholders(catalog):
    res = evaluate(golden(), catalog, ["automq-byoc"])
    text = " ".join(res.warnings)
    assert "us-west-1" in text  # the Dedicated CKU price is a us-west-1 example
    assert "automq.aku_hour" in text
    priced = evaluate(golden(source=None), catalog.with_overrides({"automq.aku_hour": 0.5}), ["automq-byoc"])
    assert not any("automq.aku_hour" in w for w in priced.warnings)


def test_projection_compounds_growth(catalog):
    rows = project(golden(source=None), catalog, ["kafka-ec2"], years=3)
    assert [r["year"] for r in rows] == [1, 2, 3]
    assert [r["growth_factor"] for r in rows] == pytest.approx([1.0, 1.3, 1.69])
    grown = golden(source=None).scaled(traffic__write_bytes_per_s=13 * MIB, traffic__write_peak_bytes_per_s=26 * MIB)
    assert rows[1]["monthly_usd"] == pytest.approx(evaluate(grown, catalog, ["kafka-ec2"]).totals()["kafka-ec2"])
    assert rows[2]["cumulative_usd"] == pytest.approx(sum(r["annual_usd"] for r in rows))
    assert rows[0]["annual_usd"] == pytest.approx(rows[0]["monthly_usd"] * 12)


def test_projection_adds_migration_in_year_one(catalog):
    rows = project(golden(), catalog, ["kafka-ec2"], years=2)
    k = [r for r in rows if r["platform"] == "kafka-ec2"]
    assert k[0]["one_time_usd"] > 0 and k[1]["one_time_usd"] == 0


def test_tornado(catalog):
    rows = tornado(golden(source=None), catalog, ["kafka-ec2"])
    by = {r["assumption"]: r for r in rows}
    # labour ±25%: 80 h × (150 − 90) USD/h = 4,800
    assert by["assumptions.labor.hourly_rate"]["swing_usd"] == pytest.approx(80 * 60)
    assert rows[0]["swing_usd"] == max(r["swing_usd"] for r in rows)
    assert all(r["swing_usd"] >= 0 for r in rows)
    # zone-aware consumers 0 → 1 removes the consumer crossing: RG × 2/3 × 0.02 (+ replay 421.875 × 2/3 × 0.02)
    za = by["assumptions.zone_aware_consumers"]
    assert za["low_usd"] - za["high_usd"] == pytest.approx(RG * 2 / 3 * 0.02 + 421.875 * 2 / 3 * 0.02)


def test_scenario_grid(catalog):
    inputs = golden(source=None)
    g = scenario_grid(
        inputs,
        catalog,
        ["kafka-ec2", "automq-byoc"],
        write_multipliers=(1, 2),
        fan_outs=(2, 4),
        retention_days=(3,),
        zone_aware_shares=(0, 1),
    )
    assert g.totals_usd.shape == (2, 2, 2, 1, 2)
    base = evaluate(inputs, catalog, ["kafka-ec2", "automq-byoc"], migration=False).totals()
    assert g.totals_usd[0, 0, 0, 0, 0] == pytest.approx(base["kafka-ec2"])
    assert g.totals_usd[1, 0, 0, 0, 0] == pytest.approx(base["automq-byoc"])
    assert np.all(np.diff(g.totals_usd, axis=1) >= 0)  # more writes never cheaper
    assert len(g.rows()) == g.totals_usd.size


def test_inputs_validation():
    with pytest.raises(ValueError, match="traffic.write_peak"):
        CostTraffic(write_bytes_per_s=10, write_peak_bytes_per_s=5)
    with pytest.raises(ValueError, match="zone_aware_consumers"):
        CostAssumptions(zone_aware_consumers=1.5)
    assert CostAssumptions(zone_aware_consumers=True).zone_aware_consumers == 1.0


def test_migration_automq_linking(catalog):
    """AutoMQ Kafka Linking runs inside the AutoMQ brokers: no workers, no tool fee; the brokers
    fetch M = D + 2 months of writes from the source leaders, 2/3 of it across zones (issue 15:
    the tool was listed as not costed)."""
    res = evaluate(golden(migration=CostMigration(2, "automq-linking")), catalog, ["automq-byoc"])
    mig = {ln.item: ln for ln in res.platform("automq-byoc").lines if ln.state == "migration"}
    moved = D + 2 * WG
    assert set(mig) == {
        "Dual run: source platform steady cost (confluent-dedicated)",
        "Cross-AZ transfer (Kafka Linking fetch from source)",
        "Source egress, migration sync (confluent-dedicated)",
        "Engineer hours for the move",
    }
    assert mig["Cross-AZ transfer (Kafka Linking fetch from source)"].quantity == pytest.approx(moved * 2 / 3)
    assert mig["Cross-AZ transfer (Kafka Linking fetch from source)"].unit_price == pytest.approx(0.02)
    assert mig["Source egress, migration sync (confluent-dedicated)"].quantity == pytest.approx(moved)
