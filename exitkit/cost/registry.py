"""Platform models by id: `register` adds one, `get_platform` finds one.

A model is registered under an id of the one platform table (`exitkit.platforms`), which gives
its display name and payee; an id not in the table is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from exitkit import platforms
from exitkit.cost.common import Sizing
from exitkit.cost.inputs import CostInputs
from exitkit.cost.lines import CostLine
from exitkit.prices import Catalog


@dataclass(frozen=True)
class Estimate:
    """A model's answer: its cost lines (steady and abnormal) and how it sized itself."""

    lines: list[CostLine]
    sizing: Sizing | None = None


Model = Callable[[CostInputs, Catalog], Estimate]


@dataclass(frozen=True)
class Platform:
    """A registered platform model plus what migration lines need to know about it.

    `payee` is who is paid for the platform itself (dual-run lines); `ingress_key` /
    `egress_key` are its per-GiB write / read prices, if it has them (initial copy into it,
    replication reads out of it).
    """

    id: str
    name: str
    model: Model
    payee: str
    ingress_key: str | None = None
    egress_key: str | None = None

    def lines(self, inputs: CostInputs, catalog: Catalog) -> list[CostLine]:
        """The platform's steady and abnormal lines."""
        return self.model(inputs, catalog).lines


PLATFORMS: dict[str, Platform] = {}


def register(
    platform_id: str,
    ingress_key: str | None = None,
    egress_key: str | None = None,
) -> Callable[[Model], Model]:
    """Decorator: register `model` under `platform_id` (an id of the platform table)."""

    def deco(model: Model) -> Model:
        row = platforms.info(platform_id)  # ValueError for an id the table lacks
        if platform_id in PLATFORMS:
            raise ValueError(f"platform {platform_id!r} registered twice")
        PLATFORMS[platform_id] = Platform(platform_id, row.name, model, row.payee, ingress_key, egress_key)
        return model

    return deco


def get_platform(platform_id: str) -> Platform:
    """The platform registered as `platform_id`; ValueError listing the known ids otherwise."""
    try:
        return PLATFORMS[platform_id]
    except KeyError:
        raise ValueError(f"unknown platform {platform_id!r}; known: {', '.join(PLATFORMS)}") from None


def unregister(platform_id: str) -> None:
    """Remove a model registered at run time (tests)."""
    PLATFORMS.pop(platform_id, None)


def platform_ids() -> list[str]:
    """Registered platform ids, in registration order."""
    return list(PLATFORMS)
