"""Collectors: pull metrics from a platform's API into the export files `exitkit.ingest` reads.

One module per source: `confluent` (Metrics API v2 `/query`), `cloudwatch` (AWS/Kafka
`GetMetricData`), `prometheus` (`/api/v1/query_range`). Each writes one folder of raw
answers, the requests that produced them, and `manifest.json` (what was asked, from where,
every file's sha256). Credentials come from the environment and are never written.

This package is light on import (the HTTP and AWS clients load inside the collectors), so
the CLI can register `exitkit collect` without slowing every other command.
"""

from __future__ import annotations

from exitkit.errors import CollectError, CredentialError

__all__ = ["CollectError", "CredentialError"]
