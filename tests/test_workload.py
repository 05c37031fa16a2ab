"""The workload file: defaults, units, and one-line errors naming the file and the field."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from exitkit.cli.workload import schema
from exitkit.demo import demo_workloads
from exitkit.errors import BadWorkload
from exitkit.workload.fields import PLATFORMS
from exitkit.workload.loader import load_workload, parse_workload, workload_json_schema

ROOT = Path(__file__).resolve().parents[1]
MIB = 2**20
BASE = "name: pay\nsource: {platform: confluent-dedicated, cluster: lkc-1}\nregion: us-east-1\n"


def _write(tmp_path, text: str, name: str = "w.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def _bad(tmp_path, text: str) -> BadWorkload:
    p = _write(tmp_path, text)
    with pytest.raises(BadWorkload) as exc:
        load_workload(p)
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith(str(p))
    assert exc.value.path == str(p)
    return exc.value


def test_units_and_defaults(tmp_path):
    wl = load_workload(
        _write(
            tmp_path,
            BASE + "topics: ['payments.*']\n"
            "traffic: {write_rate: 25 MiB/s, write_peak: 0.1 GB/s, retention: 7d, retained: 2 TiB, record_size: 1 KiB}\n"
            "assumptions: {growth_per_year: 30%, local_retention: 90m}\n",
        )
    )
    t, a = wl.traffic, wl.assumptions
    assert t.write_rate == 25 * MIB
    assert t.write_peak == 1e8
    assert t.retention == 7 * 86400
    assert t.retained == 2 * 2**40 and t.record_size == 1024
    assert a.growth_per_year == pytest.approx(0.3)
    assert a.local_retention == 5400
    # every documented default
    assert (a.replication_factor, a.zone_aware_consumers, a.private_link) == (3, False, True)
    assert (a.storage_headroom, a.broker_utilization, a.month_hours) == (0.4, 0.5, 730)
    r = a.recovery
    assert (r.broker_replacement, r.partition_reassignment, r.zone_failover) == (4, 12, 1)
    assert (r.consumer_replay.per_year, r.consumer_replay.hours_of_data) == (6, 24)
    assert (a.migration.dual_run_months, a.migration.tool) == (2, "mirrormaker2")
    assert (a.labor.hourly_rate, a.labor.hours_per_month) == (120, {})
    assert wl.zones == 3 and wl.candidates == [] and wl.prices == {} and wl.discounts == {}
    assert wl.path == str(tmp_path / "w.yaml") and wl.display_title == "pay"


@pytest.mark.parametrize(
    ("text", "field", "says"),
    [
        (
            "topics: [a]\nassumptions: {zone_awre_consumers: true}\n",
            "assumptions.zone_awre_consumers",
            "unknown key (did you mean zone_aware_consumers?)",
        ),
        ("topics: [a]\nsurprise: 1\n", "surprise", "unknown key"),
        ("traffic: {write_rate: -5 MiB/s}\n", "traffic.write_rate", "negative"),
        (
            "traffic: {write_rate: 25 MiB/min}\n",
            "traffic.write_rate",
            "'25 MiB/min' is not a rate; expected e.g. '25 MiB/s'",
        ),
        ("traffic: {write_rate: 10 MiB/s, retention: 7 days}\n", "traffic.retention", "is not a duration"),
        ("traffic: {write_rate: .nan}\n", "traffic.write_rate", "not a finite rate"),
        ("topics: [a]\nprices: {aws.cross_az_per_gb: .nan}\n", "prices.aws.cross_az_per_gb", "not a finite number"),
        # issue 19 item 13 / issue 15: an unknown key is named at its line; 0 only for a key priced at 0
        ("topics: [a]\nprices: {aws.x: 0}\n", "prices.aws.x", "unknown price key 'aws.x'"),
        ("topics: [a]\nprices: {aws.cross_az_per_gib: 0}\n", "prices.aws.cross_az_per_gib", "must be > 0"),
        ("topics: [a]\nprices: {aws.cross_az_per_gib: 1e308}\n", "prices.aws.cross_az_per_gib", "below 1,000 USD"),
        ("traffic: {write_rate: 1e300 B/s, fan_out: 1e10}\n", "traffic.write_rate", "below 100 GiB/s"),
        ("traffic: {write_rate: 1 MiB/s, fan_out: 1e10}\n", "traffic.fan_out", "at most 1,000"),
        ("traffic: {write_rate: 1 MiB/s, retention: 1e300d}\n", "traffic.retention", "at most 100 years"),
        (
            "traffic: {write_rate: 1 MiB/s}\nassumptions: {compression_ratio: 0.5}\n",
            "assumptions.compression_ratio",
            "at least 1",
        ),
        ("topics: [a]\ncandidates: [msk-standrd]\n", "candidates[0]", "did you mean msk-standard?"),
        ("topics: [a]\ncandidates: [msk-standard, msk-standard]\n", "candidates", "more than once"),
        (
            "topics: [a]\nassumptions: {labor: {hours_per_month: {kafka-ec3: 1}}}\n",
            "assumptions.labor.hours_per_month.kafka-ec3",
            "not a platform id",
        ),  # fmt: skip
        ("topics: [a]\nassumptions: {migration: {tool: mm2}}\n", "assumptions.migration.tool", "mirrormaker2"),
        ("topics: [a]\nassumptions: {broker_utilization: 0}\n", "assumptions.broker_utilization", "out of range"),
        ("topics: [a]\ndiscounts: {vendor: 150%}\n", "discounts.vendor", "out of range"),
        ("topics: [a]\ncontract: [x]\n", "contract", "expected a mapping"),
        ("topics: [a]\nzones: three\n", "zones", "not a whole number"),
        ("region: eu\n", "topics", "traffic.write_rate"),  # neither topics nor what-if traffic
        ("traffic: {write_rate: 10 MiB/s, write_peak: 5 MiB/s}\n", "traffic.write_peak", "lower than"),
    ],
)
def test_bad_values_name_the_field(tmp_path, text, field, says):
    text = BASE.replace("region: us-east-1\n", "") + text if text.startswith("region") else BASE + text
    exc = _bad(tmp_path, text)
    assert exc.field == field
    assert f": {field}: " in str(exc)
    assert says in str(exc)


def test_line_numbers_point_at_the_field(tmp_path):
    exc = _bad(tmp_path, BASE + "topics: [a]\nassumptions:\n  zone_awre_consumers: true\n")
    assert str(exc).startswith(f"{tmp_path / 'w.yaml'}:6: assumptions.zone_awre_consumers: ")


@pytest.mark.parametrize("name", ["a/b", "../etc", "..", "Pay", "-x", ""])
def test_names_are_safe_in_file_names(tmp_path, name):
    exc = _bad(tmp_path, BASE.replace("name: pay", f"name: '{name}'") + "topics: [a]\n")
    assert exc.field == "name"


def test_python_tags_are_rejected(tmp_path):
    marker = tmp_path / "pwned"
    text = BASE + f"topics: [a]\ntitle: !!python/object/apply:os.system ['touch {marker}']\n"
    exc = _bad(tmp_path, text)
    assert exc.field == "title" and "!!python/object/apply:os.system" in str(exc)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty file"),
        ("# only a comment\n", "empty file"),
        ("- a\n- b\n", "expected a YAML mapping at the top level, got a list"),
        ("name: [unclosed\n", "not valid YAML"),
        (BASE + "topics: [a]\nregion: eu\n", "duplicate key 'region'"),
    ],
)
def test_not_a_workload(tmp_path, text, says):
    assert says in str(_bad(tmp_path, text))


def test_missing_file_is_one_line():
    with pytest.raises(BadWorkload, match="no such file"):
        load_workload("/nonexistent/w.yaml")


def test_what_if_workload_needs_only_traffic():
    wl = parse_workload("name: w\nsource: {platform: kafka-ec2}\nregion: r\ntraffic: {write_rate: 1 MiB/s}\n")
    assert wl.what_if and wl.topics == []


def test_schema_command_prints_json_schema():
    out = CliRunner().invoke(schema, [])
    assert out.exit_code == 0
    doc = json.loads(out.output)
    assert "traffic" in doc["properties"]
    assert doc == json.loads(json.dumps(workload_json_schema()))
    assert doc["additionalProperties"] is False
    assert set(doc["$defs"]["Source"]["properties"]["platform"]["enum"]) == set(PLATFORMS)


def test_template_validates_and_documents_every_default():
    wl = load_workload(ROOT / "templates" / "workload.yaml")
    assert wl.name == "payments"
    text = (ROOT / "templates" / "workload.yaml").read_text()
    for key in ("replication_factor: 3", "zone_aware_consumers: false", "private_link: true",
                "storage_headroom: 0.4", "local_retention: 24h", "broker_utilization: 0.5", "month_hours: 730",
                "growth_per_year: 0.3", "broker_replacement: 4", "partition_reassignment: 12", "zone_failover: 1",
                "per_year: 6", "hours_of_data: 24", "dual_run_months: 2", "tool: mirrormaker2",
                "hourly_rate: 120"):  # fmt: skip
        assert key in text, key
    for platform in PLATFORMS:
        assert platform in text


DEMO = demo_workloads()


@pytest.mark.parametrize("path", DEMO, ids=[p.stem for p in DEMO])
def test_demo_workloads_validate(path):
    wl = load_workload(path)
    assert wl.name == path.stem


def test_demo_workloads_cover_the_shapes():
    assert len(DEMO) >= 4
    assert any(load_workload(p).what_if for p in DEMO)


def test_duplicate_candidate_check_is_linear():
    """Issue 19 item 11: 200k candidates were a quadratic check (past 100 s); now one pass."""
    import time

    doc = {"name": "w", "source": {"platform": "msk-standard"}, "region": "us-east-1",
           "traffic": {"write_rate": 1}, "candidates": ["kafka-ec2"] * 200_000}  # fmt: skip
    started = time.process_time()
    with pytest.raises(BadWorkload, match="candidates: lists kafka-ec2 more than once"):
        parse_workload(doc)
    assert time.process_time() - started < 30  # generous: the quadratic check took > 100 s


def test_yaml_billion_laughs_is_refused_quickly(tmp_path):
    """Issue 19 item 10: nested aliases (582 bytes → 36 s, 3.1 GB before) are one line, at once."""
    import time

    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    p = tmp_path / "laughs.yaml"
    p.write_text("name: w\n" + "\n".join(levels) + "\n")
    started = time.process_time()
    exc = _bad(tmp_path, p.read_text())
    assert time.process_time() - started < 5
    assert "aliases expand to more than 100,000 values" in str(exc)


def test_yaml_deep_nesting_is_one_line(tmp_path):
    exc = _bad(tmp_path, "name: w\ntraffic: " + "[" * 5000 + "]" * 5000 + "\n")
    assert "nested too deeply" in str(exc)
    exc = _bad(tmp_path, "name: w\ntraffic: " + "[" * 100 + "]" * 100 + "\n")
    assert "expected at most 64 levels" in str(exc)
