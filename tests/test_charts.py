"""Chart data, not pixels: every expected number below is worked out by hand."""

import json
import re

import nbformat
import numpy as np
import pandas as pd
import plotly.io as pio
import pytest

from exitkit import charts
from exitkit.charts.render import OfflineNotebookRenderer
from exitkit.charts.theme import FONT_FAMILY
from exitkit.ingest.base import points_frame
from exitkit.profile.topics import topic_profile, topic_rate_series
from exitkit.store import memory_store

MiB, GiB, TiB = 2**20, 2**30, 2**40
T0 = pd.Timestamp("2024-01-01 00:00")  # a Monday
MIN = pd.Timedelta(minutes=1)


def _series(topic, metric, values, start=T0, step=MIN, cluster="c"):
    ts = [start + i * step for i in range(len(values))]
    return pd.DataFrame(
        {
            "cluster": cluster,
            "topic": topic,
            "metric": metric,
            "ts_start": ts,
            "ts_end": [t + step for t in ts],
            "dur": step.total_seconds(),
            "value": [float(v) for v in values],
        }
    )


def _profile(rows):
    cols = [
        "cluster",
        "topic",
        "write_bytes_per_s_mean",
        "read_bytes_per_s_mean",
        "fan_out",
        "retention_ms",
        "retained_bytes",
    ]
    df = pd.DataFrame(rows)
    for c in cols:
        if c not in df:
            df[c] = None
    return df.astype(object).where(df.notna(), None)


def _shape(fig, name):
    return next(s for s in fig.layout.shapes if s.name == name)


def _annotation(fig, name):
    return next(a for a in fig.layout.annotations if a.name == name)


# ---------------------------------------------------------------- units and theme


def test_unit_is_picked_from_the_largest_value():
    assert charts.rate_unit([3 * MiB, 1]) == ("MiB/s", MiB)
    assert charts.rate_unit([1023]) == ("B/s", 1)
    assert charts.rate_unit([1024]) == ("KiB/s", 1024)
    assert charts.rate_unit([5 * 2**40]) == ("GiB/s", GiB)  # no TiB/s: GiB/s is the top
    assert charts.rate_unit([None, float("nan")]) == ("B/s", 1)
    assert charts.bytes_unit([3 * TiB]) == ("TiB", TiB)


def test_template_is_registered_with_system_fonts_and_no_urls():
    t = pio.templates[charts.TEMPLATE]
    assert t.layout.font.family == FONT_FAMILY
    assert "system-ui" in FONT_FAMILY and FONT_FAMILY.endswith("sans-serif")
    assert len(t.layout.colorway) >= len(charts.PATHS)  # one colour per byte path
    assert t.layout.paper_bgcolor == "white" and t.layout.plot_bgcolor == "white"
    assert "http" not in json.dumps(t.to_plotly_json())


# ---------------------------------------------------------------- topic_rates

# write: 1..10 MiB/s for ten minutes, a one-minute gap, then 11..20 MiB/s; read: 2 MiB/s.
WRITE = pd.concat(
    [_series("t", "bytes_in", np.arange(1, 11) * MiB), _series("t", "bytes_in", np.arange(11, 21) * MiB, T0 + 11 * MIN)]
)
READ = _series("t", "bytes_out", [2 * MiB] * 21)
SERIES = pd.concat([WRITE, READ, _series("other", "bytes_in", [100 * GiB] * 3)], ignore_index=True)


def test_topic_rates_scales_values_breaks_gaps_and_marks_stats():
    row = {"write_bytes_per_s_mean": 10.5 * MiB, "write_bytes_per_s_p95": 19 * MiB, "write_bytes_per_s_peak": 20 * MiB,
           "read_bytes_per_s_mean": 2 * MiB, "read_bytes_per_s_p95": 2 * MiB}  # fmt: skip
    fig = charts.topic_rates(SERIES, row, "t")
    write, read = fig.data
    assert (write.name, read.name) == ("write", "read")
    assert "MiB/s" in fig.layout.yaxis.title.text
    # each run ends at its last ts_end; the gap (10 → 11 min) is a None point, never 0
    assert list(write.y) == [*range(1, 11), 10, None, *range(11, 21), 20]
    assert pd.Timestamp(write.x[10]) == T0 + 10 * MIN and pd.Timestamp(write.x[11]) == T0 + 10 * MIN
    assert pd.Timestamp(write.x[12]) == T0 + 11 * MIN and pd.Timestamp(write.x[-1]) == T0 + 21 * MIN
    assert write.line.shape == "hv" and write.connectgaps is False
    assert list(read.y) == [2.0] * 22
    assert write.customdata[0] == "1.0 MiB/s" and write.customdata[11] == "—"
    assert "%{customdata}" in write.hovertemplate
    assert _shape(fig, "write_mean").y0 == pytest.approx(10.5)
    assert _shape(fig, "write_p95").y0 == pytest.approx(19)
    assert _shape(fig, "write_peak").y0 == pytest.approx(20)
    assert _shape(fig, "read_peak").y0 == pytest.approx(2)  # not in the row: computed from the series
    assert _annotation(fig, "write_p95").text == "write p95 19.0 MiB/s"
    assert _annotation(fig, "write_mean").text == "write mean 10.5 MiB/s"
    assert fig.layout.title.text == "Write and read rate: c/t"


def test_topic_rates_without_stats_computes_profile_definitions():
    fig = charts.topic_rates(SERIES, None, ("c", "t"))
    # 20 one-minute rates 1..20 MiB/s: time-weighted mean 10.5, nearest rank ceil(0.95×20)=19th → 19
    assert _shape(fig, "write_mean").y0 == pytest.approx(10.5)
    assert _shape(fig, "write_p95").y0 == pytest.approx(19)
    assert _shape(fig, "write_peak").y0 == pytest.approx(20)


def test_topic_rates_needs_the_cluster_when_two_clusters_share_a_topic():
    two = pd.concat([SERIES, _series("t", "bytes_in", [1.0], cluster="d")])
    with pytest.raises(ValueError, match=r"\(cluster, topic\)"):
        charts.topic_rates(two, None, "t")
    assert charts.topic_rates(two, None, ("d", "t")).layout.yaxis.title.text == "rate (B/s)"


def test_topic_rates_from_the_store_matches_the_profile():
    ts = [T0 + i * MIN for i in range(20)]
    te = [t + MIN for t in ts]
    v = np.arange(1, 21, dtype=float) * 3 * MiB
    con = memory_store()
    con.execute("INSERT INTO sources VALUES (1, 'f', 'sha', 'fmt', 'c', now(), 40)")
    df = pd.concat([
        points_frame(cluster="c", topic="t", metric="bytes_in", ts_start=ts, ts_end=te, value=v / 3, broker="1"),
        points_frame(cluster="c", topic="t", metric="bytes_in", ts_start=ts, ts_end=te, value=2 * v / 3, broker="2"),
    ])  # fmt: skip
    con.register("d", df)
    con.execute("INSERT INTO metric_points SELECT 1, * FROM d")
    row = topic_profile(con).iloc[0]
    fig = charts.topic_rates(topic_rate_series(con), row, "t")
    assert list(fig.data[0].y)[:3] == [3.0, 6.0, 9.0]  # brokers summed: 3i MiB/s
    assert fig.layout.yaxis.title.text == "rate (MiB/s)"
    assert _shape(fig, "write_p95").y0 == pytest.approx(57)  # 3 × 19
    assert len(fig.data) == 1  # no read series in the store, no read line


# ---------------------------------------------------------------- profile charts


def test_fan_out_sorted_descending_top_n():
    df = _profile([
        {"cluster": "c", "topic": "a", "fan_out": 2.0, "read_bytes_per_s_mean": 2 * MiB, "write_bytes_per_s_mean": MiB},
        {"cluster": "c", "topic": "b", "fan_out": None},
        {"cluster": "c", "topic": "c", "fan_out": 5.0, "read_bytes_per_s_mean": 5 * MiB, "write_bytes_per_s_mean": MiB},
        {"cluster": "c", "topic": "d", "fan_out": 1.0},
        {"cluster": "c", "topic": "e", "fan_out": 3.0},
    ])  # fmt: skip
    fig = charts.fan_out_by_topic(df, top=3)
    (bar,) = fig.data
    assert list(bar.y) == ["c", "e", "a"] and list(bar.x) == [5.0, 3.0, 2.0]
    assert fig.layout.yaxis.autorange == "reversed"  # first (largest) on top
    assert "top 3 of 4" in fig.layout.title.text
    assert list(bar.customdata[0]) == ["5.0 MiB/s", "1.0 MiB/s"]
    # two clusters: labels name the cluster
    df2 = pd.concat([df, _profile([{"cluster": "d", "topic": "a", "fan_out": 9.0}])], ignore_index=True)
    assert charts.fan_out_by_topic(df2).data[0].y[0] == "d/a"


def test_retention_vs_retained_log_axis_units_and_exclusions():
    df = _profile([
        {"cluster": "c", "topic": "t1", "retention_ms": 7 * 86_400_000, "retained_bytes": 2 * GiB, "write_bytes_per_s_mean": MiB},
        {"cluster": "c", "topic": "t2", "retention_ms": 86_400_000, "retained_bytes": 512 * MiB, "write_bytes_per_s_mean": 4 * MiB},
        {"cluster": "c", "topic": "t3", "retention_ms": -1, "retained_bytes": GiB},  # unlimited
        {"cluster": "c", "topic": "t4", "retention_ms": 86_400_000, "retained_bytes": None},
    ])  # fmt: skip
    fig = charts.retention_vs_retained(df)
    (tr,) = fig.data
    assert list(tr.x) == [7.0, 1.0]
    assert list(tr.y) == [2.0, 0.5]
    assert fig.layout.yaxis.type == "log" and "GiB" in fig.layout.yaxis.title.text
    assert fig.layout.xaxis.title.text == "retention (days)"
    assert list(tr.marker.size) == [MiB, 4 * MiB] and tr.marker.sizemode == "area"
    assert tr.marker.sizeref == pytest.approx(2 * 4 * MiB / 40**2)
    assert list(tr.customdata[0]) == ["t1", "7d", "2.0 GiB", "1.0 MiB/s"]
    assert "2 topics not shown" in fig.layout.title.text


BYTES_PROFILE = _profile([
    {"cluster": "c1", "topic": "a", "write_bytes_per_s_mean": MiB},
    {"cluster": "c1", "topic": "b", "write_bytes_per_s_mean": 3 * MiB},
    {"cluster": "c2", "topic": "a", "write_bytes_per_s_mean": 2 * MiB},
    {"cluster": "c2", "topic": "idle", "write_bytes_per_s_mean": None},
])  # fmt: skip
MONTH_TIB = 730 * 3600 * MiB / TiB  # 1 MiB/s for a 730 h month = 2.50626 TiB


def test_bytes_by_topic_treemap_cluster_to_topic():
    fig = charts.bytes_by_topic(BYTES_PROFILE)
    (tm,) = fig.data
    assert list(tm.ids) == ["c1", "c2", "c1/a", "c1/b", "c2/a"]
    assert list(tm.parents) == ["", "", "c1", "c1", "c2"]
    assert tm.branchvalues == "remainder"
    assert list(tm.values) == pytest.approx([0, 0, MONTH_TIB, 3 * MONTH_TIB, 2 * MONTH_TIB])
    assert list(tm.customdata) == ["10.0 TiB", "5.0 TiB", "2.5 TiB", "7.5 TiB", "5.0 TiB"]
    assert "TiB" in fig.layout.title.text and "730 h" in fig.layout.title.text


def test_bytes_by_topic_bar_sorted_with_unit_on_axis():
    fig = charts.bytes_by_topic(BYTES_PROFILE, kind="bar", month_hours=24)
    assert list(fig.layout.yaxis.categoryarray) == ["c1/b", "c2/a", "c1/a"]
    c1 = next(t for t in fig.data if t.name == "c1")
    # 1 MiB/s × 86400 s = 84.375 GiB
    assert fig.layout.xaxis.title.text == "written per month (GiB)"
    assert list(c1.y) == ["c1/b", "c1/a"] and list(c1.x) == pytest.approx([3 * 84.375, 84.375])
    with pytest.raises(ValueError):
        charts.bytes_by_topic(BYTES_PROFILE, kind="pie")


def _week(topic, metric, value_of_hour, step=pd.Timedelta(hours=1)):
    n = int(pd.Timedelta(days=7) / step)
    starts = [T0 + i * step for i in range(n)]
    return _series(topic, metric, [value_of_hour(t) for t in starts], step=step)


def test_diurnal_heatmap_sums_topics_per_hour_and_weekday():
    a = _week("a", "bytes_in", lambda t: t.hour * MiB)
    b = _week("b", "bytes_in", lambda t: MiB, step=pd.Timedelta(hours=2))  # split at hour boundaries
    out = _week("a", "bytes_out", lambda t: 1000 * GiB)  # another metric: ignored
    gap = a["ts_start"] == T0 + pd.Timedelta(days=1, hours=3)  # Tue 03:00 missing for topic a
    fig = charts.diurnal_heatmap(pd.concat([a[~gap], b, out], ignore_index=True))
    (hm,) = fig.data
    assert list(hm.y) == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] and list(hm.x) == list(range(24))
    assert hm.colorbar.title.text == "MiB/s"
    z = np.array(hm.z, dtype=float)
    assert z[0, 0] == 1.0 and z[0, 5] == 6.0 and z[6, 23] == 24.0  # h + 1 MiB/s
    assert np.isnan(z[1, 3])  # unknown, not the 1 MiB/s of topic b alone
    assert hm.customdata[1][3] == "no data" and hm.customdata[0][5] == "6.0 MiB/s"
    assert "2 topics summed" in fig.layout.title.text and "UTC" in fig.layout.xaxis.title.text


def test_diurnal_mean_is_time_weighted_within_an_hour():
    s = pd.concat([
        _series("a", "bytes_in", [1.0], step=pd.Timedelta(minutes=15)),
        _series("a", "bytes_in", [3.0], start=T0 + pd.Timedelta(minutes=15), step=pd.Timedelta(minutes=45)),
    ])  # fmt: skip
    m = charts.diurnal_matrix(s)
    assert m.loc["Mon", 0] == pytest.approx((1 * 15 + 3 * 45) / 60)
    assert np.isnan(m.loc["Mon", 1])


# ---------------------------------------------------------------- workload card

SUMMARY = {
    "name": "payments", "title": "Payments pipeline",
    "write_bytes_per_s_mean": 3 * MiB, "write_bytes_per_s_p95": 6 * MiB, "write_bytes_per_s_peak": 9 * MiB,
    "read_bytes_per_s_mean": 7.5 * MiB, "fan_out": 2.5, "retention_s": 7 * 86400, "retained_bytes": TiB,
    "partitions": 120, "driver": "write peak",
    "provenance": {"write_bytes_per_s_peak": "assumed", "retention_s": "default", "fan_out": "measured"},
}  # fmt: skip


def test_workload_card_values_units_and_provenance():
    fig = charts.workload_card(SUMMARY)
    inds = [t for t in fig.data if t.type == "indicator"]
    assert [i.value for i in inds] == [3.0, 6.0, 9.0]
    assert {i.number.suffix for i in inds} == {" MiB/s"}
    assert [i.title.text for i in inds] == ["write mean", "write p95", "write peak (assumed)"]
    (table,) = [t for t in fig.data if t.type == "table"]
    labels, values, sources = (list(c) for c in table.cells["values"])
    got = dict(zip(labels, zip(values, sources, strict=True), strict=True))
    assert got["write rate, peak"] == ("9.0 MiB/s", "assumed")
    assert got["read fan-out"] == ("2.50×", "measured")
    assert got["retention"] == ("7d", "default")
    assert got["retained"] == ("1.0 TiB", "—")
    assert got["partitions"][0] == "120" and got["sizing driver"][0] == "write peak"
    fills = list(table.cells.fill.color[1])
    assert fills[labels.index("write rate, peak")] != "white" and fills[labels.index("read fan-out")] == "white"
    assert fig.layout.title.text == "Workload Payments pipeline (payments)"


def test_workload_card_with_missing_values_shows_dashes():
    fig = charts.workload_card({"name": "whatif", "fan_out": 3})
    (table,) = [t for t in fig.data if t.type == "table"]
    values = list(table.cells["values"][1])
    assert values[0] == "—" and values[4] == "3.00×"


# ---------------------------------------------------------------- cost charts


def _line(state, path, usd, item="x"):
    return {"state": state, "path": path, "item": item, "quantity": 1, "unit": "month", "unit_price": usd,
            "monthly_usd": usd, "payee": "cloud", "source": "aws.x"}  # fmt: skip


COST = {
    "workload": "payments", "currency": "USD", "month_hours": 730,
    "platforms": [
        {"platform": "msk-standard", "name": "MSK Standard",
         "monthly_usd": {"steady": 1500, "abnormal": 40, "total": 1540}, "one_time_usd": {"migration": 900},
         "lines": [_line("steady", "compute", 1000), _line("steady", "cross_zone", 300, "replication a→b"),
                   _line("steady", "cross_zone", 200, "consumer b→a"), _line("abnormal", "cross_zone", 40),
                   _line("migration", "backfill", 900)]},
        {"platform": "automq-byoc", "name": "AutoMQ BYOC",
         "monthly_usd": {"steady": 800, "abnormal": 0, "total": 800}, "one_time_usd": {"migration": 0},
         "lines": [_line("steady", "compute", 500), _line("steady", "storage", 300)]},
    ],
}  # fmt: skip


def test_cost_by_path_stacks_steady_paths_per_platform_with_abnormal_beside():
    fig = charts.cost_by_path(json.dumps(COST))
    steady = [t for t in fig.data if t.type == "bar" and t.xaxis == "x"]
    assert [b.name for b in steady] == ["Compute", "Cross-zone transfer", "Storage"]  # PATHS order, in words
    assert [b.meta for b in steady] == ["compute", "cross_zone", "storage"]  # no migration backfill
    assert all(b.orientation == "h" and list(b.y) == ["MSK Standard", "AutoMQ BYOC"] for b in steady)
    xs = {b.meta: list(b.x) for b in steady}
    assert xs == {"compute": [1000, 500], "cross_zone": [500, 0], "storage": [0, 300]}
    (total,) = [t for t in fig.data if t.name == "total"]
    assert list(total.x) == [1500, 800] and list(total.text) == ["$1,500", "$800"]  # = monthly_usd steady
    (abnormal,) = [t for t in fig.data if t.meta == "abnormal"]
    assert abnormal.xaxis == "x2" and list(abnormal.x) == [40, 0]  # its own small panel
    assert list(abnormal.text) == ["$40.00", "$0.00"]
    assert fig.layout.barmode == "stack" and fig.layout.xaxis.title.text == "USD per month"
    assert fig.layout.legend.orientation == "h"  # under the chart: never clipped by a scrollbar
    assert steady[1].customdata[0][1] == "$500"
    assert fig.layout.title.text == "Monthly cost by byte path: payments"


def test_cumulative_cost_marks_the_payback_month():
    series = {"today": [0, 100, 200, 300], "cand": [150, 200, 250, 300]}  # saves 50/month, 150 one-time
    fig = charts.cumulative_cost(series, {"today": "Today", "cand": "Cand"}, "today", "cand", payback_month=3)
    lines = {t.name: list(t.y) for t in fig.data if t.mode == "lines"}
    assert lines == {"Today (today)": [0, 100, 200, 300], "Cand": [150, 200, 250, 300]}
    (mark,) = [t for t in fig.data if t.mode == "markers"]
    assert list(mark.x) == [3] and list(mark.y) == [300] and mark.name == "pays back in month 3"


def _scenarios():
    """One-at-a-time sweeps around write_multiplier=1, fan_out=3; A = 1000·w + 100·f, B = 500·w + 300·f."""
    states = [(1, 3), (2, 3), (4, 3), (1, 1), (1, 5)]
    rows = []
    for w, f in states:
        rows.append({"write_multiplier": w, "fan_out": f, "platform": "A", "monthly_usd": 1000 * w + 100 * f})
        rows.append({"write_multiplier": w, "fan_out": f, "platform": "B", "monthly_usd": 500 * w + 300 * f})
    return pd.DataFrame(rows)


def test_scenario_slider_steps_carry_precomputed_totals_and_annotation():
    fig = charts.scenario_slider(_scenarios())
    (bar,) = fig.data
    assert list(bar.x) == ["A", "B"] and list(bar.y) == [1300, 1400]  # base: w=1, f=3
    assert fig.layout.annotations[0].text == "Write rate × 1, Read fan-out 3<br>monthly total: A $1,300 · B $1,400"
    # what the browser gets: the figure's JSON
    s_w, s_f = json.loads(fig.to_json())["layout"]["sliders"]
    assert s_w["currentvalue"]["prefix"] == "Write rate ×: " and s_f["currentvalue"]["prefix"] == "Read fan-out: "
    assert [st["label"] for st in s_w["steps"]] == ["1", "2", "4"] and s_w["active"] == 0
    assert [st["label"] for st in s_f["steps"]] == ["1", "3", "5"] and s_f["active"] == 1
    expected_w = {"1": [1300, 1400], "2": [2300, 1900], "4": [4300, 2900]}
    for st in s_w["steps"]:
        assert st["method"] == "update"
        data, layout, traces = st["args"]
        assert traces == [0]
        totals = expected_w[st["label"]]
        assert data["y"] == [totals]
        assert data["text"] == [[f"${totals[0]:,}", f"${totals[1]:,}"]]
        assert layout["annotations[0].text"] == (
            f"Write rate × {st['label']}, Read fan-out 3<br>monthly total: A ${totals[0]:,} · B ${totals[1]:,}"
        )
        assert layout["sliders[1].active"] == 1  # fan_out back to its base step (3)
        assert "sliders[0].active" not in layout
    f5 = s_f["steps"][2]["args"]
    assert f5[0]["y"] == [[1500, 2000]] and f5[1]["sliders[0].active"] == 0
    assert "Write rate × 1, Read fan-out 5" in f5[1]["annotations[0].text"]
    assert fig.layout.yaxis.range[1] == pytest.approx(4300 * 1.15)  # fixed axis over all scenarios


def test_scenario_slider_base_must_be_known():
    grid = pd.DataFrame(
        [{"w": w, "f": f, "platform": "A", "monthly_usd": w + f} for w in (1, 2) for f in (1, 2)]
    )  # full grid: every value equally frequent
    with pytest.raises(ValueError, match="base="):
        charts.scenario_slider(grid)
    fig = charts.scenario_slider(grid, base={"w": 2, "f": 1})
    assert list(fig.data[0].y) == [3] and [len(s.steps) for s in fig.layout.sliders] == [2, 2]
    with pytest.raises(ValueError, match="base value"):
        charts.scenario_slider(_scenarios(), base={"write_multiplier": 2, "fan_out": 5})


def test_tornado_from_scenarios_orders_by_swing():
    td = charts.tornado_from_scenarios(_scenarios())
    a = td[td.platform == "A"].set_index("assumption")
    assert a.loc["write_multiplier", ["base_usd", "low_usd", "high_usd"]].tolist() == [1300, 1300, 4300]
    assert a.loc["fan_out", ["low_usd", "high_usd", "low_label"]].tolist() == [1100, 1500, "fan_out=1"]
    fig = charts.tornado(td)
    # swings: write_multiplier max(3000, 1500) = 3000 > fan_out max(400, 1200)
    assert list(fig.layout.yaxis.categoryarray) == ["write_multiplier", "fan_out"]
    low_a, high_a, low_b, high_b = fig.data
    assert list(low_a.y) == ["write_multiplier", "fan_out"]
    assert list(low_a.x) == [0, -200] and list(low_a.base) == [1300, 1300]
    assert list(high_a.x) == [3000, 200]
    assert list(high_b.x) == [1500, 600] and list(low_b.base) == [1400, 1400]
    assert [low_a.showlegend, low_b.showlegend] == [True, False]
    assert high_a.customdata[0][0] == "write_multiplier=4"


def test_every_chart_uses_the_template_and_references_no_url():
    figs = [
        charts.topic_rates(SERIES, None, "t"),
        charts.fan_out_by_topic(_profile([{"cluster": "c", "topic": "a", "fan_out": 2.0}])),
        charts.bytes_by_topic(BYTES_PROFILE),
        charts.diurnal_heatmap(SERIES),
        charts.workload_card(SUMMARY),
        charts.cost_by_path(COST),
        charts.scenario_slider(_scenarios()),
        charts.tornado(charts.tornado_from_scenarios(_scenarios())),
    ]
    for fig in figs:
        assert fig.layout.template.layout.font.family == FONT_FAMILY
        assert "http" not in fig.to_json()


# ---------------------------------------------------------------- renderer


@pytest.fixture
def restore_renderer():
    before = pio.renderers.default
    yield
    pio.renderers.default = before


def test_offline_renderer_figure_html_has_no_cdn_and_no_plotlyjs():
    html = OfflineNotebookRenderer().to_mimebundle(charts.fan_out_by_topic(BYTES_PROFILE.assign(fan_out=1.0)).to_dict())
    html = html["text/html"]
    assert "Plotly.newPlot" in html
    assert not re.search(r"<script[^>]*\bsrc=", html)
    assert "cdn" not in html and "plotly.js v" not in html


def test_pin_renderer_is_idempotent(restore_renderer):
    assert charts.pin_renderer() == "plotly_mimetype+exitkit_offline"
    assert pio.renderers.default == "plotly_mimetype+exitkit_offline"
    pio.renderers._to_activate = []  # as if the first figure had been shown
    charts.pin_renderer()
    assert pio.renderers._to_activate == []  # no second copy of plotly.js queued


@pytest.mark.slow
def test_pinned_renderer_in_an_executed_notebook_embeds_plotlyjs_once_offline(tmp_path):
    """Execute a 2-cell notebook in the venv's python3 kernel, as papermill would, then export."""
    nbclient = pytest.importorskip("nbclient")
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    from nbconvert import HTMLExporter
    from plotly.offline import get_plotlyjs

    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        pytest.skip("no python3 kernel spec (python -m ipykernel install --sys-prefix)")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from exitkit import charts\ncharts.pin_renderer()\nimport plotly.graph_objects as go\n"
            "go.Figure(go.Bar(x=[1, 2], y=[3, 4]))"
        ),
        nbformat.v4.new_code_cell(
            "charts.pin_renderer()\nfig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))\nfig.show()\nfig"
        ),
    ]
    root = str(__import__("pathlib").Path(__file__).resolve().parents[1])
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": root}}).execute()

    outputs = [o for c in nb.cells for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    htmls = [o.data.get("text/html", "") for o in outputs if "data" in o]
    bundle_head = get_plotlyjs()[:200]
    assert sum(h.count(bundle_head) for h in htmls) == 1  # plotly.js exactly once …
    assert bundle_head in htmls[0]  # … before the first figure
    figures = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figures) == 3  # a repr, a show() and a repr
    assert all("Plotly.newPlot" in o.data["text/html"] for o in figures)  # nbconvert has HTML to keep
    everything = "".join(htmls)
    assert not re.search(r"<script[^>]*\bsrc=", everything)  # nothing loaded from anywhere
    assert "cdnjs" not in everything
    # the one cdn.plot.ly string is plotly.js's own topojson default (geo traces only), inside the bundle
    assert everything.count("cdn.plot.ly") == get_plotlyjs().count("cdn.plot.ly")

    html, _ = HTMLExporter(template_name="lab", exclude_input=True).from_notebook_node(nb)
    assert html.count(bundle_head) == 1 and html.count("Plotly.newPlot(") == 3


def test_profile_charts_accept_an_empty_profile():
    from exitkit.profile.topics import PROFILE_COLUMNS

    empty = pd.DataFrame(columns=PROFILE_COLUMNS)
    assert list(charts.fan_out_by_topic(empty).data[0].y) == []
    assert charts.retention_vs_retained(empty).data == ()
    assert list(charts.bytes_by_topic(empty).data[0].ids) == []
    assert charts.bytes_by_topic(empty, kind="bar").data == ()
