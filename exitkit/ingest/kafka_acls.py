"""`kafka-acls.sh --list [--topic T | --principal P]`: ACL entries by resource pattern.

Blocks headed ``Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders.,
patternType=PREFIXED)`:`` followed by `(principal=User:x, host=*, operation=WRITE,
permissionType=ALLOW)` lines; one `acls` row per entry. The 2.x header form
``Current ACLs for resource `Topic:PREFIXED:orders.`:`` is read too. ``ACLs for principal
`User:x` `` preambles (--principal) are skipped. Names are kept as printed: `*` is the
wildcard; matching ACLs to topics (LITERAL vs PREFIXED) is `exitkit.profile.evidence`'s job.
"""

from __future__ import annotations

import re

from exitkit.ingest._kafka_cli import cluster_for, frame, numbered_lines
from exitkit.ingest.base import Reader, ReadResult, Source, register

_BLOCK = re.compile(r"^Current ACLs for resource `(?P<pattern>.*)`:?\s*$")
_PATTERN = re.compile(
    r"^ResourcePattern\(resourceType=(?P<type>\w+), name=(?P<name>.*), patternType=(?P<pattern>\w+)\)$"
)
_OLD_PATTERN = re.compile(r"^(?P<type>\w+):(?:(?P<pattern>LITERAL|PREFIXED):)?(?P<name>.*)$")
# Principals may hold ", " (e.g. TLS distinguished names): anchor on the later keys instead.
_ENTRY = re.compile(
    r"^\s*\(principal=(?P<principal>.*), host=(?P<host>.*?), operation=(?P<operation>\w+), "
    r"permissionType=(?P<permission>\w+)\)\s*$"
)
_PREAMBLE = re.compile(r"^ACLs for principal `.*`\s*$")
_SNIFF = re.compile(r"^(Current ACLs for resource `|ACLs for principal `)", re.MULTILINE)
# 2.x tools print CamelCase resource types (`Topic`, `TransactionalId`); store today's names.
_TYPE_NAMES = {"TRANSACTIONALID": "TRANSACTIONAL_ID", "DELEGATIONTOKEN": "DELEGATION_TOKEN"}


def sniff(head: str, source: Source) -> bool:
    return bool(_SNIFF.search(head))


def read(source: Source) -> ReadResult:
    cluster = cluster_for(source)
    rows: list[dict] = []
    resource: dict | None = None
    for n, text in numbered_lines(source):
        if not text.strip() or _PREAMBLE.match(text):
            continue
        if m := _BLOCK.match(text):
            resource = _resource(m.group("pattern"), source, n)
        elif m := _ENTRY.match(text):
            if resource is None:
                raise source.fail("ACL entry before any `Current ACLs for resource ...` line", n)
            rows.append(
                {
                    "cluster": cluster,
                    **resource,
                    "principal": m.group("principal"),
                    "host": m.group("host"),
                    "operation": m.group("operation").upper(),
                    "permission": m.group("permission").upper(),
                }  # fmt: skip
            )
        else:
            raise source.fail(
                "expected ``Current ACLs for resource `ResourcePattern(...)`:`` or "
                "`(principal=..., host=..., operation=..., permissionType=...)`",
                n,
            )
    return ReadResult(cluster=cluster, snapshots={"acls": frame("acls", rows)})


def _resource(text: str, source: Source, n: int) -> dict:
    m = _PATTERN.match(text) or _OLD_PATTERN.match(text)
    if not m:
        raise source.fail(
            f"resource {text!r}; expected ResourcePattern(resourceType=..., name=..., patternType=...)", n
        )
    kind = m.group("type").upper()
    return {
        "resource_type": _TYPE_NAMES.get(kind, kind),
        "resource_name": m.group("name"),
        "pattern_type": (m.group("pattern") or "LITERAL").upper(),
    }


READER = register(
    Reader(
        name="kafka-acls",
        description="kafka-acls.sh --list output (ACL entries per resource pattern)",
        sniff=sniff,
        read=read,
    )
)
