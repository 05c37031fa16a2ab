"""Kafka Admin API answers written by `exitkit collect kafka`: one JSON file per call.

Every file starts `{"kind": "exitkit-kafka-admin", "call": …, "cluster": …, "observed_at": …}`
and names its cluster, so no `--cluster` is needed. Calls and what they fill:
- `metadata` → `partition_replicas` (one row per distinct replica: is_leader, in_sync) and
  `topic_configs` pseudo-configs `partition_count`, `replication_factor` (distinct replicas);
- `topic_configs` / `broker_configs` → `topic_configs` (broker rows with topic NULL), with
  `config_source` as Kafka names it (`DYNAMIC_TOPIC_CONFIG`, `DEFAULT_CONFIG`, …); sensitive
  or credential-like values are stored as NULL;
- `consumer_groups` → `consumer_offsets`: one row per committed partition (current offset,
  log-end offset, lag = log-end − committed, never below 0) with the assigned member's
  id / host / client id, and one row per assigned partition without a commit (offset NULL);
- `acls` → `acls`;
- `api_versions`, `describe_cluster`, `log_offsets`: kept as evidence, no rows (companions).
"""

from __future__ import annotations

import json
import re

import pandas as pd

from exitkit.ingest._kafka_cli import INT32, INT64, check_int, check_json_text, frame, stored_config
from exitkit.ingest.base import Reader, ReadResult, Source, register

ADMIN_KIND = "exitkit-kafka-admin"
_HEAD = re.compile(r'^\s*\{\s*"kind"\s*:\s*"' + ADMIN_KIND + '"')
COMPANION_CALLS = ("api_versions", "describe_cluster", "log_offsets")


def sniff(head: str, source: Source) -> bool:
    return bool(_HEAD.match(head))


def read(source: Source) -> ReadResult:
    text = source.text()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise source.fail(f"not valid JSON ({exc.msg}); expected an exitkit collect kafka answer", exc.lineno) from None
    except RecursionError:
        raise source.fail("JSON nested too deeply; expected an exitkit collect kafka answer") from None
    if not isinstance(doc, dict):
        raise source.fail("expected a JSON object (an exitkit collect kafka answer)")
    check_json_text(doc, source, text=text)
    cluster = doc.get("cluster")
    if not isinstance(cluster, str) or not cluster:
        cluster = source.cluster
    if not cluster:
        raise source.fail('no "cluster" in the file; pass --cluster NAME')
    call = doc.get("call")
    observed = _observed(doc, source)
    result = ReadResult(cluster=cluster)
    if call in COMPANION_CALLS:
        result.skip = True
        result.notes.append(f"kafka admin {call} (evidence, no rows)")
        return result
    if call == "metadata":
        replicas, configs = _metadata(doc, cluster, observed, source)
        result.snapshots["partition_replicas"] = frame("partition_replicas", replicas)
        result.snapshots["topic_configs"] = frame("topic_configs", configs)
    elif call in ("topic_configs", "broker_configs"):
        result.snapshots["topic_configs"] = frame("topic_configs", _configs(doc, call, cluster, observed, source))
        for r in doc.get("refused") or []:
            result.notes.append(str(r))
    elif call == "consumer_groups":
        result.snapshots["consumer_offsets"] = frame("consumer_offsets", _groups(doc, cluster, observed, source))
        for n in doc.get("notes") or []:
            result.notes.append(str(n))
    elif call == "acls":
        result.snapshots["acls"] = frame("acls", _acls(doc, cluster, source))
    else:
        raise source.fail(f"unknown call {str(call)[:40]!r}; expected one of metadata, topic_configs, "
                          "broker_configs, consumer_groups, acls, " + ", ".join(COMPANION_CALLS))  # fmt: skip
    return result


def _observed(doc: dict, source: Source):
    try:
        ts = pd.Timestamp(doc.get("observed_at"))
    except (ValueError, TypeError):
        raise source.fail(f"observed_at {str(doc.get('observed_at'))[:40]!r} is not a UTC time") from None
    if pd.isna(ts):
        return None
    return (ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo else ts).to_datetime64()


def _list(doc: dict, key: str, source: Source) -> list:
    v = doc.get(key)
    if not isinstance(v, list):
        raise source.fail(f'"{key}" is not a list')
    return v


def _int(v, source: Source, what: str, bounds=INT64) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise source.fail(f"{what} {str(v)[:40]!r} is not an integer")
    return check_int(v, source, None, what, bounds)


def _metadata(doc: dict, cluster: str, observed, source: Source) -> tuple[list[dict], list[dict]]:
    replicas, configs = [], []
    for t in _list(doc, "topics", source):
        topic = t.get("topic")
        if not isinstance(topic, str) or not topic:
            raise source.fail("a topic without a name in metadata")
        parts = t.get("partitions") or []
        rf = 0
        for p in parts:
            part = _int(p.get("partition"), source, f"{topic} partition", INT32)
            leader = p.get("leader")
            isr = {_int(b, source, f"{topic}-{part} isr") for b in p.get("isrs") or []}
            distinct = list(dict.fromkeys(_int(b, source, f"{topic}-{part} replica") for b in p.get("replicas") or []))
            rf = max(rf, len(distinct))
            for b in distinct:
                replicas.append({"cluster": cluster, "topic": topic, "partition": part, "broker": str(b),
                                 "is_leader": b == leader, "in_sync": b in isr, "observed_at": observed})  # fmt: skip
        for name, value in (("partition_count", len(parts)), ("replication_factor", rf or None)):
            if value is not None:
                configs.append({"cluster": cluster, "topic": topic, "name": name, "value": str(value),
                                "sensitive": False, "observed_at": observed})  # fmt: skip
    return replicas, configs


def _configs(doc: dict, call: str, cluster: str, observed, source: Source) -> list[dict]:
    key = "topic" if call == "topic_configs" else "broker"
    rows = []
    for r in _list(doc, "resources", source):
        name = r.get(key)
        if not isinstance(name, str) or not name:
            raise source.fail(f"a {key} resource without a name")
        for e in r.get("configs") or []:
            cname = e.get("name")
            if not isinstance(cname, str) or not cname:
                raise source.fail(f"a config of {key} {name} without a name")
            raw = e.get("value")
            value, sensitive = stored_config(cname, None if raw is None else str(raw), bool(e.get("is_sensitive")))
            rows.append({"cluster": cluster, "topic": name if key == "topic" else None, "name": cname,
                         "value": value, "config_source": e.get("source"), "sensitive": sensitive,
                         "observed_at": observed})  # fmt: skip
    return rows


def _groups(doc: dict, cluster: str, observed, source: Source) -> list[dict]:
    rows = []
    for g in _list(doc, "groups", source):
        gid = g.get("group")
        if not isinstance(gid, str) or not gid:
            raise source.fail("a consumer group without a name")
        owner: dict[tuple[str, int], dict] = {}
        for m in g.get("members") or []:
            for a in m.get("assignment") or []:
                owner[(a.get("topic"), a.get("partition"))] = m
        seen = set()
        for o in g.get("offsets") or []:
            topic, part = o.get("topic"), _int(o.get("partition"), source, f"{gid} partition", INT32)
            seen.add((topic, part))
            cur = None if o.get("offset") is None else _int(o["offset"], source, f"{gid} {topic}-{part} offset")
            end = o.get("log_end_offset")
            end = None if end is None or end < 0 else _int(end, source, f"{gid} {topic}-{part} log_end_offset")
            m = owner.get((topic, part), {})
            rows.append({"cluster": cluster, "consumer_group": gid, "topic": topic, "partition": part,
                         "current_offset": cur, "log_end_offset": end,
                         "lag": None if cur is None or end is None else max(end - cur, 0),
                         "consumer_id": m.get("member_id"), "host": m.get("host"), "client_id": m.get("client_id"),
                         "observed_at": observed})  # fmt: skip
        for (topic, part), m in sorted(owner.items(), key=lambda kv: (str(kv[0][0]), kv[0][1] or 0)):
            if (topic, part) not in seen:
                rows.append({"cluster": cluster, "consumer_group": gid, "topic": topic, "partition": part,
                             "consumer_id": m.get("member_id"), "host": m.get("host"),
                             "client_id": m.get("client_id"), "observed_at": observed})  # fmt: skip
        if not g.get("offsets") and not owner:
            # a group with neither commits nor members: one row so the group is known (as the CLI prints it)
            rows.append({"cluster": cluster, "consumer_group": gid, "observed_at": observed})
    return rows


def _acls(doc: dict, cluster: str, source: Source) -> list[dict]:
    rows = []
    for a in _list(doc, "acls", source):
        row = {k: a.get(k) for k in ("resource_type", "resource_name", "pattern_type", "principal", "host",
                                     "operation", "permission")}  # fmt: skip
        missing = [k for k in ("resource_type", "resource_name", "pattern_type", "principal", "operation",
                               "permission") if not isinstance(row[k], str)]  # fmt: skip
        if missing:
            raise source.fail(f"an ACL without {', '.join(missing)}")
        rows.append({"cluster": cluster, **row})
    return rows


READER = register(
    Reader(
        name="kafka-admin",
        description="Kafka Admin API answers written by `exitkit collect kafka` (topics, configs, groups, ACLs)",
        sniff=sniff,
        read=read,
    )
)
