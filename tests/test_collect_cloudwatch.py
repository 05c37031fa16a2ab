"""`exitkit collect cloudwatch` against botocore's Stubber: list_metrics pages, get_metric_data batches
(≤ 500 queries and ≤ 100,800 points per call) with a NextToken page. The folder is ingested
and the profile must give back the per-topic means of the numbers served.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import botocore.session
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from exitkit.cli.collect import collect
from exitkit.collect import cloudwatch as cw
from exitkit.errors import CollectError
from exitkit.profile.topics import topic_profile
from exitkit.store import open_store

CLUSTER = "prod-msk"
ACCESS_KEY, SECRET_KEY = "AKIAEXITKITTEST0001", "exitkitSecretKey/abc+123"
NOW = datetime(2025, 3, 15, 12, 0, 30, tzinfo=UTC)
END = datetime(2025, 3, 15, 12, 0, tzinfo=UTC)  # on the 60 s period boundary
START = END - timedelta(days=14)
N = 30  # points served per series: the last 30 minutes (the rest of the range is a gap)
STAMPS = [END - timedelta(minutes=N - k) for k in range(N)]


def _dims(broker=None, topic=None, group=None):
    d = [{"Name": "Cluster Name", "Value": CLUSTER}]
    if broker:
        d.append({"Name": "Broker ID", "Value": broker})
    if group:
        d.append({"Name": "Consumer Group", "Value": group})
    if topic:
        d.append({"Name": "Topic", "Value": topic})
    return d


def _m(name, **kw):
    return {"Namespace": "AWS/Kafka", "MetricName": name, "Dimensions": _dims(**kw)}


# list_metrics answers per metric name, page by page (BytesInPerSec has two pages).
LISTING = {
    "BytesInPerSec": [
        [_m("BytesInPerSec", broker="1", topic="orders"), _m("BytesInPerSec", broker="2", topic="orders"),
         _m("BytesInPerSec", broker="1")],  # a broker total: no Topic, never added to topic sums
        [_m("BytesInPerSec", broker="1", topic="payments"), _m("BytesInPerSec", broker="2", topic="payments"),
         {"Namespace": "AWS/Kafka", "MetricName": "BytesInPerSec",  # a dimension exitkit does not map: left out
          "Dimensions": _dims(broker="1") + [{"Name": "Client Authentication", "Value": "TLS"}]}],
    ],
    "BytesOutPerSec": [[_m("BytesOutPerSec", broker=b, topic=t) for t in ("orders", "payments") for b in "12"]],
    "MessagesInPerSec": [[_m("MessagesInPerSec", broker="1", topic="orders"),
                          _m("MessagesInPerSec", broker="2", topic="payments")]],
    "SumOffsetLag": [[_m("SumOffsetLag", group="billing", topic="orders")]],
    "OffsetLag": [[]],
    "GlobalPartitionCount": [[_m("GlobalPartitionCount")]],
}  # fmt: skip
# What the collector must ask, in order: listing order, unmapped dimensions left out.
SERIES = [
    m for name in cw.METRICS for page in LISTING[name] for m in page
    if all(d["Name"] in cw.DIMENSIONS for d in m["Dimensions"])
]  # fmt: skip


def value(series_index: int, k: int) -> float:
    return 1000.0 * (series_index + 1) + 37.0 * ((k * 7 + series_index) % 11)


def _client():
    session = botocore.session.get_session()
    return session.create_client(
        "cloudwatch", region_name="eu-west-1", aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY
    )


def _stub_listing(stub: Stubber) -> None:
    for name, pages in LISTING.items():
        for i, page in enumerate(pages):
            params = {"Namespace": "AWS/Kafka", "MetricName": name, "Dimensions": [
                {"Name": "Cluster Name", "Value": CLUSTER}]}  # fmt: skip
            if i:
                params["NextToken"] = f"{name}-p{i + 1}"
            answer = {"Metrics": page}
            if i + 1 < len(pages):
                answer["NextToken"] = f"{name}-p{i + 2}"
            stub.add_response("list_metrics", answer, params)


def _results(ids_and_series, stamps, status):
    return [
        {"Id": qid, "Label": s["MetricName"], "Timestamps": list(reversed(stamps)),  # newest first, as CloudWatch
         "Values": [value(SERIES.index(s), STAMPS.index(t)) for t in reversed(stamps)], "StatusCode": status}
        for qid, s in ids_and_series
    ]  # fmt: skip


def _stub_data(stub: Stubber) -> list[list[dict]]:
    """14 days at 60 s = 20,160 points per series: 100,800 // 20,160 = 5 queries per call."""
    batches = [SERIES[i : i + 5] for i in range(0, len(SERIES), 5)]
    for b, batch in enumerate(batches):
        queries = [
            {"Id": f"m{i}", "MetricStat": {"Metric": s, "Period": 60, "Stat": cw.METRICS[s["MetricName"]]}}
            for i, s in enumerate(batch)
        ]
        params = {"MetricDataQueries": queries, "StartTime": START, "EndTime": END}
        ids = [(q["Id"], s) for q, s in zip(queries, batch, strict=True)]
        if b == 1:  # this call answers in two pages
            first, rest = STAMPS[:12], STAMPS[12:]
            stub.add_response(
                "get_metric_data", {"MetricDataResults": _results(ids, first, "PartialData"), "NextToken": "n2"}, params
            )
            stub.add_response(
                "get_metric_data", {"MetricDataResults": _results(ids, rest, "Complete")}, {**params, "NextToken": "n2"}
            )
        else:
            stub.add_response("get_metric_data", {"MetricDataResults": _results(ids, STAMPS, "Complete")}, params)
    return batches


def _mean_of_sums(name: str, topic: str) -> float:
    idx = [i for i, s in enumerate(SERIES) if s["MetricName"] == name and {"Name": "Topic", "Value": topic} in s[
        "Dimensions"]]  # fmt: skip
    return sum(sum(value(i, k) for i in idx) for k in range(N)) / N


def test_collect_ingest_profile_matches_the_served_numbers(tmp_path):
    from exitkit.ingest import ingest

    client = _client()
    with Stubber(client) as stub:
        _stub_listing(stub)
        batches = _stub_data(stub)
        folder = cw.collect(CLUSTER, 14, tmp_path / "out", now=NOW, client=client)
        stub.assert_no_pending_responses()
    assert [len(b) for b in batches] == [5, 5, 3]

    manifest = json.loads((folder / "manifest.json").read_text())
    assert (manifest["source"], manifest["cluster"], manifest["region"]) == ("cloudwatch", CLUSTER, "eu-west-1")
    assert (manifest["period_s"], manifest["series"], manifest["calls"], manifest["requests"]) == (60, 13, 3, 4)
    assert (manifest["from"], manifest["to"]) == ("2025-03-01T12:00:00Z", "2025-03-15T12:00:00Z")
    assert [f["path"] for f in manifest["files"]] == [f"metric-data.b{i}.json" for i in (1, 2, 3)]
    for f in manifest["files"]:
        assert hashlib.sha256((folder / f["path"]).read_bytes()).hexdigest() == f["sha256"]

    doc = json.loads((folder / "metric-data.b2.json").read_text())  # request and answer in ONE object
    assert set(doc) == {"StartTime", "EndTime", "MetricDataQueries", "MetricDataResults", "Messages"}
    assert len(doc["MetricDataQueries"]) == 5 and len(doc["MetricDataResults"]) == 10  # two pages kept
    assert doc["MetricDataResults"][0]["Timestamps"][0] == "2025-03-15T11:41:00+00:00"
    everything = b"".join(p.read_bytes() for p in folder.rglob("*"))
    assert ACCESS_KEY.encode() not in everything and SECRET_KEY.encode() not in everything

    ingest([folder], tmp_path / "s.duckdb", cluster=CLUSTER)
    with open_store(tmp_path / "s.duckdb") as con:
        prof = topic_profile(con).set_index("topic")
    assert sorted(prof.index) == ["orders", "payments"]
    for t in ("orders", "payments"):
        assert prof.loc[t, "cluster"] == CLUSTER
        assert prof.loc[t, "write_bytes_per_s_mean"] == pytest.approx(_mean_of_sums("BytesInPerSec", t))
        assert prof.loc[t, "read_bytes_per_s_mean"] == pytest.approx(_mean_of_sums("BytesOutPerSec", t))
        assert prof.loc[t, "records_in_per_s_mean"] == pytest.approx(_mean_of_sums("MessagesInPerSec", t))
    lag = SERIES.index(_m("SumOffsetLag", group="billing", topic="orders"))
    assert prof.loc["orders", "max_consumer_lag_records"] == max(value(lag, k) for k in range(N))


def test_period_follows_cloudwatch_retention():
    assert [cw.plan(d, NOW)[2] for d in (1, 15, 16, 63, 64, 455)] == [60, 60, 300, 300, 3600, 3600]
    assert cw.plan(20, NOW, 900)[2] == 900
    with pytest.raises(CollectError, match="kept at 300 s; use a multiple of 300"):
        cw.plan(20, NOW, 60)
    with pytest.raises(CollectError, match="455 days"):
        cw.plan(500, NOW)


def test_batches_respect_queries_and_points_per_call():
    series = [{"MetricName": "BytesInPerSec"}] * 1200
    assert [len(b) for b in cw.batches(series, 60)] == [500, 500, 200]  # 500 queries
    assert [len(b) for b in cw.batches(series[:12], 20_160)] == [5, 5, 2]  # 100,800 points


def _invoke_with(monkeypatch, client):
    monkeypatch.setattr(cw, "make_client", lambda region: client)
    return CliRunner().invoke(collect, ["cloudwatch", "--cluster", CLUSTER, "--days", "1", "--region", "eu-west-1"])


def test_expired_token_is_one_line_and_exit_2(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    client = _client()
    with Stubber(client) as stub:
        stub.add_client_error(
            "list_metrics", "ExpiredToken", "The security token included in the request is expired", 403
        )
        result = _invoke_with(monkeypatch, client)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: AWS refused the credentials") and "ExpiredToken" in lines[0]
    assert not (tmp_path / "exports").exists()


def test_no_credentials_is_one_line_and_exit_2(monkeypatch, tmp_path):
    import boto3

    monkeypatch.chdir(tmp_path)
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):  # fmt: skip
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata lookup (no network)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    result = CliRunner().invoke(collect, ["cloudwatch", "--cluster", CLUSTER, "--days", "1", "--region", "eu-west-1"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no usable AWS credentials")


def test_unknown_cluster_says_what_to_check(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    client = _client()
    with Stubber(client) as stub:
        for _ in cw.METRICS:
            stub.add_response("list_metrics", {"Metrics": []})
        result = _invoke_with(monkeypatch, client)
    assert result.exit_code == 2
    assert "no AWS/Kafka series" in result.output and "PER_TOPIC_PER_BROKER" in result.output
