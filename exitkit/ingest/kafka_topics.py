"""`kafka-topics.sh --describe`: partitions, replica placement and non-default topic configs.

A topic header line (`Topic: T  TopicId: …  PartitionCount: 6  ReplicationFactor: 3  Configs: …`)
then one line per partition (`Topic: T  Partition: 0  Leader: 1  Replicas: 1,2,3  Isr: 1,2`).
Fields are `Key: value` separated by tabs (spaces in old versions; pre-2.4 headers have no
space after the colon). Unknown keys are tolerated. Output:
- `partition_replicas`: one row per replica (is_leader, in_sync; no size);
- `topic_configs`: each `Configs:` entry (non-default values, source not stated so
  `config_source` is NULL), plus pseudo-configs from the header: `partition_count`,
  `replication_factor`, and `topic_id` / `marked_for_deletion` when shown.
"""

from __future__ import annotations

import re

from exitkit.ingest._kafka_cli import (
    INT32,
    cluster_for,
    config_value,
    frame,
    numbered_lines,
    split_config_list,
    stored_config,
    to_int,
)
from exitkit.ingest.base import Reader, ReadResult, Source, register

_SNIFF = re.compile(r"^\s*Topic:\s*\S+\s+(?:TopicId:\s*\S+\s+)?(?:PartitionCount|Partition):", re.MULTILINE)
# A key starts a line or follows whitespace. Only the two known two-word keys may hold a
# space: a generic two-word pattern would read topic `Orders` + `PartitionCount:` as one key.
_KEY = re.compile(r"(?:^|(?<=\s))(Adding Replicas|Removing Replicas|[A-Z][A-Za-z]*):")
_MARKED = re.compile(r"\s+MarkedForDeletion:\s*(\S*)\s*$")
_NO_LEADER = {"none", "-1"}


def sniff(head: str, source: Source) -> bool:
    return bool(_SNIFF.search(head))


def fields(text: str) -> dict[str, str]:
    """`Key: value` pairs of one line; `Configs:` takes the rest of the line (values hold anything)
    except a trailing `MarkedForDeletion: true`, which Kafka prints after the configs."""
    out: dict[str, str] = {}
    matches = list(_KEY.finditer(text))
    for i, m in enumerate(matches):
        if m.group(1) == "Configs":
            value = text[m.end() :]
            if marked := _MARKED.search(value):
                out["MarkedForDeletion"] = marked.group(1)
                value = value[: marked.start()]
            out["Configs"] = value.strip()
            break
        end = len(text) if i + 1 == len(matches) else matches[i + 1].start()
        out[m.group(1)] = text[m.end() : end].strip()
    return out


def read(source: Source) -> ReadResult:
    cluster = cluster_for(source)
    result = ReadResult(cluster=cluster)
    replicas: list[dict] = []
    configs: list[dict] = []
    for n, text in numbered_lines(source):
        if not text.strip():
            continue
        f = fields(text)
        if "Topic" not in f or not f["Topic"]:
            raise source.fail("expected a `Topic: <name> ...` header or partition line of kafka-topics --describe", n)
        if "Partition" in f:
            replicas.extend(_partition_rows(f, cluster, source, n))
        elif "PartitionCount" in f:
            configs.extend(_header_rows(f, cluster, source, n))
            if f.get("MarkedForDeletion", "").lower() == "true":
                result.notes.append(f"topic {f['Topic']} is marked for deletion")
        else:
            raise source.fail("expected `PartitionCount:` (topic header) or `Partition:` (partition line)", n)
    result.snapshots["partition_replicas"] = frame("partition_replicas", replicas)
    result.snapshots["topic_configs"] = frame("topic_configs", configs)
    return result


def _header_rows(f: dict[str, str], cluster: str, source: Source, n: int) -> list[dict]:
    topic = f["Topic"]
    rows = []

    def add(name: str, value: str | None) -> None:
        value, sensitive = stored_config(name, value)  # `Configs:` may list a credential in clear
        rows.append({"cluster": cluster, "topic": topic, "name": name, "value": value, "sensitive": sensitive})

    add("partition_count", str(to_int(f["PartitionCount"], source, n, "PartitionCount", INT32)))
    if "ReplicationFactor" not in f:
        raise source.fail("topic header without `ReplicationFactor:`", n)
    add("replication_factor", str(to_int(f["ReplicationFactor"], source, n, "ReplicationFactor", INT32)))
    if f.get("TopicId"):
        add("topic_id", f["TopicId"])
    if "MarkedForDeletion" in f:
        add("marked_for_deletion", f["MarkedForDeletion"].lower())
    for item in split_config_list(f.get("Configs", "")):
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise source.fail(f"config {item[:60]!r} in `Configs:` is not name=value", n)
        add(name, config_value(value))
    return rows


def _partition_rows(f: dict[str, str], cluster: str, source: Source, n: int) -> list[dict]:
    """One row per replica listed in `Replicas:`."""
    partition = to_int(f["Partition"], source, n, "Partition", INT32)
    for key in ("Leader", "Replicas"):
        if key not in f:
            raise source.fail(f"partition line without `{key}:`", n)
    leader = f["Leader"]
    leader_id = None if leader.lower() in _NO_LEADER else to_int(leader, source, n, "Leader")
    replicas = _ids(f["Replicas"], source, n, "Replicas")
    if not replicas:
        raise source.fail("`Replicas:` is empty; expected broker ids like 1,2,3", n)
    isr = set(_ids(f.get("Isr", ""), source, n, "Isr"))
    return [
        {
            "cluster": cluster,
            "topic": f["Topic"],
            "partition": partition,
            "broker": str(r),
            "is_leader": r == leader_id,
            "in_sync": r in isr,
        }  # fmt: skip
        for r in replicas
    ]


def _ids(text: str, source: Source, n: int, what: str) -> list[int]:
    """A broker id list: `1,2,3`, empty, or `N/A` (Elr-style) as empty."""
    text = text.strip()
    if not text or text == "N/A":
        return []
    return [to_int(x.strip(), source, n, what) for x in text.split(",")]


READER = register(
    Reader(
        name="kafka-topics",
        description="kafka-topics.sh --describe output (partitions, replicas, topic configs)",
        sniff=sniff,
        read=read,
    )
)
