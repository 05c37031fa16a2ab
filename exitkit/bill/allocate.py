"""Actual cost per cluster and month from `bill_lines`, and its allocation to a workload.

Allocation rule (docs/cost-model.md, "Actual baseline"): for each cluster the workload reads
from, take the cluster's latest billed month; storage and backfill lines go to the workload
by its share of the cluster's retained bytes, every other line (compute, transfer, private
connectivity, requests, credits and lines on no path) by its share of the cluster's traffic
(bytes written + bytes read, means). Tax is never allocated. The month's amount is scaled to
the workload's month length (`× month_hours / hours in that calendar month`).
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from exitkit import store

STORAGE_PATHS = ("storage", "backfill")

# Actual (effective) cost per cluster, month and path; tax apart, never on a cluster.
_ACTUAL_SQL = """
SELECT cluster, month, path, any_value(provider) AS provider,
       CAST(sum(effective_cost) AS DOUBLE) AS actual_usd, count(*) AS lines
FROM bill_lines
WHERE cluster IS NOT NULL AND charge_category <> 'tax' {where}
GROUP BY cluster, month, path
ORDER BY cluster, month, path NULLS LAST
"""


def has_bills(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the store has a `bill_lines` table with at least one row."""
    if "bill_lines" not in store.table_names(con):
        return False
    return con.execute("SELECT count(*) FROM (SELECT 1 FROM bill_lines LIMIT 1)").fetchone()[0] > 0


def actual_by_path(con: duckdb.DuckDBPyConnection, cluster: str | None = None) -> pd.DataFrame:
    """cluster, month, path (None: on no path), provider, actual_usd, lines."""
    if not has_bills(con):
        return pd.DataFrame(columns=["cluster", "month", "path", "provider", "actual_usd", "lines"])
    where, params = ("AND cluster = ?", [cluster]) if cluster else ("", [])
    return con.execute(_ACTUAL_SQL.format(where=where), params).df()


def hours_in(month: str) -> int:
    """Hours in a calendar month `YYYY-MM`."""
    y, m = map(int, month.split("-"))
    return calendar.monthrange(y, m)[1] * 24


@dataclass(frozen=True)
class ClusterShare:
    """One cluster's part of a workload's actual baseline."""

    cluster: str
    month: str
    traffic_share: float
    storage_share: float
    cluster_actual_usd: float  # the cluster's actual cost that month (tax excluded)
    allocated_usd: float  # the workload's part, for that calendar month
    by_path: dict[str | None, float] = field(default_factory=dict)  # allocated, per path


@dataclass(frozen=True)
class Allocation:
    """A workload's actual monthly baseline: the sum over its clusters, scaled to `month_hours`."""

    monthly_usd: float
    month_hours: float
    clusters: tuple[ClusterShare, ...]
    missing: tuple[str, ...]  # clusters of the workload that no bill covers

    def by_path(self) -> dict[str | None, float]:
        """Allocated monthly USD per path (None: lines on no path), scaled to `month_hours`."""
        out: dict[str | None, float] = {}
        for c in self.clusters:
            k = self.month_hours / hours_in(c.month)
            for path, usd in c.by_path.items():
                out[path] = out.get(path, 0.0) + usd * k
        return out


def _share(part: float | None, whole: float | None) -> float | None:
    if part is None or whole is None or not math.isfinite(whole) or whole <= 0:
        return None
    return min(1.0, max(0.0, part / whole))


def _sum(values) -> float | None:
    vals = [float(v) for v in values if v is not None and not pd.isna(v)]
    return sum(vals) if vals else None


def allocate(
    con: duckdb.DuckDBPyConnection,
    topics: tuple[tuple[str, str], ...],
    profile_df: pd.DataFrame,
    month_hours: float,
) -> Allocation | None:
    """The workload's actual monthly cost by the rule above; None when no bill covers any of its
    clusters. `topics` are the workload's (cluster, topic) pairs; `profile_df` the store's
    topic profile (exitkit.profile.topics.topic_profile)."""
    clusters = sorted({c for c, _ in topics if c is not None})
    actual = actual_by_path(con)
    billed = set(actual["cluster"]) if len(actual) else set()
    shares: list[ClusterShare] = []
    missing: list[str] = []
    mine = set(topics)
    for cluster in clusters:
        if cluster not in billed:
            missing.append(cluster)
            continue
        rows = actual[actual["cluster"] == cluster]
        month = max(rows["month"])
        rows = rows[rows["month"] == month]
        prof = profile_df[profile_df["cluster"] == cluster]
        own = prof[[(cluster, t) in mine for t in prof["topic"]]]
        traffic_all = _sum(list(prof["write_bytes_per_s_mean"]) + list(prof["read_bytes_per_s_mean"]))
        traffic_own = _sum(list(own["write_bytes_per_s_mean"]) + list(own["read_bytes_per_s_mean"]))
        t_share = _share(traffic_own, traffic_all)
        if t_share is None:
            missing.append(cluster)  # no measured traffic to share the bill by
            continue
        s_share = _share(_sum(own["retained_bytes"]), _sum(prof["retained_bytes"]))
        s_share = t_share if s_share is None else s_share
        by_path: dict[str | None, float] = {}
        for path, usd in zip(rows["path"], rows["actual_usd"], strict=True):
            p = None if path is None or (isinstance(path, float) and pd.isna(path)) else path
            share = s_share if p in STORAGE_PATHS else t_share
            by_path[p] = by_path.get(p, 0.0) + float(usd) * share
        shares.append(
            ClusterShare(
                cluster=cluster,
                month=month,
                traffic_share=t_share,
                storage_share=s_share,
                cluster_actual_usd=float(rows["actual_usd"].sum()),
                allocated_usd=sum(by_path.values()),
                by_path=by_path,
            )
        )
    if not shares:
        return None
    monthly = sum(s.allocated_usd * month_hours / hours_in(s.month) for s in shares)
    return Allocation(monthly_usd=monthly, month_hours=month_hours, clusters=tuple(shares), missing=tuple(missing))
