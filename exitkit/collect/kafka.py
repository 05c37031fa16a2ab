"""Kafka Admin API collector: a live cluster's metadata into export files (confluent-kafka / librdkafka).

Reads, never writes: ApiVersions (as librdkafka negotiated it), DescribeCluster, Metadata
(topics, partitions, leader / replicas / ISR), DescribeConfigs for every topic and broker,
ListOffsets (earliest and latest per partition), ListGroups, DescribeGroups and OffsetFetch per
group (lag = log-end − committed, log-end read after the commits), DescribeAcls. A call the
broker does not advertise is not made; a call it refuses (unsupported, security disabled, not
authorized, no answer in time) is recorded in `manifest.json` under `calls` as `unavailable`
with the reason, never an error. Client quotas and log-dir sizes have no confluent-kafka
method: they are recorded as unavailable with the CLI export that provides them.

Each answer is one JSON file (`{"kind": "exitkit-kafka-admin", "call": …, "cluster": …,
"observed_at": …, …}`) that `exitkit.ingest.kafka_admin` reads into the snapshot tables.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import confluent_kafka
from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import (
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ConfigResource,
    ConfigSource,
    OffsetSpec,
    ResourcePatternType,
    ResourceType,
)

from exitkit.collect._output import Export, bar, default_folder, utc_iso
from exitkit.errors import CollectError
from exitkit.ingest.kafka_admin import ADMIN_KIND
from exitkit.kafka_client import ClientLog, KafkaClientError, client_settings, connect

# Admin calls by the API key the broker must advertise for them (Kafka protocol numbers).
API_KEYS = {
    "metadata": 3, "describe_cluster": 60, "topic_configs": 32, "broker_configs": 32, "log_offsets": 2,
    "consumer_groups": 16, "describe_groups": 15, "group_offsets": 9, "acls": 29, "quotas": 48, "log_dirs": 35,
}  # fmt: skip
CONFIG_BATCH = 100  # resources per DescribeConfigs request
GROUP_BATCH = 50  # groups per DescribeGroups request


class _Unavailable(Exception):
    """A call the broker refused or does not offer: recorded, not raised to the user."""


def collect(
    bootstrap: str,
    cluster: str,
    out: str | Path | None = None,
    *,
    settings: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
    timeout_s: float = 10.0,
    now: datetime | None = None,
    progress: bool | None = None,
) -> Path:
    """Read the cluster's metadata through the Admin API into a new folder; return the folder."""

    if not cluster or not cluster.strip():
        raise CollectError("--cluster: expected the name this cluster has in the store, e.g. prod-msk")
    cs = client_settings(bootstrap, settings, env)
    now = now or datetime.now(UTC)
    log = ClientLog()
    debug = ",".join(dict.fromkeys(filter(None, [*cs.settings.get("debug", "").split(","), "feature"])))
    admin = AdminClient({**cs.settings, "debug": debug, **log.config()})
    md = connect(admin, cs, log, timeout_s)  # unreachable: KafkaClientError before any folder exists
    export = Export(
        Path(out) if out else default_folder("kafka", cluster, now),
        {
            "source": "kafka",
            "cluster": cluster,
            "bootstrap": bootstrap,
            "started_at": utc_iso(now),
            "client": f"confluent-kafka {confluent_kafka.__version__} (librdkafka {confluent_kafka.libversion()[0]})",
            "settings": cs.shown(),
            "credentials": cs.credentials(),
        },
        secrets=cs.secrets,
    )
    run = _Run(admin, export, cluster, log, timeout_s, cs.scrub)
    try:
        run.all(md, progress)
    except KafkaClientError as exc:
        export.abandon(str(exc))
        raise
    except BaseException as exc:
        export.abandon(cs.scrub(str(exc)) or type(exc).__name__)
        raise
    export.close(calls=run.calls, topics=len(run.topics), groups=run.groups)
    return export.folder


class _Run:
    """One collection: the calls in order, each answer written as it comes."""

    def __init__(self, admin, export: Export, cluster: str, log: ClientLog, timeout_s: float, scrub) -> None:
        self.admin, self.export, self.cluster, self.log, self.timeout_s, self.scrub = (
            admin, export, cluster, log, timeout_s, scrub
        )  # fmt: skip
        self.calls: dict[str, dict] = {}
        self.topics: list[str] = []
        self.groups = 0
        self.versions: dict[int, dict] = {}

    # -- bookkeeping --------------------------------------------------------------------
    def write(self, call: str, body: dict, file: str | None = None) -> None:
        file = file or f"{call}.json"
        doc = {"kind": ADMIN_KIND, "call": call, "cluster": self.cluster, "observed_at": utc_iso(time.time()), **body}
        self.export.write_json(file, doc, call=call)
        self.calls[call] = {"status": "ok", "api_key": API_KEYS.get(call), "file": file}

    def unavailable(self, call: str, reason: str) -> None:
        self.calls[call] = {"status": "unavailable", "api_key": API_KEYS.get(call), "reason": self.scrub(reason)}

    def advertised(self, call: str) -> None:
        """Raise `_Unavailable` when ApiVersions was read and lacks the call's key (then it is never sent)."""
        key = API_KEYS.get(call)
        if self.versions and key is not None and key not in self.versions:
            raise _Unavailable(f"not supported by the broker (ApiVersions has no API key {key})")

    def result(self, future, what: str):
        """A future's result within the time budget; a refusal becomes `_Unavailable`."""

        try:
            return future.result(timeout=self.timeout_s + 5)
        except FutureTimeout:
            raise _Unavailable(f"{what}: no answer within {self.timeout_s:g} s") from None
        except KafkaException as exc:
            err = exc.args[0] if exc.args else None
            name = err.name() if hasattr(err, "name") else type(exc).__name__
            text = err.str() if hasattr(err, "str") else str(exc)
            raise _Unavailable(f"{what}: {name} ({text})") from None
        except (RuntimeError, ValueError, TypeError) as exc:  # the client choking on an odd answer
            raise _Unavailable(f"{what}: {type(exc).__name__}: {exc}") from None

    def step(self, call: str, fn) -> None:
        try:
            self.advertised(call)
            fn()
        except _Unavailable as exc:
            self.unavailable(call, str(exc))

    # -- the calls ----------------------------------------------------------------------
    def all(self, md, progress: bool | None) -> None:
        self.admin.poll(0)
        self.versions = self.log.api_versions()
        steps = [
            ("api_versions", lambda: self._api_versions()),
            ("describe_cluster", lambda: self._cluster(md)),
            ("metadata", lambda: self._metadata(md)),
            ("topic_configs", lambda: self._configs("topic")),
            ("broker_configs", lambda: self._configs("broker", md)),
            ("consumer_groups", lambda: self._groups()),
            ("log_offsets", lambda: self._log_offsets(md)),
            ("acls", lambda: self._acls()),
            ("quotas", lambda: self._no_method("quotas", "DescribeClientQuotas",
                                               "kafka-configs.sh --describe --entity-type users,clients")),
            ("log_dirs", lambda: self._no_method("log_dirs", "DescribeLogDirs", "kafka-log-dirs.sh --describe")),
        ]  # fmt: skip
        for call, fn in bar(steps, "kafka admin", "call", progress):
            self.step(call, fn)

    def _api_versions(self) -> None:
        if not self.versions:
            raise _Unavailable(
                "librdkafka logged no ApiVersions answer (broker older than 0.10, or api.version.request=false)"
            )
        self.write("api_versions", {"apis": [self.versions[k] for k in sorted(self.versions)]})

    def _cluster(self, md) -> None:
        desc = self.result(self.admin.describe_cluster(request_timeout=self.timeout_s), "DescribeCluster")
        self.write(
            "describe_cluster",
            {
                "cluster_id": desc.cluster_id,
                "controller": None if desc.controller is None else desc.controller.id,
                "nodes": [{"id": n.id, "host": n.host, "port": n.port, "rack": n.rack} for n in desc.nodes],
            },
        )

    def _metadata(self, md) -> None:
        topics = []
        for name in sorted(md.topics):
            t = md.topics[name]
            topics.append(
                {
                    "topic": name,
                    "error": None if t.error is None else t.error.name(),
                    "partitions": [
                        {
                            "partition": p.id,
                            "leader": p.leader,
                            "replicas": list(p.replicas),
                            "isrs": list(p.isrs),
                            "error": None if p.error is None else p.error.name(),
                        }
                        for p in sorted(t.partitions.values(), key=lambda p: p.id)
                    ],
                }  # fmt: skip
            )
        self.topics = [t["topic"] for t in topics]
        self.write(
            "metadata",
            {
                "cluster_id": md.cluster_id,
                "controller": md.controller_id,
                "brokers": [{"id": b.id, "host": b.host, "port": b.port} for b in md.brokers.values()],
                "topics": topics,
            },
        )

    def _configs(self, kind: str, md=None) -> None:

        rtype = ConfigResource.Type.TOPIC if kind == "topic" else ConfigResource.Type.BROKER
        names = self.topics if kind == "topic" else [str(b) for b in sorted(md.brokers)]
        out, refused = [], []
        for i in range(0, len(names), CONFIG_BATCH):
            resources = [ConfigResource(rtype, n) for n in names[i : i + CONFIG_BATCH]]
            futures = self.admin.describe_configs(resources, request_timeout=self.timeout_s)
            for res, fut in futures.items():
                try:
                    entries = self.result(fut, f"DescribeConfigs {kind} {res.name}")
                except _Unavailable as exc:
                    refused.append(str(exc))
                    continue
                out.append(
                    {
                        kind: res.name,
                        "configs": [
                            {
                                "name": e.name,
                                "value": None if e.is_sensitive else e.value,
                                "source": _config_source(e.source),
                                "is_default": e.is_default,
                                "is_sensitive": e.is_sensitive,
                                "is_read_only": e.is_read_only,
                            }
                            for e in sorted(entries.values(), key=lambda e: e.name)
                        ],
                    }  # fmt: skip
                )
        if not out and refused:
            raise _Unavailable(refused[0] + (f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""))
        body: dict[str, Any] = {"resources": out}
        if refused:
            body["refused"] = refused
        self.write(f"{kind}_configs", body)

    def _groups(self) -> None:

        listed = self.result(self.admin.list_consumer_groups(request_timeout=self.timeout_s), "ListGroups")
        ids = sorted(g.group_id for g in listed.valid)
        described: dict[str, dict] = {}
        notes: list[str] = [f"ListGroups: {e}" for e in listed.errors]
        try:
            self.advertised("describe_groups")
            for i in range(0, len(ids), GROUP_BATCH):
                futs = self.admin.describe_consumer_groups(ids[i : i + GROUP_BATCH], request_timeout=self.timeout_s)
                for gid, fut in futs.items():
                    try:
                        d = self.result(fut, f"DescribeGroups {gid}")
                    except _Unavailable as exc:
                        notes.append(str(exc))
                        continue
                    described[gid] = {
                        "state": _enum_name(d.state),
                        "type": _enum_name(getattr(d, "type", None)),
                        "protocol": d.partition_assignor or None,
                        "coordinator": None if d.coordinator is None else d.coordinator.id,
                        "members": [
                            {"member_id": m.member_id, "client_id": m.client_id, "host": m.host,
                             "assignment": [{"topic": tp.topic, "partition": tp.partition}
                                            for tp in (m.assignment.topic_partitions if m.assignment else [])]}
                            for m in d.members
                        ],
                    }  # fmt: skip
        except _Unavailable as exc:
            self.unavailable("describe_groups", str(exc))
        committed: dict[str, list[dict]] = {}
        try:
            self.advertised("group_offsets")
            for gid in ids:
                futs = self.admin.list_consumer_group_offsets(
                    [ConsumerGroupTopicPartitions(gid)], request_timeout=self.timeout_s
                )
                try:
                    res = self.result(futs[gid], f"OffsetFetch {gid}")
                except _Unavailable as exc:
                    notes.append(str(exc))
                    continue
                committed[gid] = [
                    {"topic": tp.topic, "partition": tp.partition, "offset": tp.offset if tp.offset >= 0 else None,
                     "metadata": tp.metadata or None}
                    for tp in sorted(res.topic_partitions or [], key=lambda tp: (tp.topic, tp.partition))
                    if tp.error is None
                ]  # fmt: skip
        except _Unavailable as exc:
            self.unavailable("group_offsets", str(exc))
        # Log-end offsets after the commits, so lag is never negative (as kafka-consumer-groups does).
        tps = sorted({(c["topic"], c["partition"]) for rows in committed.values() for c in rows})
        for m in (m for d in described.values() for m in d["members"]):
            tps = sorted(set(tps) | {(a["topic"], a["partition"]) for a in m["assignment"]})
        ends = self._offsets(tps, "latest") if tps else {}
        groups = []
        for gid in ids:
            groups.append(
                {
                    "group": gid,
                    **described.get(
                        gid, {"state": None, "type": None, "protocol": None, "coordinator": None, "members": []}
                    ),
                    "offsets": [
                        {**c, "log_end_offset": ends.get((c["topic"], c["partition"]))} for c in committed.get(gid, [])
                    ],
                }  # fmt: skip
            )
        self.groups = len(groups)
        body: dict[str, Any] = {"groups": groups, "log_end_offsets_read": "after the committed offsets"}
        if notes:
            body["notes"] = [self.scrub(n) for n in notes]
        if gaps := [(t, p) for t, p in tps if (t, p) not in ends]:
            body["notes"] = [*body.get("notes", []), f"no log-end offset for {len(gaps)} partition(s)"]
        self.write("consumer_groups", body)

    def _offsets(self, tps: list[tuple[str, int]], spec: str) -> dict[tuple[str, int], int]:
        """ListOffsets (earliest | latest) per partition; partitions the broker refused are absent."""

        self.advertised("log_offsets")
        maker = OffsetSpec.latest if spec == "latest" else OffsetSpec.earliest
        out: dict[tuple[str, int], int] = {}
        for i in range(0, len(tps), 1000):
            req = {TopicPartition(t, p): maker() for t, p in tps[i : i + 1000]}
            futs = self.admin.list_offsets(req, request_timeout=self.timeout_s)
            for tp, fut in futs.items():
                try:
                    out[(tp.topic, tp.partition)] = self.result(fut, f"ListOffsets {tp.topic}-{tp.partition}").offset
                except _Unavailable:
                    continue
        return out

    def _log_offsets(self, md) -> None:
        tps = [(t, p) for t in self.topics for p in sorted(md.topics[t].partitions)]
        earliest, latest = self._offsets(tps, "earliest"), self._offsets(tps, "latest")
        if tps and not latest:
            raise _Unavailable("ListOffsets refused for every partition")
        self.write(
            "log_offsets",
            {
                "partitions": [
                    {"topic": t, "partition": p, "earliest": earliest.get((t, p)), "latest": latest.get((t, p))}
                    for t, p in tps
                ]
            },
        )

    def _acls(self) -> None:
        flt = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY,
                               AclPermissionType.ANY)  # fmt: skip
        bindings = self.result(self.admin.describe_acls(flt, request_timeout=self.timeout_s), "DescribeAcls")
        self.write(
            "acls",
            {
                "acls": [
                    {"resource_type": _enum_name(b.restype), "resource_name": b.name,
                     "pattern_type": _enum_name(b.resource_pattern_type), "principal": b.principal, "host": b.host,
                     "operation": _enum_name(b.operation), "permission": _enum_name(b.permission_type)}
                    for b in bindings
                ]
            },
        )  # fmt: skip

    def _no_method(self, call: str, api: str, cli: str) -> None:
        key = API_KEYS[call]
        said = (
            "" if not self.versions else
            "; the broker does not advertise it either" if key not in self.versions else "; the broker advertises it"
        )  # fmt: skip
        raise _Unavailable(f"confluent-kafka has no {api} (API key {key}) method{said}: export `{cli}` and ingest it")


def _config_source(v: Any) -> str | None:
    """Kafka's name for where a config value comes from (`DYNAMIC_TOPIC_CONFIG`, `DEFAULT_CONFIG`, …)."""

    try:
        return ConfigSource(int(getattr(v, "value", v))).name
    except (ValueError, TypeError):
        return _enum_name(v)


def _enum_name(v: Any) -> str | None:
    if v is None:
        return None
    return getattr(v, "name", None) or str(v)
