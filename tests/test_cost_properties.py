"""Properties every platform model must keep, over generated workloads (hypothesis)."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from exitkit.cost import (
    PATHS,
    PAYEES,
    STATES,
    CostAssumptions,
    CostInputs,
    CostTraffic,
    evaluate,
    get_platform,
    platform_ids,
)
from exitkit.cost.inputs import DAY_S, HOUR_S
from exitkit.errors import BadPrice
from exitkit.prices import load_catalog

MIB = 2**20
CATALOG = load_catalog()
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def workloads(draw, zones=None, rf=None, aware=None):
    w = draw(st.floats(0.05, 400.0)) * MIB
    traffic = CostTraffic(
        write_bytes_per_s=w,
        write_peak_bytes_per_s=w * draw(st.floats(1.0, 4.0)),
        fan_out=draw(st.floats(0.0, 6.0)),
        retention_s=draw(st.floats(HOUR_S, 30 * DAY_S)),
        partitions=draw(st.one_of(st.none(), st.integers(1, 5000))),
        topics=draw(st.integers(1, 50)),
    )
    z = zones if zones is not None else draw(st.sampled_from([1, 2, 3]))
    a = CostAssumptions(
        replication_factor=rf if rf is not None else draw(st.integers(1, 3)),
        zone_aware_consumers=aware if aware is not None else draw(st.sampled_from([0.0, 0.5, 1.0])),
        private_link=draw(st.booleans()),
        local_retention_s=draw(st.one_of(st.none(), st.floats(HOUR_S, 3 * DAY_S))),
        automq_wal=draw(st.sampled_from(["s3", "ebs"])),
    )
    return CostInputs(
        traffic,
        zones=z,
        assumptions=a,
        source_platform=draw(st.sampled_from([None, "confluent-dedicated", "msk-standard"])),
    )


@SETTINGS
@given(workloads())
def test_totals_equal_sum_of_lines(inputs):
    res = evaluate(inputs, CATALOG)
    for p in res.platforms:
        d = p.to_dict()
        for state in STATES:
            assert math.fsum(ln.monthly_usd for ln in p.lines if ln.state == state) == pytest.approx(
                {"steady": p.steady_usd, "abnormal": p.abnormal_usd, "migration": p.migration_usd}[state],
                rel=1e-12,
                abs=1e-9,
            )
        # an unpriced line makes the total null (issue 15: no silent zero); known_total is the priced sum
        assert d["monthly_usd"]["known_total"] == pytest.approx(
            d["monthly_usd"]["steady"] + d["monthly_usd"]["abnormal"]
        )
        assert d["monthly_usd"]["total"] == (None if p.monthly_incomplete else d["monthly_usd"]["known_total"])
        for ln in p.lines:
            assert ln.monthly_usd == pytest.approx(ln.quantity * ln.unit_price)
            assert ln.state in STATES and ln.path in PATHS and ln.payee in PAYEES
            assert math.isfinite(ln.monthly_usd) and ln.monthly_usd >= 0
            if ln.path == "cross_zone":
                assert ln.item.startswith("Cross-AZ transfer (")


def _bump(inputs: CostInputs, what: str, factor: float) -> CostInputs:
    t = inputs.traffic
    if what == "write":
        return inputs.scaled(
            traffic__write_bytes_per_s=t.write_bytes_per_s * factor,
            traffic__write_peak_bytes_per_s=t.peak_bytes_per_s * factor,
        )
    if what == "fan_out":
        return inputs.scaled(traffic__fan_out=t.fan_out * factor + (factor - 1))
    return inputs.scaled(traffic__retention_s=t.retention_s * factor)


@SETTINGS
@given(workloads(), st.sampled_from(["write", "fan_out", "retention"]), st.floats(1.0, 3.0))
def test_cost_never_falls_when_traffic_rises(inputs, what, factor):
    before = evaluate(inputs, CATALOG, migration=False).totals()
    after = evaluate(_bump(inputs, what, factor), CATALOG, migration=False).totals()
    for pid, usd in before.items():
        assert after[pid] >= usd * (1 - 1e-9) - 1e-9, (pid, what, factor, usd, after[pid])


@SETTINGS
@given(workloads())
def test_msk_bills_no_replication_transfer(inputs):
    for pid in ("msk-standard", "msk-express", "msk-serverless"):
        for ln in get_platform(pid).lines(inputs, CATALOG):
            if ln.path == "replication":
                assert ln.monthly_usd == 0 and ln.price_key == "msk.replication_per_gib"
            assert "followers" not in ln.item and "re-replication" not in ln.item or ln.monthly_usd == 0


@SETTINGS
@given(workloads(zones=3), st.integers(1, 3))
def test_kafka_ec2_replication_crossing_is_rf_minus_one_times_written(inputs, rf):
    inputs = inputs.scaled(assumptions__replication_factor=rf)
    written_gib = inputs.traffic.write_bytes_per_s * inputs.assumptions.month_s / 2**30
    lines = [
        ln
        for ln in get_platform("kafka-ec2").lines(inputs, CATALOG)
        if ln.item == "Cross-AZ transfer (leader → followers)"
    ]
    crossing = sum(ln.quantity for ln in lines)
    assert crossing == pytest.approx((rf - 1) * written_gib)


@SETTINGS
@given(workloads(zones=3, aware=1.0))
def test_zone_aware_diskless_has_no_cross_zone_on_produce_replicate_consume(inputs):
    inputs = inputs.scaled(assumptions__automq_wal="s3")
    for pid in ("automq-byoc", "warpstream-byoc"):
        est = get_platform(pid).model(inputs, CATALOG)
        assert [ln for ln in est.lines if ln.path in ("cross_zone", "replication") and ln.monthly_usd > 0] == []


@settings(max_examples=25, deadline=None)
@given(workloads(), st.data())
def test_changing_one_price_changes_exactly_its_lines(inputs, data):
    base = evaluate(inputs, CATALOG)
    keys = sorted(k for k in base.price_keys() if CATALOG.get(k).kind == "price")
    key = data.draw(st.sampled_from(keys))
    old = CATALOG.value(key)
    changed = evaluate(inputs, CATALOG.with_overrides({key: old * 1.5 + 0.01}))
    # a price can change which instance is cheapest; the property is about unchanged sizing
    assume(
        all(
            (a.sizing and a.sizing.to_dict()) == (b.sizing and b.sizing.to_dict())
            for a, b in zip(base.platforms, changed.platforms, strict=True)
        )
    )
    for a, b in zip(base.platforms, changed.platforms, strict=True):
        for la, lb in zip(a.lines, b.lines, strict=True):
            assert (la.item, la.quantity) == (lb.item, lb.quantity)
            if la.price_key == key:
                assert lb.unit_price == pytest.approx(old * 1.5 + 0.01)
            elif la.state != "migration" or not la.item.startswith("Dual run"):
                assert la.monthly_usd == lb.monthly_usd, (key, la.item)


@given(
    st.sampled_from(sorted(CATALOG.prices)),
    st.one_of(st.floats(max_value=-1e-9), st.just(math.nan), st.just(math.inf), st.just(-math.inf)),
)
def test_bad_overrides_are_bad_price(key, value):
    with pytest.raises(BadPrice, match=key.replace(".", r"\.")):
        CATALOG.with_overrides({key: value})


def test_unknown_override_key_is_bad_price():
    with pytest.raises(BadPrice, match="unknown price key 'aws.cross_az'"):
        load_catalog(overrides={"aws.cross_az": 0.01})


def test_every_platform_registered():
    assert set(platform_ids()) == {
        "confluent-standard",
        "confluent-enterprise",
        "confluent-dedicated",
        "msk-standard",
        "msk-express",
        "msk-serverless",
        "kafka-ec2",
        "kafka-ec2-tiered",
        "automq-byoc",
        "warpstream-byoc",
        "managed-kafka-plan",
    }
