"""One workload's report, in its own process: validate → data files → papermill → HTML.

Run by `exitkit.report.batch.run_reports`; writes its result as JSON to `--result`.

The per-workload timeout is kept here, so a slow workload still leaves its executed notebook
and a clear cause: at the deadline a watchdog interrupts the kernel (SIGINT, as Jupyter's
"interrupt" does); papermill records the interrupted cell and saves the notebook. A kernel
that ignores the interrupt is killed after a grace period (papermill then saves the notebook
as far as it got). The parent (`exitkit.report.batch`) kills the whole process tree only if this
process itself stops answering.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import threading
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

import psutil

from exitkit.errors import ExitkitError
from exitkit.report.data import summary_path
from exitkit.report.export import NOTEBOOK, render_html, strip_plotly_bundle
from exitkit.workload.loader import load_workload

INTERRUPT_GRACE_S = 5.0  # after the interrupt, how long a kernel may take before it is killed
SAVE_EVERY_S = 5.0  # while cells run, the executed notebook is saved at most this often
ENGINE = "exitkit"


@functools.cache
def _engine_class():
    """papermill's nbclient engine with sparse saves, built on first use (papermill imports slowly).

    papermill writes the whole notebook at every cell's start and end: for the report (43 cells,
    plotly.js in an output) that is 86 writes of a 5 MB file, about 40% of a what-if report's run
    time. This engine saves at the start, at most every SAVE_EVERY_S while cells run, and always
    at the end (failed, interrupted or killed included), so a failure still leaves the notebook
    as far as it got; a worker killed from outside leaves the last save.
    """

    from papermill.engines import NBClientEngine, NotebookExecutionManager  # deferred: heavy, off the hot path

    class SparseSaves(NotebookExecutionManager):
        _throttled = False
        _saved_at = float("-inf")

        @contextmanager
        def _sparse(self):
            self._throttled = True
            try:
                yield
            finally:
                self._throttled = False

        def cell_start(self, cell, cell_index=None, **kwargs):
            with self._sparse():
                return super().cell_start(cell, cell_index, **kwargs)

        def cell_complete(self, cell, cell_index=None, **kwargs):
            with self._sparse():
                return super().cell_complete(cell, cell_index, **kwargs)

        def save(self, **kwargs):
            if self._throttled and time.monotonic() - self._saved_at < SAVE_EVERY_S:
                return None
            self._saved_at = time.monotonic()
            return super().save(**kwargs)

    class SparseSaveEngine(NBClientEngine):
        @classmethod
        def execute_notebook(
            cls, nb, kernel_name, output_path=None, progress_bar=True, log_output=False, autosave_cell_every=30, **kw
        ):
            # papermill's Engine.execute_notebook, with SparseSaves for its execution manager
            nb_man = SparseSaves(
                nb,
                output_path=output_path,
                progress_bar=progress_bar,
                log_output=log_output,
                autosave_cell_every=autosave_cell_every,
            )
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kw)
            finally:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            return nb_man.nb

    return SparseSaveEngine


def register_engine() -> str:
    """Register the sparse-save engine with papermill (idempotent); returns its name."""
    from papermill.engines import papermill_engines  # deferred: heavy, off the hot path

    papermill_engines.register(ENGINE, _engine_class())
    return ENGINE


def kernel_tree() -> list:
    """Every process below this one (the kernel, and anything the notebook started)."""

    try:
        return psutil.Process().children(recursive=True)
    except psutil.Error:
        return []


def signal_tree(procs: list, sig: int) -> None:
    """Send `sig` to each process and its process group (kernels run in their own session)."""
    for p in procs:
        for send in (os.killpg, os.kill):
            try:
                send(p.pid, sig)
            except OSError:
                pass


class Watchdog:
    """Interrupts, then kills, the kernel when the workload's time is up."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.fired = threading.Event()
        self.killed = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()

    def _run(self) -> None:
        if self._done.wait(self.timeout_s):
            return
        self.fired.set()
        signal_tree(kernel_tree(), signal.SIGINT)
        if self._done.wait(INTERRUPT_GRACE_S):
            return
        self.killed = True
        signal_tree(kernel_tree(), signal.SIGKILL)


def run_one(workload: Path, db: str | None, out: Path, timeout_s: float, notebook: str | Path | None = None) -> dict:
    started = time.monotonic()

    result: dict = {"status": "failed", "workload": str(workload)}
    try:
        wl = load_workload(workload)
    except ExitkitError as exc:
        return {**result, "error": str(exc)}
    result.update(name=wl.name, title=wl.title)

    import nbformat  # deferred: heavy, off the hot path
    import papermill as pm  # deferred: heavy, off the hot path

    nb_path = out / f"{wl.name}.ipynb"
    result["ipynb"] = str(nb_path)
    remaining = max(1.0, timeout_s - (time.monotonic() - started))
    cell = None
    with Watchdog(remaining) as dog:
        try:
            nb = pm.execute_notebook(
                str(notebook or NOTEBOOK),
                str(nb_path),
                parameters={"workload": str(workload), "db": db or "", "out_dir": str(out)},
                kernel_name="python3",
                language="python",
                engine_name=register_engine(),
                progress_bar=False,
                # the watchdog enforces the timeout (interrupt, then kill); nbclient's own cell timeout
                # is only a backstop after the watchdog's grace, so it never decides the race
                execution_timeout=max(1, int(timeout_s + INTERRUPT_GRACE_S + 10)),
            )
            error = None
        except pm.PapermillExecutionError as exc:
            cell = exc.cell_index
            error = f"notebook cell {exc.cell_index} raised {exc.ename}: {' '.join(str(exc.evalue).split())}"
        except Exception as exc:  # noqa: BLE001 - dead kernel, start timeout: recorded, never fatal to the batch
            error = f"notebook did not finish: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    if dog.fired.is_set() and error is not None:
        if dog.killed:
            how = "the kernel ignored the interrupt and was killed"
        else:
            how = "kernel interrupted" + (f" in notebook cell {cell}" if cell is not None else f" ({error})")
        return {**result, "error": f"timed out after {timeout_s:g}s (per-workload timeout): {how}"}
    if error is not None:
        return {**result, "error": error}

    try:  # written by the report notebook from the same evaluation it rendered
        result.update(json.loads(summary_path(out, wl.name).read_text()))
    except (OSError, json.JSONDecodeError):
        pass  # a notebook without the data-files cell: the index shows no cost columns
    html_path = out / f"{wl.name}.html"
    nb = nbformat.from_dict(nb)
    render_html(nb, html_path, title=wl.title or wl.name)
    nbformat.write(strip_plotly_bundle(nb), nb_path)  # JupyterLab has its own plotly.js: 4.8 MB less
    result.update(status="ok", html=str(html_path), error=None)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m exitkit.report.worker")
    ap.add_argument("workload", type=Path)
    ap.add_argument("--db")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--result", type=Path, required=True)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument(
        "--notebook", type=Path, help="report notebook to run (default: the kit's); tests pass fault notebooks"
    )
    args = ap.parse_args()
    try:
        result = run_one(args.workload, args.db, args.out, args.timeout, args.notebook)
    except Exception as exc:  # noqa: BLE001 - a bug still becomes a recorded failure
        result = {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc(limit=5)}
    args.result.write_text(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
