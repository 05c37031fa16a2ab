"""Widgets without a browser: TopicPicker and CostSliders driven programmatically, plus the
notebook helpers they lean on. Expected values are worked out by hand or recomputed
independently with `exitkit.cost.evaluate` on inputs built here."""

import threading
import time
from dataclasses import replace
from fnmatch import fnmatchcase

import pandas as pd
import pytest

from exitkit.charts import tornado as tornado_chart
from exitkit.cost import evaluate, project, tornado
from exitkit.cost.adapter import cost_inputs, price_overrides, workload_cost
from exitkit.cost.what_if import what_if as scenario_inputs
from exitkit.errors import BadWorkload
from exitkit.ingest.base import points_frame
from exitkit.notebook.helpers import (
    cached_build,
    projection_frame,
    resolve_path,
    tornado_frame,
    totals_html,
)
from exitkit.notebook.picker import TopicPicker, guess_platform, topic_glob
from exitkit.notebook.sliders import CostSliders
from exitkit.prices import load_catalog
from exitkit.profile.topics import topic_profile
from exitkit.profile.workload import select_topics, workload_profile
from exitkit.store import memory_store
from exitkit.workload.loader import load_workload, parse_workload

T0 = 1_700_000_000 - 1_700_000_000 % 3600
DAY = 86400.0


def _store(df: pd.DataFrame):
    con = memory_store()
    con.execute("INSERT INTO sources VALUES (1, 'f1', 'sha1', 'fmt', 'c', now(), ?)", [len(df)])
    con.register("d", df)
    con.execute("INSERT INTO metric_points SELECT 1, * FROM d")
    con.unregister("d")
    return con


@pytest.fixture(scope="module")
def store():
    """Cluster c: a writes i B/s in minute i (1..20), b writes 21 − i (their sum is a flat 21 B/s),
    `other` a flat 1000 B/s; cluster c2 has a topic also named a (500 B/s)."""
    ts = [T0 + 60 * i for i in range(20)]
    te = [t + 60 for t in ts]
    i = list(range(1, 21))
    pf = points_frame
    frames = [
        pf(cluster="c", topic="a", metric="bytes_in", ts_start=ts, ts_end=te, value=[float(x) for x in i]),
        pf(cluster="c", topic="b", metric="bytes_in", ts_start=ts, ts_end=te, value=[21.0 - x for x in i]),
        pf(cluster="c", topic="a", metric="bytes_out", ts_start=ts, ts_end=te, value=[2.0 * x for x in i]),
        pf(cluster="c", topic="b", metric="bytes_out", ts_start=ts, ts_end=te, value=[4.0 * (21 - x) for x in i]),
        pf(cluster="c", topic="a", metric="retained_bytes", ts_start=[T0], ts_end=[T0 + 60], value=[1000.0], partition=0),
        pf(cluster="c", topic="b", metric="retained_bytes", ts_start=[T0], ts_end=[T0 + 60], value=[3000.0], partition=0),
        pf(cluster="c", topic="a", metric="partition_count", ts_start=[T0], ts_end=[T0 + 60], value=[3.0]),
        pf(cluster="c", topic="b", metric="partition_count", ts_start=[T0], ts_end=[T0 + 60], value=[6.0]),
        pf(cluster="c", topic="other", metric="bytes_in", ts_start=ts, ts_end=te, value=[1000.0] * 20),
        pf(cluster="c", topic="other", metric="bytes_out", ts_start=ts, ts_end=te, value=[1000.0] * 20),
        pf(cluster="c2", topic="a", metric="bytes_in", ts_start=ts, ts_end=te, value=[500.0] * 20),
        pf(cluster="c2", topic="a", metric="bytes_out", ts_start=ts, ts_end=te, value=[500.0] * 20),
    ]  # fmt: skip
    con = _store(pd.concat(frames))
    return con, topic_profile(con)


# --- TopicPicker ------------------------------------------------------------------------


def test_aggregate_is_the_workload_profile_of_the_selection(store):
    con, prof = store
    picker = TopicPicker(prof, con, out_dir="unused").select([("c", "a"), "c/b"]).set(name="ab", cluster="c")
    agg = picker.aggregate
    expected = workload_profile(con, parse_workload(picker.workload_dict()), profile_df=prof)
    assert agg == expected
    # by hand: the sum is 21 B/s in every minute, so p95 = peak = 21 (the sum of p95s would be 19 + 19)
    assert agg.topics == (("c", "a"), ("c", "b"))
    assert agg.write_bytes_per_s_p95 == pytest.approx(21)
    assert agg.write_bytes_per_s_peak == pytest.approx(21)
    assert agg.read_bytes_per_s_mean == pytest.approx(63)
    assert agg.fan_out == pytest.approx(3)
    assert agg.partitions == 9
    assert agg.retained_bytes == pytest.approx(4000)
    assert "21.0 B/s" not in picker.summary.value  # B/s below 1 KiB print as whole bytes
    assert "21 B/s" in picker.summary.value


def test_written_file_validates_and_selects_exactly_the_topics(store, tmp_path):
    con, prof = store
    picker = TopicPicker(prof, con, out_dir=tmp_path / "wl")
    picker.select(["c:a", ("c2", "a")]).set(
        name="pair", title="A & <b>", platform="msk-standard", cluster="c", region="eu-west-1",
        candidates=["automq-byoc", "kafka-ec2"],
    )  # fmt: skip
    path = picker.write()
    assert path == tmp_path / "wl" / "pair.yaml"
    wl = load_workload(path)
    assert (wl.name, wl.title, wl.region, wl.source.platform, wl.source.cluster) == (
        "pair", "A & <b>", "eu-west-1", "msk-standard", "c",
    )  # fmt: skip
    assert wl.candidates == ["automq-byoc", "kafka-ec2"]
    # c:a only (not c2's a), c2:a only (not c's a)
    assert wl.topics == ["a", "c2:a"]
    assert select_topics(prof, wl) == [("c", "a"), ("c2", "a")]
    assert str(path.resolve()) in picker.status.value
    assert "A &amp; &lt;b&gt;" not in picker.status.value  # the status names the file, not the title


def test_without_source_cluster_every_topic_gets_its_cluster_prefix(store, tmp_path):
    _, prof = store
    picker = TopicPicker(prof, out_dir=tmp_path, defaults={"name": "x", "cluster": ""})
    picker.select(["c/a"])
    assert picker.workload_dict()["topics"] == ["c:a"]
    assert select_topics(prof, load_workload(picker.write())) == [("c", "a")]


def test_invalid_form_raises_and_writes_nothing(store, tmp_path):
    _, prof = store
    picker = TopicPicker(prof, out_dir=tmp_path)
    with pytest.raises(BadWorkload, match="topics"):
        picker.set(name="ok").write()
    picker.select(["c/a"]).set(name="Not Valid")
    with pytest.raises(BadWorkload, match="name"):
        picker.write()
    assert "not a workload name" in picker.status.value
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="clusters"):
        picker.select(["a"])  # two clusters have a topic a
    with pytest.raises(TypeError):
        picker.set(colour="red")


def test_filter_sort_and_table_keep_the_selection(store):
    _, prof = store
    picker = TopicPicker(prof)
    # sorted by write rate, largest first: other 1000, c2/a 500, then a and b (10.5 B/s each, by name)
    assert picker.visible() == [("c", "other"), ("c2", "a"), ("c", "a"), ("c", "b")]
    picker.select(["c/a", "c/other"])
    picker.filter.value = "c/?"  # c/a and c/b
    assert [v for _, v in picker.table.options] == [("c", "a"), ("c", "b")]
    assert picker.table.value == (("c", "a"),)
    picker.table.value = (("c", "b"),)  # what a click does: a off, b on; `other` (hidden) stays
    assert picker.selected == [("c", "b"), ("c", "other")]
    picker.filter.value = ""
    assert set(picker.table.value) == {("c", "b"), ("c", "other")}
    picker.sort.value = "name"
    assert picker.visible()[0] == ("c", "a")
    # without a store: the aggregate adds up the rows only
    assert picker.aggregate is None
    assert "needs the store" in picker.summary.value


def test_topic_glob_matches_literally():
    g = topic_glob("c", "odd*[x]?", "c")
    assert fnmatchcase("odd*[x]?", g) and not fnmatchcase("odd-long[x]!", g)
    assert topic_glob("k", "t", "c") == "k:t"
    assert guess_platform("lkc-abc12") == "confluent-dedicated"
    assert guess_platform("demo-msk") == "msk-standard"


# --- CostSliders ------------------------------------------------------------------------

WHATIF = """
name: whatif
source: {platform: msk-standard}
region: us-east-1
traffic: {write_rate: 10 MiB/s, write_peak: 30 MiB/s, fan_out: 3, retention: 3d}
candidates: [msk-express, kafka-ec2-tiered, automq-byoc, warpstream-byoc]
assumptions: {growth_per_year: 50%}
discounts: {vendor: 10%}
"""


@pytest.fixture(scope="module")
def whatif():
    wl = parse_workload(WHATIF)
    inputs, _ = cost_inputs(wl, workload_profile(None, wl))
    catalog = load_catalog(overrides=price_overrides(wl))
    return wl, inputs, catalog


def _expect(inputs, catalog, wl):
    return evaluate(inputs, catalog, list(wl.candidates)).totals()


def _approx(d):
    return pytest.approx(d, rel=1e-12)


def test_sliders_start_at_the_workload_cost(whatif):
    wl, inputs, catalog = whatif
    s = CostSliders(wl)
    assert s.totals == _approx(_expect(inputs, catalog, wl))
    assert s.totals == _approx(workload_cost(wl).result.totals())
    assert s.bar_totals() == _approx(s.totals)
    assert list(s.totals) == ["msk-standard", *wl.candidates]


def test_write_multiplier_scales_write_and_peak(whatif):
    wl, inputs, catalog = whatif
    s = CostSliders(wl)
    before = dict(s.totals)
    s.write_multiplier.value = 2.0
    t = inputs.traffic
    # what-if retained bytes are write × retention (assumed), so they double too
    assert t.retained_bytes == pytest.approx(10 * 2**20 * 3 * DAY)
    x = replace(
        inputs,
        traffic=replace(
            t,
            write_bytes_per_s=2 * t.write_bytes_per_s,
            write_peak_bytes_per_s=2 * t.write_peak_bytes_per_s,
            retained_bytes=2 * t.retained_bytes,
        ),
    )
    expected = _expect(x, catalog, wl)
    assert s.totals == _approx(expected)
    assert s.bar_totals() == _approx(expected)
    assert [a.x for a in s.figure.layout.annotations] == pytest.approx([expected[p] for p in s.platforms])
    assert all(t.type == "bar" for t in s.figure.data)  # no text trace to leak into the legend
    assert all(s.totals[p] > before[p] for p in s.totals)


def test_each_slider_moves_its_input(whatif):
    wl, inputs, catalog = whatif
    s = CostSliders(wl)
    t, a = inputs.traffic, inputs.assumptions

    s.fan_out.value = 5.0
    assert s.bar_totals() == _approx(_expect(replace(inputs, traffic=replace(t, fan_out=5.0)), catalog, wl))

    s.retention_days.value = 10.0
    x = replace(inputs, traffic=replace(t, fan_out=5.0, retention_s=10 * DAY, retained_bytes=None))
    assert s.bar_totals() == _approx(_expect(x, catalog, wl))

    s.zone_aware_share.value = 1.0
    x = replace(x, assumptions=replace(a, zone_aware_consumers=1.0))
    assert s.bar_totals() == _approx(_expect(x, catalog, wl))

    s.vendor_discount.value = 0.3
    cat30 = load_catalog(overrides={**price_overrides(wl), "discount.vendor": 0.3})
    assert s.bar_totals() == _approx(_expect(x, cat30, wl))

    s.growth_years.value = 2  # 50 %/year → ×2.25 on write and peak
    g = replace(
        x.traffic, write_bytes_per_s=t.write_bytes_per_s * 2.25, write_peak_bytes_per_s=t.write_peak_bytes_per_s * 2.25
    )
    assert s.totals == _approx(_expect(replace(x, traffic=g), cat30, wl))
    assert "vendor discount 30%" in s.table.value

    # recompute(): several sliders at once, one evaluation; back to base gives the base totals
    assert s.recompute(write_multiplier=1.0, fan_out=t.fan_out, retention_days=3.0, zone_aware_share=0.0,
                       vendor_discount=0.1, growth_years=0) == _approx(_expect(inputs, catalog, wl))  # fmt: skip
    with pytest.raises(TypeError):
        s.recompute(colour=1)


def test_labour_hours_slider_scales_every_platforms_hours(whatif):
    """By hand: default hours msk-standard 30, msk-express 20, kafka-ec2-tiered 80, automq-byoc 20,
    warpstream-byoc from the platform table, at $120/h; ×2 adds exactly hours × 120 to each total."""
    wl, inputs, catalog = whatif
    s = CostSliders(wl)
    base = dict(s.totals)
    hours = {p: inputs.assumptions.labor.hours(p) for p in s.platforms}
    assert (hours["msk-standard"], hours["msk-express"], hours["kafka-ec2-tiered"]) == (30, 20, 80)
    s.labor_hours_scale.value = 2.0
    for p in s.platforms:
        assert s.totals[p] == pytest.approx(base[p] + hours[p] * 120.0, rel=1e-12)
    lab = [ln for ln in s.result.platform("msk-express").lines if ln.path == "labor" and ln.state == "steady"]
    assert [(ln.quantity, ln.monthly_usd) for ln in lab] == [(40.0, 4800.0)]
    assert "labour hours ×2.00" in s.table.value
    assert s.recompute(labor_hours_scale=1.0) == _approx(base)
    with pytest.raises(ValueError, match="labour hours scale"):
        scenario_inputs(inputs, labor_hours_scale=11)


def test_measured_retained_bytes_scale_until_retention_moves(store):
    con, prof = store
    wl = parse_workload(
        "name: ab\nsource: {platform: msk-standard, cluster: c}\nregion: us-east-1\ntopics: [a, b]\n"
        "candidates: [kafka-ec2-tiered]\n"
    )
    wc = workload_cost(wl, con)
    inputs, catalog = wc.inputs, wc.catalog
    assert inputs.traffic.retained_bytes == pytest.approx(4000)
    s = CostSliders(wl, con)
    s.write_multiplier.value = 3.0
    t = inputs.traffic
    x = replace(inputs, traffic=replace(t, write_bytes_per_s=3 * t.write_bytes_per_s,
                                        write_peak_bytes_per_s=3 * t.write_peak_bytes_per_s, retained_bytes=12000.0))  # fmt: skip
    assert s.totals == _approx(_expect(x, catalog, wl))
    assert scenario_inputs(inputs, write_multiplier=3.0) == x
    s.retention_days.value = 1.0  # measured size no longer applies: the model keeps write × retention
    y = replace(x, traffic=replace(x.traffic, retention_s=DAY, retained_bytes=None))
    assert s.totals == _approx(_expect(y, catalog, wl))


# --- notebook helpers -------------------------------------------------------------------


def test_cached_build_runs_once_under_concurrency(tmp_path):
    calls = []

    def build(d):
        calls.append(d)
        time.sleep(0.3)
        (d / "done.txt").write_text("ok")

    target = tmp_path / "cache" / "v1"
    threads = [threading.Thread(target=cached_build, args=(target, build)) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(calls) == 1
    assert (target / "done.txt").read_text() == "ok"
    assert [p.name for p in target.parent.iterdir() if not p.name.endswith(".lock")] == ["v1"]

    def broken(d):
        (d / "half").write_text("x")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cached_build(tmp_path / "cache" / "v2", broken)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir() if not p.name.endswith(".lock")) == ["v1"]


def test_tornado_and_projection_adapters(whatif):
    wl, inputs, catalog = whatif
    rows = tornado(inputs, catalog, ["automq-byoc"])
    df = tornado_frame(rows)
    r = df[(df["platform"] == "msk-standard") & (df["assumption"] == "traffic.fan_out")].iloc[0]
    assert (r["low_label"], r["high_label"]) == ("traffic.fan_out=2.25", "traffic.fan_out=3.75")
    assert r["high_usd"] == next(
        x["high_usd"] for x in rows if x["platform"] == "msk-standard" and x["assumption"] == "traffic.fan_out"
    )
    fig = tornado_chart(df)
    assert len(fig.data) == 2 * df["platform"].nunique()

    prows = project(inputs, catalog, ["automq-byoc"], years=3)
    wide = projection_frame(prows)
    assert list(wide.columns) == [
        "platform",
        "year_1_usd",
        "year_2_usd",
        "year_3_usd",
        "cumulative_usd",
        "one_time_usd",
    ]
    a = wide.set_index("platform").loc["automq-byoc"]
    assert a["cumulative_usd"] == pytest.approx(a["year_1_usd"] + a["year_2_usd"] + a["year_3_usd"])


def test_totals_html_escapes_and_resolve_path():
    out = totals_html([{"platform": "p", "name": "<script>x</script>", "today": True, "total_usd": 1234.5}])
    assert "<script>" not in out and "&lt;script&gt;x&lt;/script&gt; (today)" in out
    assert "$1,234" in out or "$1,235" in out
    assert resolve_path("data/workloads/telemetry.yaml").is_file()


def test_report_sweeps_move_labour_growth_and_discount_from_the_base(whatif):
    """The report's kernel-free sliders: each new sweep moves one knob, the rest at base.
    By hand: operating hours ×2 adds hours × $120 to a platform; 2 years at 50 %/year is the
    write rate × 2.25; a vendor discount of 30 % (base 10 %) is the catalog with that discount."""
    from exitkit.cost.analysis import scenario_sweeps

    wl, inputs, catalog = whatif
    rows = pd.DataFrame(scenario_sweeps(inputs, catalog, list(wl.candidates)))
    base = {"write_multiplier": 1.0, "fan_out": 3.0, "retention_days": 3.0,
            "zone_aware_share": inputs.assumptions.zone_aware_consumers,
            "labor_hours_scale": 1.0, "growth_years": 0, "vendor_discount": 0.1}  # fmt: skip
    at = lambda **kv: rows[  # noqa: E731
        pd.concat([rows[k] == v for k, v in {**base, **kv}.items()], axis=1).all(axis=1)
    ].set_index("platform")["monthly_usd"]
    b = at()
    assert list(b.index) == list(dict.fromkeys(b.index))  # one row per platform at the base state
    assert b.to_dict() == _approx(_expect(inputs, catalog, wl))
    lab = at(labor_hours_scale=2.0)
    for p in b.index:
        assert lab[p] == pytest.approx(b[p] + inputs.assumptions.labor.hours(p) * 120.0, rel=1e-12)
    grown = scenario_inputs(inputs, write_multiplier=2.25)
    assert at(growth_years=2).to_dict() == _approx(
        evaluate(grown, catalog, list(wl.candidates), migration=False).totals()
    )
    cat30 = load_catalog(overrides={**price_overrides(wl), "discount.vendor": 0.3})
    assert at(vendor_discount=0.3).to_dict() == _approx(_expect(inputs, cat30, wl))
