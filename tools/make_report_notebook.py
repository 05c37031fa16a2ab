"""Regenerate exitkit/report/workload_report.ipynb (the report notebook is generated, so it stays thin and reviewable)."""

from pathlib import Path

import nbformat as nbf

nb = nbf.v4.new_notebook()


def md(s):
    return nbf.v4.new_markdown_cell(s)


def code(s, tags=()):
    c = nbf.v4.new_code_cell(s)
    if tags:
        c.metadata["tags"] = list(tags)
    return c


cells = [
    code(
        '# Parameters (papermill injects overrides after this cell)\nworkload: str = "whatif-ingest"  # workload file (YAML), or the name of a demo workload\ndb: str = ""  # DuckDB store; "" → $EXITKIT_DB or ./exitkit.duckdb\nout_dir: str = ""  # where exitkit report writes its outputs',
        ["parameters"],
    ),
    code(
        "# Validate the parameters and evaluate the workload: fails fast with one clear line.\nfrom exitkit.charts import pin_renderer\nfrom exitkit.report import context as rv\n\npin_renderer()\nctx = rv.load_context(workload, db)",
        ["remove-cell"],
    ),
    code("rv.summary_cards(ctx)"),
    md(
        "## About this report\n\nThis report compares today's Kafka platform with each candidate for one workload, **by byte path**: every dollar is a quantity times a unit price, and every unit price names its source and date (see *Prices used* and *Every cost line*). The decision above is the plan's: a candidate is recommended only when its readiness gates allow it, never because it is the cheapest."
    ),
    md(
        "## Monthly cost per platform\n\n*Steady* is normal operation; *abnormal* is broker replacement, partition reassignment, zone failover and consumer replay, amortized monthly from their yearly frequency; *one-time migration* is the dual-run period plus the replication tool. A platform marked *lower bound* has a price the catalog does not know yet."
    ),
    code("rv.totals_table(ctx)"),
    md(
        "## Today: bill vs model\n\nWhere an ingested bill covers the workload's clusters, today's cost is the bill's actual (effective) cost allocated to the workload by its share of each cluster's traffic and storage, beside the model's estimate for the same byte paths."
    ),
    code("from exitkit.report.bill_section import bill_section\n\nbill_section(ctx.cost)"),
    md("## Cost by byte path\n\nWhere the money goes for each platform, steady and abnormal side by side."),
    code("rv.cost_by_path_figure(ctx)"),
    md("What drives each platform's steady cost (largest byte paths):"),
    code("rv.cost_drivers(ctx)"),
    md("## Three-year view"),
    code("rv.cumulative_figure(ctx)"),
    code("rv.projection_table(ctx)"),
    md(
        "## Scenarios\n\nMove a slider to see the monthly totals under a different write rate, read fan-out, retention or share of zone-aware consumers. Each slider moves one assumption with the others at this workload's values. The scenarios are precomputed: the sliders work in this file, offline, with no code running."
    ),
    code("rv.scenarios_figure(ctx)"),
    md(
        "## Traffic\n\nMeasured from the broker metrics exports unless marked *assumed* (set in the workload file) or *default*."
    ),
    code("rv.traffic_summary(ctx)"),
    md(
        "## Contract worksheet\n\nWhat the applications rely on, with the evidence for each item. Missing evidence is shown as missing, never assumed."
    ),
    code('rv.plan_section(ctx, "contract")'),
    md(
        "## Option fit\n\nHow each candidate answers what the applications use: conflicts between observed evidence and each platform's capabilities."
    ),
    code('rv.plan_section(ctx, "conflicts")'),
    md("Capabilities of today's platform and each candidate, from the catalog (with sources in the plan JSON):"),
    code('rv.plan_section(ctx, "capabilities")'),
    md(
        "## Boundaries\n\nWho runs the control plane, where the data plane, logs and metrics live, and which network paths exist."
    ),
    code('rv.plan_section(ctx, "boundaries")'),
    md(
        "## Cutover\n\nThe four moments of a rehearsed cutover, and the duplicates consumers should expect when they move."
    ),
    code('rv.plan_section(ctx, "moments")'),
    md("The rollback window, and what running both platforms costs while it is open:"),
    code('rv.plan_section(ctx, "rollback_window")'),
    md("Expected duplicates per consumer group when consumers move (translation gap + consume rate × sync staleness):"),
    code('rv.plan_section(ctx, "duplicates")'),
    md("Offset validation: source committed offsets against translated target offsets, from exports:"),
    code('rv.plan_section(ctx, "offset_validation")'),
    md("## Readiness gates\n\nEach gate is *pass*, *fail* or *no evidence*. Staying is a valid outcome."),
    code('rv.plan_section(ctx, "gates")'),
    code('rv.plan_section(ctx, "recommendations")'),
    md("## Assumptions"),
    code("rv.assumptions_table(ctx)"),
    md("## Prices used"),
    code("rv.prices_used(ctx)"),
    md("## Every cost line\n\nQuantity × unit price = USD, with the catalog key and the source of the price."),
    code("rv.cost_lines_tables(ctx)"),
    code(
        "# Data files beside the HTML (costs.csv, xlsx, index summary), from this same evaluation.\n"
        "if out_dir:\n"
        "    from exitkit.report.data import write_data_files\n\n"
        "    write_data_files(ctx, out_dir)",
        ["remove-cell"],
    ),
]
nb.cells = cells
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.metadata["language_info"] = {"name": "python"}
nbf.write(nb, Path(__file__).resolve().parents[1] / "exitkit" / "report" / "workload_report.ipynb")
