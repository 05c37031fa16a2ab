"""Confluent Cloud Billing API `GET /billing/v1/costs` JSON: one page (`CostList`) per file, or a
list of pages. `amount` (after discounts) is the cost summed; `original_amount` is the list cost.
The record carries no currency: the API documents amounts in dollars, so USD. Kafka lines are
attributed by `resource.id` `lkc-…`; connectors, ksqlDB, Flink, Schema Registry and org-wide
lines (support, promotional credit) stay unattributed. Records repeated across pages (same
`id`) are counted once. See docs/formats/bills.md.
"""

from __future__ import annotations

import re

import pandas as pd

from exitkit.bill.paths import confluent_path
from exitkit.ingest import _bill
from exitkit.ingest.base import Reader, ReadResult, Source, register

_SNIFF = re.compile(r'"(?:api_version|apiVersion)"\s*:\s*"billing/v1"')
WHAT = "Confluent Billing API /billing/v1/costs page"


def sniff(head: str, source: Source) -> bool:
    return head.lstrip().startswith(("{", "[")) and bool(_SNIFF.search(head))


def read(source: Source) -> ReadResult:
    doc = _bill.load_json(source, WHAT)
    pages = doc if isinstance(doc, list) else [doc]
    rows: list[dict] = []
    seen: set[str] = set()
    repeated = 0
    more = False
    for p, page in enumerate(pages):
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            raise source.fail(f"page {p}: no data list; expected a {WHAT}")
        more = more or bool((page.get("metadata") or {}).get("next"))
        for i, rec in enumerate(page["data"]):
            where = f"data[{i}]" if len(pages) == 1 else f"[{p}].data[{i}]"
            if not isinstance(rec, dict):
                raise source.fail(f"{where} is not an object; expected a Cost record")
            rid = rec.get("id")
            if rid:
                if rid in seen:
                    repeated += 1
                    continue
                seen.add(rid)
            if "amount" not in rec:
                raise source.fail(f"{where} has no amount; every Cost record has one")
            amount = _bill.decimal_text(rec.get("amount"), source, f"{where}.amount")
            if amount is None:
                raise source.fail(f"{where}.amount is empty")
            start = _bill.utc_time(rec.get("start_date"), source, f"{where}.start_date")
            end = _bill.utc_time(rec.get("end_date"), source, f"{where}.end_date") if rec.get("end_date") else None
            resource = rec.get("resource") if isinstance(rec.get("resource"), dict) else {}
            line_type = str(rec.get("line_type") or "") or None
            rows.append(
                {
                    "line": None, "provider": "confluent", "month": start.strftime("%Y-%m"),
                    "billing_period_start": start.replace(day=1), "charge_start": start, "charge_end": end,
                    "service": rec.get("product"), "region": None, "resource_id": resource.get("id") or None,
                    "usage_type": line_type, "charge_category": _category(line_type, amount),
                    "charge_type": line_type,
                    "quantity": _bill.decimal_text(rec.get("quantity"), source, f"{where}.quantity"),
                    "unit": rec.get("unit"),
                    "list_cost": _bill.decimal_text(rec.get("original_amount"), source, f"{where}.original_amount"),
                    "billed_cost": amount, "effective_cost": amount, "currency": "USD", "cost_basis": "amount",
                    "tags": None,
                }
            )  # fmt: skip
    df = _bill.rows_frame(rows)
    notes = ["no currency in Confluent records: USD (the API documents amounts in dollars)"]
    if repeated:
        notes.append(f"{repeated} records repeated (same id) were counted once")
    if more:
        notes.append("metadata.next is set: more pages exist; ingest every page")

    def path_of(frame: pd.DataFrame) -> pd.Series:
        return frame["usage_type"].map(confluent_path)

    return _bill.finish(df, source, path_of=path_of, notes=notes)


def _category(line_type: str | None, amount: str) -> str:
    lt = (line_type or "").upper()
    if "TAX" in lt:
        return "tax"
    if "CREDIT" in lt or amount.startswith("-"):
        return "credit"
    if lt.startswith("SUPPORT"):
        return "fee"
    return "usage"


READER = register(
    Reader(
        name="confluent-billing",
        description="Confluent Cloud Billing API GET /billing/v1/costs JSON page(s)",
        sniff=sniff,
        read=read,
    )
)
