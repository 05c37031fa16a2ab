"""Bill readers: FOCUS 1.0/1.2 (CSV, gzip, Parquet), AWS CUR legacy and 2.0, Cost Explorer JSON,
Confluent Billing API JSON → `bill_lines`, with hand-worked totals per cluster, path and month.

Every file holds credits, a tax line, a Savings Plan line and an unattributed resource. Totals
are worked by hand in the comments; the effective (amortized) cost is what is summed.
"""

import csv
import gzip
import io
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from exitkit.bill.paths import Attribution, aws_path, read_cluster_map
from exitkit.bill.reconcile import bill_report
from exitkit.cli import cli
from exitkit.errors import BadExport, IngestFailed
from exitkit.ingest import ingest
from exitkit.store import open_store

FIXTURES = Path(__file__).parent / "fixtures" / "bills"
FOCUS10 = FIXTURES / "focus-1.0-aws.csv"
TAG = Attribution(tag="kafka-cluster")


def _totals(db, cluster=None):
    with open_store(db) as con:
        return bill_report(con, cluster)


def _by(report):
    return {
        (c["cluster"], c["month"]): (
            round(c["actual_usd"], 6),
            {p: round(v["actual_usd"], 6) for p, v in c["by_path"].items() if v["actual_usd"] is not None},
        )
        for c in report["clusters"]
    }


def _sums(db):
    """Σ billed and Σ effective cost, exact (DECIMAL)."""
    with open_store(db) as con:
        return con.execute("SELECT sum(billed_cost), sum(effective_cost) FROM bill_lines").fetchone()


def _lines(db, sql="SELECT * FROM bill_lines ORDER BY source_id, line"):
    with open_store(db) as con:
        return con.execute(sql).df()


# --- FOCUS -------------------------------------------------------------------------------------
# focus-1.0-aws.csv (September 2026, us-east-2), effective cost:
#   logs-msk (ARN):   broker hours 453.60 + storage 300.00 + credit −25.00          = 728.60
#   logs-ec2 (tag):   SP-covered m5.xlarge 100.80 (billed 0) + EBS 80.00 + cross-AZ 20.00 = 200.80
#   unattributed:     SP purchase (effective 0, billed 100.80) + untagged i-0ccc… 69.12
#   tax:              45.36
#   Σ billed = Σ effective = 1043.88 (a fully used No Upfront Savings Plan)
FOCUS_TRUTH = {
    ("logs-ec2", "2026-09"): (200.8, {"compute": 100.8, "cross_zone": 20.0, "storage": 80.0}),
    ("logs-msk", "2026-09"): (728.6, {"compute": 453.6, "storage": 300.0, "unmapped": -25.0}),
}


def test_focus_1_0_csv_hand_worked(tmp_path):
    db = tmp_path / "s.duckdb"
    (rep,) = ingest([FOCUS10], db, bill=TAG, progress=False)
    assert rep.format == "focus" and rep.rows == 9 and rep.clusters == ["logs-ec2", "logs-msk"]
    report = _totals(db)
    assert _by(report) == FOCUS_TRUTH
    assert report["tax_usd"] == {"2026-09": 45.36}
    unattr = {r["resource_id"]: r["effective_usd"] for r in report["unattributed"]}
    assert unattr == {"i-0ccc3333333333333": 69.12, "arn:aws:savingsplans::123456789012:savingsplan/"
                      "3f1e2d4c-aaaa-bbbb-cccc-ddddeeeeffff": 0.0}  # fmt: skip
    df = _lines(db)
    assert _sums(db) == (Decimal("1043.88"), Decimal("1043.88"))
    assert list(df["line"]) == list(range(2, 11))  # provenance: the CSV line of each row
    assert set(df["charge_category"]) == {"usage", "commitment", "credit", "tax"}


def test_without_the_tag_option_self_managed_lines_stay_unattributed(tmp_path):
    db = tmp_path / "s.duckdb"
    ingest([FOCUS10], db, progress=False)
    report = _totals(db)
    assert [c["cluster"] for c in report["clusters"]] == ["logs-msk"]
    assert sum(r["effective_usd"] for r in report["unattributed"]) == pytest.approx(200.80 + 69.12)


def test_cluster_map_by_resource_id_and_glob(tmp_path):
    m = tmp_path / "map.txt"
    m.write_text("# resource → cluster\ni-0aaa1111111111111 logs-ec2\nvol-0bbb* logs-ec2\ni-0ccc*: batch-ec2\n")
    assert read_cluster_map(str(m))[2] == ("i-0ccc*", "batch-ec2")
    db = tmp_path / "s.duckdb"
    ingest([FOCUS10], db, bill=Attribution(mapping=read_cluster_map(str(m))), progress=False)
    by = _by(_totals(db))
    assert by[("logs-ec2", "2026-09")][0] == 200.8 and by[("batch-ec2", "2026-09")] == (69.12, {"compute": 69.12})


def _focus_rows():
    with open(FOCUS10, newline="") as f:
        return list(csv.DictReader(f))


def _write_csv(path: Path, rows: list[dict], *, gz=False) -> Path:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    data = buf.getvalue().encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def test_focus_1_2_gzip_without_usage_type_guesses_paths_and_says_so(tmp_path):
    # AWS FOCUS 1.2: x_UsageType gone, InvoiceId / SkuMeter added; paths from SkuMeter
    rows = []
    meters = {"2": "Broker instance", "3": "Storage", "4": "Compute", "5": "Storage", "6": "Data Transfer InterAZ"}
    for i, r in enumerate(_focus_rows(), start=2):
        r = {k: v for k, v in r.items() if k != "x_UsageType"}
        rows.append({**r, "InvoiceId": "INV-2026-09-0001", "SkuMeter": meters.get(str(i), "")})
    p = _write_csv(tmp_path / "focus-1.2.csv.gz", rows, gz=True)
    db = tmp_path / "s.duckdb"
    (rep,) = ingest([p], db, bill=TAG, progress=False)
    assert rep.notes[0] == "FOCUS 1.2" and "guessed" in rep.notes[1]
    assert _by(_totals(db)) == FOCUS_TRUTH


def _as_parquet(src: Path, out: Path) -> Path:
    """The same bill as Parquet, every column text as in the CSV."""
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_csv('{src}', header=true, all_varchar=true)) TO '{out}' (FORMAT parquet)")
    con.close()
    return out


def test_focus_parquet(tmp_path):
    p = _as_parquet(FOCUS10, tmp_path / "focus.parquet")
    db = tmp_path / "s.duckdb"
    (rep,) = ingest([p], db, bill=TAG, progress=False)
    assert rep.format == "focus"
    assert _by(_totals(db)) == FOCUS_TRUTH


# --- AWS CUR -----------------------------------------------------------------------------------
# September 2026 us-east-1 (EC2 usage types carry no region prefix there), plus one October line:
#   orders-msk 2026-09: broker 453.60 + storage 200.00 + credit −10.00 = 643.60
#   orders-msk 2026-10: broker 14.70
#   orders-ec2 2026-09: SP-covered m5.xlarge → SavingsPlanEffectiveCost 100.80 (unblended 138.24,
#                       cancelled by the −138.24 negation) + EBS 40.00 = 140.80
#   unattributed: SP recurring fee fully used (effective 0) + untagged t3.micro 7.488
#   tax: 30.00 + 8.00 = 38.00;   Σ unblended = Σ effective + tax = 844.588
MSK_ARN = "arn:aws:kafka:us-east-1:123456789012:cluster/orders-msk/11111111-2222-3333-4444-555555555555-3"
SP_ARN = "arn:aws:savingsplans::123456789012:savingsplan/9e8d7c6b-1111-2222-3333-444455556666"
CUR_ROWS = [
    # type, start, product, usage type, resource, amount, unit, unblended, sp_eff, sp_total, sp_used, tag
    ("Usage", "2026-09-01", "AmazonMSK", "USE1-Kafka.m5.large", MSK_ARN, "2160", "Hrs", "453.60", "", "", "", ""),
    ("Usage", "2026-09-01", "AmazonMSK", "USE1-Kafka.Storage.GP2", MSK_ARN, "2000", "GB-Mo", "200.00", "", "", "", ""),
    ("SavingsPlanCoveredUsage", "2026-09-01", "AmazonEC2", "BoxUsage:m5.xlarge", "i-0ddd4444", "720", "Hrs",
     "138.24", "100.80", "", "", "orders-ec2"),
    ("SavingsPlanNegation", "2026-09-01", "AmazonEC2", "BoxUsage:m5.xlarge", "i-0ddd4444", "0", "Hrs",
     "-138.24", "", "", "", "orders-ec2"),
    ("SavingsPlanRecurringFee", "2026-09-01", "ComputeSavingsPlans", "ComputeSP:1yrNoUpfront", SP_ARN, "720",
     "Hrs", "100.80", "", "100.80", "100.80", ""),
    ("Usage", "2026-09-01", "AmazonEC2", "EBS:VolumeUsage.gp3", "vol-0eee5555", "500", "GB-Mo", "40.00", "", "", "",
     "orders-ec2"),
    ("Credit", "2026-09-01", "AmazonMSK", "", MSK_ARN, "", "", "-10.00", "", "", "", ""),
    ("Tax", "2026-09-01", "AmazonMSK", "", "", "", "", "30.00", "", "", "", ""),
    ("Tax", "2026-09-01", "AmazonEC2", "", "", "", "", "8.00", "", "", "", ""),
    ("Usage", "2026-09-01", "AmazonEC2", "BoxUsage:t3.micro", "i-0fff6666", "720", "Hrs", "7.488", "", "", "", ""),
    ("Usage", "2026-10-01", "AmazonMSK", "USE1-Kafka.m5.large", MSK_ARN, "70", "Hrs", "14.70", "", "", "", ""),
]  # fmt: skip
CUR_TRUTH = {
    ("orders-ec2", "2026-09"): (140.8, {"compute": 100.8, "storage": 40.0}),
    ("orders-msk", "2026-09"): (643.6, {"compute": 453.6, "storage": 200.0, "unmapped": -10.0}),
    ("orders-msk", "2026-10"): (14.7, {"compute": 14.7}),
}
LEGACY = ["lineItem/LineItemType", "lineItem/UsageStartDate", "lineItem/ProductCode", "lineItem/UsageType",
          "lineItem/ResourceId", "lineItem/UsageAmount", "pricing/unit", "lineItem/UnblendedCost",
          "savingsPlan/SavingsPlanEffectiveCost", "savingsPlan/TotalCommitmentToDate",
          "savingsPlan/UsedCommitment", "resourceTags/user:kafka-cluster"]  # fmt: skip
CUR2 = ["line_item_line_item_type", "line_item_usage_start_date", "line_item_product_code", "line_item_usage_type",
        "line_item_resource_id", "line_item_usage_amount", "pricing_unit", "line_item_unblended_cost",
        "savings_plan_savings_plan_effective_cost", "savings_plan_total_commitment_to_date",
        "savings_plan_used_commitment", "resource_tags"]  # fmt: skip


def _cur_file(path: Path, names: list[str], *, gz: bool, currency="USD", extra=None) -> Path:
    rows = []
    for r in CUR_ROWS:
        row = dict(zip(names, r, strict=True))
        start = row[names[1]]
        row[names[1]] = f"{start}T00:00:00Z"
        row["bill/BillingPeriodStartDate" if names is LEGACY else "bill_billing_period_start_date"] = (
            start[:8] + "01T00:00:00Z"
        )
        row["lineItem/CurrencyCode" if names is LEGACY else "line_item_currency_code"] = currency
        if names is CUR2:  # a map column, keys as AWS normalizes them
            row["resource_tags"] = json.dumps({"user_kafka_cluster": r[-1]}) if r[-1] else ""
        rows.append(row)
    for f in extra or ():
        f(rows)
    return _write_csv(path, rows, gz=gz)


def _check_cur(db):
    report = _totals(db)
    assert _by(report) == CUR_TRUTH
    assert report["tax_usd"] == {"2026-09": 38.0}
    assert {r["resource_id"]: r["effective_usd"] for r in report["unattributed"]} == {"i-0fff6666": 7.488, SP_ARN: 0}
    df = _lines(db)
    # a fully used No Upfront Savings Plan: Σ unblended = Σ effective (the fee equals the covered cost)
    assert _sums(db) == (Decimal("844.588"), Decimal("844.588"))
    assert set(df["provider"]) == {"aws"}


def test_cur_legacy_gzip_hand_worked(tmp_path):
    p = _cur_file(tmp_path / "report-00001.csv.gz", LEGACY, gz=True)
    db = tmp_path / "s.duckdb"
    (rep,) = ingest([p], db, bill=TAG, progress=False)
    assert rep.format == "aws-cur"
    _check_cur(db)


def test_cur2_csv_and_parquet_hand_worked(tmp_path):
    p = _cur_file(tmp_path / "cur2.csv", CUR2, gz=False)
    db = tmp_path / "s.duckdb"
    (rep,) = ingest([p], db, bill=TAG, progress=False)
    assert rep.format == "aws-cur2"
    _check_cur(db)
    pq = _as_parquet(p, tmp_path / "cur2.parquet")
    db2 = tmp_path / "s2.duckdb"
    (rep,) = ingest([pq], db2, bill=TAG, progress=False)
    assert rep.format == "aws-cur2"
    _check_cur(db2)


def test_usage_type_paths():
    assert aws_path("USE1-Kafka.m5.large") == "compute"
    assert aws_path("APS1-Express.m7g.large") == "compute"
    assert aws_path("USE1-Kafka.Storage.GP2") == "storage"
    assert aws_path("USE2-Kafka.DataRetrieval.Tiered") == "backfill"
    assert aws_path("DataTransfer-Regional-Bytes") == "cross_zone"
    assert aws_path("EUC1-DataTransfer-Regional-Bytes") == "cross_zone"
    assert aws_path("USE1-VpceEndpoint-Bytes") == "private_connectivity"
    assert aws_path("USE1-EUW1-AWS-Out-Bytes") is None
    assert aws_path("NatGateway-Hours") is None


# --- Cost Explorer -----------------------------------------------------------------------------
# SERVICE × USAGE_TYPE, AmortizedCost: no resource → everything unattributed; tax apart.
#   MSK 453.6 + 300.0, EC2-Other regional bytes 20.0, Savings Plans fee 0, credit −25.0, tax 45.36
CE_DOC = {
    "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
    "ResultsByTime": [
        {
            "TimePeriod": {"Start": "2026-09-01", "End": "2026-10-01"},
            "Total": {},
            "Groups": [
                {"Keys": ["Amazon Managed Streaming for Apache Kafka", "USE2-Kafka.m5.large"],
                 "Metrics": {"AmortizedCost": {"Amount": "453.6", "Unit": "USD"}}},
                {"Keys": ["Amazon Managed Streaming for Apache Kafka", "USE2-Kafka.Storage.GP2"],
                 "Metrics": {"AmortizedCost": {"Amount": "300", "Unit": "USD"}}},
                {"Keys": ["EC2 - Other", "USE2-DataTransfer-Regional-Bytes"],
                 "Metrics": {"AmortizedCost": {"Amount": "20.0", "Unit": "USD"}}},
                {"Keys": ["Savings Plans for AWS Compute usage", "ComputeSP:1yrNoUpfront"],
                 "Metrics": {"AmortizedCost": {"Amount": "0", "Unit": "USD"}}},
                {"Keys": ["Amazon Managed Streaming for Apache Kafka", "USE2-Credit"],
                 "Metrics": {"AmortizedCost": {"Amount": "-25.0", "Unit": "USD"}}},
                {"Keys": ["Tax", "Tax"], "Metrics": {"AmortizedCost": {"Amount": "45.36", "Unit": "USD"}}},
            ],
            "Estimated": False,
        }
    ],
    "DimensionValueAttributes": [],
}  # fmt: skip


def test_cost_explorer_json(tmp_path):
    p = tmp_path / "ce.json"
    p.write_text(json.dumps(CE_DOC))
    db = tmp_path / "s.duckdb"
    (rep,) = ingest([p], db, progress=False)
    assert rep.format == "aws-cost-explorer" and rep.notes[0] == "Cost Explorer AmortizedCost"
    report = _totals(db)
    assert report["clusters"] == [] and report["tax_usd"] == {"2026-09": 45.36}
    assert sum(r["effective_usd"] for r in report["unattributed"]) == pytest.approx(453.6 + 300 + 20 - 25)
    with open_store(db) as con:
        got = {
            u: (p, c) for u, p, c in con.execute("SELECT usage_type, path, charge_category FROM bill_lines").fetchall()
        }
    assert got["USE2-DataTransfer-Regional-Bytes"] == ("cross_zone", "usage")
    assert got["USE2-Credit"] == (None, "credit") and got["Tax"] == (None, "tax")


def test_cost_explorer_tag_group_attributes_by_the_cluster_tag(tmp_path):
    doc = {
        "GroupDefinitions": [{"Type": "TAG", "Key": "kafka-cluster"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
        "ResultsByTime": [{"TimePeriod": {"Start": "2026-09-01", "End": "2026-10-01"}, "Total": {}, "Groups": [
            {"Keys": ["kafka-cluster$logs-ec2", "USE2-BoxUsage:m5.xlarge"],
             "Metrics": {"UnblendedCost": {"Amount": "138.24", "Unit": "USD"}}},
            {"Keys": ["kafka-cluster$", "USE2-BoxUsage:m5.large"],
             "Metrics": {"UnblendedCost": {"Amount": "69.12", "Unit": "USD"}}}]}],
    }  # fmt: skip
    p = tmp_path / "ce-tag.json"
    p.write_text(json.dumps(doc))
    db = tmp_path / "s.duckdb"
    ingest([p], db, bill=TAG, progress=False)
    report = _totals(db)
    assert _by(report) == {("logs-ec2", "2026-09"): (138.24, {"compute": 138.24})}
    assert [r["effective_usd"] for r in report["unattributed"]] == [69.12]


# --- Confluent Billing API ---------------------------------------------------------------------
# September 2026, two pages (the second repeats one record of the first: counted once):
#   lkc-7q2x9m: CKUs 176.64 (original 220.80) + write 12.00 + read 30.00 + storage 7.20
#               + cluster link 5.00 (no path)                                      = 230.84
#   unattributed: connector lcc-… 40.00, support 100.00, promo credit −50.00
#   tax: none in the API (USD implied)
def _cost(i, day, line_type, amount, rid="lkc-7q2x9m", product="KAFKA", **kw):
    rec = {"api_version": "billing/v1", "kind": "Cost", "id": f"dlz-{i:04d}", "start_date": f"2026-09-{day:02d}",
           "end_date": f"2026-09-{day + 1:02d}", "granularity": "DAILY", "product": product, "line_type": line_type,
           "amount": amount, **kw}  # fmt: skip
    if rid is not None:
        rec["resource"] = {"id": rid, "display_name": "orders", "environment": {"id": "env-5wq0zj"}}
    return rec


CONFLUENT_PAGES = [
    {"api_version": "billing/v1", "kind": "CostList", "metadata": {"next": "https://api.confluent.cloud/billing/v1/costs?page_token=x"},
     "data": [_cost(1, 1, "KAFKA_NUM_CKUS", 176.64, price=2.3, quantity=96.0, unit="CKU-hour", original_amount=220.8,
                    discount_amount=44.16, network_access_type="PRIVATE_LINK"),
              _cost(2, 1, "KAFKA_NETWORK_WRITE", 12.0, quantity=300, unit="GB"),
              _cost(3, 1, "KAFKA_NETWORK_READ", 30.0, quantity=750, unit="GB"),
              _cost(4, 2, "KAFKA_STORAGE", 7.2, quantity=51840, unit="GB-hour")]},
    {"api_version": "billing/v1", "kind": "CostList", "metadata": {"next": ""},
     "data": [_cost(4, 2, "KAFKA_STORAGE", 7.2, quantity=51840, unit="GB-hour"),
              _cost(5, 3, "CLUSTER_LINKING_PER_LINK", 5.0),
              _cost(6, 3, "CONNECT_CAPACITY", 40.0, rid="lcc-9zz8yy", product="CONNECT"),
              _cost(7, 1, "SUPPORT", 100.0, rid=None, product="SUPPORT_CLOUD_BUSINESS"),
              {**_cost(8, 1, "PROMO_CREDIT", -50.0, product="PROMO"), "resource": {}}]},
]  # fmt: skip


def test_confluent_billing_pages(tmp_path):
    p = tmp_path / "costs.json"
    p.write_text(json.dumps(CONFLUENT_PAGES))
    db = tmp_path / "s.duckdb"
    (rep,) = ingest([p], db, progress=False)
    assert rep.format == "confluent-billing" and rep.clusters == ["lkc-7q2x9m"]
    assert "1 records repeated (same id) were counted once" in rep.notes
    report = _totals(db)
    assert _by(report) == {
        ("lkc-7q2x9m", "2026-09"): (
            230.84,
            {"compute": 176.64, "producer_ingress": 12.0, "consumer_egress": 30.0, "storage": 7.2, "unmapped": 5.0},
        )
    }
    assert report["currency"] == "USD" and report["tax_usd"] == {}
    unattr = {r["usage_type"]: (r["charge_category"], r["effective_usd"]) for r in report["unattributed"]}
    assert unattr == {"CONNECT_CAPACITY": ("usage", 40.0), "SUPPORT": ("fee", 100.0), "PROMO_CREDIT": ("credit", -50.0)}
    with open_store(db) as con:
        lst = con.execute("SELECT list_cost FROM bill_lines WHERE usage_type = 'KAFKA_NUM_CKUS'").fetchone()
    assert lst == (Decimal("220.8"),)


# --- bad input: one line, exit 2, store unchanged ------------------------------------------------


def _store_with_focus(tmp_path):
    tmp_path.mkdir(parents=True, exist_ok=True)
    db = tmp_path / "s.duckdb"
    ingest([FOCUS10], db, bill=TAG, progress=False)
    with open_store(db) as con:
        before = con.execute("SELECT * FROM bill_lines ORDER BY ALL").fetchall()
    return db, before


def _refused(tmp_path, path: Path, expected: str):
    db, before = _store_with_focus(tmp_path)
    res = CliRunner().invoke(cli, ["ingest", str(path), "--db", str(db)])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}") and expected in lines[0], res.output
    with open_store(db) as con:
        assert con.execute("SELECT * FROM bill_lines ORDER BY ALL").fetchall() == before
        assert con.execute("SELECT count(*) FROM sources").fetchone() == (1,)
    return lines[0]


def test_two_currencies_in_one_file(tmp_path):
    rows = _focus_rows()
    rows[4]["BillingCurrency"] = "EUR"
    p = _write_csv(tmp_path / "two.csv", rows)
    line = _refused(tmp_path, p, "two currencies in one file (USD and EUR)")
    assert line.startswith(f"error: {p}:6: ")  # the 5th row is line 6


def test_two_currencies_in_a_cur_and_a_cost_explorer_file(tmp_path):
    def eur(rows):
        rows[-1]["lineItem/CurrencyCode"] = "EUR"

    _refused(tmp_path, _cur_file(tmp_path / "c.csv.gz", LEGACY, gz=True, extra=[eur]), "two currencies")
    doc = json.loads(json.dumps(CE_DOC))
    doc["ResultsByTime"][0]["Groups"][2]["Metrics"]["AmortizedCost"]["Unit"] = "EUR"
    p = tmp_path / "ce.json"
    p.write_text(json.dumps(doc))
    _refused(tmp_path / "x", p, "two currencies in one file (USD and EUR at ResultsByTime[0].Groups[2])")


def test_missing_required_column(tmp_path):
    rows = [{k: v for k, v in r.items() if k not in ("EffectiveCost", "BilledCost")} for r in _focus_rows()]
    p = _write_csv(tmp_path / "nocost.csv", rows)
    _refused(tmp_path, p, ":1: no column EffectiveCost or BilledCost")
    rows = [{k: v for k, v in r.items() if k != "BillingCurrency"} for r in _focus_rows()]
    _refused(tmp_path / "y", _write_csv(tmp_path / "nocur.csv", rows), "no column BillingCurrency")


def test_non_numeric_cost(tmp_path):
    rows = _focus_rows()
    rows[2]["EffectiveCost"] = "12,50"
    p = _write_csv(tmp_path / "nan.csv", rows)
    _refused(tmp_path, p, ":4: EffectiveCost '12,50' is not a number")
    pages = json.loads(json.dumps(CONFLUENT_PAGES))
    pages[0]["data"][1]["amount"] = "twelve"
    c = tmp_path / "c.json"
    c.write_text(json.dumps(pages))
    _refused(tmp_path / "z", c, "[0].data[1].amount 'twelve' is not a number")


def test_unknown_focus_version(tmp_path):
    # FOCUS 1.0-preview: ChargeType instead of ChargeCategory
    rows = [{("ChargeType" if k == "ChargeCategory" else k): v for k, v in r.items()} for r in _focus_rows()]
    p = _write_csv(tmp_path / "preview.csv", rows)
    _refused(tmp_path, p, ":1: unknown FOCUS version")


def test_truncated_files(tmp_path):
    data = FOCUS10.read_bytes()
    cut = tmp_path / "cut.csv"
    cut.write_bytes(data[: data.index(b"\n", 600) + 40])  # ends in the middle of a row
    _refused(tmp_path, cut, "truncated or malformed CSV row")
    gz = gzip.compress(data)
    cutgz = tmp_path / "cut.csv.gz"
    cutgz.write_bytes(gz[: len(gz) // 2])
    _refused(tmp_path / "g", cutgz, "broken gzip data")
    js = tmp_path / "cut.json"
    js.write_text(json.dumps(CONFLUENT_PAGES)[:300])
    _refused(tmp_path / "j", js, "truncated or malformed JSON")


def test_cost_explorer_page_with_a_next_token_is_refused(tmp_path):
    p = tmp_path / "ce.json"
    p.write_text(json.dumps({**CE_DOC, "NextPageToken": "abc"}))
    _refused(tmp_path, p, "NextPageToken")


def test_a_bad_cluster_map_line_names_it(tmp_path):
    m = tmp_path / "map.txt"
    m.write_text("i-1 a\nonlyone\n")
    with pytest.raises(BadExport, match=r"map.txt:2: expected"):
        read_cluster_map(str(m))


def test_failed_bill_ingest_raises_ingest_failed(tmp_path):
    rows = _focus_rows()
    rows[0]["BilledCost"] = "n/a"
    with pytest.raises(IngestFailed, match=r":2: BilledCost 'n/a' is not a number"):
        ingest([_write_csv(tmp_path / "x.csv", rows)], tmp_path / "s.duckdb", progress=False)


def test_times_with_an_offset_are_taken_to_utc_and_set_the_month(tmp_path):
    # 2026-10-01T01:00:00+02:00 is 2026-09-30 23:00 UTC: a September line
    rows = _focus_rows()[:1]
    rows[0]["ChargePeriodStart"] = "2026-10-01T01:00:00+02:00"
    rows[0]["ChargePeriodEnd"] = "2026-10-01T02:00:00+02:00"
    db = tmp_path / "s.duckdb"
    ingest([_write_csv(tmp_path / "tz.csv", rows)], db, progress=False)
    with open_store(db) as con:
        got = con.execute("SELECT month, charge_start, charge_end FROM bill_lines").fetchone()
    assert got[0] == "2026-09" and str(got[1]) == "2026-09-30 23:00:00" and str(got[2]) == "2026-10-01 00:00:00"


def test_hostile_column_names_and_path_are_quoted_or_bound(tmp_path):
    evil = "x\"'); DROP TABLE sources; --"
    rows = [{**r, evil: "1"} for r in _focus_rows()]
    d = tmp_path / "it's here"
    d.mkdir()
    db = tmp_path / "s.duckdb"
    (rep,) = ingest([_write_csv(d / "focus'.csv", rows)], db, bill=TAG, progress=False)
    assert rep.rows == 9
    assert _by(_totals(db)) == FOCUS_TRUTH
