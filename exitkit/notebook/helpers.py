"""What the exploration notebooks call besides charts and widgets: the store they read, tables, adapters.

Notebooks hold no logic, so everything a notebook cell needs beyond one package
call lives here, where tests reach it:
- `demo_store()`: the demo estate generated and ingested once into a per-user cache, reused by
  every notebook (and safe when two processes build it at once);
- `prepare_store(db, exports, cluster)`: the notebooks' parameters → an open read-only store;
- `profile_table`, `sources_frame`, `totals_html`: tables with human units;
- `tornado_frame`, `projection_frame`, `projection_figure`: `exitkit.cost` analysis rows →
  the shapes `exitkit.charts` draws.
"""

from __future__ import annotations

import hashlib
import html
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from exitkit import store
from exitkit.cost import get_platform
from exitkit.cost.adapter import quoted_frame, totals_frame
from exitkit.demo import generate, ingest_demo
from exitkit.errors import StoreError
from exitkit.ingest import ingest
from exitkit.profile.workload import driver_labels

try:
    import fcntl
except ImportError:  # not on Windows; the demo store's build lock is then a no-op
    fcntl = None

import duckdb
import pandas as pd
import plotly.graph_objects as go

import exitkit
from exitkit.charts.theme import COLORWAY, new_figure, usd
from exitkit.demo import resolve_workload
from exitkit.units import human_bytes, human_duration_ms, human_rate

PACKAGE_DIR = Path(exitkit.__file__).resolve().parent
DEMO_DB_NAME = "demo.duckdb"

# Sources whose change changes the demo store: the generator, the readers, the schema.
_DEMO_INPUTS = ("demo", "ingest", "store", "units.py")


# --- the demo store ---------------------------------------------------------------------


def cache_dir() -> Path:
    """`EXITKIT_CACHE`, else `$XDG_CACHE_HOME/exitkit`, else `~/.cache/exitkit`."""
    if os.environ.get("EXITKIT_CACHE"):
        return Path(os.environ["EXITKIT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "exitkit"


def demo_key() -> str:
    """Cache key of the demo store: package version + a hash of the code that builds it.

    The version alone would keep a stale store across edits of the generator or a reader
    during development; hashing their sources costs a few milliseconds.
    """
    h = hashlib.sha256()
    for name in _DEMO_INPUTS:
        p = PACKAGE_DIR / name
        files = sorted(f for f in p.rglob("*") if f.suffix in (".py", ".yaml")) if p.is_dir() else [p]
        for f in files:
            h.update(str(f.relative_to(PACKAGE_DIR)).encode())
            h.update(f.read_bytes())
    return f"{exitkit.__version__}-{h.hexdigest()[:12]}"


@contextmanager
def _file_lock(path: Path, timeout_s: float = 600.0):
    """Exclusive advisory lock on `path` (POSIX flock); a no-op where fcntl does not exist.

    Correctness never depends on it (builds go to a private temp dir and are renamed in),
    it only stops two processes from spending 20 s each on the same build.
    """
    if fcntl is None:  # Windows: rename-into-place alone keeps it correct
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{path}: another process holds the demo build lock; remove it if stale"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def cached_build(target: Path, build: Callable[[Path], None]) -> Path:
    """Directory `target`, built once by `build(tmp_dir)` and renamed into place.

    A process that finds `target` uses it; otherwise it takes `target`'s lock, checks again,
    builds into a private temp dir next to it and renames that to `target` (atomic on one
    file system), so a reader never sees a half-built directory. A failed build leaves nothing.
    """
    target = Path(target)
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(target.parent / f".{target.name}.lock"):
        if target.is_dir():
            return target
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            build(tmp)
            try:
                os.rename(tmp, target)
            except OSError:
                if not target.is_dir():  # not "someone else won the race": a real failure
                    raise
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return target


def _build_demo(tmp: Path) -> None:

    generate(tmp / "exports")
    ingest_demo(tmp / "exports", tmp / DEMO_DB_NAME)


def demo_dir(cache: Path | None = None) -> Path:
    """The cached demo directory (`exports/`, `demo.duckdb`), built on first use (~20 s)."""
    return cached_build(Path(cache or cache_dir()) / "demo" / demo_key(), _build_demo)


def demo_store(path: str | Path | None = None) -> Path:
    """Path of a DuckDB store holding the ingested demo estate, built once per code version.

    Without `path`: the per-user cache (see `cache_dir`), shared by every notebook and process.
    With `path`: a copy of the cached store there (for a notebook that wants to write to it).
    Open it read-only (`connect`) when several notebooks share it.
    """
    db = demo_dir() / DEMO_DB_NAME
    if path is None:
        return db
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(db, dest)
    return dest


def demo_exports() -> Path:
    """The cached demo exports folder (one sub-folder per cluster)."""
    return demo_dir() / "exports"


def connect(db: str | Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to an existing store (many notebooks may hold one at once)."""

    path = Path(db)
    if not path.exists():
        raise StoreError(f"{path}: no store here; run `exitkit ingest EXPORTS...` first (or leave db empty)")
    return store._connect(path, read_only=True)


@dataclass
class NotebookStore:
    """What a notebook's parameters resolved to: the store, an open connection, what was ingested."""

    path: Path
    con: duckdb.DuckDBPyConnection
    demo: bool
    reports: pd.DataFrame = field(default_factory=pd.DataFrame)

    def describe(self) -> str:
        what = "the demo estate (cached)" if self.demo else "your exports"
        return f"store {self.path} holding {what}"


REPORT_COLUMNS = ["path", "format", "status", "rows", "clusters", "topics", "ts_from", "ts_to", "notes"]


def prepare_store(db: str | Path = "", exports: str | Path = "", cluster: str = "") -> NotebookStore:
    """Resolve the notebooks' `db` / `exports` / `cluster` parameters to an open (read-only) store.

    - neither: the cached demo store (`demo_store()`);
    - `exports` only: a fresh store in a temp dir, `exports` ingested into it;
    - `db` and `exports`: `exports` ingested into `db` (files already loaded are skipped);
    - `db` only: that store as it is.
    `cluster` names the cluster for exports that do not (CLI outputs), as `--cluster` does
    (a glob is ignored here: it only filters the profile, see `cluster_filter`).
    """

    reports = pd.DataFrame(columns=REPORT_COLUMNS)
    if any(ch in cluster for ch in "*?["):
        cluster = ""  # a glob filters the profile; it cannot name the cluster of an export
    if not str(db) and not str(exports):
        path = demo_store()
        return NotebookStore(path, connect(path), demo=True, reports=reports)
    path = Path(db) if str(db) else Path(tempfile.mkdtemp(prefix="exitkit-")) / "exitkit.duckdb"
    if str(exports):
        rows = ingest([exports], path, cluster=cluster or None, progress=False)
        reports = pd.DataFrame([{c: getattr(r, c) for c in REPORT_COLUMNS} for r in rows], columns=REPORT_COLUMNS)
    return NotebookStore(path, connect(path), demo=False, reports=reports)


def sources_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """What the store holds, per cluster and export format: files, rows, topics, time range."""
    return con.execute(
        """
        WITH f AS (SELECT cluster, format, count(*) AS files, sum(rows) AS rows FROM sources GROUP BY ALL),
        p AS (
            SELECT s.cluster, s.format, count(DISTINCT m.topic) AS topics,
                   min(m.ts_start) AS observed_from, max(m.ts_end) AS observed_to
            FROM metric_points m JOIN sources s USING (source_id) GROUP BY ALL
        )
        SELECT f.cluster, f.format, f.files, f.rows, p.topics, p.observed_from, p.observed_to
        FROM f LEFT JOIN p ON f.cluster IS NOT DISTINCT FROM p.cluster AND f.format = p.format
        ORDER BY f.cluster, f.format
        """
    ).df()


# --- tables with human units ------------------------------------------------------------


def _known(v) -> bool:
    return v is not None and v is not pd.NA and not (isinstance(v, float) and math.isnan(v))


def _fmt_or_dash(fn: Callable) -> Callable:
    return lambda v: fn(float(v)) if _known(v) else "—"


def _quote_or(fn: Callable) -> Callable:
    """Text such as "needs quote" as it is; numbers through `fn`."""
    return lambda v: v if isinstance(v, str) else fn(v)


PROFILE_FORMATS: dict[str, Callable] = {
    "write_bytes_per_s_mean": _fmt_or_dash(human_rate),
    "write_bytes_per_s_p95": _fmt_or_dash(human_rate),
    "write_bytes_per_s_peak": _fmt_or_dash(human_rate),
    "read_bytes_per_s_mean": _fmt_or_dash(human_rate),
    "read_bytes_per_s_p95": _fmt_or_dash(human_rate),
    "fan_out": _fmt_or_dash(lambda v: f"{v:.2f}×"),
    "records_in_per_s_mean": _fmt_or_dash(lambda v: f"{v:,.0f}/s"),
    "avg_record_bytes": _fmt_or_dash(human_bytes),
    "partitions": _fmt_or_dash(lambda v: f"{v:,.0f}"),
    "replication_factor": _fmt_or_dash(lambda v: f"{v:.0f}"),
    "retention_ms": _fmt_or_dash(lambda v: "unlimited" if v < 0 else human_duration_ms(v)),
    "retention_bytes": _fmt_or_dash(lambda v: "unlimited" if v < 0 else human_bytes(v)),
    "retained_bytes": _fmt_or_dash(human_bytes),
    "consumer_groups": _fmt_or_dash(lambda v: f"{v:.0f}"),
    "max_consumer_lag_records": _fmt_or_dash(lambda v: f"{v:,.0f}"),
    "coverage": _fmt_or_dash(lambda v: f"{v:.0%}"),
}

PROFILE_TABLE_COLUMNS = [
    "cluster", "topic", "driver", "write_bytes_per_s_mean", "write_bytes_per_s_p95", "write_bytes_per_s_peak",
    "read_bytes_per_s_mean", "fan_out", "partitions", "retention_ms", "retained_bytes", "cleanup_policy",
    "consumer_groups", "max_consumer_lag_records", "coverage",
]  # fmt: skip


def profile_table(
    profile_df: pd.DataFrame, sort_by: str = "write_bytes_per_s_mean", columns: list[str] | None = None
) -> pd.io.formats.style.Styler:
    """The profile as a Styler with human units, sorted by `sort_by` (largest first, unknown last).

    Adds the `driver` column (write-heavy / fan-out-heavy / retention-heavy) when missing.
    """

    df = profile_df.copy()
    if "driver" not in df:
        df["driver"] = driver_labels(df)
    if sort_by in df:
        df = df.sort_values(
            sort_by, ascending=False, na_position="last", key=lambda s: pd.to_numeric(s, errors="coerce")
        )
    cols = [c for c in (columns or PROFILE_TABLE_COLUMNS) if c in df]
    df = df[cols].reset_index(drop=True)
    fmts = {c: f for c, f in PROFILE_FORMATS.items() if c in df}
    return df.style.format(fmts, na_rep="—").hide(axis="index")


def cluster_filter(profile_df: pd.DataFrame, cluster: str = "") -> pd.DataFrame:
    """Rows of one cluster (an fnmatch glob, e.g. `demo-*`); all rows when `cluster` is empty."""

    if not cluster:
        return profile_df
    out = profile_df[[fnmatchcase(str(c), cluster) for c in profile_df["cluster"]]].reset_index(drop=True)
    if out.empty:
        known = ", ".join(sorted(map(str, profile_df["cluster"].unique()))) or "none"
        raise ValueError(f"cluster {cluster!r} matches no cluster in the store; clusters: {known}")
    return out


def top_topics(profile_df: pd.DataFrame, n: int = 10) -> list[tuple[str, str]]:
    """The `n` (cluster, topic) pairs with the highest mean write rate, largest first."""
    known = profile_df[profile_df["write_bytes_per_s_mean"].map(_known)]
    if known.empty:
        raise ValueError("no topic has a measured write rate")
    known = known.assign(_w=pd.to_numeric(known["write_bytes_per_s_mean"])).sort_values("_w", ascending=False)
    return [(str(c), str(t)) for c, t in zip(known["cluster"].head(n), known["topic"].head(n), strict=True)]


def profile_row(profile_df: pd.DataFrame, topic: tuple[str, str]) -> pd.Series:
    """The profile row of one (cluster, topic)."""
    hit = profile_df[(profile_df["cluster"] == topic[0]) & (profile_df["topic"] == topic[1])]
    if hit.empty:
        raise KeyError(f"{topic[0]}/{topic[1]} is not in the profile")
    return hit.iloc[0]


def totals_html(rows: Iterable[Mapping], caption: str = "") -> str:
    """A small HTML table of platform totals: rows with platform, name, today, steady_usd,
    abnormal_usd, total_usd, migration_usd (the `totals_frame` columns; missing ones are left out).
    Every value is html-escaped."""
    cols = [
        ("name", "platform"), ("steady_usd", "steady / month"), ("abnormal_usd", "abnormal / month"),
        ("total_usd", "total / month"), ("migration_usd", "migration (one-time)"),
    ]  # fmt: skip
    rows = list(rows)
    cols = [(k, label) for k, label in cols if any(k in r for r in rows)]
    e = html.escape
    head = "".join(f"<th style='text-align:{'left' if k == 'name' else 'right'}'>{e(label)}</th>" for k, label in cols)
    body = []
    for r in rows:
        cells = []
        for k, _ in cols:
            v = r.get(k)
            if k == "name":
                text = str(v or r.get("platform", "")) + (" (today)" if r.get("today") else "")
                cells.append(f"<td style='text-align:left'>{e(text)}</td>")
            else:
                cells.append(f"<td style='text-align:right'>{e(usd(float(v)) if _known(v) else '—')}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption style='text-align:left'>{e(caption)}</caption>" if caption else ""
    return f"<table class='exitkit-totals'>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def totals_table(result) -> pd.io.formats.style.Styler:
    """`exitkit.cost.adapter.totals_frame` of a `CostResult` with USD formats (today's platform marked)."""

    labels = {"platform": "Platform", "name": "Name", "steady_usd": "Steady / month", "abnormal_usd": "Abnormal / month",
              "total_usd": "Total / month", "migration_usd": "One-time migration"}  # fmt: skip
    # an amount resting on an unpriced line reads "needs quote" (issue 15), never a silent 0
    df = quoted_frame(totals_frame(result))[["platform", "name", "today", *list(labels)[2:]]]
    df["name"] = [n + (" (today)" if t else "") for n, t in zip(df["name"], df["today"], strict=True)]
    df = df.drop(columns=["today"])
    money = {labels[c]: _quote_or(_fmt_or_dash(usd)) for c in df.columns if c.endswith("_usd")}
    return df.rename(columns=labels).style.format(money).hide(axis="index")


# --- cost analysis adapters -------------------------------------------------------------


def _value_label(assumption: str, v: float) -> str:
    if assumption in ("traffic.write_rate", "traffic.write_peak"):
        return human_rate(v)
    if assumption == "traffic.retention":
        return f"{v / 86400:.3g} d"
    if assumption == "assumptions.labor.hourly_rate":
        return f"${v:,.0f}/h"
    if assumption.startswith("assumptions.recovery"):
        return f"×{v:.2f}"
    return f"{v:.3g}"


def tornado_frame(rows: Iterable[Mapping], names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """`exitkit.cost.tornado` rows → the frame `exitkit.charts.tornado` draws.

    Keeps platform, assumption, base_usd, low_usd, high_usd, swing_usd and adds
    `low_label` / `high_label` with the moved value in human units (`traffic.fan_out=1.22`).
    `names` maps platform ids to display names (panel titles).
    """
    df = pd.DataFrame(list(rows))
    if df.empty:
        return pd.DataFrame(
            columns=["platform", "assumption", "base_usd", "low_usd", "high_usd", "low_label", "high_label"]
        )
    df["low_label"] = [f"{a}={_value_label(a, v)}" for a, v in zip(df["assumption"], df["low_value"], strict=True)]
    df["high_label"] = [f"{a}={_value_label(a, v)}" for a, v in zip(df["assumption"], df["high_value"], strict=True)]
    if names:
        df["platform"] = df["platform"].map(lambda p: names.get(p, p))
    return df[["platform", "assumption", "base_usd", "low_usd", "high_usd", "swing_usd", "low_label", "high_label"]]


def projection_frame(rows: Iterable[Mapping]) -> pd.DataFrame:
    """`exitkit.cost.project` rows → one row per platform: year-N annual USD columns and the cumulative total."""
    df = pd.DataFrame(list(rows))
    if df.empty:
        return df
    order = list(dict.fromkeys(df["platform"]))
    wide = df.pivot(index="platform", columns="year", values="annual_usd").reindex(order)
    wide.columns = [f"year_{y}_usd" for y in wide.columns]
    last = df[df["year"] == df["year"].max()].set_index("platform")["cumulative_usd"]
    wide["cumulative_usd"] = last.reindex(order)
    wide["one_time_usd"] = df[df["year"] == 1].set_index("platform")["one_time_usd"].reindex(order)
    return wide.reset_index()


def projection_table(rows: Iterable[Mapping]) -> pd.io.formats.style.Styler:
    """`projection_frame` with USD formats."""
    df = projection_frame(rows)
    return df.style.format({c: _fmt_or_dash(usd) for c in df.columns if c.endswith("_usd")}).hide(axis="index")


def projection_figure(rows: Iterable[Mapping], names: Mapping[str, str] | None = None) -> go.Figure:
    """Cumulative cost per platform by year (migration one-time cost in year 1)."""
    df = pd.DataFrame(list(rows))
    fig = new_figure(
        title=dict(text="Cumulative cost over the projection (traffic growing each year)"),
        xaxis=dict(title=dict(text="year"), dtick=1),
        yaxis=dict(title=dict(text="USD, cumulative"), tickprefix="$", tickformat=",.0f", rangemode="tozero"),
        hovermode="x unified",
    )
    for i, (platform, g) in enumerate(df.groupby("platform", sort=False) if len(df) else []):
        name = (names or {}).get(platform, platform)
        fig.add_trace(
            go.Scatter(
                x=g["year"].tolist(), y=g["cumulative_usd"].tolist(), mode="lines+markers", name=name,
                line=dict(color=COLORWAY[i % len(COLORWAY)]),
                customdata=[usd(v) for v in g["cumulative_usd"]], hovertemplate="%{customdata}<extra>" + name + "</extra>",
            )
        )  # fmt: skip
    return fig


def resolve_path(p: str | Path) -> Path:
    """`p` as given when it exists (relative to the working directory), else the demo workload of
    that file name (`exitkit.demo.resolve_workload`)."""
    return resolve_workload(p)


def platform_names(ids: Iterable[str]) -> dict[str, str]:
    """Display names of platform ids (the cost registry's names)."""

    out = {}
    for pid in ids:
        with suppress(Exception):
            out[pid] = get_platform(pid).name
    return out


def known_value(v) -> bool:
    """Not None, NA or NaN: a value the widgets can show."""
    return v is not None and v is not pd.NA and not (isinstance(v, float) and math.isnan(v))


def html_table(rows: list[tuple[str, str]], caption: str = "") -> str:
    """A two-column key/value table (escaped), for the widgets' summaries."""
    cap = f"<caption style='text-align:left;font-weight:600'>{html.escape(caption)}</caption>" if caption else ""
    body = "".join(
        f"<tr><td style='text-align:left;padding-right:1em'>{html.escape(k)}</td><td style='text-align:right'>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return f"<table>{cap}<tbody>{body}</tbody></table>"


# Which export formats name the platform they came from (the rest, e.g. Prometheus, could be any).
PLATFORM_BY_FORMAT_PREFIX = (("confluent", "confluent-dedicated"), ("cloudwatch", "msk-standard"))


def source_platform(con, cluster: str) -> str | None:
    """The platform a cluster runs on, from the export formats the store holds for it: Confluent's
    metrics API → confluent-dedicated, CloudWatch `AWS/Kafka` → msk-standard; None when the exports
    do not say (Prometheus and CLI outputs come from any Kafka), and the form must ask."""
    formats = [r[0] for r in con.execute("SELECT DISTINCT format FROM sources WHERE cluster = ?", [cluster]).fetchall()]
    for prefix, platform in PLATFORM_BY_FORMAT_PREFIX:
        if any(f.startswith(prefix) for f in formats):
            return platform
    return None


def top_cluster_topics(profile_df: pd.DataFrame, n: int = 2) -> tuple[str, list[tuple[str, str]]]:
    """The cluster of the biggest writer and its `n` biggest writers: a workload comes from one
    cluster, so the picker's first selection never mixes two."""
    top = top_topics(profile_df, len(profile_df))
    cluster = top[0][0]
    return cluster, [t for t in top if t[0] == cluster][:n]


def default_workload(workloads_dir: str | Path = "workloads", fallback: str = "telemetry") -> str:
    """The workload a notebook uses when none is given: the newest file 01_explore's picker wrote
    into `workloads_dir`, else the demo workload `fallback`."""
    d = Path(workloads_dir)
    files = sorted(d.glob("*.yaml"), key=lambda p: p.stat().st_mtime) if d.is_dir() else []
    return str(files[-1]) if files else fallback
