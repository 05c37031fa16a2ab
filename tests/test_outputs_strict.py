"""Outputs that cannot mislead or collide (issue 19 items 5 and 12): no non-finite number in JSON,
CSV or xlsx (JSON stays strict: RFC 8259 has no Infinity or NaN); `exitkit report` into a folder it
cannot write, or one another run is writing, gives one line and exit 2; the fleet files are atomic."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from filelock import FileLock

from exitkit.cli import cli
from exitkit.cost import evaluate
from exitkit.cost.inputs import CostInputs, CostTraffic
from exitkit.errors import OutputError
from exitkit.prices import load_catalog
from exitkit.report.batch import LOCK_NAME, write_atomic, write_summary
from exitkit.safe_output import finite_or_null, safe_frame, strict_json


def _strict_loads(text: str):
    def refuse(token):
        raise AssertionError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def test_strict_json_writes_unknown_as_null_and_refuses_an_infinity_by_its_path():
    assert _strict_loads(strict_json({"a": [1.5, float("nan")], "b": None})) == {"a": [1.5, None], "b": None}
    with pytest.raises(OutputError, match=r"^cost: \$\.platforms\[1\]\.total is inf \(not a finite number\)"):
        strict_json({"platforms": [{"total": 1.0}, {"total": math.inf}]}, "cost")
    with pytest.raises(OutputError, match=r"\$\.x is -inf"):
        finite_or_null({"x": -math.inf})


def test_safe_frame_refuses_an_infinite_cell_naming_column_and_row():
    ok = pd.DataFrame({"item": ["a", "b"], "usd": [1.0, float("nan")]})
    assert safe_frame(ok, "x.csv")["usd"].isna().tolist() == [False, True]  # NaN stays "unknown" (empty cell)
    bad = pd.DataFrame({"item": ["a", "b", "c"], "usd": [1.0, 2.0, math.inf]})
    with pytest.raises(OutputError, match=r"^x\.csv: column 'usd', row 3 is inf"):
        safe_frame(bad, "x.csv")
    mixed = pd.DataFrame({"v": ["text", -math.inf]}, dtype=object)
    with pytest.raises(OutputError, match=r"column 'v', row 2 is -inf"):
        safe_frame(mixed, "sheet")


def test_cost_json_is_strict_and_an_overflowed_line_is_refused_not_written():
    # 10 MiB/s, fan-out 2, 3 days: every figure finite, so the JSON parses under strict rules
    inputs = CostInputs(CostTraffic(write_bytes_per_s=10 * 2**20, fan_out=2, retention_s=3 * 86400), name="w")
    result = evaluate(inputs, load_catalog(), ["kafka-ec2"])
    doc = _strict_loads(result.to_json())
    assert doc["platforms"][0]["monthly_usd"]["total"] == pytest.approx(result.platforms[0].total_usd)
    # a line that overflowed (as 1e308 × a quantity would) must stop the output, never print Infinity
    p = result.platforms[0]
    broken = dataclasses.replace(p, lines=[dataclasses.replace(p.lines[0], monthly_usd=math.inf), *p.lines[1:]])
    with pytest.raises(OutputError, match=r"cost of 'w': \$\.platforms\[0\]\.monthly_usd\.steady is inf"):
        dataclasses.replace(result, platforms=[broken]).to_json()


def test_summary_json_is_written_atomically_and_strictly(tmp_path):
    path = write_summary([{"name": "a", "status": "ok", "monthly_savings_usd": float("nan")}], tmp_path)
    assert _strict_loads(path.read_text())["workloads"][0]["monthly_savings_usd"] is None
    before = path.read_text()
    with pytest.raises(OutputError):
        write_summary([{"name": "a", "status": "ok", "monthly_savings_usd": math.inf}], tmp_path)
    assert path.read_text() == before  # the earlier summary is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]  # no temp file left behind


def test_write_atomic_keeps_the_old_file_when_the_write_fails(tmp_path):
    target = tmp_path / "index.html"
    target.write_text("old")

    with pytest.raises(TypeError):
        write_atomic(target, 12345)  # type: ignore[arg-type]  # not text: the write fails half way
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["index.html"]
    write_atomic(target, "new")
    assert target.read_text() == "new"


def _report(args: list[str]):
    return CliRunner().invoke(cli, ["report", *args])


def test_report_into_a_folder_that_cannot_be_made_is_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    res = _report([str(tmp_path / "w.yaml"), "--out", str(blocker / "reports")])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {blocker / 'reports'}: cannot write reports here")
    assert "Traceback" not in res.output


def test_report_into_a_read_only_folder_is_one_line(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        # root writes through a 0555 mode; sysfs refuses every new file, root or not
        target = ro if os.access(ro, os.W_OK) is False else Path("/sys")
        res = _report([str(tmp_path / "w.yaml"), "--out", str(target)])
        assert res.exit_code == 2, res.output
        assert res.output.strip().startswith(f"error: {target}: cannot write reports here (")
        assert len(res.output.strip().splitlines()) == 1
    finally:
        ro.chmod(0o755)


def test_a_second_report_into_a_busy_folder_refuses_and_touches_nothing(tmp_path):
    out = tmp_path / "reports"
    out.mkdir()
    (out / "index.html").write_text("the first run's index")
    wl = tmp_path / "w.yaml"
    wl.write_text(
        "name: w\nsource: {platform: msk-standard}\ntraffic: {write_rate: 1 MiB/s, fan_out: 1, retention: 1d}\n"
    )
    with FileLock(out / LOCK_NAME, timeout=0):  # as a first `exitkit report` holds it
        res = _report([str(wl), "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert res.output.strip() == (
        f"error: {out}: another `exitkit report` is writing into this folder; wait for it to finish, or choose another --out"
    )
    assert (out / "index.html").read_text() == "the first run's index"
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME, "index.html"]


def test_demo_into_a_folder_that_cannot_be_made_is_one_line(tmp_path):
    blocker = tmp_path / "f"
    blocker.write_text("x")
    res = CliRunner().invoke(cli, ["demo", "--out", str(Path(blocker) / "demo")])
    assert res.exit_code == 2 and res.output.strip().startswith(f"error: {blocker / 'demo'}: cannot write the demo")
