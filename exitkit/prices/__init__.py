"""The price catalog: YAML data files in this folder, loaded into a `Catalog` looked up by key.

Each `<provider>.yaml` holds `provider` and a list of `prices`; every entry has `key, value, unit,
region, source, as_of` and optionally `kind` (price | limit | factor) and `note`. Billing GB is
GiB (2^30 bytes) unless the unit says otherwise. `limit` and `factor` entries are the capacities
and sizing factors the platform models use: data too, so they carry a source and can be
overridden like any price.

Workloads change the catalog with one flat map (`prices:` in the workload file):
- `{key: value}` replaces a catalog value (the entry's source then says "workload override");
- `{discount.<payee>: share}` (payee ∈ cloud | vendor | internal) is a negotiated discount:
  `{discount.vendor: 0.2}` takes 20% off every line paid to the vendor. Discounts live in the
  catalog, not in the models, and are applied where a line's unit price is looked up, so every
  line still shows the unit price actually paid and its source says which discount applied.

Regions: the catalog files hold one value per key (the entry's `region`, mostly us-east-1). The
regional table `regional/regions.yaml` (outside the `*.yaml` glob) holds AWS's list price of a key in
other regions, each with its source. `load_catalog(region=R)` replaces each key that has an R value
with it (value, source, date and `region`); a key without one keeps its catalog value and region, so
the cost warnings can name it as `(key, catalog region)`. An entry whose `region` is `global` is the
same everywhere (e.g. a "no charge" rule) and never needs a regional value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import pandas as pd
import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from exitkit import platforms
from exitkit.errors import BadPrice

if TYPE_CHECKING:  # pandas only for rendering, never in the cost hot path
    import pandas as pd

PRICES_DIR = Path(__file__).parent
REGIONAL_FILE = PRICES_DIR / "regional" / "regions.yaml"
GLOBAL_REGION = "global"  # an entry's region when the price is the same in every region
REGION_PATTERN = r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]+$"  # an AWS region code such as eu-west-1
PAYEES = platforms.PAYEES
DISCOUNT_PREFIX = "discount."
UNPRICED = "UNPRICED"  # marker in a note: value 0 until the workload overrides it

__all__ = [
    "PAYEES",
    "Catalog",
    "Price",
    "RegionalPrices",
    "catalog_frame",
    "load_catalog",
    "load_regional",
]


def _finite_non_negative(v: float) -> float:
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"value must be a finite number >= 0, got {v!r}")
    return v


FiniteNonNegative = Annotated[float, AfterValidator(_finite_non_negative)]
PriceKey = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")]


class Price(BaseModel):
    """One catalog entry: a unit price (or a capacity/factor) with where it came from and when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: PriceKey
    value: FiniteNonNegative
    unit: str = Field(min_length=1)
    region: str = Field(min_length=1)
    source: str = Field(min_length=1)
    as_of: date
    kind: Literal["price", "limit", "factor"] = "price"
    note: str | None = None
    provider: str = ""  # file stem; filled by the loader

    @property
    def unpriced(self) -> bool:
        """True for placeholders whose real rate was not found (value 0 until overridden)."""
        return bool(self.note and self.note.startswith(UNPRICED))

    def applies_to(self, region: str) -> bool:
        """True when this entry is the list price for `region` (its own region, or `global`)."""
        return self.region in (region, GLOBAL_REGION)


class _PriceFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider: str
    prices: list[dict]


@dataclass(frozen=True)
class Catalog:
    """Prices by key plus negotiated discounts by payee. Immutable: overrides return a new catalog."""

    prices: Mapping[str, Price]
    discounts: Mapping[str, float] = field(default_factory=dict)
    overridden: frozenset[str] = frozenset()
    region: str | None = None  # the region asked of load_catalog (None: catalog values as filed)
    notes: tuple[str, ...] = ()  # what a reader must know about the catalog (e.g. an unknown region)
    # memo of derived lookups (unit price, source text, variants): the catalog never changes
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def get(self, key: str) -> Price:
        """The entry for `key`; BadPrice if the catalog has no such key."""
        try:
            return self.prices[key]
        except KeyError:
            raise BadPrice(f"price catalog has no key {key!r}; run `exitkit prices` for the list") from None

    def value(self, key: str) -> float:
        """The raw value of `key` (no discount): use for limits and factors."""
        return self.get(key).value

    def unit_price(self, key: str, payee: str) -> float:
        """What one unit costs on a line paid to `payee`: list value less that payee's discount."""
        memo = ("unit_price", key, payee)
        if memo not in self._memo:
            self._memo[memo] = self.get(key).value * (1.0 - self.discounts.get(payee, 0.0))
        return self._memo[memo]

    def source(self, key: str, payee: str) -> str:
        """The source text for a line: the entry's source and date, plus any discount applied."""
        memo = ("source", key, payee)
        if memo not in self._memo:
            self._memo[memo] = self._source(key, payee)
        return self._memo[memo]

    def _source(self, key: str, payee: str) -> str:
        p = self.get(key)
        text = f"{p.source}, as of {p.as_of.isoformat()}"
        d = self.discounts.get(payee, 0.0)
        if d:
            text += f"; less {d:.0%} negotiated {payee} discount"
        return text

    def line_terms(self, key: str, payee: str) -> tuple[float, str, bool, str | None]:
        """(unit price, source, unpriced, region) of a line priced by `key` and paid to `payee`:
        one memo lookup per cost line (models build hundreds per evaluation)."""
        memo = ("line", key, payee)
        if memo not in self._memo:
            self._memo[memo] = (self.unit_price(key, payee), self.source(key, payee), self.is_unpriced(key),
                                self.get(key).region)  # fmt: skip
        return self._memo[memo]

    def is_unpriced(self, key: str) -> bool:
        """True when `key` is a placeholder price (no published rate) that no override has replaced."""
        return self.get(key).unpriced and key not in self.overridden

    def variants(self, prefix: str) -> list[str]:
        """Names after `prefix` for keys that start with it, in catalog order.

        `variants("msk.standard.hourly.")` → `["kafka.m5.large", ...]`: instance and plan tables
        are data, so models enumerate them from the catalog rather than from code.
        """
        memo = ("variants", prefix)
        if memo not in self._memo:
            n = len(prefix)
            self._memo[memo] = tuple(k[n:] for k in self.prices if k.startswith(prefix))
        return list(self._memo[memo])

    def with_overrides(self, overrides: Mapping[str, object] | None, where: str = "workload prices") -> Catalog:
        """A new catalog with `{key: value}` overrides and `{discount.<payee>: share}` applied.

        Any value `override_problem` objects to (non-numeric, non-finite, negative, out of its
        plausible range, 0 for a key the catalog prices above 0, an unknown key) raises BadPrice
        with one line naming the key; a discount must be in [0, 1).
        """
        if not overrides:
            return self
        prices = dict(self.prices)
        discounts = dict(self.discounts)
        overridden = set(self.overridden)
        for key, raw in overrides.items():
            problem = self.override_problem(key, raw)
            if problem:
                raise BadPrice(f"{where}: {key}: {problem}")
            value = float(raw)  # type: ignore[arg-type]  # checked above
            if key.startswith(DISCOUNT_PREFIX):
                discounts[key[len(DISCOUNT_PREFIX) :]] = value
                continue
            old = prices[key]
            prices[key] = old.model_copy(
                update={
                    "value": value,
                    "source": f"workload override (catalog: {old.value:g} from {old.source})",
                    "note": f"overridden in {where}",
                }
            )
            overridden.add(key)
        return replace(self, prices=prices, discounts=discounts, overridden=frozenset(overridden))

    def override_problem(self, key: str, raw: object) -> str | None:
        """What is wrong with overriding `key` by `raw` (None: nothing). The plausible ranges:
        a price below 1,000 USD per unit (a monthly plan fee, unit USD/month: below 1,000,000);
        a limit above 0 and below 10⁹; a factor above 0 and below 1,000; a discount in [0, 1)."""
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            return f"expected a number, got {raw!r}"
        value = float(raw)
        if not math.isfinite(value):
            return f"expected a finite number, got {raw!r}"
        if key.startswith(DISCOUNT_PREFIX):
            payee = key[len(DISCOUNT_PREFIX) :]
            if payee not in PAYEES:
                return f"unknown payee {payee!r}; use one of {', '.join(PAYEES)}"
            if not 0 <= value < 1:
                return f"a discount is a share in [0, 1), got {raw!r}"
            return None
        if key not in self.prices:
            return f"unknown price key {key!r}; run `exitkit prices` for the list"
        if value < 0:
            return f"a price cannot be negative, got {raw!r}"
        old = self.prices[key]
        lo, hi, what = override_range(old)
        if value == 0 and old.value > 0:
            return (
                f"0 is out of range; the catalog prices {key} at {old.value:g} {old.unit}, so an override "
                "must be > 0 (0 is accepted only for keys the catalog prices at 0)"
            )
        if value != 0 and not lo <= value < hi:
            return f"{raw!r} is out of range; expected {what}"
        return None

    def __len__(self) -> int:
        return len(self.prices)

    def for_region(self, region: str, regional: RegionalPrices) -> Catalog:
        """A new catalog with `region`'s list prices where the regional table has them.

        Keys without a value for `region` keep the catalog's (its `region` says which);
        `other_region_keys` names them. A region the table does not know at all is noted.
        """
        prices = dict(self.prices)
        notes = list(self.notes)
        table = regional.by_region.get(region)
        if table is None:
            notes.append(
                f"region {region!r} has no regional price table (known: {', '.join(regional.regions())}); "
                "every price is the catalog's, for the region each price names"
            )
            table = {}
        for key, rp in table.items():
            old = prices.get(key)
            if old is None or old.applies_to(region):
                continue  # the catalog is the source of record for its own region
            src = regional.sources[rp.ref]
            prices[key] = old.model_copy(
                update={
                    "value": rp.value,
                    "region": region,
                    "source": f"{src.source}, {rp.item}",
                    "as_of": src.as_of,
                    "note": f"[P] {region} list price (catalog {old.region}: {old.value:g})",
                }
            )
        return replace(self, prices=prices, region=region, notes=tuple(notes))

    def other_region_keys(self, keys: Iterable[str], region: str) -> list[tuple[str, str]]:
        """(key, catalog region) for each price among `keys` that is not `region`'s list price.

        Limits and factors (capacities, ratios) do not vary by region; an overridden price is the
        workload's own figure. Neither is reported.
        """
        out = []
        for k in sorted(set(keys)):
            p = self.prices.get(k)
            if p is None or p.kind != "price" or k in self.overridden or p.applies_to(region):
                continue
            out.append((k, p.region))
        return out


PRICE_MAX_USD = 1_000.0  # per unit (GiB, hour, request, ...): the catalog's largest unit price is $13/h
PLAN_MAX_USD = 1_000_000.0  # per month, for a plan fee (unit USD/month)
LIMIT_MAX = 1e9
FACTOR_MAX = 1_000.0


def override_range(price: Price) -> tuple[float, float, str]:
    """(low, high, text) of a plausible value for an override of `price` (high excluded)."""
    if price.kind == "limit":
        return 0.0, LIMIT_MAX, f"a limit above 0 and below {LIMIT_MAX:,.0f} {price.unit}"
    if price.kind == "factor":
        return 0.0, FACTOR_MAX, f"a factor above 0 and below {FACTOR_MAX:,.0f} ({price.unit})"
    if price.unit.strip().lower() == "usd/month":
        return 0.0, PLAN_MAX_USD, f"a monthly fee below {PLAN_MAX_USD:,.0f} USD/month"
    return 0.0, PRICE_MAX_USD, f"a price below {PRICE_MAX_USD:,.0f} USD per unit ({price.unit})"


def _load_file(path: Path) -> list[Price]:
    """Parse and validate one provider file; any bad entry → BadPrice naming the file and key."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise BadPrice(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    try:
        pf = _PriceFile.model_validate(doc)
    except ValidationError as exc:
        raise BadPrice(f"{path}: expected `provider` and a `prices` list: {_first_error(exc)}") from None
    out = []
    for i, entry in enumerate(pf.prices):
        key = entry.get("key", f"entry #{i + 1}") if isinstance(entry, dict) else f"entry #{i + 1}"
        try:
            out.append(Price.model_validate({**entry, "provider": pf.provider}))
        except (ValidationError, TypeError) as exc:
            msg = _first_error(exc) if isinstance(exc, ValidationError) else str(exc)
            raise BadPrice(f"{path}: {key}: {msg}") from None
    return out


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(x) for x in err["loc"])
    return f"{loc}: {err['msg']}" if loc else err["msg"]


def load_catalog(
    paths: Iterable[Path] | None = None,
    overrides: Mapping[str, object] | None = None,
    region: str | None = None,
    regional_path: Path | None = None,
) -> Catalog:
    """Load the packaged `*.yaml` price files (or `paths`), then `region`'s list prices (when given,
    from the regional table), then workload `overrides`.

    A key defined twice (in one file or across files) is a BadPrice naming both files.
    """
    files = sorted(PRICES_DIR.glob("*.yaml")) if paths is None else [Path(p) for p in paths]
    prices: dict[str, Price] = {}
    origin: dict[str, Path] = {}
    for path in files:
        for p in _load_file(path):
            if p.key in prices:
                raise BadPrice(f"{path}: {p.key}: key already defined in {origin[p.key]}")
            prices[p.key] = p
            origin[p.key] = path
    catalog = Catalog(prices=prices)
    if region is not None:
        # keys are checked against the packaged catalog; a custom catalog may hold fewer keys
        catalog = catalog.for_region(region, load_regional(regional_path, prices if paths is None else None))
    return catalog.with_overrides(overrides)


class _RegionalSource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    source: str = Field(min_length=1)
    as_of: date


class RegionalPrice(BaseModel):
    """One (key, region) list price: the value and the line of its source it was read from."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key: PriceKey
    value: FiniteNonNegative
    ref: str = Field(min_length=1)
    item: str = Field(min_length=1)


class _RegionalFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sources: dict[str, _RegionalSource]
    regions: dict[str, list[dict]]


@dataclass(frozen=True)
class RegionalPrices:
    """The regional table: sources by id and, per region code, prices by key."""

    sources: Mapping[str, _RegionalSource]
    by_region: Mapping[str, Mapping[str, RegionalPrice]]

    def regions(self) -> list[str]:
        return list(self.by_region)


def load_regional(path: Path | None = None, known_keys: Iterable[str] | None = None) -> RegionalPrices:
    """Load and validate the regional table; any bad entry → BadPrice naming file, region and key.

    Checked: a region code like eu-west-1, a key the catalog has (when `known_keys` is given), a
    finite value >= 0, a `ref` to a listed source, no key twice in a region.
    """
    path = REGIONAL_FILE if path is None else Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise BadPrice(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    try:
        rf = _RegionalFile.model_validate(doc)
    except ValidationError as exc:
        raise BadPrice(f"{path}: expected `sources` and `regions`: {_first_error(exc)}") from None
    known = None if known_keys is None else set(known_keys)
    by_region: dict[str, dict[str, RegionalPrice]] = {}
    for region, entries in rf.regions.items():
        if not re.match(REGION_PATTERN, region):
            raise BadPrice(f"{path}: {region!r} is not an AWS region code such as eu-west-1")
        table: dict[str, RegionalPrice] = {}
        for i, entry in enumerate(entries):
            key = entry.get("key", f"entry #{i + 1}") if isinstance(entry, dict) else f"entry #{i + 1}"
            try:
                rp = RegionalPrice.model_validate(entry)
            except (ValidationError, TypeError) as exc:
                msg = _first_error(exc) if isinstance(exc, ValidationError) else str(exc)
                raise BadPrice(f"{path}: {region}: {key}: {msg}") from None
            if known is not None and rp.key not in known:
                raise BadPrice(f"{path}: {region}: {rp.key}: not a key of the price catalog")
            if rp.ref not in rf.sources:
                raise BadPrice(f"{path}: {region}: {rp.key}: unknown source {rp.ref!r}; list it under `sources`")
            if rp.key in table:
                raise BadPrice(f"{path}: {region}: {rp.key}: listed twice")
            table[rp.key] = rp
        by_region[region] = table
    return RegionalPrices(sources=dict(rf.sources), by_region=by_region)


CATALOG_COLUMNS = ["key", "value", "unit", "kind", "region", "source", "as_of", "note", "provider", "overridden"]


def catalog_frame(catalog: Catalog, keys: Iterable[str] | None = None) -> pd.DataFrame:
    """The catalog (or only `keys`, e.g. those a report used) as a DataFrame, one row per entry.

    Columns: key, value, unit, kind, region, source, as_of, note, provider, overridden. This is what
    `exitkit prices` prints.
    """

    wanted = list(catalog.prices) if keys is None else [k for k in dict.fromkeys(keys) if k in catalog.prices]
    rows = []
    for k in wanted:
        p = catalog.prices[k]
        rows.append(
            {
                "key": p.key,
                "value": p.value,
                "unit": p.unit,
                "kind": p.kind,
                "region": p.region,
                "source": p.source,
                "as_of": p.as_of.isoformat(),
                "note": p.note,
                "provider": p.provider,
                "overridden": k in catalog.overridden,
            }
        )
    return pd.DataFrame(rows, columns=CATALOG_COLUMNS)
