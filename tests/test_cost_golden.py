"""Golden workload per platform: every line's quantity and unit price worked out by hand.

Workload G: W = 10 MiB/s mean, P = 20 MiB/s peak, fan-out F = 2, retention 3 d, 30 partitions,
1 topic, 3 zones, RF 3, month = 730 h, documented defaults otherwise (headroom 0.4, utilization
0.5, replay 6/yr × 24 h, broker replacement 4/yr, reassignment 12/yr, zone failover 1/yr × 4 h).

Hand arithmetic shared by the tables below:
  S  = 730 h × 3600            = 2,628,000 s
  Wg = 10 MiB/s × S / 1024     = 25,664.0625 GiB written per month
  Rg = F × Wg                  = 51,328.125 GiB read per month
  D  = 10 MiB/s × 3 d / 1024   = 2,531.25 GiB retained (one copy)
  cross share (Z−1)/Z          = 2/3
  replay = 10 MiB/s × 24 h     = 843.75 GiB per event; 6/yr → 0.5 events/month
"""

from __future__ import annotations

import pytest

from exitkit.cost import CostAssumptions, CostInputs, CostTraffic, get_platform
from exitkit.cost.inputs import DAY_S, HOUR_S
from exitkit.prices import load_catalog

MIB = 2**20
WG = 25_664.0625
RG = 51_328.125
D = 2_531.25
REPLAY_MONTH = 843.75 * 0.5  # GiB replayed per month
# zone outage catch-up: W × 4 h × RF/Z = 10 MiB/s × 14,400 s × 1 / 1024 = 140.625 GiB, 1/yr
CATCH_UP_MONTH = 140.625 / 12


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def golden(**assumptions) -> CostInputs:
    return CostInputs(
        CostTraffic(
            write_bytes_per_s=10 * MIB, write_peak_bytes_per_s=20 * MIB, fan_out=2, retention_s=3 * DAY_S, partitions=30
        ),
        name="golden",
        assumptions=CostAssumptions(**assumptions),
    )


def check(est, expected: list[tuple[str, str, float, float]]):
    """expected: (state, item, quantity, unit_price); also pins the exact set of lines."""
    got = {(ln.state, ln.item): ln for ln in est.lines}
    assert sorted(got) == sorted((s, i) for s, i, _, _ in expected)
    for state, item, qty, price in expected:
        ln = got[(state, item)]
        assert ln.quantity == pytest.approx(qty, rel=1e-9), item
        assert ln.unit_price == pytest.approx(price, rel=1e-12), item
        assert ln.monthly_usd == pytest.approx(qty * price, rel=1e-9), item
        assert ln.source, item


def test_msk_standard(catalog):
    est = get_platform("msk-standard").model(golden(), catalog)
    # Sizing kafka.m7g.large (EBS 79, NIC 117 MiB/s): EBS peak 20 × 3.5 / (79 × 0.5) = 1.77;
    # NIC peak 20 × (2.7 + 2) / (117 × 0.5) = 1.61 → 2, floor max(RF, Z) = 3 brokers.
    assert (est.sizing.units, est.sizing.instance, est.sizing.bound_by) == (3, "kafka.m7g.large", "minimum")
    assert est.sizing.needs["nic_out_peak"] == pytest.approx(20 * 4.7 / 58.5)
    check(
        est,
        [
            ("steady", "Broker instance hours (kafka.m7g.large)", 3 * 730, 0.204),
            ("steady", "Broker storage (EBS)", D * 3 * 1.4, 0.10),  # D × RF × (1 + headroom)
            ("steady", "Inter-broker replication (not billed on MSK)", 2 * WG, 0.0),  # (RF−1) × Wg
            ("steady", "Cross-AZ transfer (producer → leader)", WG * 2 / 3, 0.02),
            ("steady", "Cross-AZ transfer (leader → consumers)", RG * 2 / 3, 0.02),
            ("steady", "CloudWatch custom metrics", 1 * 3 * 4, 0.30),  # topics × brokers × 4
            ("steady", "Operations labour (msk-standard)", 30, 120),
            # one broker's replicas: D × RF / 3 = 2,531.25 GiB per event, 4/yr and 12/yr
            ("abnormal", "Inter-broker transfer, not billed (broker replacement re-replication)", D * 4 / 12, 0.0),
            ("abnormal", "Inter-broker transfer, not billed (partition reassignment)", D * 12 / 12, 0.0),
            ("abnormal", "Inter-broker transfer, not billed (zone failover catch-up)", CATCH_UP_MONTH, 0.0),
            ("abnormal", "Cross-AZ transfer (consumer replay)", REPLAY_MONTH * 2 / 3, 0.02),
        ],
    )


def test_msk_standard_tiers_only_when_local_retention_set(catalog):
    est = get_platform("msk-standard").model(golden(local_retention_s=12 * HOUR_S), catalog)
    lines = {ln.item: ln for ln in est.lines}
    # local = D × 12 h / 72 h = 421.875 GiB × RF 3 × 1.4
    assert lines["Broker storage (EBS)"].quantity == pytest.approx(421.875 * 3 * 1.4)
    assert lines["Tiered storage"].quantity == pytest.approx(D)
    # MSK tiered storage, us-east-1: $0.06/GB-month (AWS's MSK price map, usage type Kafka.Storage.Tiered)
    assert lines["Tiered storage"].unit_price == 0.06


def test_msk_express(catalog):
    est = get_platform("msk-express").model(golden(), catalog)
    # express.m7g.large: ingress 20 / (15.6 × 0.5) = 2.56 → 3 brokers
    assert (est.sizing.units, est.sizing.instance, est.sizing.bound_by) == (3, "express.m7g.large", "ingress_peak")
    check(
        est,
        [
            ("steady", "Broker instance hours (express.m7g.large)", 3 * 730, 0.408),
            ("steady", "Express storage", D, 0.10),
            ("steady", "Express data written", WG, 0.01),
            ("steady", "Inter-broker replication (not billed on MSK)", 2 * WG, 0.0),
            ("steady", "Cross-AZ transfer (producer → leader)", WG * 2 / 3, 0.02),
            ("steady", "Cross-AZ transfer (leader → consumers)", RG * 2 / 3, 0.02),
            ("steady", "CloudWatch custom metrics", 12, 0.30),
            ("steady", "Operations labour (msk-express)", 20, 120),
            ("abnormal", "Cross-AZ transfer (consumer replay)", REPLAY_MONTH * 2 / 3, 0.02),
        ],
    )


def test_msk_serverless(catalog):
    est = get_platform("msk-serverless").model(golden(), catalog)
    # write 20/200, read 40/400, partitions 30/2400 → 1 cluster
    assert est.sizing.units == 1
    check(
        est,
        [
            ("steady", "Serverless cluster hours", 730, 0.75),
            ("steady", "Serverless partition hours", 30 * 730, 0.0015),
            ("steady", "Serverless data in", WG, 0.10),
            ("steady", "Serverless data out", RG, 0.05),
            ("steady", "Serverless storage", D, 0.10),
            ("steady", "Operations labour (msk-serverless)", 10, 120),
            ("abnormal", "Serverless data out (consumer replay)", REPLAY_MONTH, 0.05),
        ],
    )


def _confluent_common(tier: str, platform: str):
    return [
        ("steady", "Kafka ingress", WG, 0.05),
        ("steady", "Kafka egress", RG, 0.05),
        ("steady", "Kafka storage", D, 0.08),
        ("steady", "PrivateLink endpoint hours", 3 * 730, 0.01),  # one endpoint per zone
        ("steady", "PrivateLink data processed", WG + RG, 0.01),
        ("steady", "Cross-AZ transfer (producer → leader)", WG * 2 / 3, 0.02),
        ("steady", "Cross-AZ transfer (leader → consumers)", RG * 2 / 3, 0.02),
        ("steady", f"Operations labour ({platform})", 10, 120),
        ("abnormal", "Kafka egress (consumer replay)", REPLAY_MONTH, 0.05),
        ("abnormal", "PrivateLink data processed (consumer replay)", REPLAY_MONTH, 0.01),
        ("abnormal", "Cross-AZ transfer (consumer replay)", REPLAY_MONTH * 2 / 3, 0.02),
    ]


def test_confluent_standard(catalog):
    est = get_platform("confluent-standard").model(golden(), catalog)
    # mean 10 MiB/s = 10.49 MB/s / 25 MB/s per eCKU = 0.42 → 1 eCKU
    assert est.sizing.units == 1 and est.sizing.bound_by == "ingress_mean"
    check(est, [("steady", "eCKU hours", 730, 0.75), *_confluent_common("standard", "confluent-standard")])


def test_confluent_enterprise(catalog):
    est = get_platform("confluent-enterprise").model(golden(), catalog)
    check(est, [("steady", "eCKU hours", 730, 2.25), *_confluent_common("enterprise", "confluent-enterprise")])


def test_confluent_dedicated(catalog):
    est = get_platform("confluent-dedicated").model(golden(), catalog)
    # peak 20.97 MB/s / (50 × 0.5) = 0.84 → 1; multi-zone floor 2 CKU
    assert (est.sizing.units, est.sizing.bound_by) == (2, "minimum")
    check(est, [("steady", "CKU hours", 2 * 730, 3.81), *_confluent_common("dedicated", "confluent-dedicated")])


def test_kafka_ec2(catalog):
    est = get_platform("kafka-ec2").model(golden(), catalog)
    # m7g.large NIC 0.937 Gbit/s = 111.69 MiB/s: peak 20 × 4.7 / 55.85 = 1.68 → floor 3 brokers
    assert (est.sizing.units, est.sizing.instance) == (3, "m7g.large")
    check(
        est,
        [
            ("steady", "EC2 instance hours (m7g.large)", 3 * 730, 0.0816),
            ("steady", "KRaft controller hours (m7g.large)", 3 * 730, 0.0816),
            ("steady", "EBS gp3 storage", D * 3 * 1.4, 0.08),
            # gp3 per broker max(20 × 3.5, 10 × 6.5) / 3 = 23.3 MiB/s < 125 included: no throughput line
            ("steady", "Cross-AZ transfer (producer → leader)", WG * 2 / 3, 0.02),
            ("steady", "Cross-AZ transfer (leader → consumers)", RG * 2 / 3, 0.02),
            ("steady", "Cross-AZ transfer (leader → followers)", WG * 2, 0.02),  # (RF−1) × Wg
            ("steady", "CloudWatch custom metrics", 1 * 3 * 4 + (3 + 3) * 30, 0.30),
            ("steady", "Operations labour (kafka-ec2)", 80, 120),
            ("abnormal", "Cross-AZ transfer (broker replacement re-replication)", D * 4 / 12, 0.02),
            ("abnormal", "Cross-AZ transfer (partition reassignment)", D, 0.02),
            ("abnormal", "Cross-AZ transfer (zone failover catch-up)", CATCH_UP_MONTH, 0.02),
            ("abnormal", "Cross-AZ transfer (consumer replay)", REPLAY_MONTH * 2 / 3, 0.02),
        ],
    )


def test_kafka_ec2_tiered(catalog):
    est = get_platform("kafka-ec2-tiered").model(golden(local_retention_s=12 * HOUR_S), catalog)
    # local = D × 12/72 = 421.875 GiB; replicated × 3 = 1,265.625; one broker's share 421.875
    local = 421.875
    assert (est.sizing.units, est.sizing.instance) == (3, "m7g.large")
    check(
        est,
        [
            ("steady", "EC2 instance hours (m7g.large)", 3 * 730, 0.0816),
            ("steady", "KRaft controller hours (m7g.large)", 3 * 730, 0.0816),
            ("steady", "EBS gp3 storage", local * 3 * 1.4, 0.08),
            ("steady", "S3 storage (remote tier)", D, 0.023),
            ("steady", "S3 PUT requests (segment uploads)", WG * 4 / 1000, 0.005),  # 4 PUTs per GiB
            ("steady", "Cross-AZ transfer (producer → leader)", WG * 2 / 3, 0.02),
            ("steady", "Cross-AZ transfer (leader → consumers)", RG * 2 / 3, 0.02),
            ("steady", "Cross-AZ transfer (leader → followers)", WG * 2, 0.02),
            ("steady", "CloudWatch custom metrics", 12 + 6 * 30, 0.30),
            ("steady", "Operations labour (kafka-ec2-tiered)", 80, 120),
            ("abnormal", "Cross-AZ transfer (broker replacement re-replication)", local * 4 / 12, 0.02),
            ("abnormal", "Cross-AZ transfer (partition reassignment)", local, 0.02),
            ("abnormal", "Cross-AZ transfer (zone failover catch-up)", CATCH_UP_MONTH, 0.02),
            ("abnormal", "Cross-AZ transfer (consumer replay)", REPLAY_MONTH * 2 / 3, 0.02),
            # replay of 24 h with 12 h local: 12 h × 10 MiB/s = 421.875 GiB from S3 × 256 GET/GiB
            ("abnormal", "S3 GET requests (consumer replay)", 421.875 * 256 / 1000 * 0.5, 0.0004),
        ],
    )


def test_kafka_ec2_tiered_default_local_retention_is_24h(catalog):
    est = get_platform("kafka-ec2-tiered").model(golden(), catalog)
    assert est.sizing.extra["local_retention_h"] == 24
    ebs = next(ln for ln in est.lines if ln.item == "EBS gp3 storage")
    assert ebs.quantity == pytest.approx(843.75 * 3 * 1.4)  # D × 24/72 × RF × 1.4


def test_automq_byoc_zone_aware(catalog):
    est = get_platform("automq-byoc").model(golden(zone_aware_consumers=True), catalog)
    # NIC peak 20 × (1.5 + 2) / 55.85 = 1.25 → floor 3 brokers (one per zone); AKU max(20.97/20, 41.94/20) → 3
    assert (est.sizing.units, est.sizing.instance, est.sizing.extra["akus"]) == (3, "m7g.large", 3)
    batches_k = 3 * 4 * 2_628_000 / 1000  # brokers × 4 flushes/s × S
    check(
        est,
        [
            ("steady", "EC2 instance hours (m7g.large)", 3 * 730, 0.0816),
            ("steady", "AutoMQ subscription (AKU-hours)", 3 * 730, 0.0),  # UNPRICED until overridden
            ("steady", "S3 storage", D, 0.023),
            ("steady", "S3 PUT requests (uploads and compaction)", WG * 31.25 / 1000, 0.005),
            ("steady", "S3 GET requests (reads and compaction)", WG * 12.5 / 1000, 0.0004),
            ("steady", "S3 PUT requests (S3 WAL)", batches_k, 0.005),
            ("steady", "S3 PUT requests (zone router)", batches_k, 0.005),
            ("steady", "S3 GET requests (zone router)", batches_k * 2, 0.0004),  # read by the 2 other zones
            ("steady", "CloudWatch custom metrics", 12 + 3 * 30, 0.30),
            ("steady", "Operations labour (automq-byoc)", 20, 120),
            ("abnormal", "S3 GET requests (consumer replay)", 843.75 * 256 / 1000 * 0.5, 0.0004),
        ],
    )


def test_automq_ebs_wal_has_no_zone_routing(catalog):
    est = get_platform("automq-byoc").model(golden(zone_aware_consumers=True, automq_wal="ebs"), catalog)
    lines = {ln.item: ln for ln in est.lines}
    assert lines["EBS gp3 WAL volumes"].quantity == 3 * 10
    assert lines["Cross-AZ transfer (producer → leader)"].quantity == pytest.approx(WG * 2 / 3)
    assert "S3 PUT requests (S3 WAL)" not in lines


def test_warpstream_byoc_half_zone_aware(catalog):
    est = get_platform("warpstream-byoc").model(golden(zone_aware_consumers=0.5), catalog)
    assert (est.sizing.units, est.sizing.instance) == (3, "m7g.large")
    check(
        est,
        [
            ("steady", "Agent instance hours (m7g.large)", 3 * 730, 0.0816),
            ("steady", "WarpStream cluster fee (fundamentals)", 730 * 4, 0.1725),
            # Fundamentals bands (50 TiB = 51,200 GiB): Wg and D are both inside band 1
            ("steady", "Uncompressed data written (first 50 TiB/month)", WG, 0.01),
            ("steady", "Uncompressed data stored (first 50 TiB)", D, 0.01),
            ("steady", "S3 storage", D, 0.023),
            ("steady", "S3 PUT requests (agent uploads)", 3 * 4 * 2_628_000 / 1000, 0.005),
            # each zone reads once; 256 GETs/GiB (4 MiB ranged reads) — was 4/GiB, which contradicted
            # the catalog note "~4 MiB ranged reads" (issue 15)
            ("steady", "S3 GET requests (reads)", WG * 3 * 256 / 1000, 0.0004),
            ("steady", "Cross-AZ transfer (producer → leader)", WG * 0.5 * 2 / 3, 0.02),
            ("steady", "Cross-AZ transfer (leader → consumers)", RG * 0.5 * 2 / 3, 0.02),
            ("steady", "CloudWatch custom metrics", 12 + 3 * 30, 0.30),
            ("steady", "Operations labour (warpstream-byoc)", 15, 120),
            ("abnormal", "Cross-AZ transfer (consumer replay)", REPLAY_MONTH * 0.5 * 2 / 3, 0.02),
            ("abnormal", "S3 GET requests (consumer replay)", 843.75 * 256 / 1000 * 0.5, 0.0004),
        ],
    )


def test_managed_kafka_plan(catalog):
    est = get_platform("managed-kafka-plan").model(golden(), catalog)
    # startup: storage D × 1.4 / 200 = 17.7 → 18 × $200 = $3,600; business: 3,543.75 / 2,000 → 2 × $1,500 = $3,000
    assert (est.sizing.units, est.sizing.instance, est.sizing.bound_by) == (2, "business", "storage")
    check(
        est,
        [
            ("steady", "Plan fee (business)", 2, 1500),
            ("steady", "PrivateLink endpoint hours", 3 * 730, 0.01),
            ("steady", "PrivateLink data processed", WG + RG, 0.01),
            ("steady", "Cross-AZ transfer (producer → leader)", WG * 2 / 3, 0.02),
            ("steady", "Cross-AZ transfer (leader → consumers)", RG * 2 / 3, 0.02),
            ("steady", "Operations labour (managed-kafka-plan)", 15, 120),
            ("abnormal", "PrivateLink data processed (consumer replay)", REPLAY_MONTH, 0.01),
            ("abnormal", "Cross-AZ transfer (consumer replay)", REPLAY_MONTH * 2 / 3, 0.02),
        ],
    )
