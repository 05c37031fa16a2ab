"""`manifest.json` written by `exitkit collect`: a companion file (what was asked), no rows of its own.

Lives with the readers so a collected folder ingests whether or not `exitkit.collect` was imported.
"""

from __future__ import annotations

import json
import re

from exitkit.ingest._kafka_cli import check_json_text
from exitkit.ingest.base import Reader, ReadResult, Source, register

MANIFEST_KIND = "exitkit-collect-manifest"
_HEAD = re.compile(r'^\s*\{\s*"kind"\s*:\s*"' + MANIFEST_KIND + '"')


def _sniff(head: str, source: Source) -> bool:
    return bool(_HEAD.match(head))


def _read(source: Source) -> ReadResult:
    try:
        doc = json.loads(source.text())
    except json.JSONDecodeError as exc:
        raise source.fail(f"not valid JSON ({exc.msg}); expected an exitkit collect manifest", exc.lineno) from None
    except RecursionError:
        raise source.fail("JSON nested too deeply; expected an exitkit collect manifest") from None
    if not isinstance(doc, dict):
        raise source.fail("expected a JSON object (an exitkit collect manifest)")
    check_json_text(doc, source)
    what = f"{doc.get('source', '?')} {doc.get('cluster') or ''}".strip()
    files = doc.get("files") if isinstance(doc.get("files"), list) else []
    return ReadResult(
        skip=True,
        cluster=doc.get("cluster") if isinstance(doc.get("cluster"), str) else None,
        notes=[f"collect manifest ({what}, {len(files)} files, status {doc.get('status', '?')})"],
    )


READER = register(
    Reader(
        name="collect-manifest",
        description="manifest.json written by `exitkit collect` (a companion: no rows)",
        sniff=_sniff,
        read=_read,
    )
)
