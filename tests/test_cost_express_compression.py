"""Issue 15: MSK Express sized by every published limit (partitions per broker, RF 3, 3 zones) and
WarpStream's uncompressed-byte fees scaled by `compression_ratio`. Figures worked by hand."""

from __future__ import annotations

import pytest

from exitkit.cost import CostAssumptions, CostInputs, CostMigration, CostTraffic, evaluate, get_platform
from exitkit.prices import load_catalog

MIB = 2**20
CATALOG = load_catalog()


def whatif(partitions: int, **assumptions) -> CostInputs:
    # 5 MiB/s mean, 10 MiB/s peak, fan-out 1: throughput needs < 1 broker on any Express size
    return CostInputs(
        CostTraffic(
            write_bytes_per_s=5 * MIB,
            write_peak_bytes_per_s=10 * MIB,
            fan_out=1,
            retention_s=86400,
            partitions=partitions,
        ),
        assumptions=CostAssumptions(**assumptions),
    )


def test_express_broker_count_bound_by_partitions():
    """10,000 partitions × RF 3 = 30,000 replicas. Brokers per size = ceil(30,000 / recommended),
    rounded up to a multiple of 3: large 1,000 → 30; xlarge 1,000 → 30; 2xlarge 2,500 → 12;
    4xlarge 6,000 → 5 → 6; 8xlarge 12,000 → 3. Hourly: 30 × 0.408 = 12.24, 30 × 0.816 = 24.48,
    12 × 1.632 = 19.58, 6 × 3.264 = 19.58, 3 × 6.528 = 19.58 → large is cheapest (30 brokers),
    where ingress alone (10 MiB/s ÷ (15.6 × 0.5)) would need 2 → 3 brokers."""
    est = get_platform("msk-express").model(whatif(10_000), CATALOG)
    s = est.sizing
    assert (s.units, s.instance, s.bound_by) == (30, "express.m7g.large", "partitions_recommended")
    assert s.needs["partitions_recommended"] == pytest.approx(30.0)
    assert s.needs["partitions_max"] == pytest.approx(20.0)  # 30,000 / 1,500
    assert s.needs["ingress_peak"] == pytest.approx(10 / (15.6 * 0.5))
    hours = next(ln for ln in est.lines if ln.item.startswith("Broker instance hours"))
    assert hours.quantity == 30 * 730 and hours.unit_price == 0.408
    assert hours.monthly_usd == pytest.approx(8935.2)
    assert "bound by partitions_recommended" in hours.note
    # few partitions: ingress binds on the same traffic, 3 brokers (the zone minimum)
    small = get_platform("msk-express").model(whatif(30), CATALOG).sizing
    assert (small.units, small.instance) == (3, "express.m7g.large")


def test_express_keeps_rf3_and_reports_the_workload_rf():
    res = evaluate(whatif(30, replication_factor=2), CATALOG, ["msk-express"], include_source=False)
    rep = next(ln for ln in res.platform("msk-express").lines if ln.path == "replication")
    wg = 5 * 730 * 3600 / 1024  # GiB written per month
    assert rep.quantity == pytest.approx(wg * 2)  # RF 3: two follower copies, not one
    assert any("replication factor 2 in the workload is not applied" in w for w in res.warnings)
    # RF 2 partitions still count 3 replicas on Express: 1,000 partitions → 3,000 replicas → 3 large brokers
    s = get_platform("msk-express").model(whatif(1_000, replication_factor=2), CATALOG).sizing
    assert s.needs["partitions_recommended"] == pytest.approx(3.0)


def _warpstream(ratio: float):
    return {
        ln.item: ln for ln in get_platform("warpstream-byoc").model(whatif(30, compression_ratio=ratio), CATALOG).lines
    }


def test_warpstream_fees_scale_with_compression_ratio():
    one, four = _warpstream(1), _warpstream(4)
    wg = 5 * 730 * 3600 / 1024  # 12,832.03 GiB written per month (wire bytes)
    d = 5 * 86400 / 1024  # 421.875 GiB retained
    first, above = "Uncompressed data written (first 50 TiB/month)", "Uncompressed data written (above 50 TiB/month)"
    assert one[first].quantity == pytest.approx(wg) and above not in one
    # 4 × 12,832.03 = 51,328.125 uncompressed GiB: 51,200 in band 1 (50 TiB), 128.125 in band 2
    assert four[first].quantity == 51_200 and four[above].quantity == pytest.approx(4 * wg - 51_200)
    assert four[first].quantity + four[above].quantity == pytest.approx(4 * wg)
    # 51,200 × 0.01 + 128.125 × 0.0075 = 512 + 0.9609375 = $512.9609375 (was 4 × wg × 0.01 = $513.28
    # at one rate; the 128.125 GiB above 50 TiB now pay 0.0025 less: −$0.3203125)
    assert four[first].monthly_usd + four[above].monthly_usd == pytest.approx(512.9609375)
    assert four["Uncompressed data stored (first 50 TiB)"].monthly_usd == pytest.approx(4 * d * 0.01)
    # S3 holds the compressed bytes: not scaled
    assert four["S3 storage"].quantity == pytest.approx(one["S3 storage"].quantity) == pytest.approx(d)


def test_compressed_initial_copy_into_warpstream():
    x = whatif(30, compression_ratio=3, migration=CostMigration(1, "mirrormaker2"))
    x = x.scaled(source_platform="msk-standard")
    res = evaluate(x, CATALOG, ["warpstream-byoc"])
    copy = next(ln for ln in res.platform("warpstream-byoc").lines if ln.item.startswith("Target ingress"))
    assert copy.quantity == pytest.approx(3 * 5 * 86400 / 1024)


def test_compression_ratio_is_bounded():
    with pytest.raises(ValueError, match="assumptions.compression_ratio"):
        CostAssumptions(compression_ratio=0.5)
    with pytest.raises(ValueError, match="assumptions.compression_ratio"):
        CostAssumptions(compression_ratio=1000)
