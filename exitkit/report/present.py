"""Markup for the report and the fleet page: Jinja templates under the report template
directory (`templates/report/*.html.j2`), rendered from plain data.

The report notebook's section functions (`exitkit.report.context`) return data; `show`
renders one section template into a display object. Values are made readable here, once:
unknown is "—" with a tooltip saying why, money has $ and separators, booleans are words,
lists are joined. Jinja autoescaping escapes every text.
"""

from __future__ import annotations

import base64
import gzip
import math
from pathlib import Path

from IPython.display import HTML
from jinja2 import Environment, FileSystemLoader, Undefined, select_autoescape
from markupsafe import Markup, escape

from exitkit.report.export import TEMPLATES
from exitkit.report.words import STATUS_WORD
from exitkit.safe_output import strict_json

UNKNOWN = "—"


def is_unknown(v) -> bool:
    if v is None or isinstance(v, Undefined):
        return True
    try:
        return isinstance(v, float) and math.isnan(v)
    except TypeError:  # pragma: no cover - defensive
        return False


def dash(why: str = "not known") -> Markup:
    """The unknown marker, with a tooltip saying why."""
    return Markup('<span class="ek-unknown" title="{}">{}</span>').format(why, UNKNOWN)


def usd(v, why: str = "not known", cents: bool = False) -> Markup | str:
    """$12,345 (or $12,345.67 with `cents`); negative as −$12,345; unknown as — with a tooltip."""
    if is_unknown(v):
        return dash(why)
    v = float(v)
    body = f"${abs(v):,.2f}" if cents else f"${abs(round(v)):,.0f}"
    return ("−" if v < 0 and round(v, 2 if cents else 0) != 0 else "") + body


def unit_price(v, why: str = "not known") -> Markup | str:
    """A unit price: up to 6 significant digits, thousands separators, never scientific notation."""
    if is_unknown(v):
        return dash(why)
    v = float(v)
    if v == 0:
        return "$0"
    digits = max(2, min(8, 5 - int(math.floor(math.log10(abs(v))))))
    text = f"{v:,.{digits}f}".rstrip("0").rstrip(".")
    if "." in text and len(text.split(".")[1]) == 1:
        text += "0"
    return f"${text}"


def number(v, why: str = "not known", digits: int | None = None) -> Markup | str:
    """A quantity with thousands separators and sensible precision (3 significant below 100)."""
    if is_unknown(v):
        return dash(why)
    if isinstance(v, bool):
        return yes_no(v)
    v = float(v)
    if digits is None:
        a = abs(v)
        digits = 0 if a >= 100 or v == int(v) else 1 if a >= 10 else 2 if a >= 1 else 3
    return f"{v:,.{digits}f}"


def yes_no(v) -> str:
    return "yes" if v else "no"


def text(v, why: str = "not known") -> Markup | str:
    """Any value as readable text: lists joined, booleans as words, floats without noise."""
    if is_unknown(v):
        return dash(why)
    if isinstance(v, bool):
        return yes_no(v)
    if isinstance(v, list | tuple | set):
        return ", ".join(str(text(x)) for x in v) if v else dash("none")
    if isinstance(v, dict):
        return "; ".join(f"{k}: {text(x)}" for k, x in v.items()) if v else dash("none")
    if isinstance(v, float):
        return number(v)
    return str(v)


def months(v, why: str = "never") -> Markup | str:
    if is_unknown(v):
        return dash(why)
    return f"month {int(v)}"


def environment(path: Path = TEMPLATES / "report") -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(path)), autoescape=select_autoescape(default=True, default_for_string=True)
    )
    env.filters.update(usd=usd, unit_price=unit_price, number=number, text=text, yes_no=yes_no, months=months)
    env.globals.update(dash=dash, is_unknown=is_unknown, escape=escape, status_word=STATUS_WORD)
    return env


_ENV: Environment | None = None


def render(template: str, **data) -> str:
    global _ENV
    if _ENV is None:
        _ENV = environment()
    return _ENV.get_template(template).render(**data)


def script_json(data, where: str) -> str:
    """`data` as JSON safe inside `<script type="application/json">`: valid JSON only (NaN → null,
    infinity refused) and no `<`, `>` or `&` that could end the script element early."""
    text = strict_json(data, where, separators=(",", ":"), ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def packed_json(data, where: str) -> str:
    """`data` as gzip-compressed JSON in base64, for a large embedded data set (a report stays
    under its size budget): the page decodes it with the browser's own `DecompressionStream`."""
    raw = strict_json(data, where, separators=(",", ":"), ensure_ascii=True).encode()
    return base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")


def show(template: str, **data) -> HTML:
    """One report section: the template rendered from data, as a notebook display object."""
    return HTML(render(template, **data))


NUMERIC_KINDS = ("usd", "usd_cents", "price", "num")


def label(column: str) -> str:
    """`consume_rate_records_per_s` → "Consume rate records per s"."""
    text = str(column).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def table_view(
    df,
    kinds: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    *,
    why: dict[str, str] | None = None,
    collapsed: bool = False,
    search: bool = False,
    summary: str = "",
    note: str = "",
    wide: tuple[str, ...] = (),
    total: dict | None = None,
) -> dict:
    """A DataFrame as the data `table.html.j2` shows: columns with a label and a kind
    (usd, usd_cents, price, num, status, text), rows of raw values. Unstated kinds: numbers are
    `num`, everything else `text`."""
    kinds = dict(kinds or {})
    labels = labels or {}
    why = why or {}
    cols = []
    for c in df.columns:
        kind = kinds.get(c)
        if kind is None:
            kind = "num" if df[c].dtype.kind in "iuf" else "text"
        cols.append(
            {
                "name": c,
                "label": labels.get(c, label(c)),
                "kind": kind,
                "why": why.get(c, "not known"),
                "wide": c in wide,
            }
        )
    rows = [[_plain(v) for v in row] for row in df.itertuples(index=False, name=None)]
    return {
        "columns": cols,
        "rows": rows,
        "collapsed": collapsed,
        "search": search,
        "summary": summary,
        "note": note,
        "total": None if total is None else [total.get(c["name"]) for c in cols],
    }


def _plain(v):
    return v.item() if hasattr(v, "item") and not isinstance(v, str | bytes) else v
