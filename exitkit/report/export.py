"""Executed report notebook → one self-contained HTML file for finance (nbconvert, the kit's template).

The report notebook and the nbconvert template are package data (`exitkit/report/`), found with
`importlib.resources` as nbconvert finds its own templates, so an installed wheel renders the same.
"""

from __future__ import annotations

import copy
from importlib.resources import files
from pathlib import Path

from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor
from plotly.offline import get_plotlyjs

# A wheel installs the package as plain files, so these are real paths (papermill and nbconvert
# take file names).
NOTEBOOK = Path(str(files("exitkit.report").joinpath("workload_report.ipynb")))
TEMPLATES = Path(str(files("exitkit.report").joinpath("templates")))


def html_exporter():
    """nbconvert's HTML exporter with the kit's template: no inputs, no prompts, no parameter cells."""
    exporter = HTMLExporter(
        template_name="report",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={"parameters", "injected-parameters", "remove-cell"}, enabled=True),
        enabled=True,
    )
    return exporter


def render_html(nb, html_path: Path, title: str | None = None) -> Path:
    """Executed notebook → one self-contained HTML file (plotly.js inlined once, no network)."""
    nb = _for_finance(nb, title)
    # The kit's renderer (exitkit.charts.pin_renderer) already embeds plotly.js once in the
    # outputs; inline it in <head> only when it is not there, never twice (4.8 MB each).
    bundle = get_plotlyjs()
    marker = bundle.split("\n", 2)[1]  # "* plotly.js vX.Y.Z"
    embedded = any(marker in _html_of(o) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    body, _ = html_exporter().from_notebook_node(nb, resources={"exitkit": {"plotly_js": None if embedded else bundle}})
    html_path.write_text(body, encoding="utf-8")
    return html_path


def _html_of(output) -> str:
    html_data = output.get("data", {}).get("text/html", "")
    return "".join(html_data) if isinstance(html_data, list) else html_data


def _for_finance(nb, title: str | None):
    """Drop what finance must not see: stderr streams, widget state, code-only outputs."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    if title:
        nb.metadata["title"] = title
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                o
                for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
    return nb
