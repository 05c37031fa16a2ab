"""The one platform table: every vocabulary reads it, and a new platform needs only a row and a model."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from exitkit import platforms
from exitkit.cli import cli
from exitkit.cost import registry
from exitkit.cost.common import Ctx, labor_line
from exitkit.cost.lines import PATHS, PAYEES, STATES, Lines
from exitkit.cost.registry import Estimate, register
from exitkit.plan import catalog
from exitkit.prices import PAYEES as PRICE_PAYEES
from exitkit.workload.loader import parse_workload, workload_json_schema

FAKE = "fake-kafka"


@pytest.fixture
def fake_platform():
    """A platform that exists only in this test: one table row and one model module's worth of code."""
    platforms.register_platform(platforms.PlatformInfo(FAKE, "Fake Kafka Cloud", "vendor", 7.0))

    @register(FAKE, ingress_key="aws.cross_az_per_gib")
    def fake_model(inputs, cat):
        ctx = Ctx.of(inputs, cat)
        out = Lines(cat)
        # priced like a cross-AZ GiB, so the test can work the figure out by hand
        out.add("steady", "producer_ingress", "Fake ingress", ctx.written_gib, "GiB", "aws.cross_az_per_gib", "vendor")
        labor_line(out, ctx, FAKE)
        return Estimate(out.lines)

    yield
    registry.unregister(FAKE)
    platforms.unregister_platform(FAKE)


def test_vocabularies_have_one_definition():
    assert PATHS == platforms.PATHS and STATES == platforms.STATES and PAYEES == platforms.PAYEES
    assert PRICE_PAYEES == platforms.PAYEES
    assert set(registry.PLATFORMS) == set(platforms.SHIPPED)  # every shipped id has a model, and only those
    assert set(catalog.capabilities()) == set(platforms.platform_ids())
    assert set(catalog.boundaries()) == set(platforms.platform_ids())
    # every tool's targets are platforms of the table
    for tool in platforms.TOOLS.values():
        assert tool.targets is None or set(tool.targets) <= set(platforms.SHIPPED), tool.id


def test_a_model_for_an_id_not_in_the_table_is_refused():
    with pytest.raises(ValueError, match="unknown platform 'not-in-table'"):
        register("not-in-table")(lambda inputs, cat: Estimate([]))
    assert "not-in-table" not in registry.PLATFORMS


def test_a_new_platform_shows_through_schema_catalogs_widgets_and_cost(fake_platform, tmp_path):
    # the workload schema accepts it and the editor's JSON schema lists it
    doc = {"name": "w", "source": {"platform": "msk-standard"}, "region": "us-east-1",
           "traffic": {"write_rate": "1 MiB/s", "fan_out": 1, "retention": "1d"}, "candidates": [FAKE]}  # fmt: skip
    assert parse_workload(doc).candidates == [FAKE]
    assert FAKE in workload_json_schema()["$defs"]["Source"]["properties"]["platform"]["enum"]
    # the plan catalogs answer for it (no facts yet: unknown, not an error)
    assert {c.status for c in catalog.capabilities()[FAKE].values()} == {"unknown"}
    assert catalog.boundaries()[FAKE].planes["data_plane"].status == "unknown"
    # `exitkit cost` prices it, with the table's name and the table's default labour hours
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(doc))
    res = CliRunner().invoke(cli, ["cost", "--workload", str(path), "--format", "json"])
    assert res.exit_code == 0, res.output
    fake = next(p for p in json.loads(res.output)["platforms"] if p["platform"] == FAKE)
    assert fake["name"] == "Fake Kafka Cloud"
    by_item = {ln["item"]: ln for ln in fake["lines"] if ln["state"] == "steady"}
    gib = 1 / 1024 * 730 * 3600  # 1 MiB/s for a 730 h month, in GiB
    assert by_item["Fake ingress"]["quantity"] == pytest.approx(gib)
    labour = next(ln for ln in fake["lines"] if ln["path"] == "labor")
    assert labour["quantity"] == 7.0 and labour["unit_price"] == 120.0  # 7 h from the table × the default rate


def test_widgets_offer_the_new_platform(fake_platform):
    import pandas as pd

    from exitkit.notebook.picker import TopicPicker  # ipywidgets: only this test needs it
    from exitkit.profile.topics import PROFILE_COLUMNS

    row = {c: None for c in PROFILE_COLUMNS} | {"cluster": "c", "topic": "t", "write_bytes_per_s_mean": 1.0}
    picker = TopicPicker(pd.DataFrame([row], columns=PROFILE_COLUMNS), None)
    assert FAKE in picker.platform.options and FAKE in picker.candidates.options
