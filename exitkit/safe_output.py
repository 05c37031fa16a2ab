"""Output that cannot mislead: spreadsheet cells opened as text, and only finite numbers.

Formula injection.
A cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula, so a topic named `=HYPERLINK("http://…","x")` would
become a live link in finance's workbook; openpyxl stores any string starting with `=` as a
formula. Following OWASP's "CSV Injection" guidance
(https://owasp.org/www-community/attacks/CSV_Injection), such a string gets a leading single quote,
which the spreadsheet shows as text. Numbers stay numbers: only strings are touched.

Finite numbers. JSON has no infinity or NaN (RFC 8259 §6), and `$inf` in a report is a wrong
number, not an unknown one. Every JSON document is written with `strict_json` (unknown — NaN or
None — becomes `null`; an infinity refuses the whole output with the field's path), and every CSV
or xlsx frame passes `safe_frame`, which refuses an infinite cell with its column and row.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

from exitkit.errors import OutputError

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` with a leading `'` when it is a string a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame, where: str = "output") -> pd.DataFrame:
    """A copy of `df` whose text cells (and column names) are safe; numeric columns unchanged.
    An infinite number anywhere raises OutputError naming `where`, the column and the row."""
    out = df.copy()
    for col in out.columns:
        values = out[col]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            bad = np.isinf(values.to_numpy(dtype=float, na_value=np.nan))
        else:
            bad = values.map(lambda v: isinstance(v, float | np.floating) and math.isinf(v)).to_numpy(dtype=bool)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise OutputError(f"{where}: column {col!r}, row {row + 1} is {values.iloc[row]} (not a finite number)")
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(safe_cell)
    out.columns = [safe_cell(c) for c in out.columns]
    return out


def finite_or_null(obj: Any, where: str = "output", path: str = "$") -> Any:
    """`obj` with NaN (unknown) as None; raises OutputError at the first infinity, naming its path."""
    if isinstance(obj, dict):
        return {k: finite_or_null(v, where, f"{path}.{k}") for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite_or_null(v, where, f"{path}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        if math.isnan(obj):
            return None
        if math.isinf(obj):
            raise OutputError(f"{where}: {path} is {obj} (not a finite number); an input is out of range")
    return obj


def strict_json(obj: Any, where: str = "output", **kwargs: Any) -> str:
    """`json.dumps` that only ever writes valid JSON: NaN → null, an infinity refused (OutputError)."""
    return json.dumps(finite_or_null(obj, where), allow_nan=False, **kwargs)
