"""The one table of platforms, migration tools, byte paths, states and payees (`platforms.yaml`).

Every other module reads its vocabulary from here: the workload schema (which ids a workload may
name), the cost registry (a model must be registered under an id in this table), the plan
catalogs (which must cover every id), the notebook widgets and the reports. Adding a platform is
one row in `platforms.yaml` and one cost model module; `register_platform` does the same at run
time (tests, plug-ins).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

import yaml


@dataclass(frozen=True)
class PlatformInfo:
    """A platform exitkit knows: its id, display name, who is paid for it and default labour."""

    id: str
    name: str
    payee: str
    labor_hours_per_month: float


@dataclass(frozen=True)
class MigrationTool:
    """A replication tool a migration can use; `targets` None means any Kafka-compatible platform."""

    id: str
    name: str
    targets: tuple[str, ...] | None
    costed: bool
    offset_preserving: bool
    source: str

    def can_write_to(self, platform: str) -> bool:
        return self.targets is None or platform in self.targets


def _load() -> dict:
    return yaml.safe_load(files("exitkit").joinpath("platforms.yaml").read_text(encoding="utf-8"))


_DATA = _load()

PATH_NAMES: dict[str, str] = {p["id"]: p["name"] for p in _DATA["paths"]}
STATE_NAMES: dict[str, str] = {s["id"]: s["name"] for s in _DATA["states"]}
PAYEE_NAMES: dict[str, str] = {p["id"]: p["name"] for p in _DATA["payees"]}
PATHS: tuple[str, ...] = tuple(PATH_NAMES)
STATES: tuple[str, ...] = tuple(STATE_NAMES)
PAYEES: tuple[str, ...] = tuple(PAYEE_NAMES)

# Mutable on purpose: `register_platform` adds to it, and the tuples below are views kept in step.
TABLE: dict[str, PlatformInfo] = {
    p["id"]: PlatformInfo(p["id"], p["name"], p["payee"], float(p["labor_hours_per_month"])) for p in _DATA["platforms"]
}
TOOLS: dict[str, MigrationTool] = {
    t["id"]: MigrationTool(
        t["id"], t["name"], tuple(t["targets"]) if t["targets"] is not None else None,
        bool(t["costed"]), bool(t["offset_preserving"]), t["source"],
    )
    for t in _DATA["migration_tools"]
}  # fmt: skip
MIGRATION_TOOLS: tuple[str, ...] = tuple(TOOLS)
SHIPPED: frozenset[str] = frozenset(TABLE)  # the ids of platforms.yaml, before any run-time registration
COSTED_TOOLS: tuple[str, ...] = tuple(t.id for t in TOOLS.values() if t.costed)


def platform_ids() -> tuple[str, ...]:
    """Every platform id, in table order (registered ones last)."""
    return tuple(TABLE)


def info(platform_id: str) -> PlatformInfo:
    """The table row of `platform_id`; ValueError naming the known ids otherwise."""
    try:
        return TABLE[platform_id]
    except KeyError:
        raise ValueError(f"unknown platform {platform_id!r}; known: {', '.join(TABLE)}") from None


def display_name(platform_id: str) -> str:
    """The human name of a platform id (the id itself when unknown)."""
    row = TABLE.get(platform_id)
    return row.name if row else platform_id


def default_labor_hours() -> dict[str, float]:
    """Operating hours per month by platform when a workload names none (an exitkit assumption)."""
    return {pid: row.labor_hours_per_month for pid, row in TABLE.items()}


def register_platform(row: PlatformInfo) -> PlatformInfo:
    """Add a platform to the table at run time (then register its cost model under the same id)."""
    if row.id in TABLE:
        raise ValueError(f"platform {row.id!r} is already in the table")
    if row.payee not in PAYEES:
        raise ValueError(f"platform {row.id!r}: payee {row.payee!r}; expected one of {', '.join(PAYEES)}")
    TABLE[row.id] = row
    return row


def unregister_platform(platform_id: str) -> None:
    """Remove a platform added by `register_platform` (tests)."""
    TABLE.pop(platform_id, None)
