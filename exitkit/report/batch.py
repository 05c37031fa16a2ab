"""`exitkit report`: run the report notebook once per workload, in parallel, into offline HTML.

Each workload runs in its own worker process (`python -m exitkit.report.worker`), which runs
papermill with absolute paths (papermill's `cwd` is a process-wide chdir) and nbconvert with
the kit's template. A separate process per workload means a dead kernel, an exception or a
timeout ends that workload only: the others finish, and the failure is recorded with its
cause in `summary.json` and `index.html`, with the executed notebook kept.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psutil
from filelock import FileLock, Timeout
from tqdm import tqdm

from exitkit.errors import OutputError, shown_path
from exitkit.report.words import GATE_TEXT, STATUS_WORD
from exitkit.safe_output import strict_json
from exitkit.workload.loader import load_workload

DEFAULT_TIMEOUT_S = 600
# The worker enforces the timeout itself (interrupt, then kill the kernel) and saves the
# notebook; the parent kills the worker's whole process tree only when it overruns by this.
HARD_KILL_GRACE_S = 30.0


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)


def run_reports(
    workloads: list[str | Path],
    db: str | Path | None,
    out: str | Path,
    *,
    jobs: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    progress: bool | None = None,
    notebook: str | Path | None = None,
) -> list[dict]:
    """Run every workload; return one result dict per workload (in the order given).

    `notebook` replaces the kit's report notebook (same `parameters` cell: workload, db,
    out_dir); tests use it to run small fault-injecting notebooks through the real batch.
    """
    out = Path(out).resolve()
    nb = str(Path(notebook).resolve()) if notebook else None
    with output_folder(out):
        return _run_all(workloads, db, out, jobs, timeout_s, progress, nb)


LOCK_NAME = ".exitkit-report.lock"


@contextmanager
def output_folder(out: Path) -> Iterator[Path]:
    """Hold `out` for one run: created if missing, writable, and locked against a second
    `exitkit report` writing into it at the same time (which would interleave files and leave an
    index that matches neither run). The second run refuses at once with one line."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = FileLock(out / LOCK_NAME, timeout=0)
        lock.acquire()
    except Timeout:
        raise OutputError(
            f"{shown_path(out)}: another `exitkit report` is writing into this folder; "
            "wait for it to finish, or choose another --out"
        ) from None
    except OSError as exc:
        raise OutputError(
            f"{shown_path(out)}: cannot write reports here ({exc.strerror or exc}); choose another --out"
        ) from None
    try:
        yield out
    finally:
        lock.release()  # the lock file stays (deleting it would race a run that just opened it)


def write_atomic(path: Path, text: str) -> Path:
    """Write `text` to a temporary file beside `path`, then rename it over `path`: a reader (or a
    crash) sees the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _run_all(
    workloads: list[str | Path], db: str | Path | None, out: Path, jobs: int | None, timeout_s: float,
    progress: bool | None, nb: str | None,
) -> list[dict]:  # fmt: skip
    db_abs = str(Path(db).resolve()) if db else None
    paths = [Path(w).resolve() for w in workloads]
    results: list[dict | None] = [None] * len(paths)
    with ThreadPoolExecutor(max_workers=jobs or default_jobs()) as pool:
        futures = {pool.submit(_run_worker, p, db_abs, out, timeout_s, nb): i for i, p in enumerate(paths)}
        bar = tqdm(
            total=len(paths), desc="reports", unit="workload", disable=not progress if progress is not None else None
        )
        for fut in as_completed(futures):
            results[futures[fut]] = fut.result()
            bar.update(1)
        bar.close()
    final = _dedupe_names([r for r in results if r is not None])
    write_summary(final, out)
    write_index(final, out)
    return final


def _run_worker(workload: Path, db: str | None, out: Path, timeout_s: float, notebook: str | None = None) -> dict:
    """One workload in its own process group, killed whole (kernel included) if it overruns."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        result_path = Path(tmp.name)
    cmd = [
        sys.executable,
        "-m",
        "exitkit.report.worker",
        str(workload),
        "--out",
        str(out),
        "--result",
        str(result_path),
        "--timeout",
        str(timeout_s),
    ]
    if db:
        cmd += ["--db", db]
    if notebook:
        cmd += ["--notebook", notebook]
    base = {
        "name": _fallback_name(workload),
        "workload": str(workload),
        "status": "failed",
        "html": None,
        "ipynb": None,
        "error": None,
    }
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, stderr = proc.communicate(timeout=timeout_s + HARD_KILL_GRACE_S)
    except subprocess.TimeoutExpired:
        _kill_tree(proc.pid)  # the worker, papermill and the kernel (which runs in its own session)
        proc.communicate()
        result_path.unlink(missing_ok=True)
        kept = _kept_notebook(out, workload)
        return {**base, "ipynb": kept, "error": f"timed out after {timeout_s:g}s (per-workload timeout; worker killed)"}
    try:
        result = json.loads(result_path.read_text() or "null")
    except (OSError, json.JSONDecodeError):
        result = None
    finally:
        result_path.unlink(missing_ok=True)
    if not result:
        last = [ln for ln in (stderr or "").strip().splitlines() if ln.strip()]
        return {**base, "error": f"worker exited {proc.returncode}: {last[-1] if last else 'no output'}"}
    return {**base, **result}


def _kill_tree(pid: int) -> None:
    """SIGKILL a worker and every process below it, each in its own group too.

    Jupyter starts kernels with `start_new_session`, so killing the worker's process group
    alone would leave the kernel running (and computing) after the batch moved on.
    """
    try:
        procs = psutil.Process(pid).children(recursive=True)  # collected before the parent dies
    except psutil.Error:
        procs = []
    for target in [pid, *(p.pid for p in procs)]:
        for kill in (os.killpg, os.kill):
            try:
                kill(target, signal.SIGKILL)
            except OSError:
                pass
    psutil.wait_procs(procs, timeout=5)


def _kept_notebook(out: Path, workload: Path) -> str | None:
    """The partially executed notebook papermill saved before a timeout, if any."""
    try:
        name = load_workload(workload).name
    except Exception:  # noqa: BLE001 - best effort: the workload may be the broken part
        name = _fallback_name(workload)
    nb = out / f"{name}.ipynb"
    return str(nb) if nb.exists() else None


def _fallback_name(workload: Path) -> str:
    return workload.stem.removesuffix(".workload")


def _dedupe_names(results: list[dict]) -> list[dict]:
    seen: set[str] = set()
    for r in results:
        if r["name"] in seen and r["status"] == "ok":
            r.update(
                status="failed", error=f"duplicate workload name {r['name']!r}: its outputs would overwrite another's"
            )
        seen.add(r["name"])
    return results


SUMMARY_KEYS = (
    "name",
    "title",
    "status",
    "html",
    "ipynb",
    "error",
    "cheapest",
    "monthly_savings_usd",
    "gates",
    "recommendation",
    "workload",
    "decision",
    "candidate",
    "monthly_saving_usd",
    "payback_month",
    "today_platform",
    "today_monthly_usd",
    "candidate_monthly_usd",
    "one_time_usd",
    "three_year_saving_usd",
)  # summary.json's fields per workload (add, never rename)


def write_summary(results: list[dict], out: Path) -> Path:
    path = out / "summary.json"
    keep = SUMMARY_KEYS
    doc = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "workloads": [{k: r.get(k) for k in keep} for r in results],
    }
    return write_atomic(path, strict_json(doc, "summary.json", indent=2))


def fleet_totals(results: list[dict]) -> dict:
    """Sums over the workloads that finished: today, the recommended candidates, savings, one-time.

    A workload whose figure is unknown is counted in `unknown` and left out of that sum (never
    as zero), so the page can say "n workloads not included".
    """
    ok = [r for r in results if r["status"] == "ok"]
    out: dict = {"workloads": len(results), "failed": len(results) - len(ok), "decisions": {}}
    for r in ok:
        out["decisions"][r.get("decision") or "unknown"] = out["decisions"].get(r.get("decision") or "unknown", 0) + 1
    for key in ("today_monthly_usd", "monthly_saving_usd", "one_time_usd", "three_year_saving_usd"):
        vals = [r.get(key) for r in ok]
        known = [v for v in vals if v is not None]
        out[key] = sum(known) if known else None
        out[key + "_unknown"] = len(vals) - len(known)
    return out


def write_index(results: list[dict], out: Path) -> Path:
    """The fleet view (template `fleet.html.j2`): every workload's decision, money, gates, links."""
    from exitkit.report.present import render  # deferred: Jinja and IPython stay off the batch's import path

    rows = []
    for r in results:
        rows.append(
            {
                **dict.fromkeys(SUMMARY_KEYS),
                **r,
                "href": Path(r["html"]).name if r.get("html") else None,
                "nb_href": Path(r["ipynb"]).name if r["status"] != "ok" and r.get("ipynb") else None,
            }
        )
    page = render(
        "fleet.html.j2",
        rows=rows,
        totals=fleet_totals(results),
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        gate_text=GATE_TEXT,
        status_word=STATUS_WORD,
    )
    path = out / "index.html"
    return write_atomic(path, page)
