"""`kafka-consumer-groups.sh --describe --group G | --all-groups`: committed offsets and lag.

Space-padded columns under a `GROUP TOPIC PARTITION CURRENT-OFFSET ...` header (repeated per
group with --all-groups, blank lines between groups). `-` is NULL. HOST is stored without
Kafka's leading `/`. Status lines ("Consumer group 'x' has no active members.", "... is
rebalancing", "Error: ... does not exist.") become notes. The `--state` and `--members`
variants hold no offsets: they are refused with a line saying which output to save instead.

Kafka 0.10.2-1.x print no GROUP column (`TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG
CONSUMER-ID HOST CLIENT-ID`, `--describe` took one `--group`) and often a leading `Note: This
will not show information about old Zookeeper-based consumers.` line (kept as a note). The
group then comes from `exitkit ingest --group NAME`, else from the file's one `Consumer group
'G' ...` status line; with neither the file is refused, saying so.
"""

from __future__ import annotations

import re

from exitkit.ingest._kafka_cli import INT32, INT64, cluster_for, frame, numbered_lines, to_int
from exitkit.ingest.base import Reader, ReadResult, Source, register

_OFFSETS_HEADER = re.compile(r"^\s*(GROUP\s+)?TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\b")
_OTHER_HEADER = re.compile(r"^\s*GROUP\s+(COORDINATOR|CONSUMER-ID)\b")
_STATUS = re.compile(r"^(Warning: |Error: )?Consumer group '(?P<group>.*)'")
_NOTE = re.compile(r"^Note: ")
_SNIFF = re.compile(
    r"^\s*GROUP\s+(TOPIC\s+PARTITION\s+CURRENT-OFFSET|COORDINATOR \(ID\)|CONSUMER-ID\s+HOST)"
    r"|^\s*TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+CONSUMER-ID\b"
    r"|^(Warning: |Error: )?Consumer group '.*' (has no active members|is rebalancing|does not exist)",
    re.MULTILINE,
)
# Header name -> (column, kind). Unknown header names are read and dropped.
_COLUMNS = {
    "GROUP": ("consumer_group", str), "TOPIC": ("topic", str), "PARTITION": ("partition", int),
    "CURRENT-OFFSET": ("current_offset", int), "LOG-END-OFFSET": ("log_end_offset", int),
    "LAG": ("lag", int), "CONSUMER-ID": ("consumer_id", str), "HOST": ("host", str),
    "CLIENT-ID": ("client_id", str),
}  # fmt: skip


def sniff(head: str, source: Source) -> bool:
    return bool(_SNIFF.search(head))


def read(source: Source) -> ReadResult:
    cluster = cluster_for(source)
    result = ReadResult(cluster=cluster)
    rows: list[dict] = []
    header: list[str] | None = None
    named = {m.group("group") for _, text in numbered_lines(source) if (m := _STATUS.match(text))}
    group = source.group or (named.pop() if len(named) == 1 else None)  # used only without a GROUP column
    for n, text in numbered_lines(source):
        if not text.strip():
            continue
        if _OFFSETS_HEADER.match(text):
            header = text.split()
            if header[0] != "GROUP" and group is None:
                raise source.fail(
                    "this kafka-consumer-groups output (Kafka 0.10.2-1.x) has no GROUP column and does not name its "
                    "group: pass --group NAME (the --group given to kafka-consumer-groups.sh)",
                    n,
                )
        elif _OTHER_HEADER.match(text):
            raise source.fail(
                "this is kafka-consumer-groups --describe --state or --members output, which holds no offsets; "
                "save `kafka-consumer-groups.sh --describe --all-groups` instead",
                n,
            )
        elif _STATUS.match(text) or (header is None and _NOTE.match(text)):
            result.notes.append(text.strip())
        elif header is None:
            raise source.fail("expected a `GROUP TOPIC PARTITION CURRENT-OFFSET ...` header line", n)
        else:
            rows.append(_row(header, text, cluster, source, n, group))
    result.snapshots["consumer_offsets"] = frame("consumer_offsets", rows)
    return result


def _row(header: list[str], text: str, cluster: str, source: Source, n: int, group: str | None) -> dict:
    """One padded data line; the last column (CLIENT-ID) keeps any spaces it holds.
    `group`: the group of outputs without a GROUP column (Kafka 0.10.2-1.x)."""
    values = text.split(None, len(header) - 1)
    if len(values) != len(header):
        raise source.fail(f"{len(values)} columns; expected {len(header)} ({' '.join(header)})", n)
    row: dict = {"cluster": cluster, "consumer_group": group}
    for name, raw in zip(header, values, strict=True):
        if name not in _COLUMNS:
            continue
        column, kind = _COLUMNS[name]
        value = raw.strip()
        if value == "-":
            row[column] = None
        elif kind is int:
            row[column] = to_int(value, source, n, name, INT32 if column == "partition" else INT64)
        else:
            row[column] = value
    if not row.get("consumer_group"):
        raise source.fail("GROUP is missing; expected the group name in the first column", n)
    if row.get("host"):
        row["host"] = row["host"].removeprefix("/")  # Kafka prints InetAddress.toString(): "/10.1.2.3"
    return row


READER = register(
    Reader(
        name="kafka-consumer-groups",
        description="kafka-consumer-groups.sh --describe [--all-groups] output (committed offsets, lag)",
        sniff=sniff,
        read=read,
    )
)
