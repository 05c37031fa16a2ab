"""The report's "Today: bill vs model" section: one call, self-contained (easy to move).

`bill_section(wc)` shows, per byte path, the ingested bill's actual cost allocated to the
workload (exitkit.bill.reconcile.bill_vs_model) beside today's modelled lines, and which
baseline the savings use. All dynamic text is escaped here.
"""

from __future__ import annotations

import html

import pandas as pd
from IPython.display import HTML

from exitkit.bill.reconcile import bill_vs_model
from exitkit.cost.adapter import WorkloadCost


def _usd(v) -> str:
    return "—" if v is None or (isinstance(v, float) and pd.isna(v)) else f"${v:,.0f}"


def bill_section(wc: WorkloadCost) -> HTML:
    """The bill beside the model for this workload, or a line saying today is modelled."""
    r = wc.result
    df = bill_vs_model(None, wc)
    if df.empty:
        return HTML(
            "<p class='ek-meta'>No ingested bill covers this workload's clusters: today's cost is modelled "
            "from list prices (ingest a FOCUS, AWS CUR or Confluent Billing API export to compare).</p>"
        )
    alloc = r.allocation
    parts = "; ".join(
        f"{html.escape(c.cluster)} {html.escape(c.month)}: {c.traffic_share:.1%} of the traffic, "
        f"{c.storage_share:.1%} of the storage of a {_usd(c.cluster_actual_usd)} bill"
        for c in alloc.clusters
    )
    shown = df.rename(columns={"path": "Byte path", "actual_usd": "Bill (allocated) / month",
                               "modelled_usd": "Model / month"})  # fmt: skip
    total = df[df["path"] == "total"].iloc[0]
    share = (
        ""
        if not total["modelled_usd"] or not total["actual_usd"]
        else f" The model is {total['modelled_usd'] / total['actual_usd']:.0%} of the bill."
    )
    if r.baseline == "actual":
        head = (
            f"Baseline: <b>actual</b> — today is {_usd(r.today_usd())} a month: the bill allocated to this "
            f"workload, {_usd(alloc.monthly_usd)} ({parts}), plus {_usd(r.unbilled_today_usd())} of modelled "
            "lines no bill carries (labour, and the other payee's side); savings and payback use it."
        )
    else:
        head = (
            f"Baseline: <b>modelled</b> (the workload sets <code>baseline: modelled</code>) — savings use the "
            f"model's {_usd(r.today_usd())} a month; the bill allocated to this workload is "
            f"{_usd(alloc.monthly_usd)} ({parts})."
        )
    return HTML(
        f"<p class='ek-meta'>{head}{share}</p>"
        + shown.to_html(
            index=False,
            escape=True,
            na_rep="—",
            formatters={c: _usd for c in shown.columns if "/" in c},
            classes="ek-table",
        )  # fmt: skip
    )
