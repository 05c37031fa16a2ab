"""Cells that a spreadsheet opens as text: CSV / formula injection neutralised (OWASP).

A cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula, so a topic named `=HYPERLINK("http://…","x")` would
become a live link in finance's workbook; openpyxl stores any string starting with `=` as a
formula. Following OWASP's "CSV Injection" guidance
(https://owasp.org/www-community/attacks/CSV_Injection), such a string gets a leading single quote,
which the spreadsheet shows as text. Numbers stay numbers: only strings are touched.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` with a leading `'` when it is a string a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` whose text cells (and column names) are safe; numeric columns unchanged."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(safe_cell)
    out.columns = [safe_cell(c) for c in out.columns]
    return out
