"""What every bill reader shares: DuckDB reads the CSV/Parquet file, SQL checks it, rows come out
in the `bill_lines` shape (exitkit.store.schema) with the cluster and byte path derived.

SQL here and in the bill readers is built from package constants and the file's column names,
always as quoted identifiers (`q()`); every value (the file's path, a currency, a line) is a
bound parameter. Literals (`lit()`, quotes doubled): the COPY target, a temporary file this
module created, and a legacy CUR header's tag keys (`resourceTags/user:KEY` → the JSON key).

A bill can be GBs (a year of hourly CUR): DuckDB's CSV and Parquet readers parse it in its own
bounded memory (`exitkit.store.memory_connection`), never a Python loop per line. Checks are
SQL over the whole file and name the first bad line: a non-numeric cost, a time that is not a
time, a second currency. Money stays DECIMAL(38,10) text until the store casts it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path

import duckdb
import pandas as pd

from exitkit import store
from exitkit.bill.paths import Attribution, distinct_map, parse_tags
from exitkit.ingest.base import SNIFF_BYTES, ReadResult, Source

BILL_COLUMNS = [
    "line", "provider", "month", "billing_period_start", "charge_start", "charge_end", "service", "region",
    "resource_id", "cluster", "usage_type", "charge_category", "charge_type", "path", "quantity", "unit",
    "list_cost", "billed_cost", "effective_cost", "currency", "cost_basis", "tags",
]  # fmt: skip

PARQUET_MAGIC = b"PAR1"
_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")


def is_parquet(source: Source) -> bool:
    return source.data[:4] == PARQUET_MAGIC


def header(head: str, source: Source) -> list[str]:
    """The column names: the first CSV row of the head, or a Parquet file's schema."""
    if is_parquet(source):
        return parquet_columns(source)
    first = head.split("\n", 1)[0].rstrip("\r")
    if not first:
        return []
    try:
        return next(csv.reader(io.StringIO(first)))
    except (csv.Error, StopIteration):
        return []


def source_header(source: Source) -> list[str]:
    """`header` of the whole file (its first SNIFF_BYTES)."""
    return header(source.data[:SNIFF_BYTES].decode("utf-8", "replace").removeprefix("\ufeff"), source)


def parquet_columns(source: Source) -> list[str]:
    """Column names from the Parquet footer (cheap: the footer only); [] when it is not readable."""
    con = store.memory_connection()
    try:
        return [r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(source.path)]).fetchall()]
    except duckdb.Error:
        return []
    finally:
        con.close()


def q(name: str) -> str:
    """A column name quoted for SQL (`lineItem/UnblendedCost` has a slash)."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Table:
    """The file as the DuckDB table `raw` (all text; `_line` = the record's line, header = 1)."""

    def __init__(self, source: Source, columns: list[str]):
        self.source = source
        self.columns = columns
        self.con = store.memory_connection()
        self.con.execute("SET TimeZone = 'UTC'")  # an ISO time without offset is UTC
        path = str(source.path)
        try:
            if is_parquet(source):
                cols = ", ".join(f"CAST({q(c)} AS VARCHAR) AS {q(c)}" for c in columns)
                self.con.execute(
                    f"CREATE TEMP TABLE raw AS SELECT row_number() OVER () AS _line, {cols} FROM read_parquet(?)",
                    [path],
                )
            else:
                compression = "gzip" if _is_gzip(source) else "none"
                self.con.execute(
                    "CREATE TEMP TABLE raw AS SELECT row_number() OVER () + 1 AS _line, * FROM read_csv("
                    "?, header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
                    "compression = ?, columns = ?)",
                    [path, compression, dict.fromkeys(columns, "VARCHAR")],
                )
        except duckdb.Error as exc:
            self.con.close()
            raise _csv_error(source, exc) from None

    def has(self, name: str) -> bool:
        return name in self.columns

    def col(self, *names: str) -> str:
        """The first of `names` the file has, as text (NULL when empty), else SQL NULL."""
        for n in names:
            if n in self.columns:
                return f"NULLIF(trim({q(n)}), '')"
        return "NULL"

    def require(self, *groups: tuple[str, ...] | str, what: str) -> None:
        """Each group (a name or alternatives) must be present: else a one-line error naming it."""
        for g in groups:
            alts = (g,) if isinstance(g, str) else g
            if not any(a in self.columns for a in alts):
                names = " or ".join(alts)
                raise self.source.fail(f"no column {names}; a {what} has it (is the header complete?)", 1)

    def number(self, expr: str) -> str:
        """SQL: `expr` (text) as DECIMAL(38,10); NULL when empty. Exponents are accepted."""
        return f"coalesce(TRY_CAST({expr} AS DECIMAL(38, 10)), TRY_CAST(TRY_CAST({expr} AS DOUBLE) AS DECIMAL(38, 10)))"

    def check_numbers(self, *names: str) -> None:
        """The first line where a named column holds something that is not a number: an error."""
        self._first_bad(names, self.number, "is not a number")

    def _first_bad(self, names: tuple[str, ...], convert, what: str) -> None:
        """One scan for all `names`: the earliest line whose value is there but does not convert."""
        names = tuple(n for n in names if n in self.columns)
        if not names:
            return
        firsts = ", ".join(
            f"min(_line) FILTER (WHERE {self.col(n)} IS NOT NULL AND {convert(self.col(n))} IS NULL)" for n in names
        )
        lines = self.con.execute(f"SELECT {firsts} FROM raw").fetchone()
        bad = [(line, n) for line, n in zip(lines, names, strict=True) if line is not None]
        if bad:
            line, n = min(bad)
            value = self.con.execute(f"SELECT {self.col(n)} FROM raw WHERE _line = ?", [line]).fetchone()[0]
            raise self.source.fail(f"{n} {value[:40]!r} {what}", line)

    def time(self, expr: str) -> str:
        """SQL: ISO-8601 text (`Z`, an offset, or none = UTC; a bare date) as a naive UTC TIMESTAMP.
        `…Z` and offset-less text take the fast TIMESTAMP cast; an offset goes through TIMESTAMPTZ
        (the session is UTC), which the plain cast would ignore."""
        return (
            f"CASE WHEN right({expr}, 1) = 'Z' OR length({expr}) <= 19 THEN TRY_CAST({expr} AS TIMESTAMP) "
            f"ELSE CAST(TRY_CAST({expr} AS TIMESTAMPTZ) AS TIMESTAMP) END"
        )

    def check_times(self, *names: str) -> None:
        self._first_bad(names, self.time, "is not an ISO-8601 time")

    def check_present(self, name: str, what: str) -> None:
        """A column that must be filled on every line."""
        e = self.col(name)
        row = self.con.execute(f"SELECT _line FROM raw WHERE {e} IS NULL ORDER BY _line LIMIT 1").fetchone()
        if row:
            raise self.source.fail(f"{name} is empty; every line needs {what}", row[0])

    def check_one_currency(self, name: str) -> str | None:
        """The file's one currency; a second one is refused at its first line (never converted)."""
        e = self.col(name)
        first = self.con.execute(f"SELECT {e} FROM raw WHERE {e} IS NOT NULL ORDER BY _line LIMIT 1").fetchone()
        if not first:
            return None
        other = self.con.execute(
            f"SELECT _line, {e} FROM raw WHERE {e} IS NOT NULL AND {e} <> ? ORDER BY _line LIMIT 1", [first[0]]
        ).fetchone()
        if other:
            raise self.source.fail(
                f"two currencies in one file ({first[0]} and {other[1]}); expected one, exitkit never converts",
                other[0],
            )
        return first[0]

    def finish(
        self,
        select: str,
        *,
        path_cols: list[str],
        path_of: Callable[[pd.DataFrame], pd.Series],
        notes: list[str],
    ) -> ReadResult:
        """Normalize, attribute and map every line in DuckDB, and hand the rows over as a Parquet
        file (`ReadResult.files`): no pandas frame of the whole bill. The Python rules (cluster of a
        resource and its tags, path of a usage type) run once per distinct key, as small frames."""
        con = self.con
        attribution: Attribution = self.source.bill or Attribution()
        try:
            con.execute(f"CREATE TEMP TABLE norm AS {select}")
            keys = con.execute("SELECT DISTINCT resource_id, tags FROM norm").df()
            keys["cluster"] = [
                attribution.cluster_of(r, parse_tags(t))
                for r, t in zip(texts(keys["resource_id"]), texts(keys["tags"]), strict=True)
            ]
            cols = ", ".join(path_cols)
            pk = con.execute(f"SELECT DISTINCT {cols} FROM norm WHERE charge_category = 'usage'").df()
            pk["path"] = path_of(pk) if len(pk) else pd.Series(dtype=object)
            pk["path"] = [p if isinstance(p, str) else None for p in pk["path"]]
            con.register("attr_keys", keys[["resource_id", "tags", "cluster"]])
            con.register("path_keys", pk)
            con.execute("CREATE TEMP TABLE attr AS SELECT * FROM attr_keys")
            con.execute("CREATE TEMP TABLE pmap AS SELECT * FROM path_keys")
            con.unregister("attr_keys")
            con.unregister("path_keys")
            out_dir = Path(tempfile.mkdtemp(prefix="exitkit-bill-"))
            out = out_dir / "bill_lines.parquet"
            # equality on coalesced keys (a hash join; NULL matches NULL: empty text is NULL here)
            on_path = " AND ".join(f"coalesce(p.{c}, '') = coalesce(n.{c}, '')" for c in path_cols)
            money = ("quantity", "list_cost", "billed_cost", "effective_cost")
            select_cols = ", ".join(
                "a.cluster AS cluster" if c == "cluster"
                else "CASE WHEN n.charge_category = 'usage' THEN p.path END AS path" if c == "path"
                else f"CAST(n.{c} AS DECIMAL(38, 10)) AS {c}" if c in money
                else f"n.{c} AS {c}"
                for c in BILL_COLUMNS
            )  # fmt: skip
            con.execute(
                f"COPY (SELECT {select_cols} FROM norm n "
                "LEFT JOIN attr a ON coalesce(a.resource_id, '') = coalesce(n.resource_id, '') "
                "AND coalesce(a.tags, '') = coalesce(n.tags, '') "
                f"LEFT JOIN pmap p ON {on_path} ORDER BY n.line) TO {lit(str(out))} (FORMAT parquet)"
            )
            total, unattributed = con.execute(
                "SELECT count(*), count(*) FILTER (cluster IS NULL) FROM read_parquet(?)", [str(out)]
            ).fetchone()
            clusters = [r[0] for r in con.execute(
                "SELECT DISTINCT cluster FROM read_parquet(?) WHERE cluster IS NOT NULL ORDER BY 1", [str(out)]
            ).fetchall()]  # fmt: skip
        except duckdb.Error as exc:
            raise self.source.fail(f"cannot read the bill lines ({str(exc).splitlines()[0][:200]})") from None
        notes = list(notes)
        if unattributed:
            notes.append(f"{unattributed:,} of {total:,} bill lines match no cluster (listed by `exitkit bill`)")
        return ReadResult(
            files={"bill_lines": (out, int(total))},
            clusters=clusters,
            cluster=clusters[0] if len(clusters) == 1 else None,
            notes=notes,
        )

    def close(self) -> None:
        self.con.close()


def _is_gzip(source: Source) -> bool:
    try:
        with open(source.path, "rb") as f:
            return f.read(2) == b"\x1f\x8b"
    except OSError:
        return False


def _csv_error(source: Source, exc: duckdb.Error):
    msg = str(exc)
    m = _CSV_LINE.search(msg)
    line = int(m.group(1)) if m else None
    detail = next((s.strip() for s in msg.splitlines()[2:4] if s.strip()), msg.splitlines()[0])
    if "unterminated quote" in msg.lower():
        detail = "a value with an unterminated quote"
    return source.fail(f"truncated or malformed CSV row ({detail[:160]}); expected a complete bill export", line)


def texts(s: pd.Series) -> list[str | None]:
    """A text column as str or None (DuckDB hands NULL to pandas as NaN or None)."""
    return [v if isinstance(v, str) else None for v in s]


def finish(
    df: pd.DataFrame,
    source: Source,
    *,
    path_of: Callable[[pd.DataFrame], pd.Series],
    notes: list[str] | None = None,
) -> ReadResult:
    """Derive `cluster` (attribution) and `path` (byte path) and shape the result.

    `path_of(df)` gives each line's byte path from the format's own columns; lines other than
    usage never get one (tax, credits, commitments, fees)."""
    attribution: Attribution = source.bill or Attribution()
    notes = list(notes or [])
    if len(df):
        keys = list(zip(texts(df["resource_id"]), texts(df["tags"]), strict=True))
        by_key = distinct_map(keys, lambda k: attribution.cluster_of(k[0], parse_tags(k[1])))
        df["cluster"] = [by_key[k] for k in keys]
        paths = path_of(df)
        df["path"] = paths.where(df["charge_category"] == "usage", None)
    else:
        df["cluster"] = pd.Series(dtype=object)
        df["path"] = pd.Series(dtype=object)
    for c in BILL_COLUMNS:
        if c not in df:
            df[c] = None
    df = df[BILL_COLUMNS]
    unattributed = int(df["cluster"].isna().sum())
    if unattributed:
        notes.append(f"{unattributed:,} of {len(df):,} bill lines match no cluster (listed by `exitkit bill`)")
    clusters = sorted(df["cluster"].dropna().unique())
    return ReadResult(snapshots={"bill_lines": df}, cluster=clusters[0] if len(clusters) == 1 else None, notes=notes)


def load_json(source: Source, what: str):
    """The file as JSON; a truncated or malformed one is a one-line error with its line."""
    try:
        return json.loads(source.text())
    except json.JSONDecodeError as exc:
        raise source.fail(f"truncated or malformed JSON ({exc.msg}); expected a complete {what}", exc.lineno) from None
    except RecursionError:
        raise source.fail(f"JSON nested too deeply; expected a {what}") from None


def decimal_text(value: object, source: Source, where: str) -> str | None:
    """A JSON amount (number or numeric string) as exact decimal text; None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise source.fail(f"{where} {str(value)[:40]!r} is not a number")
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise source.fail(f"{where} {str(value)[:40]!r} is not a number") from None
    if not d.is_finite():
        raise source.fail(f"{where} {value!r} is not a finite number")
    return str(d)


def utc_time(value: object, source: Source, where: str) -> pd.Timestamp:
    """`YYYY-MM-DD` or ISO-8601 text as a naive UTC timestamp; anything else is an error."""
    try:
        ts = pd.Timestamp(str(value)) if isinstance(value, str) and value.strip() else None
    except (ValueError, OverflowError):
        ts = None
    if ts is None or pd.isna(ts):
        raise source.fail(f"{where} {str(value)[:40]!r} is not a date (expected YYYY-MM-DD)")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


def rows_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows built in Python (the small JSON formats) as a bill frame."""
    df = pd.DataFrame(rows, columns=[c for c in BILL_COLUMNS if c not in ("cluster", "path")])
    for c in ("billing_period_start", "charge_start", "charge_end"):
        df[c] = pd.to_datetime(df[c])
    return df
