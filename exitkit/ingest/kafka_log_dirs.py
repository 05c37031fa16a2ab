"""`kafka-log-dirs.sh --describe`: replica sizes on each broker's log directories.

Banner lines, then one line of JSON: brokers → logDirs → partitions, one entry per replica.
Every replica becomes a `partition_replicas` row, including `isFuture` ones (reassignment
copies, stored with is_future = true and ignored by the profile) so the table keeps what the
file says. Offline directories (`error` non-null) are reported as a note; their replicas, if
listed, carry `dir_error`.
"""

from __future__ import annotations

import json
import re

from exitkit.ingest._kafka_cli import (
    check_int,
    check_json_text,
    cluster_for,
    frame,
    numbered_lines,
    split_topic_partition,
)
from exitkit.ingest.base import Reader, ReadResult, Source, register

_SNIFF = re.compile(r'"logDirs"\s*:')


def sniff(head: str, source: Source) -> bool:
    return bool(_SNIFF.search(head)) and ('"brokers"' in head or "log directories" in head)


def read(source: Source) -> ReadResult:
    cluster = cluster_for(source)
    doc, line = _json_line(source)
    result = ReadResult(cluster=cluster)
    rows: list[dict] = []
    for b, broker in enumerate(_get(doc, "brokers", list, source, line, "")):
        broker_id = _get(broker, "broker", (int, str), source, line, f"brokers[{b}]")
        for d, log_dir in enumerate(_get(broker, "logDirs", list, source, line, f"brokers[{b}]")):
            where = f"brokers[{b}].logDirs[{d}]"
            path = _get(log_dir, "logDir", str, source, line, where)
            error = log_dir.get("error")
            if error is not None:
                result.notes.append(f"broker {broker_id} log dir {path} is offline ({error}): its replicas are missing")
            parts = log_dir.get("partitions") or []  # an offline dir may list none, or omit the key
            if not isinstance(parts, list):
                raise source.fail(f"{where}.partitions is not a list", line)
            for p, part in enumerate(parts):
                rows.append(_replica(part, cluster, broker_id, path, error, source, line, f"{where}.partitions[{p}]"))
    result.snapshots["partition_replicas"] = frame("partition_replicas", rows)
    return result


def _replica(
    part: object, cluster: str, broker: object, log_dir: str, error: object, source: Source, line: int, where: str
) -> dict:
    """One replica entry → one row; `size` and `partition` are required, the rest optional."""
    name = _get(part, "partition", str, source, line, where)
    tp = split_topic_partition(name)
    if tp is None:
        raise source.fail(
            f"{where}.partition {name[:60]!r} is not `<topic>-<partition number>` (partitions 0 to 2147483647)", line
        )
    size = check_int(_get(part, "size", int, source, line, where), source, line, f"{where}.size")
    lag = part.get("offsetLag")  # type: ignore[union-attr]
    future = part.get("isFuture", False)  # type: ignore[union-attr]
    if lag is not None and (not isinstance(lag, int) or isinstance(lag, bool)):
        raise source.fail(f"{where}.offsetLag {str(lag)[:40]} is not an integer", line)
    if lag is not None:
        check_int(lag, source, line, f"{where}.offsetLag")
    if not isinstance(future, bool):
        raise source.fail(f"{where}.isFuture {future!r} is not true/false", line)
    return {
        "cluster": cluster, "topic": tp[0], "partition": tp[1], "broker": str(broker), "log_dir": log_dir,
        "size_bytes": size, "offset_lag": lag, "is_future": future,
        "dir_error": None if error is None else str(error),
    }  # fmt: skip


def _json_line(source: Source) -> tuple[dict, int]:
    """The single JSON line (banner lines before it are skipped) and its line number."""
    found: tuple[dict, int] | None = None
    for n, text in numbered_lines(source):
        if not text.lstrip().startswith("{"):
            continue  # banner: "Querying brokers ...", "Received log directory information ..."
        if found is not None:
            raise source.fail("a second JSON line; expected one kafka-log-dirs --describe output per file", n)
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise source.fail(
                f"broken JSON ({exc.msg} at column {exc.colno}); expected the log-dirs JSON line", n
            ) from None
        except RecursionError:
            raise source.fail("JSON nested too deeply; expected the log-dirs JSON line", n) from None
        if not isinstance(doc, dict):
            raise source.fail('JSON is not an object; expected {"brokers": [...]}', n)
        check_json_text(doc, source, n)
        found = (doc, n)
    if found is None:
        raise source.fail("no JSON line; expected the output of kafka-log-dirs.sh --describe")
    return found


def _get(obj: object, key: str, kind: type | tuple[type, ...], source: Source, line: int, where: str):
    """`obj[key]` of the expected JSON type, or a `BadExport` naming the JSON path."""
    path = f"{where}.{key}" if where else key
    if not isinstance(obj, dict):
        raise source.fail(f"{where or 'top level'} is not a JSON object", line)
    if key not in obj:
        raise source.fail(f"{path} is missing", line)
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise source.fail(f"{path} is {value!r}; expected {_kind_name(kind)}", line)
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {int: "an integer", str: "a string", list: "a list"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


READER = register(
    Reader(
        name="kafka-log-dirs",
        description="kafka-log-dirs.sh --describe output (replica sizes per broker)",
        sniff=sniff,
        read=read,
    )
)
