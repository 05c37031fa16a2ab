"""Confluent Cloud Metrics API readers: /query responses (+ saved request) and /export scrapes.

Truth is worked out by hand in comments for the fixture files, or computed with plain Python
from the generating numbers for the generated ones.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from exitkit.errors import BadExport
from exitkit.ingest import IngestFailed, confluent_export, confluent_query, confluent_request, ingest, read_file, sniff
from exitkit.ingest.base import Source

FIX = Path(__file__).parent / "fixtures" / "confluent"
T0 = datetime(2025, 3, 3, tzinfo=UTC)


# ---------------------------------------------------------------- helpers


def read(path: Path, **hints):
    """(reader name, ReadResult) of one file through the driver's read_file (gunzip + sniff)."""
    _, reader, result = read_file(path, **hints)
    return reader.name, result


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def series(points: pd.DataFrame, metric: str, topic: str | None = None) -> dict[pd.Timestamp, float]:
    """{ts_start: value summed over partitions} of one topic (None: cluster totals)."""
    p = points[points["metric"] == metric]
    p = p[p["topic"].isna()] if topic is None else p[p["topic"] == topic]
    return p.groupby("ts_start")["value"].sum().to_dict()


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile: the value at rank ceil(0.95 n) of the sorted values."""
    s = sorted(values)
    return s[math.ceil(0.95 * len(s)) - 1]


def stats(values: list[float]) -> tuple[float, float, float]:
    return sum(values) / len(values), p95(values), max(values)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=0.005)


def iso(t: datetime, millis: bool = False) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (".000Z" if millis else "Z")


def request(metric: str, granularity: str, cluster: str = "lkc-7q2x9", fmt: str = "FLAT") -> dict:
    return {
        "aggregations": [{"metric": f"io.confluent.kafka.server/{metric}"}],
        "filter": {"op": "AND", "filters": [{"field": "resource.kafka.id", "op": "EQ", "value": cluster}]},
        "group_by": ["metric.topic"],
        "granularity": granularity,
        "intervals": ["2025-03-03T00:00:00Z/2025-03-03T02:00:00Z"],
        "limit": 1,
        "format": fmt,
    }


def write_json(path: Path, doc: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1))
    return path


def store_rows(db: Path) -> dict[str, list]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ("sources", "metric_points")}


# ---------------------------------------------------------------- /query fixtures


def test_flat_two_pages_request_beside_both_timestamp_styles_newest_first_and_gap():
    # Request: received_bytes, PT1H, filter resource.kafka.id = lkc-7q2x9.
    # orders.v1: 3.6e9, 7.2e9, 1.8e9 bytes per hour -> 1e6, 2e6, 5e5 B/s.
    # payments (page 2, ".000Z", newest first): 02:00 3.6e8 -> 1e5, 00:00 7.2e8 -> 2e5; 01:00 missing.
    name1, r1 = read(FIX / "query_flat" / "received_bytes.json")
    name2, r2 = read(FIX / "query_flat" / "received_bytes.page2.json")
    assert name1 == name2 == "confluent-query"
    assert r1.cluster == r2.cluster == "lkc-7q2x9"
    assert any("next_page_token" in n for n in r1.notes)
    pts = pd.concat([r1.points, r2.points])
    assert set(pts["metric"]) == {"bytes_in"} and set(pts["cluster"]) == {"lkc-7q2x9"}
    assert series(pts, "bytes_in", "orders.v1") == {
        ts("2025-03-03 00:00"): 1e6,
        ts("2025-03-03 01:00"): 2e6,
        ts("2025-03-03 02:00"): 5e5,
    }
    # The gap stays a gap: no 01:00 row, and rows come out sorted.
    assert list(r2.points["ts_start"]) == [ts("2025-03-03 00:00"), ts("2025-03-03 02:00")]
    assert list(r2.points["value"]) == [2e5, 1e5]
    assert ((pts["ts_end"] - pts["ts_start"]) == pd.Timedelta(hours=1)).all()
    # Per topic by hand: orders.v1 mean 1166666.7, p95 (rank ceil(2.85)=3) 2e6, peak 2e6;
    # payments mean 1.5e5, p95 (rank 2) 2e5, peak 2e5.
    orders = list(series(pts, "bytes_in", "orders.v1").values())
    payments = list(series(pts, "bytes_in", "payments").values())
    assert all(map(close, stats(orders), (1166666.67, 2e6, 2e6)))
    assert all(map(close, stats(payments), (1.5e5, 2e5, 2e5)))


def test_grouped_per_partition_metric_and_cluster_from_file_name_granularity_inferred():
    # No request: lkc-abc12 and sent_bytes from the name; PT1M from the 60 s spacing.
    # Sum over partitions: 10:00 12000 -> 200 B/s, 10:01 18000 -> 300, 10:02 6000 (p1 only) -> 100,
    # 10:03 9000 -> 150. Partition 0 has no 10:02 row.
    name, r = read(FIX / "query_grouped" / "lkc-abc12_sent_bytes_p1.json")
    assert name == "confluent-query" and r.cluster == "lkc-abc12"
    assert any("PT1M inferred" in n for n in r.notes)
    s = series(r.points, "bytes_out", "orders.v1")
    assert s == {
        ts("2025-03-03 10:00"): 200,
        ts("2025-03-03 10:01"): 300,
        ts("2025-03-03 10:02"): 100,
        ts("2025-03-03 10:03"): 150,
    }
    p0 = r.points[r.points["partition"] == 0]
    assert list(p0["ts_start"].dt.minute) == [0, 1, 3]
    assert all(map(close, stats(list(s.values())), (187.5, 300, 300)))


def test_cluster_totals_from_row_labels_and_metric_from_flag():
    # resource.kafka.id rows, no topic: cluster totals (topic NULL). PT5M inferred from lkc-aaa01's
    # spacing: 300000/300 = 1000 B/s, 600000/300 = 2000; lkc-bbb02 150000/300 = 500.
    path = FIX / "query_cluster" / "cluster_total.json"
    with pytest.raises(BadExport, match="--metric"):
        read(path)
    for spelling in ("bytes_in", "received_bytes", "io.confluent.kafka.server/received_bytes"):
        _, r = read(path, metric=spelling)
        assert r.points["topic"].map(lambda t: t is None).all()
        a = r.points[r.points["cluster"] == "lkc-aaa01"]
        b = r.points[r.points["cluster"] == "lkc-bbb02"]
        assert list(a["value"]) == [1000, 2000] and list(b["value"]) == [500]
        assert (r.points["ts_end"] - r.points["ts_start"] == pd.Timedelta(minutes=5)).all()
    with pytest.raises(BadExport, match="--metric 'bogus'"):
        read(path, metric="bogus")


def test_json_saved_with_misleading_extension_is_sniffed_by_content():
    # received_records, PT1M: 6000/60 = 100 rec/s, 12000/60 = 200 rec/s.
    name, r = read(FIX / "misleading" / "lkc-7q2x9_received_records.csv")
    assert name == "confluent-query"
    assert list(r.points["value"]) == [100, 200] and set(r.points["metric"]) == {"records_in"}


def test_gzip_file_reads_like_the_plain_one(tmp_path):
    src = FIX / "query_grouped" / "lkc-abc12_sent_bytes_p1.json"
    gz = tmp_path / (src.name + ".gz")
    gz.write_bytes(gzip.compress(src.read_bytes()))
    _, plain = read(src)
    _, unzipped = read(gz)
    pd.testing.assert_frame_equal(plain.points, unzipped.points)


def test_request_is_a_companion_in_a_folder_walk(tmp_path):
    db = tmp_path / "s.duckdb"
    reports = {Path(r.path).name: r for r in ingest([FIX / "query_flat"], db=db)}
    assert reports["received_bytes.request.json"].status == "companion"
    assert reports["received_bytes.request.json"].format == "confluent-request"
    assert reports["received_bytes.json"].rows == 3 and reports["received_bytes.page2.json"].rows == 2
    assert len(store_rows(db)["metric_points"]) == 5


def test_gauges_as_is_lag_by_group_and_unkept_labels_summed(tmp_path):
    # consumer_lag_offsets PT1M: a gauge, stored as-is (not / 60), group from metric.consumer_group_id.
    lag = {
        "data": [
            {
                "metric.consumer_group_id": "billing",
                "metric.topic": "orders.v1",
                "points": [
                    {"timestamp": "2025-03-03T00:01:00Z", "value": 40},
                    {"timestamp": "2025-03-03T00:00:00Z", "value": 212},
                ],
            }
        ]
    }
    _, r = read(write_json(tmp_path / "lkc-abc12_consumer_lag_offsets.json", lag))
    assert list(r.points["value"]) == [212, 40] and set(r.points["consumer_group"]) == {"billing"}
    assert set(r.points["metric"]) == {"consumer_lag_records"}
    # active_connection_count by principal: exitkit keeps no principal, so 00:00 is 3 + 4 = 7 connections.
    conns = {
        "data": [
            {"timestamp": "2025-03-03T00:00:00Z", "metric.principal_id": "sa-1", "value": 3},
            {"timestamp": "2025-03-03T00:00:00Z", "metric.principal_id": "sa-2", "value": 4},
            {"timestamp": "2025-03-03T00:01:00Z", "metric.principal_id": "sa-1", "value": 5},
        ]
    }
    _, r = read(write_json(tmp_path / "lkc-abc12_active_connection_count.json", conns))
    assert list(r.points["value"]) == [7, 5] and set(r.points["metric"]) == {"connections"}
    assert any("metric.principal_id" in n for n in r.notes)


# ---------------------------------------------------------------- resolution of metric, cluster, granularity

FLAT_NO_NAMES = {
    "data": [
        {"timestamp": "2025-03-03T00:01:00Z", "metric.topic": "t", "value": 120},
        {"timestamp": "2025-03-03T00:00:00Z", "metric.topic": "t", "value": 60},
    ]
}


def test_refuses_when_nothing_tells_metric_or_cluster(tmp_path):
    path = write_json(tmp_path / "page.json", FLAT_NO_NAMES)
    with pytest.raises(BadExport, match=r"does not name its metric.*--metric") as exc:
        read(path)
    assert str(path) in str(exc.value)
    with pytest.raises(BadExport, match=r"cannot tell the cluster.*--cluster"):
        read(path, metric="received_bytes")
    _, r = read(path, metric="received_bytes", cluster="lkc-x1")
    assert set(r.points["cluster"]) == {"lkc-x1"} and list(r.points["value"]) == [1, 2]


def test_request_wins_over_file_name_and_flags(tmp_path):
    path = write_json(tmp_path / "lkc-abc12_sent_bytes.json", FLAT_NO_NAMES)
    write_json(tmp_path / "lkc-abc12_sent_bytes.request.json", request("received_bytes", "PT1M", cluster="lkc-req01"))
    _, r = read(path, metric="retained_bytes", cluster="lkc-flag1")
    assert set(r.points["metric"]) == {"bytes_in"} and set(r.points["cluster"]) == {"lkc-req01"}
    # Without the request: the file name; the flags only fill what the name does not say.
    (tmp_path / "lkc-abc12_sent_bytes.request.json").unlink()
    _, r = read(path, metric="retained_bytes", cluster="lkc-flag1")
    assert set(r.points["metric"]) == {"bytes_out"} and set(r.points["cluster"]) == {"lkc-abc12"}


def test_folder_request_json_serves_every_page_and_granularity_comes_from_it(tmp_path):
    # The request says PT1H, so a single-timestamp page is still readable: 7200 / 3600 = 2 B/s.
    write_json(tmp_path / "q" / "request.json", request("sent_bytes", "PT1H"))
    one = {"data": [{"timestamp": "2025-03-03T00:00:00Z", "metric.topic": "t", "value": 7200}]}
    path = write_json(tmp_path / "q" / "page_1.json", one)
    _, r = read(path)
    assert list(r.points["value"]) == [2] and set(r.points["metric"]) == {"bytes_out"}
    assert r.points["ts_end"].iloc[0] == ts("2025-03-03 01:00")


def test_single_timestamp_without_request_is_refused(tmp_path):
    one = {"data": [{"timestamp": "2025-03-03T00:00:00Z", "metric.topic": "t", "value": 7200}]}
    path = write_json(tmp_path / "lkc-abc12_received_bytes.json", one)
    with pytest.raises(BadExport, match="cannot tell the granularity"):
        read(path)


def test_granularity_all_uses_the_request_interval(tmp_path):
    req = request("received_bytes", "ALL")  # interval 00:00–02:00: 7200 s
    write_json(tmp_path / "all.request.json", req)
    doc = {"data": [{"timestamp": "2025-03-03T00:00:00Z", "metric.topic": "t", "value": 72000}]}
    _, r = read(write_json(tmp_path / "all.json", doc))
    assert list(r.points["value"]) == [10] and r.points["ts_end"].iloc[0] == ts("2025-03-03 02:00")


def test_request_for_a_metric_exitkit_does_not_store_gives_no_rows(tmp_path):
    write_json(tmp_path / "req.request.json", request("request_count", "PT1M"))
    _, r = read(write_json(tmp_path / "req.json", FLAT_NO_NAMES))
    assert r.rows == 0 and any("not one exitkit stores" in n for n in r.notes)


# ---------------------------------------------------------------- generated traffic: stats, PT1H vs PT1M, profile


def generate(seed: int, gaps: dict[str, set[int]]) -> dict[str, dict[int, int]]:
    """Per topic {minute: bytes in that minute} over two hours, with the given minutes missing."""
    rng = random.Random(seed)
    return {
        topic: {m: rng.randint(1_000, 9_000_000) for m in range(120) if m not in gaps.get(topic, set())}
        for topic in ("orders.v1", "payments")
    }


def write_minute_pages(folder: Path, metric: str, truth: dict[str, dict[int, int]], rng: random.Random) -> None:
    """One page per topic (FLAT, PT1M): page 1 newest first with `Z`, page 2 shuffled with `.000Z`."""
    write_json(folder / "request.json", request(metric, "PT1M"))
    for n, (topic, minutes) in enumerate(truth.items(), 1):
        pts = [
            {"timestamp": iso(T0 + timedelta(minutes=m), millis=n == 2), "metric.topic": topic, "value": v}
            for m, v in minutes.items()
        ]
        pts.sort(key=lambda p: p["timestamp"], reverse=True)
        if n == 2:
            rng.shuffle(pts)
        write_json(folder / f"{metric}.page{n}.json", {"data": pts, "meta": {"pagination": {"page_size": 1}}})


@pytest.fixture()
def traffic(tmp_path):
    write = generate(1, {"orders.v1": {17, 18, 64}, "payments": {5}})
    read_ = generate(2, {"orders.v1": {100}})
    rng = random.Random(3)
    write_minute_pages(tmp_path / "write", "received_bytes", write, rng)
    write_minute_pages(tmp_path / "read", "sent_bytes", read_, rng)
    return tmp_path, write, read_


def truth_stats(minutes: dict[int, int]) -> tuple[float, float, float]:
    return stats([v / 60 for v in minutes.values()])  # per-minute deltas -> B/s


def test_generated_minutes_per_topic_mean_p95_peak(traffic):
    root, write, read_ = traffic
    for folder, metric, truth in (("write", "bytes_in", write), ("read", "bytes_out", read_)):
        pts = pd.concat([read(p)[1].points for p in sorted((root / folder).glob("*.page*.json"))])
        for topic, minutes in truth.items():
            got = series(pts, metric, topic)
            assert len(got) == len(minutes)  # gaps stay missing, no zero rows
            assert all(map(close, stats(list(got.values())), truth_stats(minutes)))


def test_hourly_buckets_divide_by_3600_and_match_minute_rates(tmp_path):
    minutes = generate(5, {})["orders.v1"]
    hours = {h: sum(minutes[m] for m in range(h * 60, h * 60 + 60)) for h in (0, 1)}
    write_json(tmp_path / "hourly.request.json", request("received_bytes", "PT1H", fmt="GROUPED"))
    doc = {
        "data": [
            {
                "metric.topic": "orders.v1",
                "points": [{"timestamp": iso(T0 + timedelta(hours=h)), "value": v} for h, v in hours.items()],
            }
        ]
    }
    _, r = read(write_json(tmp_path / "hourly.json", doc))
    got = series(r.points, "bytes_in", "orders.v1")
    for h in (0, 1):
        minute_rates = [minutes[m] / 60 for m in range(h * 60, h * 60 + 60)]
        assert close(got[pd.Timestamp(T0 + timedelta(hours=h)).tz_localize(None)], sum(minute_rates) / 60)


def test_end_to_end_through_topic_profile(traffic):
    profile = pytest.importorskip("exitkit.profile.topics")
    root, write, read_ = traffic
    db = root / "s.duckdb"
    ingest([root / "write", root / "read"], db=db)
    with duckdb.connect(str(db), read_only=True) as con:
        prof = profile.topic_profile(con).set_index("topic")
    for topic in ("orders.v1", "payments"):
        row = prof.loc[topic]
        assert row["cluster"] == "lkc-7q2x9"
        mean, p, peak = truth_stats(write[topic])
        assert close(row["write_bytes_per_s_mean"], mean)
        assert close(row["write_bytes_per_s_p95"], p)
        assert close(row["write_bytes_per_s_peak"], peak)
        mean, p, _ = truth_stats(read_[topic])
        assert close(row["read_bytes_per_s_mean"], mean)
        assert close(row["read_bytes_per_s_p95"], p)


# ---------------------------------------------------------------- /export


def test_export_millisecond_timestamps_several_scrapes():
    # 1741003380000 ms = 2025-03-03 12:03:00 UTC. received_bytes (p0 + p1): 12:03 (60000 + 120000) / 60
    # = 3000 B/s, 12:04 60000 / 60 = 1000 B/s. sent_bytes: 360000/60 = 6000, 180000/60 = 3000.
    # retained_bytes is a gauge: 3.1e11 as-is. request_count is not stored.
    name, r = read(FIX / "export" / "scrape_ms.prom")
    assert name == "confluent-export" and r.cluster == "lkc-7q2x9"
    assert series(r.points, "bytes_in", "orders.v1") == {ts("2025-03-03 12:03"): 3000, ts("2025-03-03 12:04"): 1000}
    assert series(r.points, "bytes_out", "orders.v1") == {ts("2025-03-03 12:03"): 6000, ts("2025-03-03 12:04"): 3000}
    assert series(r.points, "retained_bytes", "orders.v1") == {ts("2025-03-03 12:03"): 3.1e11}
    assert ((r.points["ts_end"] - r.points["ts_start"]) == pd.Timedelta(minutes=1)).all()
    assert set(r.points["partition"].dropna()) == {0, 1}
    assert any("request_count" in n for n in r.notes)
    assert not any("partial" in n for n in r.notes)  # access error 0: not a problem


def test_export_openmetrics_second_timestamps_cluster_from_flag():
    # 1741003380 s = 12:03:00. orders.v1 90000/60 = 1500 B/s, payments 6000/60 = 100 B/s, lag 212 as-is.
    path = FIX / "export" / "scrape_s.txt"
    with pytest.raises(BadExport, match="--cluster"):
        read(path)
    name, r = read(path, cluster="lkc-zz999")
    assert name == "confluent-export"
    assert series(r.points, "bytes_in", "orders.v1") == {ts("2025-03-03 12:03"): 1500}
    assert series(r.points, "bytes_in", "payments") == {ts("2025-03-03 12:03"): 100}
    lag = r.points[r.points["metric"] == "consumer_lag_records"]
    assert list(lag["value"]) == [212] and list(lag["consumer_group"]) == ["billing"]
    assert any("partial" in n for n in r.notes)  # confluent_scrape_resource_access_error 1.0


def test_export_same_scrape_appended_twice_counts_once(tmp_path):
    text = (FIX / "export" / "scrape_ms.prom").read_text()
    path = tmp_path / "lkc-7q2x9-scrapes.txt"
    path.write_text(text + text)
    _, once = read(FIX / "export" / "scrape_ms.prom")
    _, twice = read(path)
    pd.testing.assert_frame_equal(once.points, twice.points)
    assert any("more than one scrape" in n for n in twice.notes)


# ---------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    ("content", "mine"),
    [
        ('{"MetricDataResults":[{"Id":"a","Timestamps":[],"Values":[]}],"data":[],"timestamp":1}', False),
        ('{"Label":"BytesInPerSec","Datapoints":[{"Timestamp":"2025-03-03T10:05:00Z","Average":1}]}', False),
        ('{"status":"success","data":{"resultType":"matrix","result":[]}}', False),
        ('kafka_server_brokertopicmetrics_bytesin_total{topic="a"} 1\n', False),
        ((FIX / "query_flat" / "received_bytes.request.json").read_text(), False),
    ],
)
def test_sniffers_leave_other_formats_alone(content, mine):
    src = Source(path=Path("x"), data=content.encode())
    assert confluent_query.sniff(content, src) is mine
    assert confluent_export.sniff(content, src) is mine


def test_each_fixture_is_claimed_by_its_reader():
    expected = {
        "received_bytes.request.json": "confluent-request",
        "scrape_ms.prom": "confluent-export",
        "scrape_s.txt": "confluent-export",
    }
    for path in sorted(FIX.rglob("*.*")):
        src = Source(path=path, data=path.read_bytes())
        assert sniff(src).name == expected.get(path.name, "confluent-query"), path
    assert not confluent_request.sniff((FIX / "query_flat" / "received_bytes.json").read_text(), None)


# ---------------------------------------------------------------- bad input: one line per file, store unchanged

GOOD_ROW = '{"timestamp": "2025-03-03T00:00:00Z", "metric.topic": "t", "value": 1}'


def flat(*rows: str) -> str:
    return '{"data": [\n' + ",\n".join(rows) + '\n], "meta": {"pagination": {"page_size": 1000}}}\n'


BAD = [
    # (file name, content, ingest kwargs, message fragment, line)
    ("lkc-abc12_received_bytes.json", flat(GOOD_ROW)[:-30], {}, "not valid JSON", 3),
    (
        "lkc-abc12_received_bytes.json",
        flat(GOOD_ROW, GOOD_ROW.replace("00Z", "01:00Z").replace(": 1}", ': "abc"}')),
        {},
        "'abc' is not a number",
        3,
    ),
    (
        "lkc-abc12_received_bytes.json",
        flat(GOOD_ROW, GOOD_ROW.replace("2025-03-03T00:00:00Z", "yesterday")),
        {},
        "not ISO-8601",
        3,
    ),
    (
        "lkc-abc12_received_bytes.json",
        flat(GOOD_ROW, GOOD_ROW.replace("T00:00:00Z", "T00:01:00Z").replace(": 1}", ": 1e999}")),
        {},
        "not a finite number",
        3,
    ),
    (
        "lkc-abc12_received_bytes.json",
        flat(GOOD_ROW, GOOD_ROW.replace("T00:00:00Z", "T00:01:00Z").replace(": 1}", ": 1" + "0" * 400 + "}")),
        {},
        "not a finite number",
        3,
    ),
    ("lkc-abc12_received_bytes.json", flat(GOOD_ROW.replace("2025", "9999")), {}, "out of range", 2),
    ("lkc-abc12_received_bytes.json", flat(GOOD_ROW, GOOD_ROW), {}, "second point for the same labels", 3),
    (
        "lkc-abc12_received_bytes.json",
        flat(GOOD_ROW, GOOD_ROW.replace('"t"', '"t", "metric.partition": "x"')),
        {},
        "not a partition number",
        3,
    ),
    ("lkc-abc12_received_bytes.json", flat(GOOD_ROW, '["not", "an", "object"]'), {}, "expected an object", 3),
    (
        "lkc-abc12_received_bytes.json",
        flat('{"metric.topic": "t", "points": {"timestamp": "x"}}'),
        {},
        "expected a list of points",
        2,
    ),
    ("lkc-abc12_received_bytes.json", flat('{"metric.topic": "t", "value": 1}'), {}, "no 'timestamp'", 2),
    ("page.json", '{"data": [], "meta": {"pagination": {"page_size": 1000}}}', {}, "does not name its metric", None),
    (
        "lkc-abc12_received_bytes.json",
        '{"meta": {"pagination": {}}, "errors": []}',
        {"fmt": "confluent-query"},
        'no "data" array',
        None,
    ),
    (
        "received_bytes.json",
        flat(GOOD_ROW, GOOD_ROW.replace("T00:00:00Z", "T00:01:00Z")),
        {},
        "cannot tell the cluster",
        None,
    ),
    ("lkc-abc12.prom", 'confluent_kafka_server_received_bytes{topic="t"} abc 1741003380000\n', {}, "cannot parse", 1),
    ("lkc-abc12.prom", '# TYPE x gauge\nconfluent_kafka_server_received_bytes{topic="t"} 1.0\n', {}, "no timestamp", 2),
    (
        "lkc-abc12.prom",
        'confluent_kafka_server_received_bytes{topic="t",partition="-1"} 1.0 1741003380000\n',
        {},
        "not a partition number",
        1,
    ),
    (
        "scrape.prom",
        'confluent_kafka_server_received_bytes{topic="t"} 1.0 1741003380000\n',
        {},
        "cannot tell the cluster",
        None,
    ),
    (
        "lkc-abc12.prom",
        'confluent_kafka_server_received_bytes{topic="t"} 1.0 99999999999999999\n',
        {},
        "out of range",
        1,
    ),
]


@pytest.fixture()
def loaded_store(tmp_path):
    db = tmp_path / "s.duckdb"
    ingest([FIX / "query_flat"], db=db)
    return db


@pytest.mark.parametrize(
    ("name", "content", "kwargs", "message", "line"), BAD, ids=[f"{i}-{b[3]}" for i, b in enumerate(BAD)]
)
def test_bad_input_fails_naming_file_and_line_and_store_is_unchanged(
    loaded_store, tmp_path, name, content, kwargs, message, line
):
    bad = tmp_path / "bad" / name
    bad.parent.mkdir()
    bad.write_text(content)
    good = tmp_path / "good" / "lkc-abc12_sent_bytes_p1.json"
    good.parent.mkdir()
    shutil.copy(FIX / "query_grouped" / good.name, good)
    before = store_rows(loaded_store)
    with pytest.raises(IngestFailed) as exc:
        ingest([good, bad], db=loaded_store, **kwargs)
    errors = exc.value.errors
    assert len(errors) == 1 and errors[0].path == str(bad)
    assert message in errors[0].message and "\n" not in str(errors[0])
    assert errors[0].line == line
    assert store_rows(loaded_store) == before


def test_broken_request_beside_a_response_is_reported(tmp_path):
    write_json(tmp_path / "q.request.json", {**request("received_bytes", "PT1M"), "granularity": "PT2M"})
    write_json(tmp_path / "q.json", FLAT_NO_NAMES)
    with pytest.raises(IngestFailed) as exc:
        ingest([tmp_path], db=tmp_path / "s.duckdb")
    assert {Path(e.path).name for e in exc.value.errors} == {"q.request.json"}
    assert all("granularity 'PT2M'" in e.message for e in exc.value.errors)
    assert not (tmp_path / "s.duckdb").exists()
