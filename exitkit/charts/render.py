"""Pin plotly's renderer so figures survive papermill + nbconvert and open offline.

Under ipykernel plotly ≥ 6 defaults to `plotly_mimetype` alone, which nbconvert cannot
render (blank figures in the HTML). plotly's own `notebook` renderer fixes that but adds a
MathJax `<script src="https://cdnjs…">` to every figure, and `notebook_connected` loads
plotly.js from cdn.plot.ly: both break the "no network request when opened" rule.
"""

from __future__ import annotations

import plotly.io as pio
from plotly.io._base_renderers import NotebookRenderer

RENDERER = "exitkit_offline"
DEFAULT_RENDERERS = f"plotly_mimetype+{RENDERER}"


class OfflineNotebookRenderer(NotebookRenderer):
    """plotly's `notebook` renderer without any CDN reference.

    Activation (once per kernel, before the first figure) displays one `text/html` output
    holding the whole plotly.js bundle inline; each figure is then a `<div>` plus an inline
    `Plotly.newPlot` script (`include_plotlyjs=False`, `include_mathjax=False`).
    """

    def __init__(self) -> None:
        super().__init__(connected=False, include_plotlyjs=False)

    def to_mimebundle(self, fig_dict: dict) -> dict:
        html = pio.to_html(
            fig_dict,
            config=self.config,
            auto_play=self.auto_play,
            include_plotlyjs=False,
            include_mathjax=False,  # the stock renderer hard-codes "cdn" here
            post_script=self.post_script,
            full_html=False,
            animation_opts=self.animation_opts,
            default_width="100%",
            default_height=525,
            validate=False,
        )
        return {"text/html": html}


def pin_renderer() -> str:
    """Make `plotly_mimetype+exitkit_offline` the default renderer; return its name.

    Every figure's output then carries two mimetypes: `application/vnd.plotly.v1+json`, which
    JupyterLab draws with its bundled plotly extension, and `text/html`, which nbconvert
    keeps (it cannot render the plotly mimetype). plotly.js is embedded exactly once per
    kernel, in an output displayed just before the first figure, and never fetched from a
    CDN, so the exported HTML works offline. Idempotent: calling it again does not queue a
    second copy of plotly.js (re-setting `pio.renderers.default` would).

    The HTML export still needs a template that drops nbconvert's own CDN scripts
    (require.js, MathJax); that is the report template's job, not the renderer's.
    """
    if RENDERER not in pio.renderers:
        pio.renderers[RENDERER] = OfflineNotebookRenderer()
    if pio.renderers.default != DEFAULT_RENDERERS:
        pio.renderers.default = DEFAULT_RENDERERS
    return DEFAULT_RENDERERS
