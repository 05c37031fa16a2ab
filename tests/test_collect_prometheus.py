"""`exitkit collect prometheus` against a local stand-in of `/api/v1/query_range`.

The stand-in holds Strimzi-named broker counters (two brokers, two topics, plus an
all-topics series) and kafka_exporter lag, evaluates the selectors the collector sends
(`=`, `=~`, `!~` on any label, `__name__` included), refuses more than 11,000 points per
series like Prometheus, answers the first call with a 429 and checks a bearer token. Seven
days at 60 s need two chunks. The profile of the ingested folder must give the stand-in's
per-topic means.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime

import numpy as np
import pytest
from click.testing import CliRunner

from exitkit.cli.collect import collect
from exitkit.collect import prometheus as pm
from exitkit.collect._http import Retry
from exitkit.profile.topics import topic_profile
from exitkit.store import open_store
from tests.fixtures.collect.standin import reply_json, serve

TOKEN = "prom-token-EXITKIT-s3cr3t"
NOW = datetime(2025, 3, 10, 0, 0, 42, tzinfo=UTC)
END = int(datetime(2025, 3, 10, tzinfo=UTC).timestamp())
STEP = 60
START = END - 7 * 86400
TIMES = np.arange(START, END + STEP, STEP)  # 10,081 samples: more than one request may hold
TOPICS = ("orders", "payments")
BROKERS = (0, 1)


def _rates(metric: str, b: int, topic: str) -> np.ndarray:
    """True B/s per 60 s interval (10,080 intervals)."""
    k = np.arange(len(TIMES) - 1)
    scale = {"bytesin": 1000.0, "bytesout": 2500.0}[metric]
    return scale * (1 + TOPICS.index(topic)) * (1 + b) * (1 + (k % 9) / 10)


def _series() -> list[tuple[dict[str, str], np.ndarray]]:
    out = []
    for metric in ("bytesin", "bytesout"):
        name = f"kafka_server_brokertopicmetrics_{metric}_total"
        for b in BROKERS:
            total = np.zeros(len(TIMES))
            for t in TOPICS:
                c = 5e9 + np.concatenate([[0.0], np.cumsum(_rates(metric, b, t) * STEP)])
                total += c
                out.append(({"__name__": name, "topic": t, "instance": f"kafka-{b}:9404", "job": "kafka"}, c))
            # the all-topics series (no topic label): a cluster total, never added to topic sums
            out.append(({"__name__": name, "instance": f"kafka-{b}:9404", "job": "kafka"}, total))
    for p in (0, 1):
        lag = (np.arange(len(TIMES)) * (3 + p)) % 700.0
        out.append(({"__name__": "kafka_consumergroup_lag", "consumergroup": "billing", "topic": "orders",
                     "partition": str(p), "instance": "exporter:9308"}, lag))  # fmt: skip
    return out


SERIES = _series()
_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')


def _matches(query: str, labels: dict[str, str]) -> bool:
    m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\{(.*)\}", query.strip())
    assert m, query
    name, body = m.groups()
    if name and labels.get("__name__") != name:
        return False
    for label, op, raw in _MATCHER.findall(body):
        value, have = json.loads(f'"{raw}"'), labels.get(label, "")
        ok = {"=": have == value, "!=": have != value}.get(op)
        if ok is None:
            ok = bool(re.fullmatch(value, have)) == (op == "=~")
        if not ok:
            return False
    return True


class FakePrometheus:
    def __init__(self, token: str | None = TOKEN, throttle: bool = True) -> None:
        self.token, self.throttle, self.calls = token, throttle, 0

    def __call__(self, req):
        if self.token and req.headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"Content-Type": "text/plain"}, b"Unauthorized\n"
        self.calls += 1
        if self.throttle and self.calls == 1:
            return reply_json({"status": "error", "errorType": "too_many_requests", "error": "slow down"}, 429,
                              {"Retry-After": "3"})  # fmt: skip
        q = req.query
        start, end, step = float(q["start"]), float(q["end"]), float(q["step"])
        if (end - start) / step + 1 > 11_000:
            return reply_json({"status": "error", "errorType": "bad_data", "error": "exceeded maximum resolution of "
                               "11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"}, 400)  # fmt: skip
        grid = np.arange(start, end + step / 2, step)
        keep = np.isin(TIMES, grid)
        result = [
            {
                "metric": labels,
                "values": [[int(t), f"{v:.17g}"] for t, v in zip(TIMES[keep], values[keep], strict=True)],
            }
            for labels, values in SERIES
            if _matches(q["query"], labels) and keep.any()
        ]
        return reply_json({"status": "success", "data": {"resultType": "matrix", "result": result}})


def test_collect_ingest_profile_matches_the_stand_in(tmp_path):
    from exitkit.ingest import ingest

    waits: list[float] = []
    api = FakePrometheus()
    with serve(api) as server:
        folder = pm.collect(
            server.url, 7, tmp_path / "out", cluster="strimzi-a", now=NOW, env={pm.TOKEN_ENV: TOKEN},
            retry=Retry(sleep=waits.append),
        )  # fmt: skip
    assert waits == [3.0]  # the 429's Retry-After
    sels = pm.selectors()
    assert len(server.requests) == 2 * len(sels) + 1  # two chunks per selector, + the retried 429
    chunks = {(r.query["start"], r.query["end"]) for r in server.requests}
    assert chunks == {(str(START), str(START + 9999 * STEP)), (str(START + 9999 * STEP), str(END))}

    manifest = json.loads((folder / "manifest.json").read_text())
    assert (manifest["source"], manifest["cluster"], manifest["step_s"]) == ("prometheus", "strimzi-a", 60)
    assert manifest["endpoint"] == server.url + "/api/v1/query_range" and manifest["retries"] == 1
    assert manifest["metrics"]["kafka_server_brokertopicmetrics_bytesin_total"]["feeds"] == ["bytes_in"]
    assert manifest["credentials"] == "bearer token from $PROMETHEUS_TOKEN (not recorded)"
    files = sorted(f["path"] for f in manifest["files"])
    assert files == sorted(
        f"{n}.c{i}.json"
        for n in (
            "kafka_server_brokertopicmetrics_bytesin_total",
            "kafka_server_brokertopicmetrics_bytesout_total",
            "kafka_consumergroup_lag",
        )
        for i in (1, 2)
    )  # fmt: skip  (names with no data write no file)
    for f in manifest["files"]:
        assert hashlib.sha256((folder / f["path"]).read_bytes()).hexdigest() == f["sha256"]
    everything = b"".join(p.read_bytes() for p in folder.rglob("*"))
    assert TOKEN.encode() not in everything

    ingest([folder], tmp_path / "s.duckdb", cluster="strimzi-a")
    with open_store(tmp_path / "s.duckdb") as con:
        prof = topic_profile(con).set_index("topic")
    assert sorted(prof.index) == list(TOPICS)
    for t in TOPICS:
        write = sum(_rates("bytesin", b, t) for b in BROKERS).mean()  # every 60 s interval, chunk seam included
        read = sum(_rates("bytesout", b, t) for b in BROKERS).mean()
        assert prof.loc[t, "cluster"] == "strimzi-a"
        assert prof.loc[t, "write_bytes_per_s_mean"] == pytest.approx(write, rel=1e-9)
        assert prof.loc[t, "read_bytes_per_s_mean"] == pytest.approx(read, rel=1e-9)
        assert prof.loc[t, "coverage"] == pytest.approx(1.0)
    lag = sum(v for labels, v in SERIES if labels["__name__"] == "kafka_consumergroup_lag")
    assert prof.loc["orders", "max_consumer_lag_records"] == lag.max()


def test_selectors_come_from_the_metric_table():
    by_name = {s.name: s.query for s in pm.selectors()}
    assert by_name["kafka_server_brokertopicmetrics_bytesin_total"] == (
        '{__name__="kafka_server_brokertopicmetrics_bytesin_total"}'
    )
    # MSK naming: one name, three rules matching `name`: ask only those three
    assert by_name["kafka_server_BrokerTopicMetrics_Count"] == (
        'kafka_server_BrokerTopicMetrics_Count{name=~"BytesInPerSec|BytesOutPerSec|MessagesInPerSec"}'
    )
    assert by_name["kafka_log_Log_Value"] == 'kafka_log_Log_Value{name="Size"}'
    # a regex rule leaves out the exact names it also matches (asked already)
    rec = by_name["records_in_regex1"]
    assert rec.startswith('{__name__=~"(?i)kafka_server_broker') and "__name__!~" in rec
    assert _matches(rec, {"__name__": "kafka_server_broker_topic_metrics_messages_in_total"})
    assert not _matches(rec, {"__name__": "kafka_server_brokertopicmetrics_messagesin_total"})


def test_chunks_share_their_boundary_and_stay_under_the_limit():
    pieces = pm.chunks(0, 30 * 86400, 60)
    assert all((b - a) / 60 + 1 <= 10_000 for a, b in pieces)
    assert [a for a, _ in pieces[1:]] == [b for _, b in pieces[:-1]] and pieces[-1][1] == 30 * 86400
    assert [pm.choose_step(d * 86400) for d in (1, 7, 8, 35, 90)] == [60, 60, 300, 300, 900]


def test_status_error_is_one_clear_line(tmp_path):
    def bad(req):
        return reply_json({"status": "error", "errorType": "bad_data", "error": 'invalid parameter "query"'}, 400)

    with serve(bad) as server:
        result = CliRunner().invoke(
            collect, ["prometheus", "--url", server.url, "--days", "1", "--out", str(tmp_path / "o")]
        )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and 'HTTP 400, bad_data: invalid parameter "query"' in lines[0]
    assert not (tmp_path / "o").exists()  # nothing written, no empty folder left behind


def test_wrong_token_is_one_line_naming_the_env_var(tmp_path):
    with serve(FakePrometheus(throttle=False)) as server:
        result = CliRunner().invoke(
            collect,
            ["prometheus", "--url", server.url, "--days", "1", "--out", str(tmp_path / "o")],
            env={pm.TOKEN_ENV: "not-the-token-123"},
        )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "HTTP 401" in lines[0] and "PROMETHEUS_TOKEN" in lines[0]
    assert "not-the-token-123" not in result.output


def test_ingest_errors_are_error_lines_and_exit_2(tmp_path):
    """Series without a cluster label and no --cluster: the collection is kept, the ingest refuses."""

    def tiny(req):
        q = req.query
        if "bytesin_total" not in q["query"]:
            return reply_json({"status": "success", "data": {"resultType": "matrix", "result": []}})
        s = int(q["start"])
        values = [[s + i * 60, str(1e6 + i * 6e4)] for i in range(3)]
        result = [{"metric": {"__name__": "kafka_server_brokertopicmetrics_bytesin_total", "topic": "t"},
                   "values": values}]  # fmt: skip
        return reply_json({"status": "success", "data": {"resultType": "matrix", "result": result}})

    out, db = tmp_path / "o", tmp_path / "s.duckdb"
    with serve(tiny) as server:
        result = CliRunner().invoke(
            collect, ["prometheus", "--url", server.url, "--days", "1", "--out", str(out), "--ingest", "--db", str(db)]
        )
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "pass --cluster NAME" in errors[0]
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"  # the files are kept
    assert not db.exists()  # all or nothing: no store was made
