"""AWS Cost Explorer `aws ce get-cost-and-usage` JSON (grouped by SERVICE / USAGE_TYPE / TAG).

No line names a resource, so lines are account cost: unattributed unless grouped by a TAG whose
key is `--cluster-tag` (group key `kafka-cluster$logs-ec2`). One cost metric per file, preferred
in this order: AmortizedCost, NetAmortizedCost, UnblendedCost, NetUnblendedCost, BlendedCost
(the note says which). `Amount` is a string; `Unit` is the currency. A `NextPageToken` means a
page of a longer answer: refused until the pages are merged (docs/formats/bills.md).
"""

from __future__ import annotations

import json
import re

import pandas as pd

from exitkit.bill.paths import aws_path
from exitkit.ingest import _bill
from exitkit.ingest.base import Reader, ReadResult, Source, register

_SNIFF = re.compile(r'"ResultsByTime"\s*:')
METRICS = ("AmortizedCost", "NetAmortizedCost", "UnblendedCost", "NetUnblendedCost", "BlendedCost")
WHAT = "aws ce get-cost-and-usage answer"


def sniff(head: str, source: Source) -> bool:
    return head.lstrip().startswith("{") and bool(_SNIFF.search(head))


def read(source: Source) -> ReadResult:
    doc = _bill.load_json(source, WHAT)
    if not isinstance(doc, dict) or not isinstance(doc.get("ResultsByTime"), list):
        raise source.fail(f"ResultsByTime is not a list; expected an {WHAT}")
    if doc.get("NextPageToken"):
        raise source.fail(
            "has a NextPageToken: one page of a longer answer; fetch every page (--next-page-token) and ingest "
            "each, or merge their ResultsByTime"
        )
    dims = [
        str((g or {}).get("Type", "")) + ":" + str((g or {}).get("Key", "")) for g in doc.get("GroupDefinitions") or []
    ]
    metric = _metric(doc, source)
    rows: list[dict] = []
    currencies: dict[str, str] = {}
    for i, period in enumerate(doc["ResultsByTime"]):
        where = f"ResultsByTime[{i}]"
        tp = (period or {}).get("TimePeriod") or {}
        start = _bill.utc_time(tp.get("Start"), source, f"{where}.TimePeriod.Start")
        end = _bill.utc_time(tp.get("End"), source, f"{where}.TimePeriod.End")
        groups = period.get("Groups") or []
        entries = [(g.get("Keys") or [], g.get("Metrics") or {}) for g in groups] or [([], period.get("Total") or {})]
        for j, (keys, metrics) in enumerate(entries):
            w = f"{where}.Groups[{j}]" if groups else f"{where}.Total"
            m = metrics.get(metric)
            if m is None:
                continue  # an empty Total of a grouped query
            amount = _bill.decimal_text(m.get("Amount"), source, f"{w}.Metrics.{metric}.Amount")
            if amount is None:
                raise source.fail(f"{w}.Metrics.{metric} has no Amount")
            unit = str(m.get("Unit") or "")
            if not unit:
                raise source.fail(f"{w}.Metrics.{metric} has no Unit (the currency)")
            currencies.setdefault(unit, w)
            if len(currencies) > 1:
                a, b = list(currencies)[:2]
                raise source.fail(
                    f"two currencies in one file ({a} and {b} at {w}); expected one, exitkit never converts"
                )
            by = dict(zip(dims, keys, strict=False))
            service = by.get("DIMENSION:SERVICE")
            usage_type = by.get("DIMENSION:USAGE_TYPE")
            tags = {k.split(":", 1)[1]: v.split("$", 1)[1] for k, v in by.items()
                    if k.startswith("TAG:") and "$" in v and v.split("$", 1)[1]}  # fmt: skip
            rows.append(
                {
                    "line": None, "provider": "aws", "month": start.strftime("%Y-%m"),
                    "billing_period_start": start, "charge_start": start, "charge_end": end,
                    "service": service, "region": by.get("DIMENSION:REGION"), "resource_id": None,
                    "usage_type": usage_type, "charge_category": _category(service, amount),
                    "charge_type": service, "quantity": None, "unit": None, "list_cost": None,
                    "billed_cost": amount, "effective_cost": amount, "currency": unit, "cost_basis": metric,
                    "tags": json.dumps(tags) if tags else None,
                }
            )  # fmt: skip
    df = _bill.rows_frame(rows)

    def path_of(frame: pd.DataFrame) -> pd.Series:
        by = {u: aws_path(u) for u in frame["usage_type"].dropna().unique()}
        return frame["usage_type"].map(by)

    notes = [f"Cost Explorer {metric}" + ("" if metric.startswith(("Amortized", "NetAmortized")) else
                                            " (not amortized: Savings Plan fees sit on the account, not the clusters)")]  # fmt: skip
    return _bill.finish(df, source, path_of=path_of, notes=notes)


def _metric(doc: dict, source: Source) -> str:
    seen: set[str] = set()
    for period in doc["ResultsByTime"]:
        for g in (period or {}).get("Groups") or []:
            seen.update((g.get("Metrics") or {}).keys())
        seen.update(((period or {}).get("Total") or {}).keys())
    for m in METRICS:
        if m in seen:
            return m
    raise source.fail(f"no cost metric ({', '.join(METRICS)}); expected --metrics with one of them")


def _category(service: str | None, amount: str) -> str:
    s = (service or "").lower()
    if s == "tax":
        return "tax"
    if "savings plans" in s:
        return "commitment"
    if amount.startswith("-"):
        return "credit"
    return "usage"


READER = register(
    Reader(
        name="aws-cost-explorer",
        description="AWS Cost Explorer `aws ce get-cost-and-usage` JSON (account cost by service / usage type / tag)",
        sniff=sniff,
        read=read,
    )
)
