"""WarpStream's graduated monthly bands for uncompressed GiB written and stored (issue 15 follow-up).

Bands (API-Evangelist transcription of https://www.warpstream.com/pricing, [S/U]); 1 TiB = 1,024 GiB:
  written per month   first 50 TiB (to 51,200 GiB) $0.01; next 250 TiB (to 307,200) $0.0075;
                      next 1,250 (to 1,587,200) $0.0055; next 6,250 (to 7,987,200) $0.004; above $0.003
  stored (GiB-months) first 50 TiB (to 51,200) $0.01; next 250 (to 307,200) $0.0085;
                      next 500 (to 819,200) $0.0075; next 1,000 (to 1,843,200) $0.006; above $0.004
Dev lists band 1 only, Fundamentals bands 1-2 (its band-2 rate applies above 300 TiB too [I]),
Pro all five. Every figure below is worked by hand; S = month_hours × 3,600 s.
"""

from __future__ import annotations

import pytest

from exitkit.cost import CostAssumptions, CostInputs, CostMigration, CostTraffic, evaluate, get_platform
from exitkit.prices import load_catalog

MIB = 2**20
DAY = 86_400
CATALOG = load_catalog()

WRITE = "Uncompressed data written"
STORED = "Uncompressed data stored"


def inputs(write_mib: float, retention_days: float = 1, **assumptions) -> CostInputs:
    return CostInputs(
        CostTraffic(
            write_bytes_per_s=write_mib * MIB,
            write_peak_bytes_per_s=2 * write_mib * MIB,
            fan_out=1,
            retention_s=retention_days * DAY,
            partitions=30,
        ),
        assumptions=CostAssumptions(**assumptions),
    )


def fee_lines(x: CostInputs, catalog=CATALOG, prefix: str = WRITE) -> list:
    """The banded lines of one fee, in band order."""
    return [ln for ln in get_platform("warpstream-byoc").model(x, catalog).lines if ln.item.startswith(prefix)]


def table(lines) -> list[tuple[str, float, float, str]]:
    return [(ln.item, ln.quantity, ln.unit_price, ln.price_key) for ln in lines]


def check(lines, expected: list[tuple[str, float, float, str]], total: float) -> None:
    """expected: (item, quantity, unit price, price key) per band; every dollar = quantity × price."""
    assert [ln.item for ln in lines] == [e[0] for e in expected]
    for ln, (item, qty, price, key) in zip(lines, expected, strict=True):
        assert ln.quantity == pytest.approx(qty, rel=1e-12), item
        assert ln.unit_price == pytest.approx(price, rel=1e-12), item
        assert ln.price_key == key and ln.payee == "vendor", item
        assert ln.monthly_usd == pytest.approx(qty * price, rel=1e-12), item
    assert sum(ln.monthly_usd for ln in lines) == pytest.approx(total, rel=1e-12)


def test_pro_writing_about_100_tib_a_month_pays_two_bands():
    """40 MiB/s × 2,628,000 s (730 h) / 1,024 = 102,656.25 GiB written (100.25 TiB):
    51,200 × $0.01 = $512 + 51,456.25 × $0.0075 = $385.921875 → $897.921875 (one rate: $1,026.5625).
    Stored: 40 MiB/s × 1 d / 1,024 = 3,375 GiB-months, inside band 1: $33.75."""
    x = inputs(40, warpstream_tier="pro")
    check(
        fee_lines(x),
        [
            (f"{WRITE} (first 50 TiB/month)", 51_200, 0.01, "warpstream.write_per_gib"),
            (f"{WRITE} (50–300 TiB/month)", 51_456.25, 0.0075, "warpstream.write_per_gib.t2"),
        ],
        897.921875,
    )
    check(
        fee_lines(x, prefix=STORED), [(f"{STORED} (first 50 TiB)", 3_375, 0.01, "warpstream.storage_gib_month")], 33.75
    )
    # the bands apply to uncompressed GiB: 10 MiB/s compressed 4:1 is the same 102,656.25 GiB
    assert table(fee_lines(inputs(10, warpstream_tier="pro", compression_ratio=4))) == table(fee_lines(x))


def test_bands_are_per_month_of_the_workloads_month_hours():
    """A 744 h month (31 days): 40 MiB/s × 2,678,400 s / 1,024 = 104,625 GiB written;
    $512 + (104,625 − 51,200 = 53,425) × $0.0075 = $400.6875 → $912.6875. Storage is retained
    GiB, not a monthly flow: still 3,375 GiB-months."""
    x = inputs(40, warpstream_tier="pro", month_hours=744)
    check(
        fee_lines(x),
        [
            (f"{WRITE} (first 50 TiB/month)", 51_200, 0.01, "warpstream.write_per_gib"),
            (f"{WRITE} (50–300 TiB/month)", 53_425, 0.0075, "warpstream.write_per_gib.t2"),
        ],
        912.6875,
    )
    assert [ln.quantity for ln in fee_lines(x, prefix=STORED)] == [3_375]


# 32 MiB/s compressed 100:1 (the bound), retained 30 d: every band of Pro is reached.
# written: 32 × 2,628,000 / 1,024 × 100 = 8,212,500 GiB; stored: 32 × 2,592,000 / 1,024 × 100 = 8,100,000
BIG = {"write_mib": 32, "retention_days": 30, "compression_ratio": 100}
PRO_WRITE = [
    (f"{WRITE} (first 50 TiB/month)", 51_200, 0.01, "warpstream.write_per_gib"),  # $512
    (f"{WRITE} (50–300 TiB/month)", 256_000, 0.0075, "warpstream.write_per_gib.t2"),  # $1,920
    (f"{WRITE} (300–1,550 TiB/month)", 1_280_000, 0.0055, "warpstream.write_per_gib.t3"),  # $7,040
    (f"{WRITE} (1,550–7,800 TiB/month)", 6_400_000, 0.004, "warpstream.write_per_gib.t4"),  # $25,600
    (
        f"{WRITE} (above 7,800 TiB/month)",
        225_300,
        0.003,
        "warpstream.write_per_gib.t5",
    ),  # 8,212,500 − 7,987,200; $675.90
]
PRO_WRITE_USD = 512 + 1_920 + 7_040 + 25_600 + 675.9  # 35,747.90 (one rate: $82,125)
PRO_STORED = [
    (f"{STORED} (first 50 TiB)", 51_200, 0.01, "warpstream.storage_gib_month"),  # $512
    (f"{STORED} (50–300 TiB)", 256_000, 0.0085, "warpstream.storage_gib_month.t2"),  # $2,176
    (f"{STORED} (300–800 TiB)", 512_000, 0.0075, "warpstream.storage_gib_month.t3"),  # $3,840
    (f"{STORED} (800–1,800 TiB)", 1_024_000, 0.006, "warpstream.storage_gib_month.t4"),  # $6,144
    (
        f"{STORED} (above 1,800 TiB)",
        6_256_800,
        0.004,
        "warpstream.storage_gib_month.t5",
    ),  # 8,100,000 − 1,843,200; $25,027.20
]
PRO_STORED_USD = 512 + 2_176 + 3_840 + 6_144 + 25_027.2  # 37,699.20 (one rate: $81,000)


def test_pro_reaches_all_five_bands():
    x = inputs(warpstream_tier="pro", **BIG)
    check(fee_lines(x), PRO_WRITE, PRO_WRITE_USD)
    check(fee_lines(x, prefix=STORED), PRO_STORED, PRO_STORED_USD)
    assert all("[I]" not in ln.note for ln in fee_lines(x))  # Pro's schedule is published to the top


def test_fundamentals_applies_its_last_listed_rate_above_300_tib():
    """Fundamentals lists 50 TiB at $0.01 and the next 250 TiB, nothing above: band 2 is open.
    written: $512 + (8,212,500 − 51,200 = 8,161,300) × $0.0075 = $61,209.75 → $61,721.75;
    stored: $512 + (8,100,000 − 51,200 = 8,048,800) × $0.0085 = $68,414.80 → $68,926.80."""
    x = inputs(warpstream_tier="fundamentals", **BIG)
    w = fee_lines(x)
    check(
        w,
        [
            (f"{WRITE} (first 50 TiB/month)", 51_200, 0.01, "warpstream.write_per_gib"),
            (f"{WRITE} (above 50 TiB/month)", 8_161_300, 0.0075, "warpstream.write_per_gib.t2"),
        ],
        61_721.75,
    )
    s = fee_lines(x, prefix=STORED)
    check(
        s,
        [
            (f"{STORED} (first 50 TiB)", 51_200, 0.01, "warpstream.storage_gib_month"),
            (f"{STORED} (above 50 TiB)", 8_048_800, 0.0085, "warpstream.storage_gib_month.t2"),
        ],
        68_926.8,
    )
    for ln in (w[1], s[1]):  # the inference is said on the line
        assert "up to 300 TiB and nothing above" in ln.note and "[I]" in ln.note
    # below 300 TiB the open band is what WarpStream lists: no inference to flag
    assert "[I]" not in fee_lines(inputs(40, warpstream_tier="fundamentals"))[1].note


def test_dev_stays_on_the_first_band_rate():
    """Dev lists only the first-50-TiB rate: one line per fee at $0.01 for every GiB,
    8,212,500 × $0.01 = $82,125 written, 8,100,000 × $0.01 = $81,000 stored."""
    x = inputs(warpstream_tier="dev", **BIG)
    w, s = fee_lines(x), fee_lines(x, prefix=STORED)
    check(w, [(WRITE, 8_212_500, 0.01, "warpstream.write_per_gib")], 82_125)
    check(s, [(STORED, 8_100_000, 0.01, "warpstream.storage_gib_month")], 81_000)
    assert "dev lists this rate up to 50 TiB and nothing above" in w[0].note
    # under 50 TiB nothing is inferred
    small = fee_lines(inputs(5, warpstream_tier="dev"))
    assert table(small) == [(WRITE, pytest.approx(5 * 2_628_000 / 1024), 0.01, "warpstream.write_per_gib")]
    assert "[I]" not in small[0].note


def test_vendor_discount_applies_to_every_band():
    """discount.vendor 20 %: each band's unit price × 0.8, so each fee × 0.8:
    written $35,747.90 × 0.8 = $28,598.32; stored $37,699.20 × 0.8 = $30,159.36."""
    cat = CATALOG.with_overrides({"discount.vendor": 0.2}, where="test")
    x = inputs(warpstream_tier="pro", **BIG)
    w, s = fee_lines(x, cat), fee_lines(x, cat, STORED)
    check(w, [(i, q, p * 0.8, k) for i, q, p, k in PRO_WRITE], 28_598.32)
    check(s, [(i, q, p * 0.8, k) for i, q, p, k in PRO_STORED], 30_159.36)
    assert all("less 20% negotiated vendor discount" in ln.source for ln in w + s)
    # the cluster fee is a vendor line too; AWS lines are not discounted
    lines = {ln.item: ln for ln in get_platform("warpstream-byoc").model(x, cat).lines}
    assert lines["WarpStream cluster fee (pro)"].unit_price == pytest.approx(0.52083 * 0.8)
    assert lines["S3 storage"].unit_price == 0.023


def test_override_of_the_bare_key_prices_band_one_only():
    """`prices: {warpstream.write_per_gib: 0.008}` (a quote) moves band 1 only:
    51,200 × $0.008 = $409.60 + $385.921875 → $795.521875. The key stays the platform's ingress
    key, so the initial copy into WarpStream is priced at it too."""
    cat = CATALOG.with_overrides({"warpstream.write_per_gib": 0.008}, where="test")
    x = inputs(40, warpstream_tier="pro")
    w = fee_lines(x, cat)
    check(
        w,
        [
            (f"{WRITE} (first 50 TiB/month)", 51_200, 0.008, "warpstream.write_per_gib"),
            (f"{WRITE} (50–300 TiB/month)", 51_456.25, 0.0075, "warpstream.write_per_gib.t2"),
        ],
        795.521875,
    )
    assert w[0].source.startswith("workload override") and not w[1].source.startswith("workload override")
    assert get_platform("warpstream-byoc").ingress_key == "warpstream.write_per_gib"
    mx = inputs(40, warpstream_tier="pro", migration=CostMigration(1, "mirrormaker2")).scaled(
        source_platform="msk-standard"
    )
    res = evaluate(mx, cat, ["warpstream-byoc"])
    copy = next(ln for ln in res.platform("warpstream-byoc").lines if ln.item.startswith("Target ingress"))
    assert (copy.quantity, copy.unit_price, copy.price_key) == (3_375, 0.008, "warpstream.write_per_gib")


def test_band_sizes_are_catalog_limits_and_can_be_overridden():
    """`warpstream.write_tier_tib.t1: 100` widens band 1 to 102,400 GiB; band 2 keeps its 250 TiB:
    102,400 × $0.01 = $1,024 + 256.25 × $0.0075 = $1.921875 → $1,025.921875."""
    assert [CATALOG.get(f"warpstream.write_tier_tib.t{k}").kind for k in range(1, 5)] == ["limit"] * 4
    assert [CATALOG.value(f"warpstream.write_tier_tib.t{k}") for k in range(1, 5)] == [50, 250, 1_250, 6_250]
    assert [CATALOG.value(f"warpstream.storage_tier_tib.t{k}") for k in range(1, 5)] == [50, 250, 500, 1_000]
    cat = CATALOG.with_overrides({"warpstream.write_tier_tib.t1": 100}, where="test")
    check(
        fee_lines(inputs(40, warpstream_tier="pro"), cat),
        [
            (f"{WRITE} (first 100 TiB/month)", 102_400, 0.01, "warpstream.write_per_gib"),
            (f"{WRITE} (100–350 TiB/month)", 256.25, 0.0075, "warpstream.write_per_gib.t2"),
        ],
        1_025.921875,
    )


def test_every_band_price_is_a_sourced_catalog_entry():
    for base in ("warpstream.write_per_gib", "warpstream.storage_gib_month"):
        for key in [base] + [f"{base}.t{k}" for k in range(2, 6)]:
            p = CATALOG.get(key)
            assert p.kind == "price" and p.note.startswith("[S/U]"), key
            assert "github.com/api-evangelist/warpstream@a15b7c86fff7da0ae6f29ceb14035beb8002935f" in p.source
            assert "plans/warpstream-plans-pricing.yml" in p.source
