"""Price catalog: packaged YAML loads, bad entries and bad overrides fail with one clear line."""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path

import pytest

from exitkit.errors import BadPrice
from exitkit.prices import PAYEES, PRICES_DIR, Catalog, catalog_frame, load_catalog


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_every_packaged_entry_has_source_and_date(catalog):
    assert {p.stem for p in PRICES_DIR.glob("*.yaml")} >= {"aws", "msk", "confluent", "automq", "warpstream"}
    for p in catalog.prices.values():
        assert p.source and p.as_of and p.unit and p.region
        assert math.isfinite(p.value) and p.value >= 0


def test_get_and_known_values(catalog):
    # aws.cross_az_per_gib (docs/price-sources.md): $0.01 out + $0.01 in per crossing byte
    assert catalog.get("aws.cross_az_per_gib").value == 0.02
    assert catalog.get("msk.standard.hourly.kafka.m7g.large").value == 0.204
    assert catalog.get("msk.replication_per_gib").value == 0.0
    with pytest.raises(BadPrice, match="no key 'nope'"):
        catalog.get("nope")


def test_variants_enumerate_instance_tables(catalog):
    assert catalog.variants("msk.express.hourly.")[0] == "express.m7g.large"
    assert "m7g.xlarge" in catalog.variants("aws.ec2.hourly.")


def test_override_replaces_value_and_marks_source(catalog):
    c = catalog.with_overrides({"aws.cross_az_per_gib": 0.03})
    assert c.value("aws.cross_az_per_gib") == 0.03
    assert c.get("aws.cross_az_per_gib").source.startswith("workload override")
    assert catalog.value("aws.cross_az_per_gib") == 0.02  # original untouched


def test_discount_per_payee(catalog):
    c = catalog.with_overrides({"discount.vendor": 0.2})
    # 2.25 × (1 − 0.2) = 1.80
    assert c.unit_price("confluent.enterprise.ecku_hour", "vendor") == pytest.approx(1.80)
    assert c.unit_price("aws.cross_az_per_gib", "cloud") == 0.02
    assert "less 20% negotiated vendor discount" in c.source("confluent.enterprise.ecku_hour", "vendor")
    assert set(PAYEES) == {"cloud", "vendor", "internal"}


@pytest.mark.parametrize(
    "overrides, match",
    [
        ({"aws.cross_az_per_gib": -0.01}, "aws.cross_az_per_gib: a price cannot be negative"),
        ({"aws.cross_az_per_gib": float("nan")}, "aws.cross_az_per_gib: expected a finite number"),
        ({"aws.cross_az_per_gib": float("inf")}, "aws.cross_az_per_gib: expected a finite number"),
        ({"aws.cross_az_per_gib": "cheap"}, "expected a number"),
        ({"aws.no_such_price": 1.0}, "unknown price key 'aws.no_such_price'"),
        ({"discount.vendor": 1.0}, r"discount is a share in \[0, 1\)"),
        ({"discount.partner": 0.1}, "unknown payee 'partner'"),
    ],
)
def test_bad_overrides_raise_bad_price(catalog, overrides, match):
    with pytest.raises(BadPrice, match=match) as info:
        catalog.with_overrides(overrides)
    assert "\n" not in str(info.value)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


GOOD = """provider: t
prices:
- {key: t.a, value: 1.5, unit: USD/h, region: us-east-1, source: doc, as_of: 2026-01-01}
"""


def test_bad_entry_names_file_and_key(tmp_path):
    p = _write(tmp_path, "t.yaml", GOOD.replace("value: 1.5", "value: -1"))
    with pytest.raises(BadPrice, match=r"t\.yaml: t\.a: .*value must be a finite number >= 0"):
        load_catalog([p])
    p = _write(tmp_path, "u.yaml", GOOD.replace("source: doc, ", ""))
    with pytest.raises(BadPrice, match=r"u\.yaml: t\.a: source"):
        load_catalog([p])
    p = _write(tmp_path, "v.yaml", GOOD.replace("as_of: 2026-01-01", "as_of: soon"))
    with pytest.raises(BadPrice, match=r"v\.yaml: t\.a: as_of"):
        load_catalog([p])
    p = _write(tmp_path, "w.yaml", GOOD.replace("as_of: 2026-01-01", "as_of: 2026-01-01, colour: red"))
    with pytest.raises(BadPrice, match=r"w\.yaml: t\.a: colour"):
        load_catalog([p])


def test_duplicate_key_across_files(tmp_path):
    a = _write(tmp_path, "a.yaml", GOOD)
    b = _write(tmp_path, "b.yaml", GOOD)
    with pytest.raises(BadPrice, match=r"b\.yaml: t\.a: key already defined in .*a\.yaml"):
        load_catalog([a, b])


def test_catalog_frame_columns(catalog):
    df = catalog_frame(catalog.with_overrides({"aws.s3.put_per_1k": 0.004}))
    assert list(df.columns) == [
        "key",
        "value",
        "unit",
        "kind",
        "region",
        "source",
        "as_of",
        "note",
        "provider",
        "overridden",
    ]
    assert len(df) == len(catalog)
    row = df[df.key == "aws.s3.put_per_1k"].iloc[0]
    assert row.value == 0.004 and bool(row.overridden)
    only = catalog_frame(catalog, ["aws.s3.get_per_1k", "nope"])
    assert list(only.key) == ["aws.s3.get_per_1k"]


ROOT = Path(__file__).resolve().parents[1]

# Internal research notes that ship with no copy of exitkit: a source must never point at them.
_NOTES_FILE = re.compile(r"\b(pricing|migration|export-formats|billing-exports|live-cluster|notebook-ecosystem)\.md\b")
# A public reference: a URL, or a host name (docs.<vendor>.com/..., github.com/<owner>/<repo> ...).
_PUBLIC_REF = re.compile(r"https://\S+|\b[a-z0-9-]+(\.[a-z0-9-]+)*\.(com|io|org|net|dev)\b", re.IGNORECASE)
_ASSUMPTION = "exitkit assumption"


def test_sources_are_public_references_not_internal_notes(catalog):
    """Finance reads `source` under "Prices used": it must be a URL or a named public document with
    its location, or say plainly that the figure is exitkit's own assumption. No packaged YAML
    (price catalog, plan catalogs) may cite the internal notes files; docs/price-sources.md
    must list the catalog as it is."""
    package = PRICES_DIR.parent
    yaml_files = sorted(package.rglob("*.yaml"))
    assert {f.parent.name for f in yaml_files} >= {"prices", "plan"}
    for f in yaml_files:
        for n, line in enumerate(f.read_text().splitlines(), 1):
            assert not _NOTES_FILE.search(line), f"{f.relative_to(package)}:{n}: {line.strip()}"
    for p in catalog.prices.values():
        assert not _NOTES_FILE.search(p.source) and not _NOTES_FILE.search(p.note or ""), p.key
        assert p.source.startswith(_ASSUMPTION) or _PUBLIC_REF.search(p.source), (p.key, p.source)
    # The generated table of sources is in step with the catalog.
    spec = importlib.util.spec_from_file_location("price_sources", ROOT / "tools" / "price_sources.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    table = module.render(catalog)
    assert all(f"| `{key}` |" in table for key in catalog.prices)
    assert (ROOT / "docs" / "price-sources.md").read_text() == table, (
        "docs/price-sources.md is stale: run tools/price_sources.py"
    )
