"""A saved Confluent Metrics API `/query` request body (`NAME.request.json`): a companion, not data.

The `/query` reader reads it for the response beside it (metric, granularity, cluster). This
reader only recognizes it in a folder walk, checks it, and says what it is, so the walk
neither chokes on it nor stores anything from it.
"""

from __future__ import annotations

import re

import exitkit.ingest._confluent as cf
from exitkit.ingest._kafka_cli import check_json_text
from exitkit.ingest.base import Reader, ReadResult, Source, register

_AGGS = re.compile(r'"aggregations"\s*:\s*\[')
_REQUEST_KEYS = re.compile(r'"(?:granularity|intervals|group_by)"\s*:')


def sniff(head: str, source: Source) -> bool:
    """A JSON object with an `aggregations` list and /query request keys."""
    return head.lstrip().startswith("{") and bool(_AGGS.search(head) and _REQUEST_KEYS.search(head))


def read(source: Source) -> ReadResult:
    """Nothing to store: a note saying which metric and granularity the request asks for."""
    request = cf.load_request(source.path, source.data)
    check_json_text([request.metric_name, request.cluster], source)  # its note is printed
    return ReadResult(skip=True, cluster=request.cluster, notes=[request.note()])


READER = register(
    Reader(
        name="confluent-request",
        description="saved Confluent Metrics API /query request body (NAME.request.json, read with its response)",
        sniff=sniff,
        read=read,
    )
)
