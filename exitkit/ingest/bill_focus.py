"""FOCUS 1.0–1.2 cost and usage exports (CSV, plain or gzip, or Parquet): AWS Data Exports
"FOCUS 1.0/1.2 with AWS columns" and any other provider's FOCUS file.

The version comes from the header (CSV has no version field): 1.2 has InvoiceId /
BillingAccountType / PricingCurrency, 1.1 SkuMeter / ServiceSubcategory, 1.0 neither. A
1.0-preview or 0.5 header (ChargeType, no ChargeCategory) is an unknown version and refused.
EffectiveCost (amortized, after credits and commitment discounts) is the cost summed; the byte
path comes from the AWS `x_UsageType` column (1.0), else a keyword guess over SkuMeter and
ChargeDescription (AWS FOCUS 1.2 has no usage type; the note says so). See docs/formats/bills.md.
"""

from __future__ import annotations

import pandas as pd

from exitkit.bill.paths import aws_path, keyword_path
from exitkit.ingest import _bill
from exitkit.ingest.base import Reader, ReadResult, Source, register

_MARKERS = {
    "BilledCost", "EffectiveCost", "ListCost", "ChargeCategory", "ChargeType", "ChargePeriodStart",
    "BillingCurrency", "BillingPeriodStart", "ServiceName", "ResourceId",
}  # fmt: skip
_V12 = ("InvoiceId", "BillingAccountType", "SubAccountType", "PricingCurrency")
_V11 = ("SkuMeter", "ServiceSubcategory", "CapacityReservationId", "CommitmentDiscountQuantity", "SkuPriceDetails")


def sniff(head: str, source: Source) -> bool:
    """A header (CSV first row or Parquet schema) with at least three FOCUS column names."""
    if not (_bill.is_parquet(source) or head.lstrip()[:1].isalpha()):
        return False
    cols = set(_bill.header(head, source))
    return len(cols & _MARKERS) >= 3 and not any("/" in c for c in cols)


def version(columns: list[str]) -> str:
    """The FOCUS version a header matches (1.0, 1.1 or 1.2)."""
    cols = set(columns)
    if cols & set(_V12):
        return "1.2"
    if cols & set(_V11):
        return "1.1"
    return "1.0"


def read(source: Source) -> ReadResult:
    columns = _bill.source_header(source)
    if "ChargeCategory" not in columns and "ChargeType" in columns:
        raise source.fail(
            "unknown FOCUS version: the header has ChargeType and no ChargeCategory (FOCUS 0.5 / 1.0-preview); "
            "expected FOCUS 1.0–1.2 (export it again as FOCUS 1.0 or 1.2)",
            1,
        )
    t = _bill.Table(source, columns)
    try:
        t.require("ChargePeriodStart", "BillingCurrency", "ChargeCategory", ("EffectiveCost", "BilledCost"),
                  what="FOCUS 1.0–1.2 export")  # fmt: skip
        t.check_present("ChargePeriodStart", "a charge period start")
        t.check_times("ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart")
        t.check_numbers("EffectiveCost", "BilledCost", "ListCost", "ConsumedQuantity", "PricingQuantity")
        t.check_one_currency("BillingCurrency")
        basis = "EffectiveCost" if t.has("EffectiveCost") else "BilledCost"
        billed = t.number(t.col("BilledCost"))
        effective = t.number(t.col(basis))
        category = f"""CASE lower({t.col("ChargeCategory")})
            WHEN 'usage' THEN CASE WHEN {effective} < 0 THEN 'refund' ELSE 'usage' END
            WHEN 'purchase' THEN 'commitment' WHEN 'tax' THEN 'tax' WHEN 'credit' THEN 'credit'
            WHEN 'adjustment' THEN CASE WHEN coalesce({billed}, {effective}) < 0 THEN 'refund' ELSE 'fee' END
            ELSE 'fee' END"""
        start = t.time(t.col("ChargePeriodStart"))
        select = f"""
            SELECT _line AS line,
                   coalesce(lower({t.col("ProviderName", "ServiceProviderName")}), 'focus') AS provider,
                   strftime({start}, '%Y-%m') AS month,
                   {t.time(t.col("BillingPeriodStart"))} AS billing_period_start,
                   {start} AS charge_start, {t.time(t.col("ChargePeriodEnd"))} AS charge_end,
                   {t.col("ServiceName")} AS service, {t.col("RegionId", "Region")} AS region,
                   {t.col("ResourceId")} AS resource_id,
                   {t.col("x_UsageType", "SkuMeter")} AS usage_type,
                   {category} AS charge_category,
                   {t.col("ChargeCategory")} AS charge_type,
                   {t.number(t.col("ConsumedQuantity", "PricingQuantity"))} AS quantity,
                   {t.col("ConsumedUnit", "PricingUnit")} AS unit,
                   {t.number(t.col("ListCost"))} AS list_cost,
                   {billed} AS billed_cost,
                   coalesce({effective}, {billed}, 0) AS effective_cost,
                   {t.col("BillingCurrency")} AS currency, '{basis}' AS cost_basis,
                   {t.col("Tags")} AS tags,
                   {t.col("SkuMeter")} AS _meter, {t.col("ChargeDescription")} AS _description,
                   {t.col("x_Operation")} AS _operation
            FROM raw"""
        ver = version(columns)
        has_usage_type = "x_UsageType" in columns
        notes = [f"FOCUS {ver}" + ("" if basis == "EffectiveCost" else "; no EffectiveCost column: BilledCost summed")]
        if not has_usage_type:
            notes.append("no x_UsageType column: byte paths guessed from SkuMeter / ChargeDescription")
        cols = ["usage_type"] if has_usage_type else ["_meter", "_description", "_operation"]
        return t.finish(select, path_cols=cols, path_of=_path_of, notes=notes)
    finally:
        t.close()


def _path_of(frame: pd.DataFrame) -> pd.Series:
    """Byte paths of distinct keys: the AWS usage type, else a guess from the SKU meter and description."""
    if "usage_type" in frame:
        return pd.Series([aws_path(u) for u in _bill.texts(frame["usage_type"])], index=frame.index, dtype=object)
    keys = zip(*(_bill.texts(frame[c]) for c in ("_meter", "_description", "_operation")), strict=True)
    return pd.Series([keyword_path(*k) for k in keys], index=frame.index, dtype=object)


READER = register(
    Reader(
        name="focus",
        description="FOCUS 1.0–1.2 cost and usage export (CSV, .csv.gz or Parquet; AWS Data Exports and others)",
        sniff=sniff,
        read=read,
    )
)
