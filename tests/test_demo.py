"""The demo estate: deterministic, modest in size, realistic in shape, and true to its truth.

The ingest checks compare what the readers make of the written exports with the truth the
generator computed from its own per-minute model (never from the files). A cluster's check
is skipped only while one of the reader modules its files need does not exist yet.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exitkit.demo import DEMO_CLUSTERS, PARTS, generate, ingest_demo
from exitkit.demo.estate import CLUSTERS, START, Truth, build_estate, compute_truth, intervals_for
from exitkit.store import memory_store

pytestmark = pytest.mark.slow

KIB, MIB = 1024, 1024 * 1024
TOL = 0.005  # 0.5 %

# Reader modules each cluster's files need.
READERS = {
    "lkc-demo01": ["confluent_query", "confluent_request", "kafka_topics", "kafka_configs", "kafka_consumer_groups",
                   "kafka_acls"],
    "demo-msk": ["cloudwatch", "prometheus_text", "kafka_topics", "kafka_configs", "kafka_consumer_groups",
                 "kafka_log_dirs", "kafka_acls"],
    "demo-onprem": ["prometheus_range", "kafka_topics", "kafka_configs", "kafka_consumer_groups", "kafka_log_dirs",
                    "kafka_acls", "mm2_offsets"],
}  # fmt: skip


def _missing_readers(cluster: str) -> list[str]:
    return [m for m in READERS[cluster] if importlib.util.find_spec(f"exitkit.ingest.{m}") is None]


@pytest.fixture(scope="module")
def estate_dir(tmp_path_factory) -> tuple[Path, Truth]:
    out = tmp_path_factory.mktemp("demo")
    return out, generate(out, seed=7)


@pytest.fixture(scope="module")
def store(estate_dir):
    """The estate ingested, cluster by cluster (clusters whose readers are missing are left out)."""
    out, _ = estate_dir
    con = memory_store()
    loaded = tuple(c for c in DEMO_CLUSTERS if not _missing_readers(c))
    if loaded:
        ingest_demo(out, con=con, clusters=loaded)
    yield con
    con.close()


@pytest.fixture(scope="module")
def profiled(store) -> pd.DataFrame:
    profile = pytest.importorskip("exitkit.profile.topics")
    return profile.topic_profile(store)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ----------------------------------------------------------------------------- generation


def test_same_seed_gives_identical_bytes(estate_dir, tmp_path):
    out, truth = estate_dir
    again = generate(tmp_path / "again", seed=7)
    a, b = _files(out), _files(tmp_path / "again")
    assert sorted(a) == sorted(b)
    assert [k for k in a if hashlib.sha256(a[k]).digest() != hashlib.sha256(b[k]).digest()] == []
    assert again == truth


def test_another_seed_gives_other_traffic():
    a = compute_truth(build_estate(7)).by_key()
    b = compute_truth(build_estate(8)).by_key()
    assert a.keys() == b.keys()
    key = ("demo-msk", "geo.positions")
    assert a[key].write_bytes_per_s_mean != b[key].write_bytes_per_s_mean
    assert a[key].partitions == b[key].partitions  # the layout is the estate's, not the seed's


def test_layout_and_sizes(estate_dir):
    out, _ = estate_dir
    files = _files(out)
    on_disk = sum(len(v) for v in files.values())
    raw = sum(len(gzip.decompress(v)) if k.endswith(".gz") else len(v) for k, v in files.items())
    assert on_disk < 30e6, f"{on_disk / 1e6:.1f} MB on disk"
    assert raw < 60e6, f"{raw / 1e6:.1f} MB uncompressed"
    for cluster, parts in PARTS.items():
        for part in parts:
            assert any(k.startswith(f"{cluster}/{part}/") for k in files), f"{cluster}/{part} is empty"
    # Confluent: paged per metric and granularity, named so the reader can tell cluster and metric.
    for metric in ("received_bytes", "sent_bytes", "received_records", "retained_bytes"):
        for gran in ("PT1H", "PT1M"):
            assert f"lkc-demo01/metrics/lkc-demo01_{metric}_{gran}_page2.json" in files
    # CLI outputs: `<cluster>__` names.
    cli = [k for k in files if "/cli/" in k]
    assert cli and all(Path(k).name.startswith(k.split("/")[0] + "__") for k in cli)
    assert (out / "truth.json").is_file()


def test_truth_file_matches_returned_truth(estate_dir):
    out, truth = estate_dir
    assert Truth.load(out / "truth.json") == truth


def test_truth_covers_a_varied_estate(estate_dir):
    _, truth = estate_dir
    df = truth.frame()
    assert len(df) >= 40
    assert df["cluster"].nunique() >= 3
    assert len({c.platform for c in CLUSTERS}) >= 3
    assert not df.duplicated(["cluster", "topic"]).any()
    # Small to large, write-heavy, fan-out-heavy, retention-heavy, compacted.
    assert df["write_bytes_per_s_mean"].min() < 16 * KIB
    assert df["write_bytes_per_s_mean"].max() > 20 * MIB
    assert (df["fan_out"] >= 5).sum() >= 3
    assert ((df["fan_out"] <= 1.3) & (df["write_bytes_per_s_mean"] > 5 * MIB)).any()
    assert (df["retention_ms"] >= 30 * 86_400_000).sum() >= 3
    assert set(df["cleanup_policy"]) == {"delete", "compact", "compact,delete"}
    assert {"events-2024"} <= set(df["topic"])
    # Diurnal shape: business-hours traffic well above night traffic for most topics.
    assert (df["diurnal_ratio"] > 1.5).sum() >= 20
    # Bursts: the peak stands above the p95, which stands above the mean.
    assert (df["write_bytes_per_s_peak"] > df["write_bytes_per_s_p95"]).all()
    assert (df["write_bytes_per_s_p95"] > df["write_bytes_per_s_mean"]).all()
    assert (df["observed_from"] == START.strftime("%Y-%m-%dT%H:%M:%SZ")).all()


def test_truth_mean_is_time_weighted_over_mixed_granularity():
    """Confluent: 334 PT1H buckets (2 missing, 6 replaced) and 360 PT1M buckets."""
    iv = intervals_for("lkc-demo01")
    hours = [i for i in iv if i[1] - i[0] == 60]
    minutes = [i for i in iv if i[1] - i[0] == 1]
    assert (len(hours), len(minutes)) == (14 * 24 - 6 - 2, 360)
    estate = build_estate(7)
    t = next(t for t in estate.topics if t.name == "orders.v1")
    covered_s = len(hours) * 3600 + len(minutes) * 60
    bytes_seen = sum(int(t.bytes_in[a:b].sum()) for a, b in iv)
    tt = compute_truth(estate).by_key()[("lkc-demo01", "orders.v1")]
    assert tt.write_bytes_per_s_mean == pytest.approx(bytes_seen / covered_s, rel=1e-12)
    rates = sorted(float(t.bytes_in[a:b].sum()) / ((b - a) * 60) for a, b in iv)
    assert tt.write_bytes_per_s_p95 == rates[math.ceil(0.95 * len(rates)) - 1]


def test_onprem_truth_leaves_out_the_scrape_outage():
    iv = intervals_for("demo-onprem")
    assert all(b - a == 5 for a, b in iv)
    assert len(iv) == 14 * 288 - (275 - 65) // 5  # every 5-min step but those touching the outage


# ----------------------------------------------------------------------------- ingest vs truth


def _finest_rates(con, cluster: str, metric: str) -> pd.DataFrame:
    """Per (topic, interval) rate summed across brokers/partitions, topic NULL excluded,
    coarser intervals dropped where a finer one of the same topic overlaps them."""
    df = con.execute(
        """SELECT topic, ts_start, ts_end, sum(value) AS value
           FROM (SELECT DISTINCT topic, partition, broker, ts_start, ts_end, value FROM metric_points
                 WHERE cluster = ? AND metric = ? AND topic IS NOT NULL)
           GROUP BY ALL""",
        [cluster, metric],
    ).df()
    df["dur"] = (df["ts_end"] - df["ts_start"]).dt.total_seconds()
    keep = []
    for _, g in df.groupby("topic"):
        durs = sorted(g["dur"].unique())
        finest = g[g["dur"] == durs[0]]
        parts = [finest]
        s, e = finest["ts_start"].to_numpy(), finest["ts_end"].to_numpy()
        for d in durs[1:]:
            coarse = g[g["dur"] == d]
            cs, ce = coarse["ts_start"].to_numpy(), coarse["ts_end"].to_numpy()
            overl = np.array([((s < b) & (e > a)).any() for a, b in zip(cs, ce, strict=True)])
            parts.append(coarse[~overl])
        keep.append(pd.concat(parts))
    return pd.concat(keep, ignore_index=True)


def _stats(rates: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for topic, g in rates.groupby("topic"):
        v = np.sort(g["value"].to_numpy())
        out[topic] = {
            "mean": float((g["value"] * g["dur"]).sum() / g["dur"].sum()),
            "p95": float(v[math.ceil(0.95 * len(v)) - 1]),
            "peak": float(v[-1]),
            "from": g["ts_start"].min(),
            "to": g["ts_end"].max(),
        }
    return pd.DataFrame.from_dict(out, orient="index")


def _close(a: float, b: float) -> bool:
    return b is not None and not pd.isna(b) and abs(float(a) - float(b)) <= TOL * abs(float(a))


@pytest.mark.parametrize("cluster", DEMO_CLUSTERS)
def test_ingested_write_rates_match_truth(cluster, estate_dir, store):
    for module in READERS[cluster]:
        pytest.importorskip(f"exitkit.ingest.{module}")
    _, truth = estate_dir
    want = {t.topic: t for t in truth.topics if t.cluster == cluster}
    got = _stats(_finest_rates(store, cluster, "bytes_in"))
    assert set(got.index) == set(want)
    bad = []
    for topic, t in want.items():
        g = got.loc[topic]
        for field, tv, gv in (
            ("mean", t.write_bytes_per_s_mean, g["mean"]),
            ("p95", t.write_bytes_per_s_p95, g["p95"]),
            ("peak", t.write_bytes_per_s_peak, g["peak"]),
        ):
            if not _close(tv, gv):
                bad.append((topic, field, tv, gv))
        assert pd.Timestamp(g["from"]) == pd.Timestamp(t.observed_from).tz_localize(None)
        assert pd.Timestamp(g["to"]) == pd.Timestamp(t.observed_to).tz_localize(None)
    assert bad == []


# Profile columns compared with the truth: numbers within 0.5 %, the rest exactly.
PROFILE_NUMBERS = [
    "write_bytes_per_s_mean", "write_bytes_per_s_p95", "write_bytes_per_s_peak", "read_bytes_per_s_mean",
    "read_bytes_per_s_p95", "fan_out", "records_in_per_s_mean", "avg_record_bytes", "retained_bytes",
]  # fmt: skip
PROFILE_EXACT = ["partitions", "replication_factor", "retention_ms", "retention_bytes", "cleanup_policy",
                 "consumer_groups"]  # fmt: skip


@pytest.mark.parametrize("cluster", DEMO_CLUSTERS)
def test_topic_profile_matches_truth(cluster, estate_dir, profiled):
    for module in READERS[cluster]:
        pytest.importorskip(f"exitkit.ingest.{module}")
    _, truth = estate_dir
    prof = profiled[profiled["cluster"] == cluster].set_index("topic")
    want = {t.topic: t for t in truth.topics if t.cluster == cluster}
    assert set(prof.index) == set(want)
    bad = []
    for topic, t in want.items():
        row = prof.loc[topic]
        for col in PROFILE_NUMBERS:
            if not _close(getattr(t, col), row[col]):
                bad.append((topic, col, getattr(t, col), row[col]))
        for col in PROFILE_EXACT:
            if getattr(t, col) != row[col]:
                bad.append((topic, col, getattr(t, col), row[col]))
    assert bad == []


def test_lag_from_exporter_series_matches_truth(estate_dir, profiled):
    """demo-onprem has kafka_exporter lag series: max over time and groups of the per-group sum.

    (Confluent and MSK lag comes only from the kafka-consumer-groups snapshot, which
    `exitkit.profile.evidence` reduces to the largest single-partition lag; see the truth's rules.)
    """
    for module in READERS["demo-onprem"]:
        pytest.importorskip(f"exitkit.ingest.{module}")
    _, truth = estate_dir
    prof = profiled[profiled["cluster"] == "demo-onprem"].set_index("topic")
    for t in truth.topics:
        if t.cluster == "demo-onprem":
            assert prof.loc[t.topic, "max_consumer_lag_records"] == t.max_consumer_lag_records, t.topic


def test_demo_bills_reconcile_in_part(store):
    """A month of bills (FOCUS for AWS, Billing API for Confluent): actual per cluster worked by
    hand from exitkit/demo/bills.py, the model beside it explaining only a part."""
    from exitkit.bill.reconcile import bill_report

    rep = bill_report(store)
    got = {c["cluster"]: c for c in rep["clusters"]}
    assert {c: got[c]["month"] for c in got} == {
        "demo-msk": "2025-03",
        "demo-onprem": "2025-03",
        "lkc-demo01": "2025-03",
    }
    # demo-msk: 17,856 h × 0.2244 + 80,000 GB-Mo × 0.11 + 480,000 GB × 0.01 − 500 credit
    assert got["demo-msk"]["actual_usd"] == pytest.approx(4006.8864 + 8800 + 4800 - 500)
    # demo-onprem: 9 × 744 h × 0.121 (Savings Plan) + 3 × 744 × 0.0918 + 9 × 571.20 + 11,000 + 98 + 1,040 NAT
    assert got["demo-onprem"]["actual_usd"] == pytest.approx(810.216 + 204.8976 + 5140.8 + 11000 + 98 + 1040)
    # lkc-demo01: 31 days × (216 CKU-h × 3.81 × 0.8 + 4,000 GB × 0.05 + 6,500 × 0.05 + 528,000 GB-h × 0.00013889 + 4.8)
    assert got["lkc-demo01"]["actual_usd"] == pytest.approx(31 * (658.368 + 200 + 325 + 73.33392 + 4.8))
    assert rep["tax_usd"] == {"2025-03": 2000.0}
    unattr = {r["resource_id"] or r["usage_type"]: r["effective_usd"] for r in rep["unattributed"]}
    assert unattr["i-0a11ce5000000000f"] == pytest.approx(744 * 0.1836)  # an untagged instance: listed
    assert unattr["SUPPORT"] == 1000 and unattr["PROMO_CREDIT"] == -400 and unattr["lcc-demo0s3sink"] == 372
    for c in got.values():
        assert c["modelled_usd"] is not None and 0.5 < c["explained"] < 1.0, c
