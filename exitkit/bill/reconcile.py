"""The bill beside the model: per cluster and month, actual cost by byte path, the model's
estimate for the same cluster (its measured traffic, the catalog's prices), the share the model
explains and the largest gaps. `exitkit bill` prints `bill_report`; reports call `bill_vs_model`.

The model's estimate of a cluster: every measured topic of the cluster as one workload on the
platform the bill shows (MSK by its usage types, Confluent by its line types, EC2 otherwise), in
the region the bill names, steady + abnormal lines without labour (never on a bill), scaled from
the model's month to the calendar month's hours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import pandas as pd

from exitkit.bill.allocate import actual_by_path, has_bills, hours_in
from exitkit.cost.adapter import WorkloadCost, workload_cost
from exitkit.errors import ExitkitError
from exitkit.platforms import PATHS
from exitkit.profile.topics import topic_profile
from exitkit.workload.model import Workload

DEFAULT_REGION = "us-east-1"
_NOT_BILLED = ("labor",)  # internal cost: on no invoice


@dataclass(frozen=True)
class Modelled:
    platform: str
    region: str
    month_hours: float
    by_path: dict[str, float]  # per model month
    notes: tuple[str, ...]

    def for_month(self, month: str) -> dict[str, float]:
        k = hours_in(month) / self.month_hours
        return {p: v * k for p, v in self.by_path.items()}


def cluster_platform(con: duckdb.DuckDBPyConnection, cluster: str) -> str:
    """The platform a cluster's bill lines show: Confluent (dedicated when billed in CKUs),
    MSK Serverless / Express / Standard by usage type, else Kafka on EC2."""
    rows = con.execute(
        "SELECT provider, usage_type FROM bill_lines WHERE cluster = ? GROUP BY ALL", [cluster]
    ).fetchall()
    providers = {p for p, _ in rows}
    types = " ".join(u or "" for _, u in rows)
    if "confluent" in providers or cluster.startswith("lkc-"):
        return "confluent-dedicated" if "KAFKA_NUM_CKU" in types else "confluent-standard"
    if "KafkaServerless" in types:
        return "msk-serverless"
    if re.search(r"(^|[- ])Express\.", types):
        return "msk-express"
    if re.search(r"(^|[- ])Kafka\.", types):
        return "msk-standard"
    return "kafka-ec2"


def cluster_region(con: duckdb.DuckDBPyConnection, cluster: str) -> str | None:
    row = con.execute(
        "SELECT region FROM bill_lines WHERE cluster = ? AND region IS NOT NULL GROUP BY region "
        "ORDER BY count(*) DESC, region LIMIT 1",
        [cluster],
    ).fetchone()
    return row[0] if row else None


def _workload_name(cluster: str) -> str:
    name = re.sub(r"[^a-z0-9_-]+", "-", cluster.lower()).strip("-_") or "cluster"
    return name if name[0].isalnum() else "c" + name


def modelled(con: duckdb.DuckDBPyConnection, cluster: str, profile_df: pd.DataFrame | None = None) -> Modelled | None:
    """The model's monthly estimate of a whole cluster by path; None when the store has no
    measured traffic for it (then the bill stands alone, and `modelled_usd` is null)."""
    platform = cluster_platform(con, cluster)
    region = cluster_region(con, cluster)
    notes = []
    if region is None:
        notes.append(f"the bill names no region: {DEFAULT_REGION} list prices used")
    wl = Workload(
        name=_workload_name(cluster),
        source={"platform": platform, "cluster": cluster},
        topics=["*"],
        region=region or DEFAULT_REGION,
        candidates=[platform],
    )
    try:
        wc = workload_cost(wl, con, profile_df=profile_df)
    except ExitkitError:
        return None
    # like for like: a Confluent bill holds Confluent's lines (payee vendor); the cloud's part of a
    # Confluent cluster (PrivateLink, client cross-AZ) is on the AWS bill, on no lkc- resource
    payee = "vendor" if platform.startswith("confluent-") else "cloud"
    by_path = _model_paths(wc, platform, payee)
    if payee == "vendor":
        notes.append("modelled: Confluent's own lines only; the cloud side (PrivateLink, cross-AZ) is on the AWS bill")
    return Modelled(platform, wl.region, wc.result.month_hours, by_path, tuple(notes))


def _model_paths(wc: WorkloadCost, platform: str, payee: str | None = None) -> dict[str, float]:
    out: dict[str, float] = {}
    for ln in wc.result.platform(platform).lines:
        if ln.state in ("steady", "abnormal") and ln.path not in _NOT_BILLED and ln.monthly_usd != 0:
            if payee is None or ln.payee == payee:
                out[ln.path] = out.get(ln.path, 0.0) + ln.monthly_usd
    return out


def bill_report(con: duckdb.DuckDBPyConnection, cluster: str | None = None) -> dict:
    """The `exitkit bill --format json` document (README): per cluster and month, actual and
    modelled USD by path, the share explained, the largest gaps; unattributed lines and tax apart."""
    actual = actual_by_path(con, cluster)
    profile_df = topic_profile(con) if len(actual) else None
    currency = _currency(con)
    unattributed = _unattributed(con)
    out_clusters = []
    models: dict[str, Modelled | None] = {}
    for (name, month), rows in actual.groupby(["cluster", "month"], sort=True):
        if name not in models:
            models[name] = modelled(con, name, profile_df)
        model = models[name]
        by_model = model.for_month(month) if model else {}
        paths: dict[str, dict] = {}
        for p, usd in zip(rows["path"], rows["actual_usd"], strict=True):
            key = p if isinstance(p, str) else "unmapped"
            if usd == 0 and key not in paths:
                continue  # e.g. a Savings Plan negation on the cluster's resource: nothing to show
            paths.setdefault(key, {"actual_usd": 0.0, "modelled_usd": None})["actual_usd"] += float(usd)
        if model:
            for p, usd in by_model.items():
                paths.setdefault(p, {"actual_usd": None, "modelled_usd": None})["modelled_usd"] = usd
        order = {p: i for i, p in enumerate((*PATHS, "unmapped"))}
        paths = dict(sorted(paths.items(), key=lambda kv: order.get(kv[0], 99)))
        actual_usd = float(rows["actual_usd"].sum())
        modelled_usd = sum(by_model.values()) if model else None
        month_unattr = unattributed[
            (unattributed["month"] == month) & (unattributed["provider"] == rows["provider"].iloc[0])
        ]
        out_clusters.append(
            {
                "cluster": name,
                "platform": model.platform if model else cluster_platform(con, name),
                "month": month,
                "actual_usd": actual_usd,
                "modelled_usd": modelled_usd,
                "explained": _explained(actual_usd, paths) if model else None,
                "by_path": paths,
                "gaps": _gaps(paths) if model else [],
                "unattributed_usd": float(month_unattr["effective_usd"].sum()) if len(month_unattr) else None,
                "known_cluster": profile_df is not None and name in set(profile_df["cluster"]),
                "notes": list(model.notes)
                if model
                else [
                    "no measured traffic for this cluster in the store: nothing to model (ingest its metrics exports)"
                ],
            }
        )
    return {
        "currency": currency,
        "clusters": out_clusters,
        "unattributed": unattributed.to_dict(orient="records"),
        "tax_usd": _tax(con),
    }


def _explained(actual: float, paths: dict[str, dict]) -> float | None:
    """The share of the actual cost the model explains, path by path: Σ min(actual, modelled) over
    the byte paths ÷ the actual total (a path the model over-estimates explains no more than its
    bill; lines on no path are unexplained). None when the actual total is not positive."""
    if actual <= 0:
        return None
    matched = sum(min(max(v["actual_usd"] or 0.0, 0.0), max(v["modelled_usd"] or 0.0, 0.0)) for v in paths.values())
    return min(1.0, matched / actual)


def _gaps(paths: dict[str, dict], n: int = 3) -> list[dict]:
    """The paths where actual and model differ most (actual − modelled, an unknown side as 0)."""
    rows = []
    for p, v in paths.items():
        a, m = v["actual_usd"], v["modelled_usd"]
        if a is None and m is None:
            continue
        rows.append({"path": p, "gap_usd": (a or 0.0) - (m or 0.0)})
    rows.sort(key=lambda r: -abs(r["gap_usd"]))
    return rows[:n]


def _currency(con: duckdb.DuckDBPyConnection) -> str | None:
    if not has_bills(con):
        return None
    cur = [r[0] for r in con.execute("SELECT DISTINCT currency FROM bill_lines ORDER BY 1").fetchall()]
    if len(cur) > 1:
        raise ExitkitError(f"the store holds bills in {', '.join(cur)}; exitkit never converts currencies")
    return cur[0] if cur else None


def _unattributed(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Lines that match no cluster (tax apart), grouped: they may be a cluster the exports missed."""
    cols = ["provider", "month", "charge_category", "service", "resource_id", "usage_type", "lines", "effective_usd"]
    if not has_bills(con):
        return pd.DataFrame(columns=cols)
    df = con.execute(
        """SELECT provider, month, charge_category, service, resource_id, usage_type, count(*) AS lines,
                  CAST(sum(effective_cost) AS DOUBLE) AS effective_usd
           FROM bill_lines WHERE cluster IS NULL AND charge_category <> 'tax'
           GROUP BY ALL ORDER BY month, abs(sum(effective_cost)) DESC, resource_id NULLS LAST"""
    ).df()
    return df.astype(object).where(df.notna(), None)


def _tax(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    if not has_bills(con):
        return {}
    return {
        m: float(v)
        for m, v in con.execute(
            "SELECT month, CAST(sum(effective_cost) AS DOUBLE) FROM bill_lines WHERE charge_category = 'tax' "
            "GROUP BY month ORDER BY month"
        ).fetchall()
    }


def bill_frame(report: dict) -> pd.DataFrame:
    """One row per cluster, month and path of a `bill_report` (the table and CSV shape)."""
    rows = []
    for c in report["clusters"]:
        for p, v in c["by_path"].items():
            rows.append(
                {"cluster": c["cluster"], "platform": c["platform"], "month": c["month"], "path": p,
                 "actual_usd": v["actual_usd"], "modelled_usd": v["modelled_usd"]}
            )  # fmt: skip
        rows.append(
            {"cluster": c["cluster"], "platform": c["platform"], "month": c["month"], "path": "total",
             "actual_usd": c["actual_usd"], "modelled_usd": c["modelled_usd"]}
        )  # fmt: skip
    return pd.DataFrame(rows, columns=["cluster", "platform", "month", "path", "actual_usd", "modelled_usd"])


def bill_vs_model(con: duckdb.DuckDBPyConnection | None, wc: WorkloadCost) -> pd.DataFrame:
    """The report's "Today: bill vs model" table for one workload: per path, the actual cost
    allocated to the workload (monthly, at the workload's month length) beside today's modelled
    lines. Empty when no bill covers the workload's clusters."""
    cols = ["path", "actual_usd", "modelled_usd"]
    alloc = wc.result.allocation
    if alloc is None or alloc.missing:
        return pd.DataFrame(columns=cols)
    today = next((p for p in wc.result.platforms if p.today), None)
    model: dict[str, float] = {}
    if today is not None:
        for ln in today.lines:
            if ln.state in ("steady", "abnormal") and ln.path not in _NOT_BILLED:
                model[ln.path] = model.get(ln.path, 0.0) + ln.monthly_usd
    actual = {("unmapped" if p is None else p): v for p, v in alloc.by_path().items()}
    rows = []
    for p in (*PATHS, "unmapped"):
        a, m = actual.get(p), model.get(p)
        if a is None and m is None:
            continue
        rows.append({"path": p, "actual_usd": a, "modelled_usd": m})
    rows.append(
        {"path": "total", "actual_usd": sum(actual.values()), "modelled_usd": sum(model.values()) if model else None}
    )
    return pd.DataFrame(rows, columns=cols)
