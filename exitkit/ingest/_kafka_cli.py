"""Shared helpers for the Kafka CLI readers (kafka-topics, kafka-configs, ... and MM2 formatters).

Not a reader itself (the leading underscore keeps the driver from importing it as one).
CLI outputs do not name their cluster, so every reader here asks `cluster_for` first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pandas as pd

from exitkit.ingest.base import Source
from exitkit.store.schema import SNAPSHOT_TABLES

# `<cluster>__<anything>`: the file-name convention for CLI outputs (documented in
# docs/formats/kafka-cli.md). Double underscore, because cluster names often hold `-` and `_`.
CLUSTER_SEPARATOR = "__"

_DDL_TYPES = {
    "INTEGER": "Int64",
    "BIGINT": "Int64",
    "BOOLEAN": "boolean",
    "DOUBLE": "float64",
    "TIMESTAMP": "datetime64[ns]",
}


def cluster_for(source: Source) -> str:
    """The cluster a CLI output is about: `--cluster`, else the file name's `<cluster>__` prefix.

    There is no third choice: a snapshot without a cluster cannot be joined to anything.
    """
    if source.cluster:
        return source.cluster
    name = source.path.name
    if CLUSTER_SEPARATOR in name:
        prefix = name.split(CLUSTER_SEPARATOR, 1)[0]
        if prefix.strip():
            return prefix
    raise source.fail(
        "this Kafka CLI output does not name its cluster: pass --cluster NAME "
        f"or name the file <cluster>{CLUSTER_SEPARATOR}{name}"
    )


def numbered_lines(source: Source) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its end-of-line), for LF and CRLF files alike.

    `str.splitlines` is avoided on purpose: it also splits on form feeds and Unicode line
    separators, which would make our line numbers disagree with an editor's.
    """
    for i, line in enumerate(source.text().split("\n"), start=1):
        yield i, line.rstrip("\r")


# The store's integer columns: partitions are INTEGER (Kafka's own int32), offsets and sizes
# BIGINT. A value outside them would fail in DuckDB at insert time, after the reader.
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


def split_topic_partition(text: str) -> tuple[str, int] | None:
    """`events-2024-3` -> ("events-2024", 3): the partition is after the LAST hyphen (ASCII digits, int32)."""
    topic, sep, part = text.rpartition("-")
    if not sep or not topic or not (part.isascii() and part.isdigit()) or int(part) > INT32[1]:
        return None
    return topic, int(part)


def to_int(text: str, source: Source, line: int, what: str, bounds: tuple[int, int] = INT64) -> int:
    """An integer from CLI text within `bounds`, or a `BadExport` naming the line and the field."""
    try:
        value = int(text)
    except ValueError:
        raise source.fail(f"{what} {text[:40]!r} is not an integer", line) from None
    return check_int(value, source, line, what, bounds)


def check_int(value: int, source: Source, line: int | None, what: str, bounds: tuple[int, int] = INT64) -> int:
    """`value` when it fits the store column (`INT32` partitions, `INT64` offsets and sizes), else a `BadExport`."""
    lo, hi = bounds
    if not lo <= value <= hi:
        kind = "partition number" if bounds == INT32 else "64-bit integer"
        raise source.fail(f"{what} {str(value)[:40]} is out of range for a {kind} ({lo} to {hi})", line)
    return value


def table_columns(table: str) -> dict[str, str]:
    """Column -> pandas dtype of a snapshot table, without `source_id` (read from the DDL)."""
    body = SNAPSHOT_TABLES[table]
    body = body[body.index("(") + 1 : body.rindex(")")]
    cols: dict[str, str] = {}
    for part in body.split(","):
        name, ddl_type = part.split()[:2]
        if name != "source_id":
            cols[name] = _DDL_TYPES.get(ddl_type.upper(), "object")
    return cols


def frame(table: str, rows: list[dict]) -> pd.DataFrame:
    """Rows (dicts; missing keys are NULL) as a DataFrame with exactly the table's columns.

    Integers are checked against their column (INTEGER / BIGINT) here too, so a value a reader
    did not range-check is a `ValueError` (a `BadExport` for the file), never a DuckDB error.
    """
    cols = table_columns(table)
    body = SNAPSHOT_TABLES[table]
    for c in cols:
        m = re.search(rf"\b{c}\s+(INTEGER|BIGINT)\b", body)
        if m:
            lo, hi = INT32 if m.group(1) == "INTEGER" else INT64
            bad = next((r[c] for r in rows if isinstance(r.get(c), int) and not lo <= r[c] <= hi), None)
            if bad is not None:
                raise ValueError(f"{c} {str(bad)[:40]} is out of range for {m.group(1)}")
    data = {c: pd.Series([r.get(c) for r in rows], dtype=dtype) for c, dtype in cols.items()}
    return pd.DataFrame(data, columns=list(cols))


# Decoded strictly as UTF-8, JSON text can put a lone surrogate in a string only through a
# \uD800-\uDFFF escape (an escaped backslash before `u` only makes this match needlessly).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def check_json_text(doc: object, source: Source, line: int | None = None, *, text: str | None = None) -> object:
    """`doc` when every string in it (keys too) is valid Unicode, else a `BadExport`.

    JSON may spell a lone UTF-16 surrogate (`"\\ud800"`); Python decodes it into a string that
    cannot be encoded as UTF-8, so DuckDB (and a terminal) would fail on it after the reader.
    Shared by the JSON readers (kafka-log-dirs, Prometheus API answers, CloudWatch, manifests).
    `text`: the JSON text `doc` was parsed from; without a surrogate escape in it, nothing to check.
    """
    if text is not None and not _SURROGATE_ESCAPE.search(text):
        return doc
    try:  # the common case at C speed: encoding the whole document fails iff some string would
        json.dumps(doc, ensure_ascii=False, check_circular=False).encode("utf-8")
        return doc
    except (UnicodeEncodeError, RecursionError, ValueError, TypeError):
        pass  # find the string (and say which) the slow way
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise source.fail(
                    f"a JSON string holds a lone surrogate (\\u{ord(node[exc.start]):04x}), which is not text; "
                    "expected valid Unicode",
                    line,
                ) from None
    return doc


NULL_TEXT = "null"  # how the Kafka tools print a Java null (unset or sensitive value)


def config_value(text: str) -> str | None:
    """A config value as stored: Kafka prints an unset value as `null`; that is NULL here."""
    return None if text == NULL_TEXT else text


# Config names whose values are credentials: passwords, JAAS configs (which embed passwords),
# secrets, tokens, credentials and keys (`ssl.key.password`, `ssl.keystore.key`, API keys).
# Kafka marks most of these `sensitive=true`, but custom, plugin and `Configs:` entries of
# kafka-topics carry no such flag, so the name decides too.
_SECRET_NAME = re.compile(
    r"password|passwd|secret|jaas|token|credential|apikey|(?:^|[._-])keys?$",
    re.IGNORECASE,
)
# Values that embed a credential whatever their key (`...PlainLoginModule required password="x";`).
_SECRET_VALUE = re.compile(
    r"(?:password|passwd|secret|token|api[._-]?key|credential)\s*[=:]|LoginModule\s+required", re.IGNORECASE
)


def is_secret(name: str, value: str | None) -> bool:
    """Whether a config entry holds a credential and must never be stored as text."""
    return bool(_SECRET_NAME.search(name)) or (value is not None and bool(_SECRET_VALUE.search(value)))


def stored_config(name: str, value: str | None, sensitive: bool = False) -> tuple[str | None, bool]:
    """(value, sensitive) as stored: a sensitive or credential-like entry keeps its name, never its value."""
    if sensitive or is_secret(name, value):
        return None, True
    return value, False


_LIST_SPLIT = re.compile(r",(?=[a-z][a-z0-9.]*=)")


def split_config_list(text: str) -> list[str]:
    """`a=1,cleanup.policy=compact,delete,b=2` -> three items: commas inside values survive."""
    return [p for p in _LIST_SPLIT.split(text) if p]
