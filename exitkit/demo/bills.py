"""The demo estate's bills for March 2025: an AWS FOCUS 1.0 export (Data Exports "FOCUS 1.0 with
AWS columns", monthly rows) for demo-msk and demo-onprem, and a Confluent Billing API
`/billing/v1/costs` page (daily records) for lkc-demo01.

The amounts are a story, not the model's output, so the reconciliation has something to show:
- lkc-demo01: 9 CKUs provisioned (the model sizes 7) under a 20 % commitment discount; consumers
  read more in March than in the two measured weeks (month-end batch jobs); a cluster link kept
  from a migration test; a connector, the support plan and a promotional credit sit on the org.
- demo-msk: 24 brokers (the model sizes 21) and 80,000 GB provisioned storage (the model asks
  ~59,000 with headroom); fewer cross-AZ bytes than the model (some consumers fetch from the
  closest replica); an AWS credit on the cluster.
- demo-onprem: 9 broker instances under a Compute Savings Plan (the model: 6 + 3 controllers on
  demand), bigger gp3 volumes, S3 backups, a NAT gateway, and one untagged broker-sized instance
  the exports do not know ("may be a cluster the exports missed").
Prices are the demo's own round figures, not a catalog's.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

from exitkit.demo.writers import write_text

MONTH_START = date(2025, 3, 1)
DAYS = 31
ACCOUNT = "210987654321"
MSK_ARN = f"arn:aws:kafka:eu-west-1:{ACCOUNT}:cluster/demo-msk/7c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f-4"
SP_ARN = f"arn:aws:savingsplans::{ACCOUNT}:savingsplan/5e6f7a8b-1c2d-3e4f-5a6b-7c8d9e0f1a2b"
CLUSTER_TAG = "kafka-cluster"  # the tag key the demo ingests with (--cluster-tag)

FOCUS_COLUMNS = [
    "BillingAccountId", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd", "ChargeCategory", "ChargeClass",
    "ChargeDescription", "ChargeFrequency", "ChargePeriodStart", "ChargePeriodEnd", "BilledCost", "EffectiveCost",
    "ListCost", "ConsumedQuantity", "ConsumedUnit", "ProviderName", "ServiceName", "RegionId", "ResourceId",
    "Tags", "x_UsageType", "x_Operation", "CommitmentDiscountId", "CommitmentDiscountStatus",
]  # fmt: skip

HOURS = DAYS * 24  # 744


def _money(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".")


def _focus_rows() -> list[dict]:
    rows: list[dict] = []

    def row(category, desc, billed, effective, listed, qty, unit, service, region, rid, tag, usage, op,
            sp=None, freq="Usage-Based"):  # fmt: skip
        rows.append(
            {
                "BillingAccountId": ACCOUNT, "BillingCurrency": "USD",
                "BillingPeriodStart": "2025-03-01T00:00:00Z", "BillingPeriodEnd": "2025-04-01T00:00:00Z",
                "ChargeCategory": category, "ChargeClass": "", "ChargeDescription": desc, "ChargeFrequency": freq,
                "ChargePeriodStart": "2025-03-01T00:00:00Z", "ChargePeriodEnd": "2025-04-01T00:00:00Z",
                "BilledCost": _money(billed), "EffectiveCost": _money(effective),
                "ListCost": "" if listed is None else _money(listed),
                "ConsumedQuantity": "" if qty is None else _money(qty), "ConsumedUnit": unit or "",
                "ProviderName": "AWS", "ServiceName": service, "RegionId": region or "", "ResourceId": rid or "",
                "Tags": json.dumps({CLUSTER_TAG: tag, "team": "platform"}) if tag else "",
                "x_UsageType": usage or "", "x_Operation": op or "",
                "CommitmentDiscountId": sp or "", "CommitmentDiscountStatus": "Used" if sp and category == "Usage" else "",
            }
        )  # fmt: skip

    msk = "Amazon Managed Streaming for Apache Kafka"
    ec2 = "Amazon Elastic Compute Cloud"
    # demo-msk, eu-west-1: 24 brokers, 80,000 GB storage, 480,000 GB cross-AZ, a credit
    row(
        "Usage",
        "MSK broker hours kafka.m7g.large",
        4006.8864,
        4006.8864,
        4006.8864,
        24 * HOURS,
        "Hrs",
        msk,
        "eu-west-1",
        MSK_ARN,
        None,
        "EUW1-Kafka.m7g.large",
        "RunBroker",
    )  # 17,856 h × 0.2244
    row(
        "Usage",
        "MSK broker storage",
        8800.0,
        8800.0,
        8800.0,
        80000,
        "GB-Mo",
        msk,
        "eu-west-1",
        MSK_ARN,
        None,
        "EUW1-Kafka.Storage.GP2",
        "RunBroker",
    )  # 80,000 GB-Mo × 0.11
    row(
        "Usage",
        "Regional data transfer in/out/between AZs",
        4800.0,
        4800.0,
        4800.0,
        480000,
        "GB",
        msk,
        "eu-west-1",
        MSK_ARN,
        None,
        "EUW1-DataTransfer-Regional-Bytes",
        "InterZone-In",
    )  # × 0.01
    row(
        "Credit",
        "AWS promotional credit",
        -500.0,
        -500.0,
        None,
        None,
        None,
        msk,
        "eu-west-1",
        MSK_ARN,
        None,
        None,
        None,
        freq="One-Time",
    )
    # demo-onprem, eu-central-1: 9 brokers under a Savings Plan, 3 controllers on demand
    covered = HOURS * 0.121  # Savings Plan rate per broker-month: 90.024
    for i in range(9):
        row("Usage", "EC2 m7g.xlarge covered by Savings Plan", 0.0, covered, HOURS * 0.1836, HOURS, "Hrs", ec2,
            "eu-central-1", f"i-0de30b0k{i:011d}", "demo-onprem", "EUC1-BoxUsage:m7g.xlarge", "RunInstances",
            sp=SP_ARN)  # fmt: skip
    for i in range(3):
        row("Usage", "EC2 m7g.large on demand (KRaft controller)", HOURS * 0.0918, HOURS * 0.0918, HOURS * 0.0918,
            HOURS, "Hrs", ec2, "eu-central-1", f"i-0de30c0n{i:011d}", "demo-onprem", "EUC1-BoxUsage:m7g.large",
            "RunInstances")  # fmt: skip
    for i in range(9):
        row(
            "Usage",
            "EBS gp3 storage",
            571.2,
            571.2,
            571.2,
            6000,
            "GB-Mo",
            ec2,
            "eu-central-1",
            f"vol-0de30v0l{i:011d}",
            "demo-onprem",
            "EUC1-EBS:VolumeUsage.gp3",
            "CreateVolume-Gp3",
        )  # × 0.0952
    row(
        "Usage",
        "Regional data transfer in/out/between AZs",
        11000.0,
        11000.0,
        11000.0,
        1100000,
        "GB",
        ec2,
        "eu-central-1",
        "i-0de30b0k00000000000",
        "demo-onprem",
        "EUC1-DataTransfer-Regional-Bytes",
        "InterZone-Out",
    )
    row(
        "Usage",
        "S3 backups of the broker configs and snapshots",
        98.0,
        98.0,
        98.0,
        4000,
        "GB-Mo",
        "Amazon Simple Storage Service",
        "eu-central-1",
        "demo-onprem-backups",
        "demo-onprem",
        "EUC1-TimedStorage-ByteHrs",
        "StandardStorage",
    )  # × 0.0245
    row(
        "Usage",
        "NAT gateway data processed",
        1040.0,
        1040.0,
        1040.0,
        20000,
        "GB",
        "Amazon Virtual Private Cloud",
        "eu-central-1",
        "nat-0de30n4t000000000",
        "demo-onprem",
        "EUC1-NatGateway-Bytes",
        "NatGateway",
    )  # × 0.052
    row(
        "Usage",
        "EC2 m7g.xlarge on demand",
        HOURS * 0.1836,
        HOURS * 0.1836,
        HOURS * 0.1836,
        HOURS,
        "Hrs",
        ec2,
        "eu-central-1",
        "i-0a11ce5000000000f",
        None,
        "EUC1-BoxUsage:m7g.xlarge",
        "RunInstances",
    )  # untagged
    row("Purchase", "Savings Plan recurring fee (No Upfront)", 9 * covered, 0.0, 9 * covered, None, None,
        "Savings Plans for AWS Compute usage", None, SP_ARN, None, "ComputeSP:1yrNoUpfront", None, sp=SP_ARN,
        freq="Recurring")  # fmt: skip
    row(
        "Tax",
        "Tax for March 2025",
        2000.0,
        2000.0,
        None,
        None,
        None,
        "Tax",
        None,
        None,
        None,
        None,
        None,
        freq="One-Time",
    )
    return rows


def focus_csv() -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FOCUS_COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(_focus_rows())
    return buf.getvalue()


def confluent_costs() -> dict:
    """One `/billing/v1/costs` page: daily Kafka lines of lkc-demo01 and the org's other lines."""
    data = []
    n = 0

    def cost(day: date, line_type: str, product: str, quantity, unit, price, discount, rid=None, end=None):
        nonlocal n
        n += 1
        original = round(quantity * price, 6)
        rec = {
            "api_version": "billing/v1", "kind": "Cost", "id": f"dlz-demo{n:05d}",
            "start_date": day.isoformat(), "end_date": (end or day + timedelta(days=1)).isoformat(),
            "granularity": "DAILY", "product": product, "line_type": line_type,
            "network_access_type": "PRIVATE_LINK", "price": price, "quantity": quantity, "unit": unit,
            "original_amount": original, "discount_amount": round(original * discount, 6),
            "amount": round(original * (1 - discount), 6),
        }  # fmt: skip
        if rid:
            rec["resource"] = {"id": rid, "display_name": "shop", "environment": {"id": "env-demo01"}}
        data.append(rec)

    for d in range(DAYS):
        day = MONTH_START + timedelta(days=d)
        cost(day, "KAFKA_NUM_CKUS", "KAFKA", 9 * 24, "CKU-hour", 3.81, 0.2, "lkc-demo01")
        cost(day, "KAFKA_NETWORK_WRITE", "KAFKA", 4000, "GB", 0.05, 0.0, "lkc-demo01")
        cost(day, "KAFKA_NETWORK_READ", "KAFKA", 6500, "GB", 0.05, 0.0, "lkc-demo01")
        cost(day, "KAFKA_STORAGE", "KAFKA", 22000 * 24, "GB-hour", 0.00013889, 0.0, "lkc-demo01")
        cost(day, "CLUSTER_LINKING_PER_LINK", "CLUSTER_LINK", 24, "Link-hour", 0.2, 0.0, "lkc-demo01")
        cost(day, "CONNECT_CAPACITY", "CONNECT", 24, "Task-hour", 0.5, 0.0, "lcc-demo0s3sink")
    cost(MONTH_START, "SUPPORT", "SUPPORT_CLOUD_BUSINESS", 1, "Month", 1000.0, 0.0, end=date(2025, 4, 1))
    cost(MONTH_START, "PROMO_CREDIT", "PROMO", 1, "Credit", -400.0, 0.0, end=date(2025, 4, 1))
    return {"api_version": "billing/v1", "kind": "CostList", "metadata": {"first": "", "next": ""}, "data": data}


def write_bills(out: Path) -> list[Path]:
    """Write `<out>/aws-focus-2025-03.csv.gz` and `<out>/confluent-costs-2025-03.json`."""
    return [
        write_text(out / "aws-focus-2025-03.csv", focus_csv(), gz=True),  # write_text adds .gz
        write_text(out / "confluent-costs-2025-03.json", json.dumps(confluent_costs(), indent=1) + "\n"),
    ]
