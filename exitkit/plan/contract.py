"""Contract worksheet: each item with its evidence (export / rehearsal / document), and the
requirements the store and the contract imply, cross-checked against the capability matrix.

Export evidence comes from `exitkit.profile.evidence.contract_evidence` and `exitkit.profile.topics`; a
missing export is shown as missing, never as "not used". Request rates and KIP-511 software
counts are cluster-wide: a feature seen on a cluster is attributed to the workload's topics on
that cluster, and the conflict text says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import duckdb
import pandas as pd

from exitkit.plan.catalog import capabilities, capability_names
from exitkit.profile.evidence import contract_evidence
from exitkit.profile.workload import workload_topics
from exitkit.workload.model import Workload
from exitkit.workload.sections import Contract, Item, Rehearsal

ITEM_STATUSES = ("rehearsal_failed", "rehearsed", "documented", "exported", "missing")


@dataclass(frozen=True)
class Scope:
    """What the workload selects in the store: (cluster, topic) pairs and their profile rows."""

    topics: tuple[tuple[str, str], ...] = ()
    profile: pd.DataFrame = field(default_factory=pd.DataFrame)
    evidence: dict[str, pd.DataFrame] = field(default_factory=dict)
    compression: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def clusters(self) -> list[str]:
        return sorted({c for c, _ in self.topics})

    def topics_on(self, cluster: str) -> list[str]:
        return sorted(t for c, t in self.topics if c == cluster)

    def where(self, cluster: str) -> str:
        return f"{cluster} ({', '.join(self.topics_on(cluster))})"


def scope_of(
    con: duckdb.DuckDBPyConnection | None, workload: Workload, profile_df: pd.DataFrame | None = None
) -> Scope:
    """The workload's topics and the contract evidence for them, cluster by cluster."""
    if con is None or not workload.topics:
        return Scope()

    profile = workload_topics(con, workload, profile_df)
    topics = tuple(zip(profile["cluster"], profile["topic"], strict=True))
    frames: dict[str, list[pd.DataFrame]] = {}
    for cluster in sorted({c for c, _ in topics}):
        mine = {t for c, t in topics if c == cluster}
        # topics=None, then filter here: contract_evidence's own topic filter drops the columns
        # of an empty frame (e.g. no consumer_offsets export), see the report for the fix
        ev = contract_evidence(con, cluster)
        for k, df in ev.items():
            if "topic" in df.columns and k in ("topic_acls", "topic_principals", "consumer_groups"):
                df = df[df["topic"].isin(mine)].reset_index(drop=True)
            frames.setdefault(k, []).append(df)
    evidence = {k: pd.concat(v, ignore_index=True) if len(v) > 1 else v[0] for k, v in frames.items()}
    compression = con.execute(
        """
        SELECT cluster, topic, value FROM topic_configs WHERE name = 'compression.type' AND topic IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY cluster, topic ORDER BY source_id DESC) = 1
        """
    ).df()
    keep = pd.MultiIndex.from_frame(compression[["cluster", "topic"]]).isin(pd.MultiIndex.from_tuples(topics))
    return Scope(topics, profile, evidence, compression[keep].reset_index(drop=True))


# --- export evidence per item ------------------------------------------------------------


def _fmt_s(s: float) -> str:
    for unit, n in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= n:
            return f"{s / n:.3g} {unit}"
    return f"{s:.3g} s"


def _feature(scope: Scope, feature: str) -> list[str]:
    f = scope.evidence.get("features")
    if f is None or f.empty:
        return []
    rows = f[f["feature"] == feature]
    return [f"{r.cluster}: {r.status} ({r.evidence})" for r in rows.itertuples() if r.status != "no_evidence"]


def export_evidence(scope: Scope) -> dict[tuple[str, str], list[str]]:
    """{(area, item): [evidence text]} from the store; items without an export are absent."""
    ev, out = scope.evidence, {}
    if not scope.topics:
        return out
    sw = ev.get("client_software")
    if sw is not None and not sw.empty:
        for cl, g in sw.groupby("cluster"):
            libs = ", ".join(f"{r.software_name} {r.software_version} ({r.share:.0%})" for r in g.head(6).itertuples())
            more = f" and {len(g) - 6} more" if len(g) > 6 else ""
            out.setdefault(("producers", "client_libraries"), []).append(
                f"{cl}: KIP-511 connections (cluster-wide): {libs}{more}"
            )
    for item, feature in (("idempotence", "idempotent_or_transactional_producers"), ("transactions", "transactions")):
        if texts := _feature(scope, feature):
            out[("producers", item)] = texts
    if not scope.compression.empty:
        vals = scope.compression.groupby("value")["topic"].apply(lambda s: len(s))
        out[("producers", "compression")] = [
            "compression.type " + ", ".join(f"{v} on {n} topic(s)" for v, n in vals.items())
        ]
    if texts := _feature(scope, "kip848_consumers"):
        out[("consumers", "group_protocol")] = texts
    groups = ev.get("consumer_groups")
    if groups is not None and not groups.empty:
        committed = groups[groups["committed_partitions"] > 0]
        out[("consumers", "offset_commit")] = [
            f"{committed['consumer_group'].nunique()} group(s) commit offsets to Kafka on "
            f"{int(committed['committed_partitions'].sum())} partition(s) (kafka-consumer-groups)"
        ]
    prof = scope.profile
    if not prof.empty and prof["retention_ms"].notna().any():
        known = prof[prof["retention_ms"].notna()]
        finite = known[known["retention_ms"] >= 0]
        if finite.empty:
            text = "retention unlimited on every topic"
        else:
            r = finite.loc[finite["retention_ms"].idxmin()]
            text = f"shortest retention {_fmt_s(r['retention_ms'] / 1000)} ({r['topic']})"
        lag = prof[["topic", "max_consumer_lag_records", "records_in_per_s_mean"]].dropna()
        lag = lag[lag["records_in_per_s_mean"] > 0]
        if not lag.empty:
            lag_s = lag["max_consumer_lag_records"] / lag["records_in_per_s_mean"]
            i = lag_s.idxmax()
            text += f"; worst consumer lag ≈ {_fmt_s(float(lag_s[i]))} ({lag.loc[i, 'topic']})"
        out[("consumers", "replay_window")] = [text]
    pr = ev.get("topic_principals")
    if pr is not None and not pr.empty:
        out[("security", "acls")] = [
            f"{pr['principal'].nunique()} principal(s) with ACLs on {pr['topic'].nunique()} topic(s): "
            + ", ".join(sorted(pr["principal"].unique())[:6])
        ]
    q = ev.get("quotas")
    if q is not None and not q.empty:
        out[("operations", "quotas")] = [
            f"{len(q)} quota entr(ies) (cluster-wide): " + ", ".join(sorted(set(q["quota"])))
        ]
    return out


# --- the worksheet -------------------------------------------------------------------------


def applies(r: Rehearsal, platform: str | None) -> bool:
    """A rehearsal without a platform applies to every candidate."""
    return platform is None or r.platform is None or r.platform == platform


def latest(rehearsals: Iterable[Rehearsal], platform: str | None = None) -> Rehearsal | None:
    """The latest rehearsal that applies to `platform` (a later pass supersedes an earlier fail)."""
    rs = [r for r in rehearsals if applies(r, platform)]
    return max(rs, key=lambda r: (r.date, r.result == "fail")) if rs else None


def _status(item: Item | None, exported: list[str], platform: str | None = None, measured: list | None = None) -> str:
    last = latest([*(item.rehearsal if item is not None else []), *(measured or [])], platform)
    if last is not None:
        return "rehearsed" if last.result == "pass" else "rehearsal_failed"
    if item is not None:
        if item.document is not None:
            return "documented"
    return "exported" if exported else "missing"


def worksheet(
    contract: Contract,
    exports: dict[tuple[str, str], list[str]],
    measured: dict[tuple[str, str], list[Rehearsal]] | None = None,
) -> list[dict]:
    """One row per contract item: area, item, value, status, evidence (list of dicts).

    `measured`: rehearsals run by `exitkit rehearse` (exitkit.plan.measured), evidence of kind `measured`.
    """
    rows = []
    measured = measured or {}
    for area, name, item in contract.items():
        exported = exports.get((area, name), [])
        evidence: list[dict] = [{"kind": "export", "text": t} for t in exported]
        if item is not None:
            for r in item.rehearsal:
                evidence.append({"kind": "rehearsal", **r.model_dump(mode="json")})
            if item.document is not None:
                evidence.append({"kind": "document", **item.document.model_dump(mode="json")})
        for r in measured.get((area, name), []):
            evidence.append({"kind": "measured", **r.model_dump(mode="json")})
        rows.append(
            {
                "area": area,
                "item": name,
                "value": None if item is None else item.value,
                "status": _status(item, exported, measured=measured.get((area, name))),
                "evidence": evidence,
            }
        )
    return rows


# --- requirements and capability conflicts -------------------------------------------------

_FALSY = {"", "no", "none", "not used", "unused", "false", "off", "n/a", "not_used", "disabled"}
_AUTH = {"iam": "auth_iam", "scram": "auth_scram", "mtls": "auth_mtls", "tls": "auth_mtls", "oauth": "auth_oauth"}


def _declared(item: Item | None) -> bool:
    if item is None or item.value is None or item.value is False or item.value == 0:
        return False
    if isinstance(item.value, str):
        return item.value.strip().lower() not in _FALSY
    return bool(item.value)


@dataclass(frozen=True)
class Requirement:
    """Something the workload relies on that a platform must support."""

    capability: str
    where: str  # cluster (topics) or the contract field
    evidence: str
    origin: str  # export | contract | assumption
    value_bytes_per_s: float | None = None  # per-partition peak write (per_partition_write_limit)
    topic: str | None = None


def requirements(scope: Scope, contract: Contract, workload: Workload) -> list[Requirement]:
    """What the exports, the contract and the assumptions say the applications rely on."""
    out: list[Requirement] = []
    feats = scope.evidence.get("features")
    cap_of = {
        "transactions": "transactions",
        "idempotent_or_transactional_producers": "idempotence",
        "kip848_consumers": "kip848_consumer_protocol",
    }
    if feats is not None and not feats.empty:
        for r in feats[feats["status"] == "used"].itertuples():
            if r.feature in cap_of:
                out.append(Requirement(cap_of[r.feature], scope.where(r.cluster), r.evidence, "export"))
    prof = scope.profile
    if not prof.empty:
        compact = prof[prof["cleanup_policy"].fillna("").str.contains("compact")]
        for cl, g in compact.groupby("cluster"):
            out.append(
                Requirement(
                    "compacted_topics",
                    f"{cl} ({', '.join(sorted(g['topic']))})",
                    "cleanup.policy contains compact",
                    "export",
                )
            )
        per_part = prof[["cluster", "topic", "write_bytes_per_s_peak", "partitions"]].dropna()
        for r in per_part[per_part["partitions"] > 0].itertuples():
            v = float(r.write_bytes_per_s_peak) / float(r.partitions)
            out.append(
                Requirement(
                    "per_partition_write_limit",
                    f"{r.cluster} ({r.topic})",
                    f"peak write {v / 1e6:.3g} MB/s per partition (peak {r.write_bytes_per_s_peak / 1e6:.3g} MB/s "
                    f"over {int(r.partitions)} partitions, assumed even)",
                    "export",
                    v,
                    r.topic,
                )
            )
    q = scope.evidence.get("quotas")
    if q is not None and not q.empty:
        for cl in sorted(set(q["cluster"].dropna())):
            out.append(Requirement("quotas", scope.where(cl), f"{(q['cluster'] == cl).sum()} quota entries", "export"))
    pr = scope.evidence.get("topic_principals")
    if pr is not None and not pr.empty:
        for cl, g in pr.groupby("cluster"):
            out.append(
                Requirement(
                    "acls",
                    f"{cl} ({', '.join(sorted(g['topic'].unique()))})",
                    f"{g['principal'].nunique()} principal(s) with topic ACLs",
                    "export",
                )
            )
    c = contract
    declared = [
        ("transactions", c.producers.transactions, "contract.producers.transactions"),
        ("idempotence", c.producers.idempotence, "contract.producers.idempotence"),
        ("acls", c.security.acls, "contract.security.acls"),
        ("quotas", c.operations.quotas, "contract.operations.quotas"),
    ]
    for cap, item, fld in declared:
        if _declared(item):
            out.append(Requirement(cap, fld, f"declared: {item.value}", "contract"))
    gp = c.consumers.group_protocol
    if gp is not None and isinstance(gp.value, str) and gp.value.strip().lower() in ("consumer", "kip-848", "kip848"):
        out.append(
            Requirement(
                "kip848_consumer_protocol", "contract.consumers.group_protocol", f"declared: {gp.value}", "contract"
            )
        )
    auth = c.security.authentication
    if auth is not None and auth.value is not None:
        methods = auth.value if isinstance(auth.value, list) else [auth.value]
        for m in methods:
            key = str(m).strip().lower().replace("sasl/", "").replace("-", "").replace("_", "")
            for word, cap in _AUTH.items():
                if word in key and not (word == "tls" and "mtls" in key):
                    out.append(Requirement(cap, "contract.security.authentication", f"declared: {m}", "contract"))
                    break
    if workload.assumptions.zone_aware_consumers:
        out.append(
            Requirement(
                "fetch_from_follower",
                "assumptions.zone_aware_consumers",
                "the cost model assumes zone-local consumers",
                "assumption",
            )
        )
    return out


@dataclass(frozen=True)
class Conflict:
    candidate: str
    capability: str
    severity: str  # blocking | unknown | check
    where: str
    observed: str
    platform_status: str
    source: str
    text: str

    def to_dict(self) -> dict:
        return asdict(self)


def conflicts(reqs: list[Requirement], candidates: Iterable[str]) -> list[Conflict]:
    """Each requirement a candidate does not (or not knowably) meet, named with the source.

    blocking: the platform does not support it (or a per-partition peak exceeds its limit);
    unknown: the matrix has no source; check: supported with a limitation to verify.
    """
    caps, names = capabilities(), capability_names()
    out = []
    for cand in candidates:
        for r in reqs:
            cell = caps[cand][r.capability]
            severity = None
            if r.capability == "per_partition_write_limit":
                if cell.limit_bytes_per_s is not None and r.value_bytes_per_s is not None:
                    if r.value_bytes_per_s > cell.limit_bytes_per_s:
                        severity = "blocking"
                elif cell.status == "unknown" and r.value_bytes_per_s:
                    severity = None  # a limit nobody has documented is not a conflict to invent
            elif cell.status == "unsupported":
                severity = "blocking"
            elif cell.status == "unknown":
                severity = "unknown"
            elif cell.status == "limited":
                severity = "check"
            if severity is None:
                continue
            verb = "observed on" if r.origin == "export" else "required by"
            text = (
                f"{r.capability} {verb} {r.where}: {r.evidence}; "
                f"{cand}: {names.get(r.capability, r.capability)} {cell.cite()}"
            )
            out.append(Conflict(cand, r.capability, severity, r.where, r.evidence, cell.status, cell.source, text))
    return out
