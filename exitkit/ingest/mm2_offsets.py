"""MirrorMaker 2 internal topics dumped with the MM2 formatters.

`kafka-console-consumer.sh --formatter ...CheckpointFormatter` prints
`Checkpoint{consumerGroupId=g, topicPartition=primary.orders.v1-3, upstreamOffset=.., downstreamOffset=.., metadata=}`
and `...OffsetSyncFormatter` prints `OffsetSync{topicPartition=orders.v1-3, upstreamOffset=.., downstreamOffset=..}`.
Rows go to `mm2_checkpoints` / `mm2_offset_syncs` with `seq` = order in the file (1, 2, ...
per table): the topics are compacted logs, so the latest record per key wins when read.
The console consumer's "Processed a total of N messages" line is skipped. Some Kafka releases' `Checkpoint.toString()`
print `metatadata=` (sic): both spellings are read.
"""

from __future__ import annotations

import re

from exitkit.ingest._kafka_cli import cluster_for, frame, numbered_lines, split_topic_partition, to_int
from exitkit.ingest.base import Reader, ReadResult, Source, register

_CHECKPOINT = re.compile(
    r"^Checkpoint\{consumerGroupId=(?P<group>.*), topicPartition=(?P<tp>\S+), "
    r"upstreamOffset=(?P<up>-?\d+), downstreamOffset=(?P<down>-?\d+), meta(?:ta)?data=(?P<meta>.*)\}$"
)
_OFFSET_SYNC = re.compile(
    r"^OffsetSync\{topicPartition=(?P<tp>\S+), upstreamOffset=(?P<up>-?\d+), downstreamOffset=(?P<down>-?\d+)\}$"
)
_PROCESSED = re.compile(r"^Processed a total of \d+ messages?$")
_SNIFF = re.compile(r"^(Checkpoint\{consumerGroupId=|OffsetSync\{topicPartition=)", re.MULTILINE)


def sniff(head: str, source: Source) -> bool:
    return bool(_SNIFF.search(head))


def read(source: Source) -> ReadResult:
    cluster = cluster_for(source)
    checkpoints: list[dict] = []
    syncs: list[dict] = []
    for n, raw in numbered_lines(source):
        text = raw.strip()
        if not text or _PROCESSED.match(text):
            continue
        if m := _CHECKPOINT.match(text):
            topic, partition = _topic_partition(m.group("tp"), source, n)
            checkpoints.append(
                {
                    "cluster": cluster,
                    "consumer_group": m.group("group"),
                    "topic": topic,
                    "partition": partition,
                    "upstream_offset": to_int(m.group("up"), source, n, "upstreamOffset"),
                    "downstream_offset": to_int(m.group("down"), source, n, "downstreamOffset"),
                    "metadata": m.group("meta"),
                    "seq": len(checkpoints) + 1,
                }  # fmt: skip
            )
        elif m := _OFFSET_SYNC.match(text):
            topic, partition = _topic_partition(m.group("tp"), source, n)
            syncs.append(
                {
                    "cluster": cluster,
                    "topic": topic,
                    "partition": partition,
                    "upstream_offset": to_int(m.group("up"), source, n, "upstreamOffset"),
                    "downstream_offset": to_int(m.group("down"), source, n, "downstreamOffset"),
                    "seq": len(syncs) + 1,
                }  # fmt: skip
            )
        else:
            raise source.fail(
                "expected `Checkpoint{consumerGroupId=..., topicPartition=..., upstreamOffset=N, downstreamOffset=N, "
                "metadata=...}` or `OffsetSync{topicPartition=..., upstreamOffset=N, downstreamOffset=N}`",
                n,
            )
    return ReadResult(
        cluster=cluster,
        snapshots={
            "mm2_checkpoints": frame("mm2_checkpoints", checkpoints),
            "mm2_offset_syncs": frame("mm2_offset_syncs", syncs),
        },
    )


def _topic_partition(text: str, source: Source, n: int) -> tuple[str, int]:
    tp = split_topic_partition(text)
    if tp is None:
        raise source.fail(
            f"topicPartition {text[:60]!r} is not `<topic>-<partition number>` (partitions 0 to 2147483647)", n
        )
    return tp


READER = register(
    Reader(
        name="mm2-offsets",
        description="MirrorMaker 2 CheckpointFormatter / OffsetSyncFormatter console output",
        sniff=sniff,
        read=read,
    )
)
