"""Executed report notebook → one self-contained HTML file for finance (nbconvert, the kit's template).

The report notebook and the nbconvert template are package data (`exitkit/report/`), found with
`importlib.resources` as nbconvert finds its own templates, so an installed wheel renders the same.
"""

from __future__ import annotations

import copy
import re
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


# plotly.js's "basic" distribution (scatter, bar, pie): 1.2 MB instead of the full 4.8 MB. It is
# npm's `plotly.js-basic-dist-min` at the version the installed plotly embeds, vendored as package
# data; `make plotly-bundle` refreshes it. A report whose figures use another trace type gets the
# full bundle instead, so a chart never silently fails to draw.
BASIC_BUNDLE = Path(str(files("exitkit.report").joinpath("static/plotly-basic.min.js")))
BASIC_TRACES = frozenset({"scatter", "bar", "pie"})
PLOTLY_MIME = "application/vnd.plotly.v1+json"


def plotly_bundle(nb) -> str:
    """The smallest plotly.js that draws every figure in `nb`: the basic bundle when its version
    matches the installed plotly's and every trace is scatter, bar or pie; else the full one."""
    full = get_plotlyjs()
    if not BASIC_BUNDLE.exists():
        return full
    basic = BASIC_BUNDLE.read_text(encoding="utf-8")
    if _bundle_version(basic) != _bundle_version(full):
        return full
    types = {
        t.get("type", "scatter")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        for t in (o.get("data", {}).get(PLOTLY_MIME) or {}).get("data", [])
    }
    return basic if types <= BASIC_TRACES else full


def _bundle_version(js: str) -> str | None:
    m = re.search(r"plotly\.js[^\n]*? v(\d+\.\d+\.\d+)", js[:400])
    return m.group(1) if m else None


def is_plotly_bundle(output) -> bool:
    """An output that only carries plotly.js itself (the renderer's activation, once per kernel)."""
    html_data = _html_of(output)
    return "* plotly.js" in html_data[:2000] and len(html_data) > 500_000


def strip_plotly_bundle(nb):
    """The notebook without the outputs that carry plotly.js (JupyterLab draws figures from the
    plotly mimetype with its own copy): 4.8 MB less per executed notebook."""
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.get("outputs"):
            cell.outputs = [o for o in cell.outputs if not is_plotly_bundle(o)]
    return nb


def render_html(nb, html_path: Path, title: str | None = None) -> Path:
    """Executed notebook → one self-contained HTML file (plotly.js inlined once, no network)."""
    nb = strip_plotly_bundle(_for_finance(nb, title))
    body, _ = html_exporter().from_notebook_node(nb, resources={"exitkit": {"plotly_js": plotly_bundle(nb)}})
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
