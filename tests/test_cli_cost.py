"""`exitkit cost` and `exitkit prices` end to end: totals are the sums of their lines; bad input exits 2."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from exitkit.demo import WORKLOADS_DIR

ROOT = Path(__file__).resolve().parents[1]
WHATIF = WORKLOADS_DIR / "whatif-ingest.yaml"


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "exitkit", *args], capture_output=True, text=True, cwd=cwd)


def test_cost_json_totals_are_sums_of_lines():
    out = run("cost", "--workload", str(WHATIF), "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["currency"] == "USD" and doc["month_hours"] == 730
    ids = [p["platform"] for p in doc["platforms"]]
    assert ids[0] == "msk-standard"  # today's platform first, then the candidates
    assert set(ids[1:]) == {"msk-express", "kafka-ec2-tiered", "automq-byoc", "warpstream-byoc"}
    for p in doc["platforms"]:
        by_state = {
            s: sum(ln["monthly_usd"] for ln in p["lines"] if ln["state"] == s)
            for s in ("steady", "abnormal", "migration")
        }
        assert p["monthly_usd"]["steady"] == pytest.approx(by_state["steady"])
        assert p["monthly_usd"]["abnormal"] == pytest.approx(by_state["abnormal"])
        assert p["monthly_usd"]["known_total"] == pytest.approx(by_state["steady"] + by_state["abnormal"])
        # an unpriced line (automq.aku_hour) makes the total null, never a silent zero (issue 15)
        if p["incomplete"]:
            assert p["platform"] == "automq-byoc" and p["missing_prices"] == ["automq.aku_hour"]
            assert p["monthly_usd"]["total"] is None and p["payback_month"] is None
        else:
            assert p["monthly_usd"]["total"] == p["monthly_usd"]["known_total"]
        assert p["one_time_usd"]["known_migration"] == pytest.approx(by_state["migration"])
        for ln in p["lines"]:
            assert ln["monthly_usd"] == pytest.approx(ln["quantity"] * ln["unit_price"])
            assert ln["source"], ln


def test_cost_csv_has_one_row_per_line():
    doc = json.loads(run("cost", "--workload", str(WHATIF), "--format", "json").stdout)
    csv = run("cost", "--workload", str(WHATIF), "--format", "csv").stdout.strip().splitlines()
    assert len(csv) - 1 == sum(len(p["lines"]) for p in doc["platforms"])


@pytest.mark.parametrize(
    "text, field",
    [
        (
            "name: x\nsource: {platform: msk-standard}\nregion: us-east-1\ntraffic: {write_rate: -5 MiB/s, fan_out: 1}\n",
            "traffic.write_rate",
        ),
        (
            "name: x\nsource: {platform: msk-standard}\nregion: us-east-1\ntraffic: {write_rate: 5 MiB/s, fan_out: 1}\nprices: {aws.cross_az_per_gib: .nan}\n",
            "prices",
        ),
        ("name: x\nsource: {platform: nope}\nregion: us-east-1\n", "source.platform"),
        (  # issue 15 finding 7: was costed, printing $inf / Infinity
            "name: x\nsource: {platform: msk-standard}\nregion: us-east-1\ntraffic: {write_rate: 5 MiB/s}\n"
            "prices: {aws.cross_az_per_gib: 1e308}\n",
            ":5: prices.aws.cross_az_per_gib: 1e+308 is out of range; expected a price below 1,000 USD",
        ),
        (
            "name: x\nsource: {platform: msk-standard}\nregion: us-east-1\n"
            "traffic: {write_rate: 1e300 B/s, fan_out: 1e10}\n",
            ":4: traffic.write_rate: 1e+300 B/s is out of range; expected below 100 GiB/s",
        ),
    ],
)
def test_bad_workload_exits_2_with_one_line(tmp_path, text, field):
    wl = tmp_path / "w.yaml"
    wl.write_text(text)
    out = run("cost", "--workload", str(wl))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {wl}") and field in lines[0], lines


def test_prices_json_carries_source_and_date():
    doc = json.loads(run("prices", "--format", "json").stdout)
    assert len(doc) > 50
    for p in doc:
        assert p["source"] and p["as_of"] and p["unit"], p
    assert {p["key"] for p in doc} >= {"automq.aku_hour"}
