"""A workload's cost: workload file + measured profile → cost inputs → every candidate's lines.

The one place where the workload model (units parsed, provenance) meets the cost model
(plain SI inputs). Reports, the CLI and the notebooks all call `workload_cost`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import duckdb
import pandas as pd

from exitkit.bill.allocate import allocate, has_bills
from exitkit.cost import (
    MIGRATION_TOOLS,
    CostAssumptions,
    CostConsumerReplay,
    CostInputs,
    CostLabor,
    CostMigration,
    CostRecovery,
    CostResult,
    CostTraffic,
    cash_flows,
    evaluate,
)
from exitkit.cost.inputs import traffic_problem
from exitkit.prices import Catalog, load_catalog
from exitkit.profile.topics import topic_profile
from exitkit.profile.workload import WorkloadProfile, workload_profile
from exitkit.workload.model import Workload

DEFAULT_RETENTION_S = 7 * 86400.0  # Kafka's default retention.ms, used when nothing tells


@dataclass(frozen=True)
class WorkloadCost:
    """Everything a report needs about one workload's money: inputs, catalog, result, notes."""

    workload: Workload
    profile: WorkloadProfile
    inputs: CostInputs
    catalog: Catalog
    result: CostResult
    notes: tuple[str, ...]


def price_overrides(workload: Workload) -> dict[str, float]:
    """The workload's `prices:` plus its `discounts:` as `discount.<payee>` catalog overrides."""
    out: dict[str, float] = dict(workload.prices)
    out.update({f"discount.{payee}": share for payee, share in workload.discounts.items()})
    return out


def cost_inputs(workload: Workload, wp: WorkloadProfile) -> tuple[CostInputs, list[str]]:
    """Adapt a workload and its profile onto the cost model's SI inputs (with notes on fallbacks)."""
    notes: list[str] = []
    if wp.write_bytes_per_s_mean is None:
        raise workload.fail(
            "traffic.write_rate", "no measured write rate for the selected topics; set traffic.write_rate"
        )
    write = wp.write_bytes_per_s_mean
    peak = max(v for v in (wp.write_bytes_per_s_peak, wp.write_bytes_per_s_p95, write) if v is not None)
    fan_out = wp.fan_out
    if fan_out is None:
        raise workload.fail("traffic.fan_out", "no measured read rate for the selected topics; set traffic.fan_out")
    retention_s = wp.retention_s
    if retention_s is None or retention_s < 0 or traffic_problem("retention", retention_s):
        # unknown, unlimited (-1 or Long.MAX ms) or beyond the plausible bound: not a number to cost
        if wp.retained_bytes and write > 0:
            retention_s = wp.retained_bytes / write
            notes.append(f"retention unknown: {retention_s / 86400:.1f} days derived from retained bytes ÷ write rate")
        else:
            retention_s = DEFAULT_RETENTION_S
            notes.append("retention unknown or unlimited: Kafka's default 7 days assumed; set traffic.retention")
    a = workload.assumptions
    if a.migration.tool not in MIGRATION_TOOLS:
        raise workload.fail(
            "assumptions.migration.tool",
            f"{a.migration.tool!r} has no cost model yet; expected one of {', '.join(MIGRATION_TOOLS)}",
        )
    try:
        traffic = CostTraffic(
            write_bytes_per_s=write,
            write_peak_bytes_per_s=peak,
            fan_out=fan_out,
            retention_s=retention_s,
            partitions=wp.partitions,
            retained_bytes=wp.retained_bytes,
            avg_record_bytes=wp.avg_record_bytes,
            records_per_s=wp.records_in_per_s_mean,
            topics=max(1, len(wp.topics)),
        )
        replay = a.recovery.consumer_replay
        assumptions = CostAssumptions(
            replication_factor=a.replication_factor,
            zone_aware_consumers=1.0 if a.zone_aware_consumers else 0.0,
            private_link=a.private_link,
            storage_headroom=a.storage_headroom,
            local_retention_s=a.local_retention,
            broker_utilization=a.broker_utilization,
            month_hours=a.month_hours,
            growth_per_year=a.growth_per_year,
            recovery=CostRecovery(
                broker_replacement=a.recovery.broker_replacement,
                partition_reassignment=a.recovery.partition_reassignment,
                zone_failover=a.recovery.zone_failover,
                consumer_replay=CostConsumerReplay(per_year=replay.per_year, hours_of_data=replay.hours_of_data),
            ),
            migration=CostMigration(
                dual_run_months=a.migration.dual_run_months, tool=a.migration.tool, labor_hours=a.migration.labor_hours
            ),
            labor=CostLabor(
                hourly_rate=a.labor.hourly_rate,
                hours_per_month=dict(a.labor.hours_per_month),
                hours_per_fte_month=a.labor.hours_per_fte_month,
            ),
            compression_ratio=a.compression_ratio,
            discount_rate=a.discount_rate,
        )
        inputs = CostInputs(
            traffic=traffic,
            name=workload.name,
            region=workload.region,
            zones=workload.zones,
            assumptions=assumptions,
            source_platform=workload.source.platform,
        )
    except ValueError as exc:  # the cost model's own range checks: "field: expected …"
        field, _, msg = str(exc).partition(": ")
        raise workload.fail(field, msg or str(exc)) from None
    return inputs, notes


def workload_cost(
    workload: Workload,
    con: duckdb.DuckDBPyConnection | None = None,
    *,
    profile: WorkloadProfile | None = None,
    catalog: Catalog | None = None,
    profile_df: pd.DataFrame | None = None,
) -> WorkloadCost:
    """Profile (unless given; `profile_df` = the store's topic_profile when already computed),
    adapt, price every candidate and today's platform."""
    wp = profile or workload_profile(con, workload, profile_df=profile_df)
    inputs, notes = cost_inputs(workload, wp)
    cat = catalog or load_catalog(overrides=price_overrides(workload), region=workload.region)
    result = evaluate(inputs, cat, list(workload.candidates))
    result = _with_baseline(workload, con, wp, result, profile_df, notes)
    result = result.with_cash_flows(cash_flows(inputs, cat, list(workload.candidates), result=result))
    return WorkloadCost(workload, wp, inputs, cat, result, tuple(list(wp.notes) + notes))


def _with_baseline(
    workload: Workload,
    con: duckdb.DuckDBPyConnection | None,
    wp: WorkloadProfile,
    result: CostResult,
    profile_df: pd.DataFrame | None,
    notes: list[str],
) -> CostResult:
    """Today's baseline (docs/cost-model.md, "Actual baseline"): the bill allocated to the workload
    when one covers its clusters and the workload does not ask for `baseline: modelled`."""
    alloc = None
    if con is not None and wp.topics and has_bills(con):
        df = profile_df if profile_df is not None else topic_profile(con)
        alloc = allocate(con, wp.topics, df, result.month_hours)
    if workload.baseline == "modelled":  # the bill is still shown beside the model
        return replace(result, allocation=alloc)
    if alloc is not None and alloc.missing:  # a part billed, a part not: no like-for-like total
        if workload.baseline == "actual":
            raise workload.fail(
                "baseline",
                f"actual, but no ingested bill covers {', '.join(alloc.missing)}; ingest its bill or set "
                "baseline: modelled",
            )
        notes.append(f"no bill for {', '.join(alloc.missing)}: today stays modelled (baseline: modelled)")
        return result
    if alloc is None:
        if workload.baseline == "actual":
            raise workload.fail(
                "baseline",
                "actual, but no ingested bill covers the workload's clusters; ingest the bill "
                "(exitkit ingest BILL) or set baseline: modelled",
            )
        return result
    months = ", ".join(f"{c.cluster} {c.month}" for c in alloc.clusters)
    notes.append(f"today = actual bill allocated to the workload ({months}; docs/cost-model.md)")
    return replace(result, baseline="actual", allocation=alloc)


def incomplete_platforms(wc: WorkloadCost | CostResult) -> dict[str, list[str]]:
    """Platforms with a line priced at 0 because the catalog has no price yet: {platform: keys}.

    Such a total is a lower bound; it is never ranked or named cheapest ("needs quote").
    """
    result = wc.result if isinstance(wc, WorkloadCost) else wc
    return result.missing_prices()


NEEDS_QUOTE = "needs quote"


def quoted_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A lines or totals frame for CSV/xlsx: amounts that rest on an unpriced line read "needs quote".

    Lines frame: `unit_price` and `monthly_usd` of unpriced lines. Totals frame: `total_usd` of
    monthly-incomplete platforms and `migration_usd` of migration-incomplete ones.
    """
    df = df.copy()
    if "unpriced" in df:
        mask = df["unpriced"].astype(bool)
        for col in ("unit_price", "monthly_usd"):
            if col in df:
                df[col] = df[col].astype(object).where(~mask, NEEDS_QUOTE)
    if "total_usd" in df and "monthly_incomplete" in df:
        df["total_usd"] = df["total_usd"].astype(object).where(~df["monthly_incomplete"].astype(bool), NEEDS_QUOTE)
    if "migration_usd" in df and "migration_incomplete" in df:
        mask = df["migration_incomplete"].astype(bool)
        df["migration_usd"] = df["migration_usd"].astype(object).where(~mask, NEEDS_QUOTE)
    return df


def lines_frame(result: CostResult) -> pd.DataFrame:
    """Every cost line of every platform, one row each (the `costs.csv` and `--format csv` shape)."""
    rows = []
    for p in result.to_dict()["platforms"]:
        for line in p["lines"]:
            rows.append({"platform": p["platform"], "today": p.get("today", False), **line})
    cols = [
        "platform",
        "today",
        "state",
        "path",
        "item",
        "quantity",
        "unit",
        "unit_price",
        "monthly_usd",
        "payee",
        "source",
        "price_key",
        "unpriced",
        "region",
    ]
    df = pd.DataFrame(rows)
    return df[[c for c in cols if c in df] + [c for c in df if c not in cols]] if rows else pd.DataFrame(columns=cols)


def totals_frame(result: CostResult) -> pd.DataFrame:
    """One row per platform: steady, abnormal, total monthly USD and one-time migration USD,
    then `incomplete`, `missing_prices` (keys, comma-separated), labour hours/month, FTE and rate,
    and the cash flow's `payback_month` and `npv_usd` (None for today or when incomplete).

    `total_usd` / `migration_usd` are the priced lines' sums; `monthly_incomplete` /
    `migration_incomplete` say when they are lower bounds (`quoted_frame` writes "needs quote").
    """
    rows = []
    labor = result.assumptions.get("labor", {})
    for p in result.platforms:
        lab = labor.get("platforms", {}).get(p.platform, {})
        cf = result.cash_flows.get(p.platform)
        rows.append(
            {
                "platform": p.platform,
                "name": p.name,
                "today": p.today,
                "steady_usd": p.steady_usd,
                "abnormal_usd": p.abnormal_usd,
                "total_usd": p.total_usd,
                "migration_usd": p.migration_usd,
                "incomplete": p.incomplete,
                "monthly_incomplete": p.monthly_incomplete,
                "migration_incomplete": p.migration_incomplete,
                "missing_prices": ", ".join(p.missing_prices),
                "labor_hours_per_month": lab.get("hours_per_month"),
                "labor_fte": lab.get("fte"),
                "labor_hourly_rate_usd": labor.get("hourly_rate_usd"),
                "payback_month": None if cf is None else cf.payback_month,
                "npv_usd": None if cf is None else cf.npv_usd,
            }
        )
    return pd.DataFrame(rows)
