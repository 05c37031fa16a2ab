"""Cutover: the four moments per tool, the rollback window and its cost, the duplicate estimate
per consumer group at the consumer move, and offset validation from MM2 exports.

Duplicates at the consumer move (exitkit's derivation from MirrorMaker 2's offset translation, Apache Kafka source OffsetSyncStore.java, github.com/apache/kafka connect/mirror), per group g:

    duplicates(g) = Σ_p translation_gap(p) + consume_rate(g) × staleness_s
    translation_gap(p) = (cp_upstream − sync_upstream) − (cp_downstream − sync_downstream)
                         with an exported checkpoint (cp) of the group's partition, else
                       = committed_src(p) − sync_upstream(p) − 1   (0 when they are equal)

where sync is the newest offset sync at or below the offset being translated (MirrorMaker 2
≥ 3.5 returns sync_downstream + 1 and never extrapolates forward, so the records between
the sync and the committed offset are re-read; the first form measures what the exported
checkpoint actually did, whatever the MM2 version), consume_rate(g) is the records-in rate of the topics the group
reads (a caught-up group consumes at the produce rate), and staleness_s is how old the last
copied offset is at the switch. Offset-preserving tools (Cluster Linking, AutoMQ Kafka
Linking) have no translation gap: only the staleness term remains.
"""

from __future__ import annotations

import math

import duckdb
import pandas as pd

from exitkit import platforms
from exitkit.plan.contract import Scope
from exitkit.profile.evidence import mm2_checkpoints

OFFSET_PRESERVING = tuple(t.id for t in platforms.TOOLS.values() if t.offset_preserving)
TRANSLATING = tuple(t.id for t in platforms.TOOLS.values() if not t.offset_preserving)

# Default staleness (seconds) when the workload does not set cutover.sync_staleness.
DEFAULT_STALENESS: dict[str, tuple[float | None, str]] = {
    "mirrormaker2": (
        120.0,
        "emit.checkpoints.interval.seconds 60 + sync.group.offsets.interval.seconds 60 "
        "(Apache Kafka source, MirrorCheckpointConfig.java defaults, github.com/apache/kafka connect/mirror)",
    ),
    "cluster-linking": (
        30.0,
        "consumer.offset.sync.ms, default believed 30 s [unverified] (Cluster Linking FAQ, docs.confluent.io/platform/current/multi-dc-deployments/cluster-linking/faqs-cp.html)",
    ),
    "msk-replicator": (None, "MSK Replicator offset-sync interval not documented in our notes"),
    "automq-linking": (None, "AutoMQ Kafka Linking offset-sync interval not documented in our notes"),
}

# Which candidates a tool can write to, and why: the platform table's `targets` (None: any Kafka).
TOOL_TARGETS: dict[str, tuple[tuple[str, ...] | None, str]] = {
    t.id: (t.targets, t.source) for t in platforms.TOOLS.values()
}

_M = ("destination_eligible", "consumers_move", "producers_stop_source", "rollback_unsafe")
MOMENT_TITLES = {
    "destination_eligible": "Destination eligible for validation",
    "consumers_move": "Consumers move",
    "producers_stop_source": "Producers stop writing to the source",
    "rollback_unsafe": "Rollback becomes unsafe",
}


def _m(moment: str, step: int, entry: list[str], signal: str, source: str) -> dict:
    return {"moment": moment, "title": MOMENT_TITLES[moment], "step": step, "entry_criteria": entry,
            "signal": signal, "source": source}  # fmt: skip


MOMENTS: dict[str, list[dict]] = {
    "mirrormaker2": [
        _m(
            _M[0],
            1,
            [
                "target topics, configs and ACLs created; quotas and authentication set at cluster level (not copied)",
                "replication started from earliest; the offset-syncs topic read to the end once",
                "consumers tolerate duplicates within the budget below",
            ],
            "MM2 replication lag ≈ 0 sustained, no failed tasks, a checkpoint per group every 60 s",
            "apache/kafka connect/mirror defaults; runbook skeleton: exitkit's synthesis of the MSK Replicator, Cluster Linking, kcp and AutoMQ migration guides",
        ),
        _m(
            _M[1],
            2,
            [
                "consumers stopped (or fenced) on the source",
                "one checkpoint + group-offset sync cycle passed (≥ 120 s with defaults); the group has no "
                "active members on the target (sync.group.offsets writes only then)",
            ],
            "translated offsets present in the target's __consumer_offsets; group lag on the target ≈ lag on the "
            "source at the stop",
            "MirrorCheckpointConfig (sync.group.offsets.enabled), Apache Kafka source, github.com/apache/kafka connect/mirror MirrorCheckpointConfig.java",
        ),
        _m(
            _M[2],
            3,
            ["all consumer groups run on the target", "producers stopped or fenced"],
            "source log-end offsets stop moving; MM2 lag 0; no application writes reach the source (source BytesIn ≈ 0)",
            "producers: stop or fence, lag 0, then start on the target (exitkit's synthesis of the MSK Replicator, Cluster Linking, kcp and AutoMQ migration guides)",
        ),
        _m(
            _M[3],
            4,
            ["producers start writing to the target"],
            "first application write on the target: MM2 is one-way, target offsets differ from the source, so going "
            "back needs a reverse flow and a reverse offset translation",
            "MirrorMaker 2 flows are one-way and translate offsets: Apache Kafka source, github.com/apache/kafka connect/mirror",
        ),
    ],
    "msk-replicator": [
        _m(
            _M[0],
            1,
            [
                "Replicator started at Earliest with Identical topic names",
                "cluster-level settings and permissions set on the target",
                "clients tolerate the __mskmr loop-prevention header",
            ],
            "MessageLag = 0, ReplicationFailures = 0, ConsumerGroupOffsetSyncFailure = 0, ConsumerGroupCount matches",
            "docs.aws.amazon.com/msk msk-replicator-migrate-cluster, -monitor-external (Amazon MSK developer guide)",
        ),
        _m(
            _M[2],
            2,
            ["MessageLag = 0"],
            "producers stopped on the source and restarted on the target",
            "AWS migration recipe, docs.aws.amazon.com/msk/latest/developerguide/msk-replicator-migrate-cluster.md",
        ),
        _m(
            _M[3],
            3,
            ["producers write to the target"],
            "first write on the target: LEGACY offset sync has no failback translation; ENHANCED needs a reverse "
            "Replicator and Identical names",
            "docs.aws.amazon.com/msk/latest/developerguide/msk-replicator-bidirectional-offset-sync.md",
        ),
        _m(
            _M[1],
            4,
            [
                "each group's MaxOffsetLag = 0 on the source",
                "consumers stopped (offsets sync only while the target group has no active members)",
            ],
            "consumers repointed; target group lag ≈ 0; duplicates within budget (AWS: consumers must tolerate them)",
            "AWS migration recipe, docs.aws.amazon.com/msk/latest/developerguide/msk-replicator-migrate-cluster.md",
        ),
    ],
    "cluster-linking": [
        _m(
            _M[0],
            1,
            ["cluster link with auto-create mirror topics and consumer offset sync"],
            "mirror lag ≈ 0 ('Max Lag'); per-partition 'Last Source Fetch Offset' matches the source",
            "docs.confluent.io cluster-linking migrate-cc, faqs-cp (docs.confluent.io/platform/current/multi-dc-deployments/cluster-linking/)",
        ),
        _m(
            _M[1],
            2,
            ["groups moved one by one (offsets preserved, synced on an interval)"],
            "the group's committed offsets on the destination equal the source's",
            "docs.confluent.io cluster-linking mirror topics (docs.confluent.io/platform/current/multi-dc-deployments/cluster-linking/mirror-topics-cp.md)",
        ),
        _m(
            _M[2],
            3,
            ["producers stopped or fenced (kcp: gateway fence, verify fence)", "mirror lag 0"],
            "mirror topics promoted, lowest lag first, each at lag 0; no producer bypasses the fence",
            "confluentinc/kcp cutover (confluentinc.github.io/kcp/0.11.0/command-reference/migration/cutover/)",
        ),
        _m(
            _M[3],
            4,
            ["mirrors promoted and producers unblocked on the destination"],
            "promote/failover done: rollback after promotion needs the link rebuilt by hand; after unblocking it is "
            "not supported (kcp)",
            "confluentinc/kcp guide (github.com/confluentinc/kcp docs/assets/getting-started-with-zero-cut-migrations.md)",
        ),
    ],
    "automq-linking": [
        _m(
            _M[0],
            1,
            [
                "source version, protocol and auth in range (no MSK IAM source)",
                "topics and groups inventoried, idle ones deleted",
            ],
            "Kafka Linking lag and backlog ≈ 0 [vendor-claim]",
            "automq.com docs migrate-to-automq overview, prerequisites (automq.com/docs/automq-cloud/migrate-to-automq/)",
        ),
        _m(
            _M[1],
            2,
            ["consumers rolled to AutoMQ (offsets preserved)"],
            "the group's offsets on AutoMQ equal the source's",
            "automq.com blog/docs [vendor-claim] (AutoMQ Kafka Linking docs, automq.com/docs/automq-cloud/migrate-to-automq/overview)",
        ),
        _m(
            _M[2],
            3,
            ["producers rolled through the built-in proxy (no stop window)"],
            "all producers connect to AutoMQ; promotion is automatic [vendor-claim]",
            "automq.com blog beyond-mm2 [vendor-claim] (automq.com/blog/beyond-mm2-kafka-migration-with-zero-downtime)",
        ),
        _m(
            _M[3],
            4,
            ["promotion done and producers write to AutoMQ directly"],
            "after promotion there is no reverse link in our notes [unverified]",
            "automq.com/docs/automq-cloud/migrate-to-automq/overview (no reverse link documented); one-way links cannot carry writes back [unverified]",
        ),
    ],
}


def moments(tool: str) -> list[dict]:
    return sorted((dict(m) for m in MOMENTS[tool]), key=lambda m: m["step"])


# --- duplicates and offset validation ---------------------------------------------------


def _source_offsets(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Committed source offsets of the workload's topics: latest export per (cluster, group)."""
    df = con.execute(
        """
        SELECT cluster, consumer_group, topic, partition, current_offset AS committed_src
        FROM consumer_offsets WHERE topic IS NOT NULL AND partition IS NOT NULL
        QUALIFY source_id = max(source_id) OVER (PARTITION BY cluster, consumer_group)
        """
    ).df()
    keep = pd.MultiIndex.from_frame(df[["cluster", "topic"]]).isin(pd.MultiIndex.from_tuples(list(scope.topics)))
    df = df[keep & df["committed_src"].notna()].reset_index(drop=True)
    df["committed_src"] = df["committed_src"].astype("int64")
    return df


def _syncs(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every exported offset sync (the topic is compacted, but older syncs in the dump are real history)."""
    return con.execute(
        "SELECT cluster, topic, partition, upstream_offset, downstream_offset FROM mm2_offset_syncs"
    ).df()


def _checkpoints(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:

    return mm2_checkpoints(con)


def _usable_sync(syncs: pd.DataFrame, cluster: str, topic: str, partition: int, committed: int):
    """The newest sync at or below `committed` (MM2 OffsetSyncStore rule), or None."""
    s = syncs[
        (syncs["cluster"] == cluster)
        & (syncs["topic"] == topic)
        & (syncs["partition"] == partition)
        & (syncs["upstream_offset"] <= committed)
    ]
    if s.empty:
        return None
    return s.loc[s["upstream_offset"].idxmax()]


def translation_gap(committed: int, sync_upstream: int) -> int:
    """Records re-read after translation: 0 at an exact sync, else committed − sync − 1."""
    return 0 if committed == sync_upstream else committed - sync_upstream - 1


def checkpoint_gap(cp_upstream: int, cp_downstream: int, sync_upstream: int, sync_downstream: int) -> int:
    """Records re-read when a group resumes at a checkpoint's downstream offset.

    After the sync, source and target offsets advance together (one record each), so the
    target position maps back to upstream sync_upstream + (cp_downstream − sync_downstream).
    """
    return (cp_upstream - sync_upstream) - (cp_downstream - sync_downstream)


def duplicates(
    con: duckdb.DuckDBPyConnection | None, scope: Scope, tool: str, staleness_s: float | None
) -> tuple[list[dict], pd.DataFrame]:
    """Per consumer group: translation gap + consume rate × staleness, with the formula as text.

    Returns (group rows, partition rows). Unknown parts are None, never 0 (an offset-preserving
    tool's translation gap is 0 by construction).
    """
    if con is None or not scope.topics:
        return [], pd.DataFrame()
    src = _source_offsets(con, scope)
    if src.empty:
        return [], pd.DataFrame()
    preserving = tool in OFFSET_PRESERVING
    syncs = _syncs(con) if not preserving else pd.DataFrame()
    cps = _checkpoints(con) if not preserving else pd.DataFrame()
    cp_idx = {(c.cluster, c.consumer_group, c.topic, int(c.partition)): c for c in cps.itertuples()}
    parts = []
    for r in src.itertuples():
        gap, sync_up, basis = (0, None, "offset-preserving") if preserving else (None, None, None)
        if not preserving and not syncs.empty:
            cp = cp_idx.get((r.cluster, r.consumer_group, r.topic, int(r.partition)))
            at = int(cp.upstream_offset) if cp is not None else int(r.committed_src)
            s = _usable_sync(syncs, r.cluster, r.topic, r.partition, at)
            if s is not None:
                sync_up = int(s["upstream_offset"])
                if cp is not None:
                    gap = max(checkpoint_gap(at, int(cp.downstream_offset), sync_up, int(s["downstream_offset"])), 0)
                    basis = "checkpoint"
                else:
                    gap = translation_gap(int(r.committed_src), sync_up)
                    basis = "sync rule"
        parts.append({"cluster": r.cluster, "consumer_group": r.consumer_group, "topic": r.topic,
                      "partition": int(r.partition), "committed_src": int(r.committed_src),
                      "sync_upstream": sync_up, "translation_gap_records": gap, "basis": basis})  # fmt: skip
    parts_df = pd.DataFrame(parts)
    rates = {
        (c, t): (None if pd.isna(v) else float(v))
        for c, t, v in zip(scope.profile["cluster"], scope.profile["topic"], scope.profile["records_in_per_s_mean"], strict=True)
    }  # fmt: skip
    rows = []
    for (cl, g), p in parts_df.groupby(["cluster", "consumer_group"], sort=True):
        topics = sorted(set(p["topic"]))
        gaps = p["translation_gap_records"]
        known_gap = gaps.notna().all()
        tgap = int(gaps.sum()) if known_gap else None
        topic_rates = [rates.get((cl, t)) for t in topics]
        rate = sum(topic_rates) if all(x is not None for x in topic_rates) else None
        stale = None if rate is None or staleness_s is None else rate * staleness_s
        dup = None if tgap is None or stale is None else tgap + stale
        if preserving:
            why_gap = f"translation gap 0 ({tool} preserves offsets)"
        elif known_gap:
            bases = ", ".join(sorted(set(p["basis"].dropna())))
            why_gap = f"translation gap {tgap:,} records over {len(p)} partitions ({bases})"
        else:
            missing = int(gaps.isna().sum())
            why_gap = (
                f"translation gap unknown: no usable MM2 offset sync for {missing} of {len(p)} partitions "
                "(export mm2-offset-syncs)"
            )
        rate_txt = "unknown records-in rate" if rate is None else f"{rate:,.3g} records/s"
        stale_txt = "unknown staleness (set cutover.sync_staleness)" if staleness_s is None else f"{staleness_s:g} s"
        formula = (
            f"duplicates = Σ_p translation_gap(p) + consume_rate × staleness = "
            f"{'?' if tgap is None else f'{tgap:,}'} + {rate_txt} × {stale_txt}"
            f" = {'unknown' if dup is None else f'{dup:,.0f}'}"
        )
        rows.append(
            {
                "cluster": cl,
                "consumer_group": g,
                "topics": topics,
                "partitions": len(p),
                "translation_gap_records": tgap,
                "consume_rate_records_per_s": rate,
                "staleness_s": staleness_s,
                "staleness_gap_records": stale,
                "duplicates_records": dup,
                "formula": formula,
                "notes": why_gap,
            }
        )
    return rows, parts_df


def offset_validation(
    con: duckdb.DuckDBPyConnection | None, scope: Scope, target_cluster: str | None = None
) -> list[dict]:
    """Source committed offsets (consumer_offsets) against MM2 checkpoints (translated target offsets).

    Per (group, topic, partition): `ok` (checkpoint at the committed offset, downstream no later
    than the sync allows), `behind` (the checkpoint lags the source: those records are
    re-read), `ahead` (the checkpoint is past the source's committed offset: records would be
    skipped), `translation_mismatch` (downstream later than sync_downstream + (upstream −
    sync_upstream): records skipped on the target), `no_checkpoint` (the group would start
    from auto.offset.reset on the target). `expected_downstream` is MM2 ≥ 3.5's answer. With `target_cluster`, the target's own
    committed offset is compared with the checkpoint's downstream offset.
    """
    if con is None or not scope.topics:
        return []
    cps = _checkpoints(con)
    if cps.empty:
        return []
    src = _source_offsets(con, scope)
    syncs = _syncs(con)
    target = pd.DataFrame()
    if target_cluster:
        target = con.execute(
            """
            SELECT consumer_group, topic, partition, current_offset FROM consumer_offsets
            WHERE cluster = ? AND current_offset IS NOT NULL
            QUALIFY source_id = max(source_id) OVER (PARTITION BY cluster, consumer_group)
            """,
            [target_cluster],
        ).df()
    cp_idx = {(r.cluster, r.consumer_group, r.topic, int(r.partition)): r for r in cps.itertuples()}
    groups_with_cp = {(c, g) for c, g, _, _ in cp_idx}
    rows = []
    unmirrored: dict[tuple[str, str, str], int] = {}
    for r in src.itertuples():
        key = (r.cluster, r.consumer_group, r.topic, int(r.partition))
        if (r.cluster, r.consumer_group) not in groups_with_cp:
            # a group without any checkpoint is reported once per topic, not per partition
            k = (r.cluster, r.consumer_group, r.topic)
            unmirrored[k] = unmirrored.get(k, 0) + 1
            continue
        cp = cp_idx.get(key)
        row = {"cluster": r.cluster, "consumer_group": r.consumer_group, "topic": r.topic, "partition": key[3],
               "source_committed": int(r.committed_src), "checkpoint_upstream": None, "checkpoint_downstream": None,
               "expected_downstream": None, "behind_records": None, "target_committed": None}  # fmt: skip
        if cp is None:
            row["status"] = "no_checkpoint"
            rows.append(row)
            continue
        up, down = int(cp.upstream_offset), int(cp.downstream_offset)
        row.update(checkpoint_upstream=up, checkpoint_downstream=down, behind_records=int(r.committed_src) - up)
        s = _usable_sync(syncs, r.cluster, r.topic, key[3], up) if not syncs.empty else None
        latest_safe = None
        if s is not None:
            su, sd = int(s["upstream_offset"]), int(s["downstream_offset"])
            row["expected_downstream"] = sd if su == up else sd + 1  # MM2 >= 3.5 rule
            latest_safe = sd + (up - su)  # one-to-one after the sync: any later offset skips records
        if not target.empty:
            t = target[(target["consumer_group"] == r.consumer_group) & (target["topic"] == r.topic)
                       & (target["partition"] == key[3])]  # fmt: skip
            if not t.empty:
                row["target_committed"] = int(t["current_offset"].iloc[0])
        if up > r.committed_src:
            status = "ahead"
        elif latest_safe is not None and down > latest_safe:
            status = "translation_mismatch"  # the target resumes past the committed position: records skipped
        elif row["target_committed"] is not None and row["target_committed"] != down:
            status = "target_mismatch"
        elif up < r.committed_src:
            status = "behind"
        else:
            status = "ok"
        row["status"] = status
        rows.append(row)
    for (cl, g, t), n in sorted(unmirrored.items()):
        rows.append({"cluster": cl, "consumer_group": g, "topic": t, "partition": None, "source_committed": None,
                     "checkpoint_upstream": None, "checkpoint_downstream": None, "expected_downstream": None,
                     "behind_records": None, "target_committed": None, "status": "no_checkpoint",
                     "note": f"no MM2 checkpoint for this group ({n} committed partitions)"})  # fmt: skip
    return rows


PROBLEM_STATUSES = ("ahead", "translation_mismatch", "target_mismatch")


def rollback_window(
    window_s: float | None,
    source_platform: str,
    target: str | None,
    cost_result,
    month_hours: float,
    dual_run_months: float,
) -> dict:
    """How long the source is held after producers move, and what holding it costs.

    cost = source steady monthly cost × window / month (the source keeps running). The cost
    model's one-time dual-run lines for the target are shown beside it.
    """
    out = {"window_s": window_s, "source_platform": source_platform, "source_monthly_usd": None, "cost_usd": None,
           "dual_run_months": dual_run_months, "dual_run_one_time_usd": None,
           "formula": "cost = source steady monthly cost × rollback window / month"}  # fmt: skip
    if cost_result is None:
        out["note"] = "no cost result: run the cost model (exitkit cost) to price the rollback window"
        return out
    try:
        src = cost_result.platform(source_platform)
        out["source_monthly_usd"] = src.steady_usd
    except KeyError:
        out["note"] = f"the cost result has no model for the source platform {source_platform}"
        return out
    if window_s is not None:
        out["cost_usd"] = src.steady_usd * window_s / (month_hours * 3600)
        out["formula"] += (
            f" = {src.steady_usd:,.2f} × {window_s / 3600:g} h / {month_hours:g} h = {out['cost_usd']:,.2f} USD"
        )
    else:
        out["note"] = "cutover.rollback.window not set"
    if target is not None:
        try:
            tgt = cost_result.platform(target)
            dual = [ln for ln in tgt.lines if ln.state == "migration" and ln.item.startswith("Dual run")]
            out["dual_run_one_time_usd"] = sum(ln.monthly_usd for ln in dual) if dual else None
        except KeyError:
            pass
    return out


def is_finite(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))
