"""One workload's report, in its own process: validate → data files → papermill → HTML.

Run by `exitkit.report.run_reports`; writes its result as JSON to `--result`.
"""

from __future__ import annotations

import argparse
import json
import traceback
from pathlib import Path

from exitkit.errors import ExitkitError


def run_one(workload: Path, db: str | None, out: Path, timeout_s: float) -> dict:
    from exitkit.report import NOTEBOOK, render_html
    from exitkit.workload import load_workload

    result: dict = {"status": "failed", "workload": str(workload)}
    try:
        wl = load_workload(workload)
    except ExitkitError as exc:
        return {**result, "error": str(exc)}
    result.update(name=wl.name, title=wl.title)
    try:
        from exitkit.report_data import write_data_files

        result.update(write_data_files(wl, db, out))
    except ExitkitError as exc:
        return {**result, "error": str(exc)}

    import nbformat
    import papermill as pm

    nb_path = out / f"{wl.name}.ipynb"
    result["ipynb"] = str(nb_path)
    try:
        nb = pm.execute_notebook(
            str(NOTEBOOK),
            str(nb_path),
            parameters={"workload": str(workload), "db": db or "", "out_dir": str(out)},
            kernel_name="python3",
            language="python",
            progress_bar=False,
            execution_timeout=int(timeout_s),
        )
    except pm.PapermillExecutionError as exc:
        return {
            **result,
            "error": f"notebook cell {exc.cell_index} raised {exc.ename}: {' '.join(str(exc.evalue).split())}",
        }
    except Exception as exc:  # noqa: BLE001 - dead kernel, start timeout: recorded, never fatal to the batch
        return {**result, "error": f"notebook did not finish: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"}
    html_path = out / f"{wl.name}.html"
    render_html(nbformat.from_dict(nb), html_path, title=wl.title or wl.name)
    result.update(status="ok", html=str(html_path), error=None)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m exitkit.report_worker")
    ap.add_argument("workload", type=Path)
    ap.add_argument("--db")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--result", type=Path, required=True)
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    try:
        result = run_one(args.workload, args.db, args.out, args.timeout)
    except Exception as exc:  # noqa: BLE001 - a bug still becomes a recorded failure
        result = {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc(limit=5)}
    args.result.write_text(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
