"""Amazon MSK CloudWatch reader: values checked against the generator's own numbers.

The generated estate is a get-metric-data save as the aws CLI writes it (newest first,
results in another order than the queries, one Id's pages repeated) for 3 topics × 3 brokers.
"""

import gzip
import json
import math
import random
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exitkit.ingest import IngestFailed, ingest, read_file
from exitkit.ingest.base import Source
from exitkit.ingest.cloudwatch import sniff
from exitkit.store import open_store

FIXTURES = Path(__file__).parent / "fixtures" / "cloudwatch"
CLUSTER = "prod-msk"
TOPICS = ("orders.v1", "payments", "audit")
BROKERS = ("1", "2", "3")
N, PERIOD = 48, 300
T0 = pd.Timestamp("2025-03-03T00:00:00")
AWS_NAMES = {"bytes_in": "BytesInPerSec", "bytes_out": "BytesOutPerSec"}


# --- generator ---------------------------------------------------------------------------------


def _truth(seed: int = 7) -> dict[tuple[str, str, str], np.ndarray]:
    """(metric, topic, broker) -> N per-second rates; NaN where the export has a gap."""
    rng = np.random.default_rng(seed)
    truth = {}
    for m, scale in (("bytes_in", 2e5), ("bytes_out", 5e5)):
        for t_i, topic in enumerate(TOPICS):
            for broker in BROKERS:
                v = rng.gamma(2.0, scale * (t_i + 1), N)
                if topic == "audit":
                    v[10:15] = np.nan  # a gap for the whole topic: no value, not zero
                if topic == "payments" and broker == "2":
                    v[30] = np.nan  # one broker missing one interval
                truth[(m, topic, broker)] = v
    return truth


def _iso(i: int) -> str:
    return (T0 + pd.Timedelta(seconds=PERIOD * i)).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _query(qid: str, name: str, dims: list[tuple[str, str]], stat: str = "Average", **extra) -> dict:
    q = {
        "Id": qid,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Kafka",
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in [("Cluster Name", CLUSTER), *dims]],
            },
            "Period": PERIOD,
            "Stat": stat,
        },
    }
    return q | extra


def _result(qid: str, idx: list[int], values: list[float], status: str = "Complete") -> dict:
    """A result as CloudWatch returns it: newest first."""
    pairs = sorted(zip(idx, values, strict=True), reverse=True)
    return {
        "Id": qid,
        "Label": qid,
        "Timestamps": [_iso(i) for i, _ in pairs],
        "Values": [v for _, v in pairs],
        "StatusCode": status,
    }


def _estate_doc(truth) -> dict:
    queries, results = [], []
    for (m, topic, broker), v in truth.items():
        qid = f"{m}_{topic.replace('.', '_')}_b{broker}"
        queries.append(_query(qid, AWS_NAMES[m], [("Broker ID", broker), ("Topic", topic)]))
        idx = [i for i in range(N) if not math.isnan(v[i])]
        vals = [float(v[i]) for i in idx]
        if topic == "orders.v1":  # two pages for this Id, as the CLI concatenates them
            results.append(_result(qid, idx[N // 2 :], vals[N // 2 :], "PartialData"))
            results.append(_result(qid, idx[: N // 2], vals[: N // 2]))
        else:
            results.append(_result(qid, idx, vals))
    for broker in BROKERS:  # the all-topics series per broker: no Topic dimension
        qid = f"all_b{broker}"
        queries.append(_query(qid, "BytesInPerSec", [("Broker ID", broker)]))
        results.append(_result(qid, list(range(N)), [9e9] * N))
    queries.append(_query("hidden", "BytesInPerSec", [("Broker ID", "1")], ReturnData=False))
    results.append(_result("hidden", list(range(N)), [7e9] * N))
    random.Random(3).shuffle(results)
    return {"MetricDataQueries": queries, "MetricDataResults": results, "Messages": []}


def _write(path: Path, doc, gz: bool = False) -> Path:
    data = json.dumps(doc, indent=4).encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def _read(path: Path, **kw):
    _sha, reader, result = read_file(path, **kw)
    assert reader.name == "cloudwatch"
    return result


def _topic_stats(points: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per topic: mean, nearest-rank p95 and peak of the rate summed over brokers per interval."""
    p = points[(points.metric == metric) & points.topic.notna()]
    per_ts = p.groupby(["topic", "ts_start"])["value"].sum()
    return per_ts.groupby("topic").agg(["mean", _p95, "max"])


def _p95(s) -> float:
    v = np.sort(np.asarray(s))
    return float(v[math.ceil(0.95 * len(v)) - 1])


def _true_stats(truth, metric: str, topic: str) -> tuple[float, float, float]:
    """From the generating numbers: sum over brokers where any broker has a value."""
    arr = np.vstack([truth[(metric, topic, b)] for b in BROKERS])
    present = ~np.isnan(arr).all(axis=0)
    per_ts = np.nansum(arr, axis=0)[present]
    return float(per_ts.mean()), _p95(per_ts), float(per_ts.max())


@pytest.fixture
def estate(tmp_path):
    truth = _truth()
    return truth, _write(tmp_path / "estate.json", _estate_doc(truth))


# --- get-metric-data ---------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["bytes_in", "bytes_out"])
def test_per_topic_mean_p95_peak_match_truth(estate, metric):
    truth, path = estate
    stats = _topic_stats(_read(path).points, metric)
    for topic in TOPICS:
        mean, p95, peak = _true_stats(truth, metric, topic)
        got = stats.loc[topic]
        assert got["mean"] == pytest.approx(mean, rel=0.005)
        assert got["_p95"] == pytest.approx(p95, rel=0.005)
        assert got["max"] == pytest.approx(peak, rel=0.005)


def test_points_sorted_with_period_end_and_pages_concatenated(estate):
    truth, path = estate
    p = _read(path).points
    one = p[(p.metric == "bytes_in") & (p.topic == "orders.v1") & (p.broker == "1")]
    assert list(one.ts_start) == [T0 + pd.Timedelta(seconds=PERIOD * i) for i in range(N)]  # both pages, ascending
    assert (one.ts_end - one.ts_start == pd.Timedelta(seconds=PERIOD)).all()
    assert list(one.value) == pytest.approx(list(truth[("bytes_in", "orders.v1", "1")]))
    assert p.partition.isna().all() and p.consumer_group.isna().all() and (p.cluster == CLUSTER).all()


def test_all_topics_series_kept_apart_and_return_data_false_skipped(estate):
    truth, path = estate
    p = _read(path).points
    totals = p[p.topic.isna()]
    assert set(totals.broker) == set(BROKERS) and (totals.value == 9e9).all()  # broker totals, topic NULL
    assert not (p.value == 7e9).any()  # the ReturnData false query
    topic_sum = p[(p.metric == "bytes_in") & p.topic.notna()].value.sum()
    assert topic_sum == pytest.approx(sum(np.nansum(v) for (m, _t, _b), v in truth.items() if m == "bytes_in"))


def test_gaps_stay_gaps(estate):
    _truth_, path = estate
    p = _read(path).points
    audit = p[(p.topic == "audit") & (p.metric == "bytes_in")]
    missing = {T0 + pd.Timedelta(seconds=PERIOD * i) for i in range(10, 15)}
    assert not set(audit.ts_start) & missing
    assert audit.ts_start.nunique() == N - 5
    b2 = p[(p.topic == "payments") & (p.broker == "2") & (p.metric == "bytes_in")]
    assert len(b2) == N - 1 and (T0 + pd.Timedelta(seconds=PERIOD * 30)) not in set(b2.ts_start)


def test_fixture_mapping_and_notes():
    r = _read(FIXTURES / "get-metric-data.json")
    p = r.points
    assert r.cluster == CLUSTER
    assert sorted(p.metric.unique()) == [
        "bytes_in",
        "bytes_out",
        "consumer_lag_records",
        "partition_count",
        "records_in",
    ]
    lag = p[p.metric == "consumer_lag_records"]
    assert list(lag.value) == [40.0, 250.0, 15.0]  # oldest first; MaxOffsetLag not kept
    assert lag.consumer_group.eq("billing").all() and lag.partition.isna().all() and lag.broker.isna().all()
    parts = p[p.metric == "partition_count"]
    assert parts.topic.isna().all() and (parts.value == 12).all()
    out = p[p.metric == "bytes_out"]
    assert sorted(out.ts_start.dt.strftime("%H:%M").unique()) == ["10:00", "10:05"]  # 10:10 absent: a gap
    assert not (p.value == 8000).any()  # the expression's result
    assert set(p[p.topic.isna() & (p.metric == "bytes_in")].broker) == {"1"}  # bin_b2_all: ReturnData false
    assert any("expression" in n and "e_twice" in n for n in r.notes)
    assert any("KafkaDataLogsDiskUsed" in n and "percent" in n for n in r.notes)
    assert not any("MaxOffsetLag" in n for n in r.notes)
    assert not any(n.startswith("PartialData") for n in r.notes)


def test_partial_data_and_errors_are_notes(tmp_path):
    doc = {
        "MetricDataQueries": [
            _query("a", "BytesInPerSec", [("Broker ID", "1"), ("Topic", "t")]),
            _query("b", "BytesInPerSec", [("Broker ID", "2"), ("Topic", "t")]),
        ],
        "MetricDataResults": [_result("a", [0, 1], [1.0, 2.0], "PartialData"), _result("b", [0], [5.0], "Forbidden")],
        "NextToken": "tok",
    }
    r = _read(_write(tmp_path / "partial.json", doc))
    assert "PartialData for id a: follow NextToken" in r.notes
    assert any("Forbidden" in n and "b" in n for n in r.notes)
    assert any("NextToken" in n and "pages" in n for n in r.notes)
    assert list(r.points.broker) == ["1", "1"]  # partial data kept, Forbidden page not


def test_lag_per_partition_wins_over_sum_and_unknown_metric_noted(tmp_path):
    lag_dims = [("Consumer Group", "g"), ("Topic", "t")]
    doc = {
        "MetricDataQueries": [
            _query("sum", "SumOffsetLag", lag_dims, "Maximum"),
            _query("p0", "OffsetLag", [*lag_dims, ("Partition", "0")], "Maximum"),
            _query("p1", "OffsetLag", [*lag_dims, ("Partition", "1")], "Maximum"),
            _query("new", "SomeFutureMetric", [("Broker ID", "1")]),
            _query("tl", "EstimatedMaxTimeLag", lag_dims, "Maximum"),
        ],
        "MetricDataResults": [
            _result(q, [0], [v]) for q, v in (("sum", 9.0), ("p0", 4.0), ("p1", 5.0), ("new", 1.0), ("tl", 3.0))
        ],
    }
    r = _read(_write(tmp_path / "lag.json", doc))
    p = r.points
    assert sorted(zip(p.partition, p.value, strict=True)) == [(0, 4.0), (1, 5.0)]
    assert any("SomeFutureMetric" in n for n in r.notes) and not any("EstimatedMaxTimeLag" in n for n in r.notes)


def test_rate_average_kept_when_maximum_also_requested(tmp_path):
    dims = [("Broker ID", "1"), ("Topic", "t")]
    doc = {
        "MetricDataQueries": [_query("avg", "BytesInPerSec", dims), _query("max", "BytesInPerSec", dims, "Maximum")],
        "MetricDataResults": [_result("max", [0], [50.0]), _result("avg", [0], [10.0])],
    }
    r = _read(_write(tmp_path / "two-stats.json", doc))
    assert list(r.points.value) == [10.0]
    assert any("kept Average" in n and "Maximum" in n for n in r.notes)


def test_gz_with_misleading_names(tmp_path, estate):
    truth, path = estate
    gz = tmp_path / "estate.csv"  # gzip content under a .csv name
    gz.write_bytes(gzip.compress(path.read_bytes()))
    txt = tmp_path / "metrics.txt.gz"  # a .gz name, plain content
    shutil.copy(FIXTURES / "get-metric-data.json", txt)
    assert len(_read(gz).points) == len(_read(path).points)
    assert len(_read(txt).points) == 22


def test_concatenated_and_listed_pages(tmp_path):
    q = [_query("a", "BytesInPerSec", [("Broker ID", "1"), ("Topic", "t")])]
    page1 = {"MetricDataQueries": q, "MetricDataResults": [_result("a", [2, 3], [3.0, 4.0], "PartialData")]}
    page2 = {"MetricDataResults": [_result("a", [0, 1], [1.0, 2.0])]}
    cat = tmp_path / "cat.json"
    cat.write_text(json.dumps(page1, indent=2) + "\n" + json.dumps(page2, indent=2) + "\n")
    listed = _write(tmp_path / "list.json", [page1, page2])
    for f in (cat, listed):
        r = _read(f)
        assert list(r.points.value) == [1.0, 2.0, 3.0, 4.0]
        assert not any("PartialData" in n for n in r.notes)


def test_sibling_request_for_metric_data(tmp_path):
    doc = json.loads((FIXTURES / "get-metric-data.json").read_text())
    queries = {"MetricDataQueries": doc.pop("MetricDataQueries"), "StartTime": doc.pop("StartTime")}
    _write(tmp_path / "m.json", doc)
    _write(tmp_path / "m.request.json", queries)
    reports = ingest([tmp_path], db=tmp_path / "s.duckdb")
    by_name = {Path(r.path).name: r for r in reports}
    assert by_name["m.json"].status == "loaded" and by_name["m.json"].rows == 22
    assert by_name["m.request.json"].status == "companion"


# --- get-metric-statistics ---------------------------------------------------------------------


def _payments_b3(points: pd.DataFrame) -> None:
    assert list(points.value) == [100.0, 200.0, 300.0, 400.0]  # sorted from unordered datapoints
    assert list(points.ts_start.dt.strftime("%H:%M")) == ["10:00", "10:05", "10:10", "10:15"]
    assert (points.ts_end - points.ts_start == pd.Timedelta(minutes=5)).all()
    assert set(points.broker) == {"3"} and set(points.topic) == {"payments"} and set(points.cluster) == {CLUSTER}
    assert set(points.metric) == {"bytes_in"}


def test_statistics_with_request_merged():
    _payments_b3(_read(FIXTURES / "get-metric-statistics.json").points)


def test_statistics_with_request_beside_it_in_a_folder_walk(tmp_path):
    shutil.copy(FIXTURES / "payments-b3.json", tmp_path)
    shutil.copy(FIXTURES / "payments-b3.request.json", tmp_path)
    reports = ingest([tmp_path], db=tmp_path / "s.duckdb")
    assert sorted((Path(r.path).name, r.status) for r in reports) == [
        ("payments-b3.json", "loaded"),
        ("payments-b3.request.json", "companion"),
    ]
    with open_store(tmp_path / "s.duckdb") as con:
        _payments_b3(con.execute("SELECT * FROM metric_points ORDER BY ts_start").df())


def test_statistics_with_request_object_before_it(tmp_path):
    f = tmp_path / "cat.json"  # cat request.json response.json > cat.json
    f.write_text((FIXTURES / "payments-b3.request.json").read_text() + (FIXTURES / "payments-b3.json").read_text())
    _payments_b3(_read(f).points)


def test_statistics_without_request_uses_cluster_option_and_spacing(tmp_path):
    doc = json.loads((FIXTURES / "payments-b3.json").read_text())
    del doc["Datapoints"][1]  # 10:00 gone: spacing still shows 5-minute periods
    r = _read(_write(tmp_path / "bare.json", doc), cluster="other")
    p = r.points
    assert list(p.value) == [200.0, 300.0, 400.0]
    assert (p.ts_end - p.ts_start == pd.Timedelta(minutes=5)).all()
    assert p.topic.isna().all() and p.broker.isna().all() and set(p.cluster) == {"other"}
    assert any("no Dimensions" in n for n in r.notes)


def test_statistics_sum_of_rate_refused(tmp_path):
    doc = {"Label": "BytesOutPerSec", "Datapoints": [{"Timestamp": "2025-03-03T10:00:00Z", "Sum": 5.0}]}
    with pytest.raises(IngestFailed, match="request --statistics Average"):
        ingest([_write(tmp_path / "sum.json", doc)], db=tmp_path / "s.duckdb", cluster="c")


# --- sniffing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "head, mine",
    [
        ((FIXTURES / "get-metric-data.json").read_text(), True),
        ((FIXTURES / "get-metric-statistics.json").read_text(), True),
        ((FIXTURES / "payments-b3.request.json").read_text(), True),
        ('{"data":[{"timestamp":"2025-03-03T00:00:00Z","metric.topic":"t","value":5.0}],"meta":{}}', False),
        ('{"aggregations":[{"metric":"io.confluent.kafka.server/received_bytes"}],"granularity":"PT1H"}', False),
        ('{"status":"success","data":{"resultType":"matrix","result":[]}}', False),
        ("# TYPE x gauge\nx 1\n", False),
    ],
)
def test_sniff(head, mine):
    assert sniff(head, Source(Path("x"), head.encode())) is mine


# --- bad input: one error per bad file, store unchanged -----------------------------------------


def _bad_files(tmp_path: Path) -> dict[str, str]:
    """name -> text expected in its error. Each file is wrong in one way."""
    good = json.loads((FIXTURES / "get-metric-data.json").read_text())

    def variant(name: str, edit) -> None:
        doc = json.loads(json.dumps(good))
        r = next(x for x in doc["MetricDataResults"] if x["Id"] == "bin_b1_orders")
        edit(doc, r)
        _write(tmp_path / name, doc)

    text = (FIXTURES / "get-metric-data.json").read_text()
    (tmp_path / "truncated.json").write_text(text[: len(text) // 2])
    variant("lengths.json", lambda d, r: r["Values"].pop())
    variant("nonnumeric.json", lambda d, r: r["Values"].__setitem__(0, "12 kB"))
    variant("badtime.json", lambda d, r: r["Timestamps"].__setitem__(1, "yesterday 10:05"))
    variant("orphan.json", lambda d, r: r.__setitem__("Id", "nobody"))
    variant("ratesum.json", lambda d, r: d["MetricDataQueries"][0]["MetricStat"].__setitem__("Stat", "Sum"))
    (tmp_path / "overflow.json").write_text(text.replace("1200.0", "1e999"))
    (tmp_path / "bigint.json").write_text(text.replace("1200.0", "1" + "0" * 400))
    (tmp_path / "nocluster.json").write_text((FIXTURES / "payments-b3.json").read_text())
    return {
        "truncated.json": "truncated or invalid JSON",
        "lengths.json": "3 Timestamps but 2 Values",
        "nonnumeric.json": "'12 kB' is not a number",
        "badtime.json": "'yesterday 10:05' is not a time",
        "orphan.json": "result Id 'nobody' has no matching query",
        "ratesum.json": "request Average",
        "overflow.json": "not a finite number",
        "bigint.json": "too large",
        "nocluster.json": "pass --cluster",
    }


def _contents(db: Path) -> tuple:
    with open_store(db) as con:
        points = con.execute("SELECT * FROM metric_points ORDER BY ALL").fetchall()
        sources = con.execute("SELECT source_id, path, sha256, rows FROM sources ORDER BY ALL").fetchall()
    return points, sources


def test_bad_files_each_reported_and_store_unchanged(tmp_path, estate):
    db = tmp_path / "s.duckdb"
    ingest([FIXTURES / "get-metric-data.json"], db=db)
    before = _contents(db)
    bad = tmp_path / "bad"
    bad.mkdir()
    expected = _bad_files(bad)
    with pytest.raises(IngestFailed) as info:
        ingest([estate[1], bad], db=db)  # a good new file too: it must not be kept either
    errors = {Path(e.path).name: e for e in info.value.errors}
    assert sorted(errors) == sorted(expected)
    for name, text in expected.items():
        assert text in errors[name].message, (name, errors[name].message)
        assert "\n" not in str(errors[name])
    assert _contents(db) == before


def test_error_lines_point_into_the_file(tmp_path):
    _bad_files(tmp_path)
    lines = {}
    for name in ("truncated.json", "badtime.json", "lengths.json"):
        with pytest.raises(IngestFailed) as info:
            ingest([tmp_path / name], db=tmp_path / "s.duckdb")
        lines[name] = info.value.errors[0].line
    text = (tmp_path / "badtime.json").read_text().splitlines()
    assert "yesterday 10:05" in text[lines["badtime.json"] - 1]
    assert '"bin_b1_orders"' in (tmp_path / "lengths.json").read_text().splitlines()[lines["lengths.json"] - 1]
    assert lines["truncated.json"] is not None and lines["truncated.json"] > 1


# --- end to end through the profile -------------------------------------------------------------


def test_profile_end_to_end(tmp_path, estate):
    from exitkit.profile.topics import topic_profile

    truth, path = estate
    db = tmp_path / "s.duckdb"
    ingest([path], db=db)
    with open_store(db) as con:
        prof = topic_profile(con).set_index("topic")
    for topic in TOPICS:
        mean, p95, peak = _true_stats(truth, "bytes_in", topic)
        row = prof.loc[topic]
        assert row.cluster == CLUSTER
        assert row.write_bytes_per_s_mean == pytest.approx(mean, rel=0.005)
        assert row.write_bytes_per_s_p95 == pytest.approx(p95, rel=0.005)
        assert row.write_bytes_per_s_peak == pytest.approx(peak, rel=0.005)
        assert row.read_bytes_per_s_mean == pytest.approx(_true_stats(truth, "bytes_out", topic)[0], rel=0.005)
