"""Cost lines: quantity × unit price, with the catalog key and source the price came from."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from exitkit import platforms
from exitkit.prices import Catalog

# The vocabularies are defined once, in the platform table (exitkit/platforms.yaml).
STATES: tuple[str, ...] = platforms.STATES
PATHS: tuple[str, ...] = platforms.PATHS
PAYEES: tuple[str, ...] = platforms.PAYEES
State = str  # one of STATES
Path = str  # one of PATHS
Payee = str  # one of PAYEES


@dataclass(frozen=True)
class CostLine:
    """One billable component.

    `monthly_usd` = quantity × unit_price; for migration lines it is the one-time amount.
    Abnormal lines are amortized per month from events per year (`note` says how).
    `unpriced` marks a line whose catalog price is a placeholder (no published rate, not
    overridden): its `monthly_usd` is 0 but the real amount is unknown ("needs quote").
    """

    state: State
    path: Path
    item: str
    quantity: float
    unit: str
    unit_price: float
    monthly_usd: float
    payee: Payee
    source: str
    price_key: str | None
    note: str = ""
    unpriced: bool = False
    region: str | None = None  # the region of the catalog price used (None: not a catalog price)

    def to_dict(self) -> dict:
        """The documented line fields (docs/cost-model.md) plus `price_key`, `note` and `region`."""
        return asdict(self)


@dataclass
class Lines:
    """Collects lines for one platform; every unit price is looked up in the catalog by key."""

    catalog: Catalog
    lines: list[CostLine] = field(default_factory=list)

    def add(
        self,
        state: State,
        path: Path,
        item: str,
        quantity: float,
        unit: str,
        key: str,
        payee: Payee,
        note: str = "",
    ) -> None:
        """Add `quantity` × catalog price `key` (less `payee`'s discount); a zero quantity adds nothing."""
        if quantity <= 0:
            return
        price, source, unpriced, region = self.catalog.line_terms(key, payee)
        self.lines.append(
            CostLine(
                state=state,
                path=path,
                item=item,
                quantity=quantity,
                unit=unit,
                unit_price=price,
                monthly_usd=quantity * price,
                payee=payee,
                source=source,
                price_key=key,
                note=note,
                unpriced=unpriced,
                region=region,
            )
        )

    def add_derived(
        self,
        state: State,
        path: Path,
        item: str,
        quantity: float,
        unit: str,
        unit_price: float,
        payee: Payee,
        source: str,
        price_key: str | None = None,
        note: str = "",
    ) -> None:
        """Add a line whose unit price is not a catalog price (labour rate, another model's total)."""
        if quantity <= 0:
            return
        self.lines.append(
            CostLine(
                state, path, item, quantity, unit, unit_price, quantity * unit_price, payee, source, price_key, note
            )
        )
