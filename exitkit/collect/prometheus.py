"""Prometheus collector: `/api/v1/query_range` for every metric name exitkit knows.

The names are data: `exitkit/ingest/prometheus_metrics.yaml` (the table the readers use).
Each exact name becomes one selector (`{__name__="…"}`, narrowed by the rules' label match
where every rule of that name has one, e.g. MSK's `…_Count{name=~"BytesInPerSec|…"}`);
each regex rule one `{__name__=~"…"}` selector that leaves out the exact names already asked.
Raw counters are asked, never `rate()`: the reader computes exact increases.

The range is cut into chunks of at most 10,000 steps (Prometheus refuses more than 11,000
points per series). Consecutive chunks share their boundary sample, so no interval between
two chunks is lost. One file per selector and chunk; empty answers are not written.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from exitkit.collect._http import Retry, excerpt, send
from exitkit.collect._output import Export, bar, default_folder, utc_iso
from exitkit.errors import CollectError, CredentialError

QUERY_RANGE = "/api/v1/query_range"
TOKEN_ENV = "PROMETHEUS_TOKEN"
USER_ENV = "PROMETHEUS_USERNAME"
PASSWORD_ENV = "PROMETHEUS_PASSWORD"
MAX_STEPS = 10_000  # per series per request; Prometheus' own limit is 11,000 points


@dataclass(frozen=True)
class Selector:
    """One PromQL selector to ask, and the file-name stem its answers are saved under."""

    name: str  # file stem
    query: str
    metrics: tuple[str, ...]  # canonical metrics it feeds (for the manifest)


def _quote(value: str) -> str:
    return json.dumps(value)  # PromQL string literals use Go escaping, which JSON's is a subset of


@functools.cache
def _table() -> dict[str, Any]:
    text = resources.files("exitkit.ingest").joinpath("prometheus_metrics.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def load_rules() -> list[dict[str, Any]]:
    """The `metrics:` rules of the readers' YAML table."""
    return copy.deepcopy(_table()["metrics"])


def selectors(rules: list[dict[str, Any]] | None = None) -> list[Selector]:
    """One selector per exact name (with a label filter when every rule of it has one), one per regex."""
    rules = load_rules() if rules is None else rules
    by_name: dict[str, list[dict]] = {}
    for rule in rules:
        for name in rule.get("names") or []:
            by_name.setdefault(name, []).append(rule)
    out = [
        Selector(name, _name_query(name, named), tuple(dict.fromkeys(r["metric"] for r in named)))
        for name, named in by_name.items()
    ]
    counts: dict[str, int] = {}
    for rule in rules:
        regex = rule.get("regex")
        if not regex:
            continue
        covered = sorted(n for n in by_name if re.fullmatch(regex, n))
        matchers = [f"__name__=~{_quote(regex)}"]
        if covered:  # already asked by exact name: do not fetch the same series twice
            matchers.append(f"__name__!~{_quote('|'.join(re.escape(n) for n in covered))}")
        counts[rule["metric"]] = counts.get(rule["metric"], 0) + 1
        out.append(
            Selector(
                f"{rule['metric']}_regex{counts[rule['metric']]}", "{" + ", ".join(matchers) + "}", (rule["metric"],)
            )
        )
    return out


def _name_query(name: str, rules: list[dict]) -> str:
    """`{__name__="x"}`, or `x{label=~"a|b"}` when every rule of `x` matches the same single label."""
    matches = [r.get("match") or {} for r in rules]
    keys = {tuple(m) for m in matches}
    if len(keys) == 1 and len(next(iter(keys))) == 1:
        label = next(iter(keys))[0]
        values = []
        for m in matches:
            v = m[label]
            values.append(v["regex"] if isinstance(v, dict) else re.escape(str(v)))
        values = list(dict.fromkeys(values))
        if len(values) == 1 and not any(isinstance(m[label], dict) for m in matches):
            return f"{name}{{{label}={_quote(str(matches[0][label]))}}}"
        return f"{name}{{{label}=~{_quote('|'.join(values))}}}"
    return "{" + f"__name__={_quote(name)}" + "}"


def choose_step(range_s: float) -> int:
    """60 s up to 7 days, 300 s up to 35 days, 900 s beyond."""
    if range_s <= 7 * 86400:
        return 60
    if range_s <= 35 * 86400:
        return 300
    return 900


def chunks(start: int, end: int, step: int) -> list[tuple[int, int]]:
    """[start, end] in pieces of at most MAX_STEPS steps; neighbours share their boundary sample."""
    length = (MAX_STEPS - 1) * step
    out = []
    s = start
    while s < end:
        e = min(s + length, end)
        out.append((s, e))
        s = e
    return out


def auth(env: Mapping[str, str] | None = None) -> tuple[Any, dict[str, str], tuple[str, ...], str]:
    """(httpx auth, headers, secrets, description) from PROMETHEUS_TOKEN or PROMETHEUS_USERNAME/PASSWORD."""
    import httpx  # deferred: heavy, off the hot path

    env = os.environ if env is None else env
    token = env.get(TOKEN_ENV, "").strip()
    user, password = env.get(USER_ENV, ""), env.get(PASSWORD_ENV, "")
    if token:
        return None, {"Authorization": f"Bearer {token}"}, (token,), f"bearer token from ${TOKEN_ENV} (not recorded)"
    if user or password:
        if not (user and password):
            raise CredentialError(f"set both {USER_ENV} and {PASSWORD_ENV} for basic auth (or {TOKEN_ENV})")
        return httpx.BasicAuth(user, password), {}, (password,), f"basic auth from ${USER_ENV} / ${PASSWORD_ENV}"
    return None, {}, (), "none"


def collect(
    url: str,
    days: float,
    out: str | Path | None = None,
    *,
    cluster: str | None = None,
    step: int | None = None,
    now: datetime | None = None,
    env: Mapping[str, str] | None = None,
    retry: Retry | None = None,
    progress: bool | None = None,
    transport: Any = None,
) -> Path:
    """Ask every selector over the last `days` into a new folder; return the folder."""
    import httpx  # deferred: heavy, off the hot path

    if not urlsplit(url).scheme.startswith("http") or not urlsplit(url).netloc:
        raise CollectError(f"--url {url!r}: expected the Prometheus base URL, e.g. http://prometheus:9090")
    httpx_auth, headers, secrets, how = auth(env)
    now = now or datetime.now(UTC)
    range_s = round(days * 86400)
    step = step or choose_step(range_s)
    if step <= 0:
        raise CollectError("--step must be a positive number of seconds")
    end = int(now.timestamp()) // step * step
    start = end - range_s // step * step
    if start >= end:
        raise CollectError(f"--days {days:g} is shorter than one {step} s step")
    pieces = chunks(start, end, step)
    retry = retry or Retry()
    sels = selectors()
    endpoint = url.rstrip("/") + QUERY_RANGE
    export = Export(
        Path(out) if out else default_folder("prometheus", cluster or urlsplit(url).hostname or "prometheus", now),
        {
            "source": "prometheus",
            "cluster": cluster,
            "endpoint": endpoint,
            "from": utc_iso(start),
            "to": utc_iso(end),
            "days": days,
            "step_s": step,
            "chunks": [f"{utc_iso(a)}/{utc_iso(b)}" for a, b in pieces],
            "metrics": {s.name: {"query": s.query, "feeds": list(s.metrics)} for s in sels},
            "metric_table": "exitkit/ingest/prometheus_metrics.yaml",
            "started_at": utc_iso(now),
            "credentials": how,
        },
        secrets=secrets,
    )
    stats = {"requests": 0, "empty_answers": 0, "series": 0}
    width = len(str(len(pieces)))
    try:
        with httpx.Client(auth=httpx_auth, headers=headers, timeout=300, transport=transport) as client:
            jobs = [(s, i, c) for s in sels for i, c in enumerate(pieces, 1)]
            for sel, i, (a, b) in bar(jobs, "prometheus", "query", progress):
                params = {"query": sel.query, "start": str(a), "end": str(b), "step": str(step)}
                response = send(client, "GET", endpoint, retry=retry, what="Prometheus query_range", params=params)
                stats["requests"] += 1
                result = _answer(response, sel)
                if not result:
                    stats["empty_answers"] += 1
                    continue
                stats["series"] += len(result)
                export.write(
                    f"{sel.name}.c{i:0{width}d}.json", response.content, kind="query_range", query=sel.query,
                    start=utc_iso(a), end=utc_iso(b), series=len(result),
                )  # fmt: skip
    except BaseException as exc:
        export.abandon(str(exc) or type(exc).__name__)
        raise
    if not export.files:
        export.abandon("no series")
        raise CollectError(
            f"{endpoint}: none of the {len(sels)} Kafka metric names exitkit knows has data in the range; "
            "check --url, or add your names to exitkit/ingest/prometheus_metrics.yaml"
        )
    export.close(**stats, retries=len(retry.waits), waited_s=round(sum(retry.waits), 3))
    return export.folder


def _answer(response, sel: Selector) -> list:
    """The matrix of a successful answer; Prometheus' own error text otherwise."""
    code = response.status_code
    if code in (401, 403):
        raise CredentialError(
            f"Prometheus refused the request (HTTP {code}): set {TOKEN_ENV} (bearer token) or "
            f"{USER_ENV} and {PASSWORD_ENV} (basic auth)"
        )
    try:
        doc = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CollectError(
            f"Prometheus query_range {sel.query}: HTTP {code}, not a Prometheus API answer: {excerpt(response)}"
        ) from None
    if not isinstance(doc, dict) or doc.get("status") != "success":
        err = doc.get("error") if isinstance(doc, dict) else None
        kind = doc.get("errorType") if isinstance(doc, dict) else None
        raise CollectError(
            f"Prometheus query_range {sel.query}: HTTP {code}, {kind or 'error'}: {err or excerpt(response)}"
        )
    data = doc.get("data") or {}
    if data.get("resultType") != "matrix" or not isinstance(data.get("result"), list):
        raise CollectError(f"Prometheus query_range {sel.query}: expected a matrix answer, got {excerpt(response)}")
    return data["result"]
