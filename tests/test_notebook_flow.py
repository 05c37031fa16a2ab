"""The notebooks' hand-offs: 01_explore picks one cluster's topics with the platform its exports
name, and writes the workload where 02_cost and 03_plan look by default; each ends with the next step."""

import json
import os
import time
from pathlib import Path

import duckdb

from exitkit.notebook import helpers as nh
from exitkit.profile.topics import topic_profile

ROOT = Path(__file__).resolve().parents[1]


def test_source_platform_comes_from_the_export_formats(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        assert nh.source_platform(con, "lkc-demo01") == "confluent-dedicated"  # Confluent metrics API exports
        assert nh.source_platform(con, "demo-msk") == "msk-standard"  # CloudWatch AWS/Kafka
        assert nh.source_platform(con, "demo-onprem") is None  # Prometheus only: the form asks
        cluster, picks = nh.top_cluster_topics(topic_profile(con), 2)
    finally:
        con.close()
    assert len(picks) == 2 and {c for c, _ in picks} == {cluster}


def test_default_workload_is_the_newest_file_the_picker_wrote(tmp_path):
    assert nh.default_workload(tmp_path / "none", "telemetry") == "telemetry"
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("name: a\n")
    b.write_text("name: b\n")
    now = time.time()
    os.utime(a, (now, now))
    os.utime(b, (now - 60, now - 60))
    assert nh.default_workload(tmp_path, "telemetry") == str(a)


def test_each_notebook_ends_with_the_next_step():
    for name, nxt in (("01_explore", "02_cost.ipynb"), ("02_cost", "03_plan.ipynb"), ("03_plan", "exitkit report")):
        cells = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())["cells"]
        last = "".join(cells[-1]["source"])
        assert cells[-1]["cell_type"] == "markdown" and "## Next" in last and nxt in last, name
