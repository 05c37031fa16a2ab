"""Charts for architects and finance: one function per chart, each returning a plotly Figure
in the `exitkit` template. Call `pin_renderer()` once in a notebook that will be exported."""

from exitkit.charts.cost import (
    PATH_LABELS,
    PATHS,
    SCENARIO_LABELS,
    base_values,
    combined_text,
    cost_by_path,
    cumulative_cost,
    scenario_explorer,
    scenario_slider,
    scenario_text,
    tornado,
    tornado_from_scenarios,
)
from exitkit.charts.render import DEFAULT_RENDERERS, RENDERER, pin_renderer
from exitkit.charts.theme import TEMPLATE, bytes_unit, rate_unit
from exitkit.charts.topics import (
    bytes_by_topic,
    diurnal_heatmap,
    diurnal_matrix,
    fan_out_by_topic,
    retention_vs_retained,
    series_stats,
    topic_rates,
    workload_card,
)

__all__ = [
    "DEFAULT_RENDERERS", "PATH_LABELS", "PATHS", "SCENARIO_LABELS", "RENDERER", "TEMPLATE",
    "base_values", "bytes_by_topic", "combined_text", "bytes_unit", "cost_by_path", "cumulative_cost", "diurnal_heatmap", "diurnal_matrix",
    "fan_out_by_topic", "pin_renderer", "rate_unit", "retention_vs_retained", "scenario_explorer", "scenario_slider", "scenario_text",
    "series_stats", "tornado", "tornado_from_scenarios", "topic_rates", "workload_card",
]  # fmt: skip
