"""`exitkit collect confluent` against a local stand-in of the Metrics API v2 `/query`.

The stand-in serves deterministic per-bucket values (its truth), pages of two groups at a
time, a 429 with rate-limit headers on the first call and a 503 with Retry-After later, and
checks basic auth, the interval each granularity allows, `limit` and that every page repeats
the first page's body. The collected folder is ingested and the profile must give back the
stand-in's per-topic means.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from exitkit.cli.collect import collect
from exitkit.collect import confluent as cc
from exitkit.collect._http import Retry, wait_seconds
from exitkit.errors import CredentialError
from exitkit.profile.topics import topic_profile
from exitkit.store import open_store
from tests.fixtures.collect.standin import reply_json, serve

KEY, SECRET = "CKEYEXITKIT7Q2", "cflt/Secret+Value=xyz123"
TOPICS = ("orders", "payments", "audit")
LAG_GROUPS = (("billing", "orders"), ("billing", "payments"), ("search", "orders"))
PAGE_GROUPS = 2  # the stand-in pages after two groups, so every query has a second page
LIMITS = {"PT1M": 6 * 3600, "PT5M": 86400, "PT15M": 4 * 86400, "PT30M": 7 * 86400}
GRAN_S = {"PT1M": 60, "PT5M": 300, "PT15M": 900, "PT30M": 1800, "PT1H": 3600}


def _ts(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


class FakeMetricsApi:
    """`POST /v2/metrics/cloud/query`; `served[metric][labels][ts] = value` is the truth."""

    def __init__(self, throttle: bool = True) -> None:
        self.throttle = throttle
        self.calls = 0
        self.bodies: dict[str, bytes] = {}
        self.served: dict[str, dict[tuple, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))

    @staticmethod
    def value(metric: str, labels: tuple, k: int, bucket: int) -> float | None:
        i = TOPICS.index(labels[-1][1])
        if labels[-1][1] == "audit" and k % 7 == 3:
            return None  # a gap: no traffic in this bucket, the API leaves it out
        rate = (i + 1) * 1000.0 * (1 + (k % 5) / 10)  # B/s
        if metric == "received_bytes":
            return rate * bucket
        if metric == "sent_bytes":
            return rate * (2 + i) * bucket  # fan-out 2, 3, 4
        if metric == "received_records":
            return rate / 100 * bucket
        if metric == "sent_records":  # differs from received_records: equal bytes would be one sha256
            return rate / 100 * (2 + i) * bucket
        if metric == "retained_bytes":
            return 1e9 * (i + 1) + k
        return float((k * 13 + 7 * len(labels[0][1])) % 500)  # consumer_lag_offsets

    def __call__(self, req):
        if req.path != "/v2/metrics/cloud/query" or req.method != "POST":
            return reply_json({"errors": [{"status": "404", "detail": "not found"}]}, 404)
        expected = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
        if req.headers.get("authorization") != expected:
            return reply_json({"errors": [{"status": "401", "detail": "Unauthorized"}]}, 401)
        self.calls += 1
        if self.throttle and self.calls == 1:
            headers = {"rateLimit-limit": "300", "rateLimit-remaining": "0", "rateLimit-reset": "7"}
            return reply_json({"errors": [{"status": "429", "detail": "Too Many Requests"}]}, 429, headers)
        if self.throttle and self.calls == 5:
            return reply_json({"errors": [{"status": "503", "detail": "busy"}]}, 503, {"Retry-After": "2"})
        body = req.json()
        token = req.query.get("page_token")
        if token is not None and self.bodies.get(token) != req.body:
            return reply_json({"errors": [{"status": "400", "detail": "page_token with a different body"}]}, 400)
        gran = body["granularity"]
        start_s, end_s = body["intervals"][0].split("/")
        start, end = _ts(start_s), _ts(end_s)
        if end - start > LIMITS.get(gran, 10**9) or body["limit"] != 1000 or body["format"] != "FLAT":
            return reply_json({"errors": [{"status": "400", "detail": f"bad query {body}"}]}, 400)
        metric = body["aggregations"][0]["metric"].removeprefix("io.confluent.kafka.server/")
        if metric == "consumer_lag_offsets":
            assert body["group_by"] == ["metric.consumer_group_id", "metric.topic"]
            groups = [(("metric.consumer_group_id", g), ("metric.topic", t)) for g, t in LAG_GROUPS]
        else:
            assert body["group_by"] == ["metric.topic"]
            groups = [(("metric.topic", t),) for t in TOPICS]
        assert body["filter"] == {"field": "resource.kafka.id", "op": "EQ", "value": "lkc-7q2x9"}
        offset = int(base64.b64decode(token).decode().rsplit(":", 1)[1]) if token else 0
        bucket = GRAN_S[gran]
        data = []
        for labels in groups[offset : offset + PAGE_GROUPS]:
            for ts in range(start, end, bucket):
                v = self.value(metric, labels, ts // bucket, bucket)
                if v is not None:
                    self.served[metric][labels][ts] = v
                    stamp = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                    data.append({"timestamp": stamp, **dict(labels), "value": v})
        pagination = {"page_size": PAGE_GROUPS}
        if offset + PAGE_GROUPS < len(groups):
            nxt = base64.b64encode(f"{metric}:{start}:{offset + PAGE_GROUPS}".encode()).decode()
            self.bodies[nxt] = req.body
            pagination["next_page_token"] = nxt
        return reply_json({"data": data, "meta": {"pagination": pagination}})

    def topic_means(self, metric: str, bucket: int) -> dict[str, float]:
        out = {}
        for labels, points in self.served[metric].items():
            out[labels[-1][1]] = sum(points.values()) / len(points) / bucket
        return out


@pytest.fixture
def sleeps(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr("exitkit.collect._http._sleep", waits.append)
    return waits


def _env(**extra):
    return {cc.KEY_ENV: KEY, cc.SECRET_ENV: SECRET, **extra}


def _all_text(folder) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_collect_ingest_profile_matches_the_stand_in(tmp_path, sleeps):
    api = FakeMetricsApi()
    out, db = tmp_path / "out", tmp_path / "s.duckdb"
    with serve(api) as server:
        result = CliRunner().invoke(
            collect,
            ["confluent", "--cluster", "lkc-7q2x9", "--days", "1", "--granularity", "PT1M", "--url", server.url,
             "--out", str(out), "--ingest", "--db", str(db)],
            env=_env(),
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sleeps == [7.0, 2.0]  # rateLimit-reset of the 429, then Retry-After of the 503

    # 6 metrics × 4 windows of 6 h (PT1M allows 6 h) × 2 pages; every page repeats its body.
    requests = [r for r in server.requests if r.headers.get("authorization")]
    assert len(requests) == 6 * 4 * 2 + 2  # + the 429 and the 503 that were retried
    seconds = [r for r in requests if "page_token" in r.query]
    # 24 second pages, one of them sent twice (the 503 hit the 5th call, a second page)
    assert len(seconds) == 25 and all(r.body == api.bodies[r.query["page_token"]] for r in seconds)

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "exitkit-collect-manifest" and manifest["status"] == "complete"
    assert (manifest["source"], manifest["cluster"], manifest["granularity"]) == ("confluent", "lkc-7q2x9", "PT1M")
    assert manifest["endpoint"] == server.url + "/v2/metrics/cloud/query"
    assert len(manifest["windows"]) == 4 and _ts(manifest["to"]) - _ts(manifest["from"]) == 86400
    assert set(manifest["metrics"]) == {f"io.confluent.kafka.server/{m}" for m in cc.METRICS}
    assert (manifest["requests"], manifest["pages"], manifest["retries"]) == (48, 48, 2)
    names = sorted(f["path"] for f in manifest["files"])
    assert names[:3] == ["consumer_lag_offsets/w1.json", "consumer_lag_offsets/w1.page2.json",
                         "consumer_lag_offsets/w1.request.json"]  # fmt: skip
    assert len(names) == 6 * 4 * 3
    on_disk = sorted(str(p.relative_to(out)) for p in out.rglob("*.json") if p.name != "manifest.json")
    assert on_disk == names
    for f in manifest["files"]:
        assert hashlib.sha256((out / f["path"]).read_bytes()).hexdigest() == f["sha256"]
    req = json.loads((out / "received_bytes/w2.request.json").read_text())
    assert req["granularity"] == "PT1M" and req["limit"] == 1000 and req["group_by"] == ["metric.topic"]

    # No credential anywhere: files, manifest, output.
    basic = base64.b64encode(f"{KEY}:{SECRET}".encode())
    for secret in (KEY.encode(), SECRET.encode(), basic):
        assert secret not in _all_text(out) and secret not in result.output.encode()

    with open_store(db) as con:
        prof = topic_profile(con).set_index("topic")
        files = con.execute("SELECT count(*) FROM sources").fetchone()[0]
    assert files == 6 * 4 * 2  # response pages; requests and the manifest are companions
    write = api.topic_means("received_bytes", 60)
    read = api.topic_means("sent_bytes", 60)
    assert set(prof.index) == set(TOPICS)
    for t in TOPICS:
        assert prof.loc[t, "cluster"] == "lkc-7q2x9"
        assert prof.loc[t, "write_bytes_per_s_mean"] == pytest.approx(write[t], rel=1e-9)
        assert prof.loc[t, "read_bytes_per_s_mean"] == pytest.approx(read[t], rel=1e-9)
        assert prof.loc[t, "fan_out"] == pytest.approx(2 + TOPICS.index(t), rel=1e-9)
        last = {labels[-1][1]: pts[max(pts)] for labels, pts in api.served["retained_bytes"].items()}
        assert prof.loc[t, "retained_bytes"] == pytest.approx(last[t])
    lag = defaultdict(float)
    for labels, pts in api.served["consumer_lag_offsets"].items():
        lag[labels[-1][1]] = max(lag[labels[-1][1]], max(pts.values()))
    assert prof.loc["orders", "max_consumer_lag_records"] == lag["orders"]
    assert prof.loc["orders", "consumer_groups"] == 2
    assert prof.loc["audit", "coverage"] < 1  # the stand-in's gaps stay gaps


def test_folder_ingests_again_with_the_manifest_as_companion(tmp_path, sleeps):
    from exitkit.ingest import ingest

    with serve(FakeMetricsApi(throttle=False)) as server:
        folder = cc.collect(
            "lkc-7q2x9", 1, tmp_path / "out", url=server.url, env=_env(), now=datetime(2025, 3, 4, tzinfo=UTC)
        )
    reports = ingest([tmp_path], tmp_path / "s.duckdb")  # the parent folder, as a user would
    status = {r.path.removeprefix(str(folder) + "/"): r.status for r in reports}
    assert status["manifest.json"] == "companion"
    assert status["received_bytes/w1.request.json"] == "companion"
    assert status["received_bytes/w1.json"] == status["received_bytes/w1.page2.json"] == "loaded"
    manifest = json.loads((folder / "manifest.json").read_text())
    # 1 day → PT5M in one window ending a bucket before now − 3 min.
    assert manifest["granularity"] == "PT5M" and manifest["windows"] == ["2025-03-02T23:55:00Z/2025-03-03T23:55:00Z"]


def test_missing_credential_is_one_line_and_exit_2(tmp_path):
    result = CliRunner().invoke(
        collect,
        ["confluent", "--cluster", "lkc-7q2x9", "--days", "1", "--out", str(tmp_path / "o")],
        env={cc.KEY_ENV: KEY, cc.SECRET_ENV: ""},
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: CONFLUENT_CLOUD_API_SECRET not set")
    assert KEY not in result.output and not (tmp_path / "o").exists()


def test_wrong_credential_is_one_line_naming_the_env_vars(tmp_path, sleeps):
    with serve(FakeMetricsApi(throttle=False)) as server:
        result = CliRunner().invoke(
            collect,
            ["confluent", "--cluster", "lkc-7q2x9", "--days", "1", "--url", server.url, "--out", str(tmp_path / "o")],
            env=_env(**{cc.SECRET_ENV: "wrong-secret-4711"}),
        )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "HTTP 401" in lines[0]
    assert "CONFLUENT_CLOUD_API_KEY" in lines[0] and "CONFLUENT_CLOUD_API_SECRET" in lines[0]
    assert "wrong-secret-4711" not in result.output and KEY not in result.output
    assert not (tmp_path / "o").exists()  # refused before anything was written: no folder left


def test_throttling_that_never_ends_stops_after_bounded_attempts(tmp_path, sleeps):
    def always_429(req):
        return reply_json({"errors": [{"detail": "Too Many Requests"}]}, 429, {"rateLimit-reset": "30"})

    with serve(always_429) as server, pytest.raises(Exception, match="HTTP 429") as exc:
        cc.collect("lkc-7q2x9", 0.25, tmp_path / "o", url=server.url, env=_env(), retry=Retry(attempts=4))
    assert len(server.requests) == 4 and sleeps == [30.0, 30.0, 30.0]
    assert "Too Many Requests" in str(exc.value)


def test_granularity_and_windows():
    now = datetime(2025, 3, 10, 12, 7, 30, tzinfo=UTC)
    assert [cc.choose_granularity(d * 86400) for d in (0.25, 1, 4, 7, 8, 30)] == [
        "PT1M", "PT5M", "PT15M", "PT30M", "PT1H", "PT1H"]  # fmt: skip
    p = cc.plan(2, now, "PT1M")  # PT1M allows 6 h per request: 8 windows
    assert len(p.windows) == 8 and all(b - a == 6 * 3600 for a, b in p.windows)
    assert p.end == _ts("2025-03-10T12:04:00Z") and p.start == p.end - 2 * 86400
    p = cc.plan(30, now)  # PT1H accepts any interval; a week per request
    assert p.granularity == "PT1H" and p.end == _ts("2025-03-10T12:00:00Z")
    assert [b - a for a, b in p.windows] == [7 * 86400] * 4 + [2 * 86400]
    assert p.windows[0][0] == p.start and p.windows[-1][1] == p.end


def test_wait_honours_retry_after_then_rate_limit_reset_then_backoff():
    import httpx

    r = Retry(backoff_s=1.5, max_wait_s=60)
    assert wait_seconds(httpx.Response(429, headers={"Retry-After": "3", "rateLimit-reset": "9"}), 0, r) == 3
    assert wait_seconds(httpx.Response(429, headers={"rateLimit-reset": "9"}), 0, r) == 9
    assert wait_seconds(httpx.Response(429, headers={"rateLimit-reset": "900"}), 0, r) == 60  # capped
    assert wait_seconds(httpx.Response(503), 2, r) == 6.0  # 1.5 × 2²


def test_credentials_from_env():
    assert cc.credentials({cc.KEY_ENV: "k", cc.SECRET_ENV: "s"}) == ("k", "s")
    with pytest.raises(CredentialError, match="CONFLUENT_CLOUD_API_KEY and CONFLUENT_CLOUD_API_SECRET not set"):
        cc.credentials({})
