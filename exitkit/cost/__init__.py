"""Cost by byte path: platform models × price catalog → cost lines (see docs/cost-model.md).

from exitkit.cost import CostInputs, CostTraffic, evaluate
from exitkit.prices import load_catalog
result = evaluate(CostInputs(CostTraffic(write_bytes_per_s=25 * 2**20, fan_out=3)), load_catalog())
result.to_json()
"""

from exitkit.cost import confluent, diskless, managed_plan, msk, selfmanaged  # noqa: F401  (register models)
from exitkit.cost.analysis import ScenarioGrid, project, scenario_grid, tornado
from exitkit.cost.cash_flow import CashFlow, cash_flows, projection_rows
from exitkit.cost.common import Sizing
from exitkit.cost.evaluate import CostResult, PlatformCost, evaluate
from exitkit.cost.inputs import (
    DEFAULT_DISCOUNT_RATE,
    DEFAULT_LABOR_HOURS,
    HOURS_PER_FTE_MONTH,
    MIGRATION_TOOLS,
    CostAssumptions,
    CostConsumerReplay,
    CostInputs,
    CostLabor,
    CostMigration,
    CostRecovery,
    CostTraffic,
)
from exitkit.cost.lines import PATHS, PAYEES, STATES, CostLine
from exitkit.cost.registry import PLATFORMS, Estimate, Platform, get_platform, platform_ids, register

__all__ = [
    "DEFAULT_DISCOUNT_RATE",
    "DEFAULT_LABOR_HOURS",
    "HOURS_PER_FTE_MONTH",
    "MIGRATION_TOOLS",
    "PATHS",
    "PAYEES",
    "PLATFORMS",
    "STATES",
    "CashFlow",
    "CostAssumptions",
    "CostConsumerReplay",
    "CostInputs",
    "CostLine",
    "CostResult",
    "Estimate",
    "CostLabor",
    "CostMigration",
    "Platform",
    "PlatformCost",
    "CostRecovery",
    "ScenarioGrid",
    "Sizing",
    "CostTraffic",
    "cash_flows",
    "evaluate",
    "get_platform",
    "platform_ids",
    "project",
    "projection_rows",
    "register",
    "scenario_grid",
    "tornado",
]
