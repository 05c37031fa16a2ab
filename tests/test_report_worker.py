"""The worker's papermill engine: the executed notebook is saved sparsely, but always at the end.

papermill's own engine writes the whole notebook at every cell's start and end (2 × cells + 2
writes); the kit's engine writes it at the start, at most every SAVE_EVERY_S while cells run,
and at the end, whatever happened. Counted by wrapping papermill's `write_ipynb`.
"""

from __future__ import annotations

import nbformat
import papermill as pm
import papermill.engines
import pytest

from exitkit.report import worker as report_worker

CELLS = 12


def _notebook(path, *, fail_at: int | None = None):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    p = nbformat.v4.new_code_cell("x = 0")
    p.metadata["tags"] = ["parameters"]
    nb.cells.append(p)
    for i in range(CELLS):
        src = f"raise ValueError('cell {i} fails')" if i == fail_at else f"x += {i}\nprint('cell', {i}, x)"
        nb.cells.append(nbformat.v4.new_code_cell(src))
    nbformat.write(nb, path)
    return path


@pytest.fixture
def writes(monkeypatch):
    count = []
    real = papermill.engines.write_ipynb

    def counting(nb, path):
        count.append(path)
        return real(nb, path)

    monkeypatch.setattr(papermill.engines, "write_ipynb", counting)
    return count


def _run(src, out, engine):
    return pm.execute_notebook(
        str(src), str(out), parameters={"x": 100}, kernel_name="python3", progress_bar=False, engine_name=engine
    )


def test_papermills_own_engine_saves_at_every_cell_start_and_end(tmp_path, writes):
    # the baseline the kit's engine improves on: 1 + 2 × (parameters + injected + CELLS) + 1
    _run(_notebook(tmp_path / "in.ipynb"), tmp_path / "out.ipynb", None)
    assert len(writes) == 2 + 2 * (CELLS + 2)


def test_sparse_engine_saves_at_start_and_end_and_the_notebook_is_complete(tmp_path, writes, monkeypatch):
    monkeypatch.setattr(report_worker, "SAVE_EVERY_S", 3600.0)
    out = tmp_path / "out.ipynb"
    _run(_notebook(tmp_path / "in.ipynb"), out, report_worker.register_engine())
    # notebook_start and notebook_complete only (papermill's engine: 2 + 2 × 14 = 30)
    assert len(writes) == 2
    nb = nbformat.read(out, as_version=4)
    last = nb.cells[-1]
    # x = 100 (injected) + 0 + 1 + … + 11 = 166: every cell ran and the final save has it
    assert last.outputs[0]["text"] == f"cell {CELLS - 1} 166\n"
    assert all(c.metadata.papermill["status"] == "completed" for c in nb.cells)


def test_sparse_engine_saves_the_failed_notebook_as_far_as_it_got(tmp_path, writes, monkeypatch):
    monkeypatch.setattr(report_worker, "SAVE_EVERY_S", 3600.0)
    out = tmp_path / "out.ipynb"
    with pytest.raises(pm.PapermillExecutionError) as err:
        _run(_notebook(tmp_path / "in.ipynb", fail_at=5), out, report_worker.register_engine())
    assert err.value.ename == "ValueError"
    nb = nbformat.read(out, as_version=4)
    failed = [c for c in nb.cells if c.cell_type == "code" and c.metadata.papermill.get("exception")]
    assert len(failed) == 1 and "cell 5 fails" in failed[0].outputs[-1]["evalue"]
    # cells before it ran: x = 100 + 0 + 1 + 2 + 3 + 4 = 110 printed by the cell before
    assert "cell 4 110" in nbformat.writes(nb)


def test_sparse_engine_saves_again_once_the_interval_has_passed(tmp_path, writes, monkeypatch):
    monkeypatch.setattr(report_worker, "SAVE_EVERY_S", 0.0)  # every throttled save is due: papermill's count
    _run(_notebook(tmp_path / "in.ipynb"), tmp_path / "out.ipynb", report_worker.register_engine())
    assert len(writes) == 2 + 2 * (CELLS + 2)
