"""`kafka-configs.sh --describe`: topic and broker configs, and client quotas.

One reader for everything this tool prints, since one saved file often holds several runs:
- `Dynamic|All configs for topic T are:` blocks → `topic_configs` rows for T;
- `Dynamic|All configs for broker N are:` and `Default configs for brokers in the cluster
  are:` → `topic_configs` rows with topic NULL (broker-level values topics inherit);
- config lines `  name=value sensitive=bool synonyms={SOURCE:name=value, ...}`: the value
  shown is the effective one and `config_source` is the first synonym's source; `null`
  (unset) and sensitive values are stored as NULL, never as text;
- `Quota configs for user-principal 'u', client-id 'c' are k=v, ...` → `quotas` rows;
  a default entity is stored as `<default>` (Kafka's own name for it) with is_default;
- SCRAM credential lines are ignored; blocks for other entity types (broker-loggers,
  client-metrics, groups) are skipped.
"""

from __future__ import annotations

import math
import re

from exitkit.ingest._kafka_cli import cluster_for, config_value, frame, numbered_lines, stored_config
from exitkit.ingest.base import Reader, ReadResult, Source, register

_HEADER = re.compile(r"^(Dynamic|All) configs for ([a-z-]+) (.*) are:\s*$")
_BROKER_DEFAULT = re.compile(r"^Default configs for brokers in the cluster are:\s*$")
_CONFIG = re.compile(
    r"^\s+(?P<name>[^\s=]+)=(?P<value>.*) sensitive=(?P<sensitive>true|false) synonyms=\{(?P<synonyms>.*)\}\s*$"
)
_SYNONYM_SPLIT = re.compile(r", (?=[A-Z_]+:)")
_QUOTA = re.compile(r"^Quota configs for (?P<entity>.+?) are ?(?P<values>.*)$")
_QUOTA_PART = re.compile(
    r"(?P<type>user-principal|client-id|ip) '(?P<name>.*?)'|the default (?P<default>user-principal|client-id|ip)"
)
_ANY_PART = r"(?:(?:user-principal|client-id|ip) '.*?'|the default (?:user-principal|client-id|ip))"
_QUOTA_ENTITY = re.compile(rf"{_ANY_PART}(?:, {_ANY_PART})*")  # names may hold ", ": match parts, not split
_IGNORED = re.compile(
    r"^(SCRAM credential configs for |Error retrieving SCRAM credential configs for "
    r"|The (topic|broker) '.*' doesn't exist)"
)
_SNIFF = re.compile(
    r"^((Dynamic|All) configs for (topic|broker) |Default configs for brokers in the cluster are:"
    r"|Quota configs for |SCRAM credential configs for )",
    re.MULTILINE,
)
DEFAULT_ENTITY = "<default>"
_QUOTA_COLUMN = {"user-principal": "user_principal", "client-id": "client_id", "ip": "ip"}


def sniff(head: str, source: Source) -> bool:
    return bool(_SNIFF.search(head))


def read(source: Source) -> ReadResult:
    cluster = cluster_for(source)
    result = ReadResult(cluster=cluster)
    configs: list[dict] = []
    quotas: list[dict] = []
    block: tuple[str, str | None] | None = None  # ("topic", T) / ("broker", None) / ("skip", None)
    for n, text in numbered_lines(source):
        if not text.strip():
            continue
        if m := _HEADER.match(text):
            kind, name = m.group(2), m.group(3)
            block = ("topic", name) if kind == "topic" else ("broker", None) if kind == "broker" else ("skip", None)
        elif _BROKER_DEFAULT.match(text):
            block = ("broker", None)
        elif text[:1].isspace():
            if block is None:
                raise source.fail("config line before any `... configs for ... are:` header", n)
            if block[0] != "skip":
                configs.append(_config_row(text, cluster, block[1], source, n))
        elif m := _QUOTA.match(text):
            block = None
            quotas.extend(_quota_rows(m.group("entity"), m.group("values"), cluster, source, n))
        elif _IGNORED.match(text):
            block = None
            if text.startswith("The "):
                result.notes.append(text.strip())
        else:
            raise source.fail(
                "expected a `Dynamic|All configs for topic|broker X are:` header, an indented "
                "`name=value sensitive=... synonyms={...}` line, or a `Quota configs for ...` line",
                n,
            )
    result.snapshots["topic_configs"] = frame("topic_configs", configs)
    result.snapshots["quotas"] = frame("quotas", quotas)
    return result


def _config_row(text: str, cluster: str, topic: str | None, source: Source, n: int) -> dict:
    m = _CONFIG.match(text)
    if not m:
        raise source.fail("expected an indented `name=value sensitive=true|false synonyms={...}` line", n)
    synonyms = m.group("synonyms").strip()
    first = _SYNONYM_SPLIT.split(synonyms, maxsplit=1)[0] if synonyms else ""
    config_source = first.split(":", 1)[0] if ":" in first else None
    # sensitive=true, or a credential by its name or value (custom configs are not flagged)
    value, sensitive = stored_config(m.group("name"), config_value(m.group("value")), m.group("sensitive") == "true")
    return {
        "cluster": cluster, "topic": topic, "name": m.group("name"), "value": value,
        "config_source": config_source, "sensitive": sensitive,
    }  # fmt: skip


def _quota_rows(entity: str, values: str, cluster: str, source: Source, n: int) -> list[dict]:
    """One row per `key=value` of a quota line; the entity parts fill user/client/ip."""
    row: dict = {"cluster": cluster, "is_default": False}
    if not _QUOTA_ENTITY.fullmatch(entity):
        raise source.fail(
            f"quota entity {entity!r}; expected `user-principal 'x'`, `client-id 'x'`, `ip 'x'` or `the default ...` parts",
            n,
        )
    for m in _QUOTA_PART.finditer(entity):
        if m.group("default"):
            row[_QUOTA_COLUMN[m.group("default")]] = DEFAULT_ENTITY
            row["is_default"] = True
        else:
            row[_QUOTA_COLUMN[m.group("type")]] = m.group("name")
    rows = []
    for item in filter(None, (v.strip() for v in values.split(","))):
        key, sep, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not sep or not key or not math.isfinite(number):
            raise source.fail(f"quota {item!r} is not name=<number>", n)
        rows.append({**row, "quota": key, "value": number})
    return rows


READER = register(
    Reader(
        name="kafka-configs",
        description="kafka-configs.sh --describe output (topic/broker configs, user/client/ip quotas)",
        sniff=sniff,
        read=read,
    )
)
