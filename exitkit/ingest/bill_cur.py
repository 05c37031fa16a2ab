"""AWS Cost and Usage Report: legacy CUR (`lineItem/…` columns, `.csv.gz`) and CUR 2.0 (Data
Exports table COST_AND_USAGE_REPORT, `line_item_…` columns, CSV or Parquet).

The same data under two spellings. The cost summed is the amortized one, chosen per line item
type (docs/formats/bills.md, from the AWS CUR user guide "Understanding Savings Plans"):
covered usage costs its Savings Plan / RI effective cost, the negation and the upfront fees cost
0, the recurring fee counts its unused part, credits, refunds, discounts and tax their unblended
cost. Tags: legacy `resourceTags/user:KEY` columns, CUR 2.0 the `resource_tags` JSON map.
"""

from __future__ import annotations

import pandas as pd

from exitkit.bill.paths import aws_path
from exitkit.ingest import _bill
from exitkit.ingest.base import Reader, ReadResult, Source, register

# canonical -> (legacy CUR, CUR 2.0)
COLUMNS = {
    "type": ("lineItem/LineItemType", "line_item_line_item_type"),
    "start": ("lineItem/UsageStartDate", "line_item_usage_start_date"),
    "end": ("lineItem/UsageEndDate", "line_item_usage_end_date"),
    "period": ("bill/BillingPeriodStartDate", "bill_billing_period_start_date"),
    "product": ("lineItem/ProductCode", "line_item_product_code"),
    "usage_type": ("lineItem/UsageType", "line_item_usage_type"),
    "resource_id": ("lineItem/ResourceId", "line_item_resource_id"),
    "amount": ("lineItem/UsageAmount", "line_item_usage_amount"),
    "unit": ("pricing/unit", "pricing_unit"),
    "unblended": ("lineItem/UnblendedCost", "line_item_unblended_cost"),
    "currency": ("lineItem/CurrencyCode", "line_item_currency_code"),
    "sp_effective": ("savingsPlan/SavingsPlanEffectiveCost", "savings_plan_savings_plan_effective_cost"),
    "ri_effective": ("reservation/EffectiveCost", "reservation_effective_cost"),
    "sp_total": ("savingsPlan/TotalCommitmentToDate", "savings_plan_total_commitment_to_date"),
    "sp_used": ("savingsPlan/UsedCommitment", "savings_plan_used_commitment"),
    "public": ("pricing/publicOnDemandCost", "pricing_public_on_demand_cost"),
    "region": ("product/region", "product_region_code"),
    "tags": ("", "resource_tags"),
}
_USAGE = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage")
_COMMITMENT = ("SavingsPlanNegation", "SavingsPlanRecurringFee", "SavingsPlanUpfrontFee", "RIFee", "Fee")
_DISCOUNTS = ("BundledDiscount", "EdpDiscount", "PrivateRateDiscount", "Discount", "SppDiscount")


def _sniff(head: str, source: Source, marker: str) -> bool:
    if not (_bill.is_parquet(source) or head.lstrip()[:1].isalpha()):
        return False
    return marker in _bill.header(head, source)


def sniff_legacy(head: str, source: Source) -> bool:
    """A header with `lineItem/LineItemType`."""
    return _sniff(head, source, COLUMNS["type"][0])


def sniff_cur2(head: str, source: Source) -> bool:
    """A header with `line_item_line_item_type`."""
    return _sniff(head, source, COLUMNS["type"][1])


def _read(source: Source, which: int) -> ReadResult:
    columns = _bill.source_header(source)
    name = {k: v[which] for k, v in COLUMNS.items()}
    what = "CUR 2.0 export" if which else "legacy CUR export"
    t = _bill.Table(source, columns)
    try:
        t.require(name["type"], name["start"], name["unblended"], name["currency"], what=what)
        t.check_present(name["start"], "a usage start date")
        t.check_times(name["start"], name["end"], name["period"])
        t.check_numbers(*(name[k] for k in ("unblended", "sp_effective", "ri_effective", "sp_total", "sp_used",
                                            "amount", "public")))  # fmt: skip
        t.check_one_currency(name["currency"])
        ltype = t.col(name["type"])
        for kind, col in (("SavingsPlanCoveredUsage", "sp_effective"), ("DiscountedUsage", "ri_effective")):
            if not t.has(name[col]):
                row = t.con.execute(f"SELECT _line FROM raw WHERE {ltype} = ? LIMIT 1", [kind]).fetchone()
                if row:
                    raise source.fail(f"a {kind} line but no {name[col]} column: its amortized cost is unknown", row[0])
        n = t.number
        unblended = n(t.col(name["unblended"]))
        effective = f"""CASE {ltype}
            WHEN 'DiscountedUsage' THEN {n(t.col(name["ri_effective"]))}
            WHEN 'SavingsPlanCoveredUsage' THEN {n(t.col(name["sp_effective"]))}
            WHEN 'SavingsPlanNegation' THEN 0
            WHEN 'SavingsPlanUpfrontFee' THEN 0 WHEN 'RIFee' THEN 0 WHEN 'Fee' THEN 0
            WHEN 'SavingsPlanRecurringFee' THEN
                coalesce({n(t.col(name["sp_total"]))} - {n(t.col(name["sp_used"]))}, 0)
            ELSE {unblended} END"""
        category = f"""CASE
            WHEN {ltype} IN {_sql_list(_USAGE)} THEN CASE WHEN {unblended} < 0 THEN 'refund' ELSE 'usage' END
            WHEN {ltype} IN {_sql_list(_COMMITMENT)} THEN 'commitment'
            WHEN {ltype} = 'Credit' OR {ltype} IN {_sql_list(_DISCOUNTS)} THEN 'credit'
            WHEN {ltype} = 'Refund' THEN 'refund' WHEN {ltype} = 'Tax' THEN 'tax' ELSE 'fee' END"""
        start = t.time(t.col(name["start"]))
        select = f"""
            SELECT _line AS line, 'aws' AS provider, strftime({start}, '%Y-%m') AS month,
                   {t.time(t.col(name["period"]))} AS billing_period_start,
                   {start} AS charge_start, {t.time(t.col(name["end"]))} AS charge_end,
                   {t.col(name["product"])} AS service, {t.col(name["region"])} AS region,
                   {t.col(name["resource_id"])} AS resource_id, {t.col(name["usage_type"])} AS usage_type,
                   {category} AS charge_category, {ltype} AS charge_type,
                   {n(t.col(name["amount"]))} AS quantity, {t.col(name["unit"])} AS unit,
                   {n(t.col(name["public"]))} AS list_cost,
                   {unblended} AS billed_cost,
                   coalesce({effective}, 0) AS effective_cost,
                   {t.col(name["currency"])} AS currency, 'amortized (CUR line item type)' AS cost_basis,
                   {_tags_sql(t, which)} AS tags
            FROM raw"""
        return t.finish(select, path_cols=["usage_type"], path_of=_path_of, notes=[what])
    finally:
        t.close()


def _path_of(frame: pd.DataFrame) -> pd.Series:
    """Byte paths of distinct AWS usage types."""
    return pd.Series([aws_path(u) for u in _bill.texts(frame["usage_type"])], index=frame.index, dtype=object)


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(_bill.lit(v) for v in values) + ")"


def _tags_sql(t: _bill.Table, which: int) -> str:
    """Tags as one JSON object text: CUR 2.0's `resource_tags` as it is; legacy CUR's
    `resourceTags/user:KEY` columns folded into {"user:KEY": value} (empty values left out)."""
    if which:
        return t.col("resource_tags")
    tag_cols = [c for c in t.columns if c.startswith("resourceTags/")]
    if not tag_cols:
        return "NULL"
    pairs = ", ".join(f"{_bill.lit(c.removeprefix('resourceTags/'))}, {t.col(c)}" for c in tag_cols)
    # json_object keeps NULL values; strip them so an untagged line has no tags at all
    return f"NULLIF(CAST(json_object({pairs}) AS VARCHAR), '{{}}')"


def read_legacy(source: Source) -> ReadResult:
    return _read(source, 0)


def read_cur2(source: Source) -> ReadResult:
    return _read(source, 1)


READER = register(
    Reader(
        name="aws-cur",
        description="AWS Cost and Usage Report, legacy (lineItem/… columns; .csv or .csv.gz)",
        sniff=sniff_legacy,
        read=read_legacy,
    )
)
READER2 = register(
    Reader(
        name="aws-cur2",
        description="AWS CUR 2.0 (Data Exports; line_item_… columns; CSV, .csv.gz or Parquet)",
        sniff=sniff_cur2,
        read=read_cur2,
    )
)
