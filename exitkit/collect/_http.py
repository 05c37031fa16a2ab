"""HTTP with bounded retries for the API collectors (Confluent Metrics API, Prometheus).

429 and 5xx answers and connection failures are retried a bounded number of times. The wait
honours the server: `Retry-After` (seconds or an HTTP date), else `RateLimit-Reset` (seconds
until the window resets; Confluent sends `rateLimit-reset`), else exponential backoff. Waits
go through `Retry.sleep`, so tests pass a recorder instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from exitkit.errors import CollectError

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


@dataclass
class Retry:
    """How often and how long to retry; `waits` records every wait taken (for the manifest)."""

    attempts: int = 6
    backoff_s: float = 1.0
    max_wait_s: float = 120.0
    sleep: Callable[[float], None] | None = None
    waits: list[float] = field(default_factory=list)

    def pause(self, seconds: float) -> None:
        self.waits.append(seconds)
        (self.sleep or _sleep)(seconds)


def wait_seconds(response: httpx.Response | None, attempt: int, retry: Retry) -> float:
    """Seconds to wait before attempt `attempt + 1`: what the server asks, else exponential backoff."""
    wait = None
    if response is not None:
        wait = _header_seconds(response.headers.get("retry-after"))
        if wait is None:
            wait = _header_seconds(response.headers.get("ratelimit-reset"))
        if wait is None:
            wait = _header_seconds(response.headers.get("x-ratelimit-reset"))
    if wait is None:
        wait = retry.backoff_s * 2**attempt
    return min(retry.max_wait_s, max(0.0, wait))


def _header_seconds(value: str | None) -> float | None:
    """Delta seconds, epoch seconds (a value past 1e9) or an HTTP date, as seconds from now."""
    if not value:
        return None
    value = value.strip()
    try:
        n = float(value.split(",")[0])
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return (when - datetime.now(UTC)).total_seconds()
    return n - time.time() if n > 1e9 else n


def send(client: httpx.Client, method: str, url: str, *, retry: Retry, what: str, **kwargs) -> httpx.Response:
    """The response of the first attempt that is neither 429/5xx nor a connection failure.

    After the last attempt a 429/5xx response is returned (the caller reports it with its
    body); a connection failure raises `CollectError`.
    """
    for attempt in range(retry.attempts):
        last = attempt == retry.attempts - 1
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            if last:
                raise CollectError(
                    f"{what}: cannot reach {url} ({type(exc).__name__}: {exc}) after {retry.attempts} attempts; "
                    "check --url and the network"
                ) from None
            retry.pause(wait_seconds(None, attempt, retry))
            continue
        if response.status_code not in RETRY_STATUS or last:
            return response
        retry.pause(wait_seconds(response, attempt, retry))
    raise AssertionError("unreachable")  # the loop returns or raises on its last attempt


def excerpt(response: httpx.Response, limit: int = 300) -> str:
    """The start of a response body on one line, for an error message."""
    text = " ".join(response.text.split())
    return text[:limit] + ("…" if len(text) > limit else "")
