"""The actual baseline: a cluster's bill allocated to a workload by its share of traffic and
storage (docs/cost-model.md), the `baseline` switch, and the bill beside the model.

Store: the FOCUS fixture (logs-msk, September 2026: compute 453.60, storage 300.00, credit
−25.00) plus measured points for logs-msk's two topics:
    t1: write 3 MB/s, read 6 MB/s, retained 100 GB      t2: write 1, read 2, retained 300 GB
Workload on t1: traffic share (3 + 6) / (3 + 6 + 1 + 2) = 0.75; storage share 100 / 400 = 0.25.
    September: 453.60 × 0.75 + 300.00 × 0.25 − 25.00 × 0.75 = 340.20 + 75.00 − 18.75 = 396.45
    at 730 h months: 396.45 × 730 / 720 = 401.95625
Today on the actual baseline adds the source's modelled lines no AWS bill carries: labour,
msk-standard's default 30 h/month × $120/h = 3,600 → 4,001.95625.
"""

from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from exitkit.bill.paths import Attribution
from exitkit.bill.reconcile import bill_report, bill_vs_model
from exitkit.cli import cli
from exitkit.cost import cash_flows
from exitkit.cost.adapter import workload_cost
from exitkit.errors import BadWorkload
from exitkit.ingest import ingest
from exitkit.plan.gates import cost_model as cost_model_gate
from exitkit.store import open_store
from exitkit.workload.loader import parse_workload

FOCUS10 = Path(__file__).parent / "fixtures" / "bills" / "focus-1.0-aws.csv"
MB = 1_000_000
GB = 1_000_000_000


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    db = tmp_path_factory.mktemp("baseline") / "s.duckdb"
    ingest([FOCUS10], db, bill=Attribution(tag="kafka-cluster"), progress=False)
    with open_store(db, write=True) as con:
        con.execute(
            "INSERT INTO sources VALUES (100, 'metrics.json', 'sha-metrics', 'prometheus-range', 'logs-msk', now(), 1)"
        )
        for topic, w, r, kept in (("t1", 3, 6, 100), ("t2", 1, 2, 300)):
            for h in range(24):  # one day of hourly points
                for metric, v in (("bytes_in", w * MB), ("bytes_out", r * MB), ("retained_bytes", kept * GB)):
                    con.execute(
                        "INSERT INTO metric_points VALUES (100, 'logs-msk', ?, NULL, NULL, NULL, ?, "
                        "TIMESTAMP '2026-09-10 00:00:00' + INTERVAL (?) HOUR, "
                        "TIMESTAMP '2026-09-10 01:00:00' + INTERVAL (?) HOUR, ?)",
                        [topic, metric, h, h, float(v)],
                    )
    return db


def _wl(**extra):
    doc = {
        "name": "w1", "source": {"platform": "msk-standard", "cluster": "logs-msk"}, "topics": ["t1"],
        "region": "us-east-2", "candidates": ["msk-express"], "traffic": {"retention": "7d"}, **extra,
    }  # fmt: skip
    return parse_workload(doc)


def test_actual_baseline_is_the_bill_allocated_by_traffic_and_storage(db):
    with open_store(db) as con:
        wc = workload_cost(_wl(), con)
        table = bill_vs_model(con, wc)
    r = wc.result
    assert r.baseline == "actual"
    (share,) = r.allocation.clusters
    assert (share.cluster, share.month) == ("logs-msk", "2026-09")
    assert share.traffic_share == pytest.approx(0.75) and share.storage_share == pytest.approx(0.25)
    assert share.allocated_usd == pytest.approx(396.45)
    assert r.allocation.monthly_usd == pytest.approx(401.95625)
    assert r.unbilled_today_usd() == pytest.approx(30 * 120)  # labour: on no invoice
    assert r.today_usd() == pytest.approx(4001.95625)
    assert r.to_dict()["baseline"] == "actual" and r.to_dict()["today_usd"] == pytest.approx(4001.95625)
    # the cash flow's today is the same baseline, grown as the model grows (month 1: A itself)
    flow = r.cash_flows["msk-express"]
    assert flow.months[0]["today_usd"] == pytest.approx(4001.95625)
    modelled = cash_flows(wc.inputs, wc.catalog, ["msk-express"], result=replace(r, baseline="modelled"))
    t1, t2 = (modelled["msk-express"].months[m]["today_usd"] for m in (0, 12))
    assert t1 == pytest.approx(r.platform("msk-standard").total_usd) and t2 != pytest.approx(t1)
    assert flow.months[12]["today_usd"] == pytest.approx(4001.95625 * t2 / t1)
    k = 730 / 720
    rows = table.set_index("path")
    assert rows.loc["compute", "actual_usd"] == pytest.approx(340.20 * k)
    assert rows.loc["storage", "actual_usd"] == pytest.approx(75.00 * k)
    assert rows.loc["unmapped", "actual_usd"] == pytest.approx(-18.75 * k)
    assert rows.loc["total", "actual_usd"] == pytest.approx(401.95625)
    today = r.platform("msk-standard")
    assert rows.loc["total", "modelled_usd"] == pytest.approx(
        sum(ln.monthly_usd for ln in today.lines if ln.state != "migration" and ln.path != "labor")
    )


def test_baseline_modelled_keeps_the_model_and_still_shows_the_bill(db):
    with open_store(db) as con:
        wc = workload_cost(_wl(baseline="modelled"), con)
        table = bill_vs_model(con, wc).set_index("path")
    assert wc.result.baseline == "modelled"
    assert wc.result.today_usd() == pytest.approx(wc.result.platform("msk-standard").total_usd)
    assert wc.result.today_usd() != pytest.approx(401.95625)
    assert table.loc["total", "actual_usd"] == pytest.approx(401.95625)  # the bill, beside the model
    assert wc.result.to_dict()["actual_baseline"]["monthly_usd"] == pytest.approx(401.95625)


def test_baseline_actual_without_a_bill_is_a_workload_error(db):
    with open_store(db, write=True) as con:
        con.execute("INSERT INTO sources VALUES (101, 'm2.json', 'sha-m2', 'prometheus-range', 'other', now(), 1)")
        con.execute(
            "INSERT INTO metric_points VALUES (101, 'other', 'x', NULL, NULL, NULL, 'bytes_in', "
            "'2026-09-10 00:00:00', '2026-09-10 01:00:00', 1000.0), (101, 'other', 'x', NULL, NULL, NULL, "
            "'bytes_out', '2026-09-10 00:00:00', '2026-09-10 01:00:00', 1000.0)"
        )
    wl = _wl(source={"platform": "msk-standard", "cluster": "other"}, topics=["x"], baseline="actual")
    with open_store(db) as con, pytest.raises(BadWorkload, match="baseline: actual, but no ingested bill"):
        workload_cost(wl, con)
    with open_store(db) as con:  # default: modelled when no bill covers it
        assert workload_cost(_wl(source={"platform": "msk-standard", "cluster": "other"}, topics=["x"]), con
                             ).result.baseline == "modelled"  # fmt: skip


def test_savings_gate_uses_the_actual_baseline(db):
    with open_store(db) as con:
        r = workload_cost(_wl(), con).result
    cand = r.platform("msk-express").total_usd
    gate = cost_model_gate(r, "msk-standard", "msk-express")
    saving = 4001.95625 - cand
    assert any("actual bill" in e for e in gate.evidence)
    pays_back = r.cash_flows["msk-express"].payback_month is not None  # the cash flow on the same baseline
    assert gate.status == ("pass" if saving > 0 and pays_back else "fail")
    assert f"{abs(saving):,.0f} USD/month" in gate.reason
    # by hand: the gate's saving share is of the actual baseline, not of the model
    if saving > 0:
        assert f"({saving / 4001.95625:.0%} of today)" in gate.reason


def test_bill_report_puts_the_model_beside_the_bill(db):
    with open_store(db) as con:
        rep = bill_report(con, "logs-msk")
    (c,) = rep["clusters"]
    assert c["platform"] == "msk-standard" and c["month"] == "2026-09" and c["actual_usd"] == pytest.approx(728.60)
    matched = sum(max(0, min(v["actual_usd"] or 0, v["modelled_usd"] or 0)) for v in c["by_path"].values())
    assert c["modelled_usd"] > 0 and c["explained"] == pytest.approx(matched / 728.60)
    assert c["by_path"]["unmapped"] == {"actual_usd": -25.0, "modelled_usd": None}  # the credit: on no path
    assert c["by_path"]["compute"]["actual_usd"] == pytest.approx(453.60)
    assert {g["path"] for g in c["gaps"]} <= set(c["by_path"])


def test_cli_bill_and_cost_say_the_baseline(db, tmp_path):
    res = CliRunner().invoke(cli, ["bill", "--db", str(db), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert '"cluster": "logs-msk"' in res.output and '"unattributed_usd": 69.12' in res.output
    wl = tmp_path / "w1.yaml"
    wl.write_text(
        "name: w1\nsource: {platform: msk-standard, cluster: logs-msk}\ntopics: [t1]\nregion: us-east-2\n"
        "candidates: [msk-express]\ntraffic: {retention: 7d}\n"
    )
    res = CliRunner().invoke(cli, ["cost", "--workload", str(wl), "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert "baseline: actual — today $4,002/month" in res.output
