"""Crash safety of `exitkit ingest`: SIGKILL in the middle of a large load, and two loads at once.

The load is many Prometheus query_range answers (gauges, so every sample is one row and the
expected row count is known from the generator). Progress is read from the CLI's own progress
bar (tqdm draws it when stderr is a terminal, so stderr is a pseudo-terminal here): the kill
lands after the first K files were processed, K varying by trial. After each kill the store
must open and hold exactly what it held before (every table, every column), and re-running the
same command must complete with exactly the expected rows.

Trials: 3 in `make test`; `EXITKIT_FUZZ=fuzz` (`make fuzz`, `make reliability`) runs 10.
With `EXITKIT_RELIABILITY_DIR` set, the trials are written there for `tools/reliability.py`.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from exitkit.ingest import ingest
from exitkit.store import open_store

FIX = Path(__file__).parent / "fixtures"
T0 = 1_741_003_200
FILES, TOPICS, PARTITIONS, SAMPLES = 48, 8, 4, 60
ROWS_PER_FILE = TOPICS * PARTITIONS * SAMPLES
TRIALS = 10 if os.environ.get("EXITKIT_FUZZ") == "fuzz" else 3
KILL_AFTER = [2, 8, 16, 24, 32, 5, 12, 20, 28, 36]  # files processed before SIGKILL, per trial
_PROGRESS = re.compile(rb"(\d+)/(\d+)")

pytestmark = pytest.mark.slow


def _answer(i: int) -> dict:
    """One query_range answer: TOPICS × PARTITIONS log-size gauges, SAMPLES one-minute samples."""
    result = [
        {
            "metric": {
                "__name__": "kafka_log_log_size",
                "topic": f"crash.f{i:03d}.t{t}",
                "partition": str(p),
                "instance": "b-1:11001",
                "cluster": "crash",
            },
            "values": [[T0 + 60 * k, str(1_000 * k + 7 * p + i)] for k in range(SAMPLES)],
        }
        for t in range(TOPICS)
        for p in range(PARTITIONS)
    ]
    return {"status": "success", "data": {"resultType": "matrix", "result": result}}


def table_contents(db: Path) -> dict[str, list]:
    with open_store(db) as con:
        tables = sorted(r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall())
        return {t: sorted(map(repr, con.execute(f'SELECT * FROM "{t}"').fetchall())) for t in tables}


def counts(db: Path) -> dict[str, int]:
    with open_store(db) as con:
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in ("sources", "metric_points")}


@pytest.fixture(scope="module")
def big_load(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("crash")
    exports = d / "exports"
    exports.mkdir()
    for i in range(FILES):
        (exports / f"answer-{i:03d}.json").write_text(json.dumps(_answer(i)))
    base = d / "base.duckdb"  # a store already holding data
    ingest([FIX / "kafka_cli" / "c1"], base, cluster="c1", progress=False)
    ingest([FIX / "fuzz" / "prom_range.json"], base, progress=False)
    return {"dir": d, "exports": exports, "base": base, "before": table_contents(base), "counts": counts(base)}


def _cmd(exports: Path, db: Path) -> list[str]:
    return [sys.executable, "-m", "exitkit", "ingest", str(exports), "--db", str(db)]


def _start_on_pty(cmd: list[str], cwd: Path) -> tuple[subprocess.Popen, int]:
    """The command with stderr on a pseudo-terminal (so the progress bar is drawn), in its own group."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # tqdm draws nothing at width 0
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=slave, cwd=cwd, start_new_session=True)
    os.close(slave)
    return proc, master


def _wait_progress(proc: subprocess.Popen, master: int, files: int, timeout: float = 120) -> int:
    """Block until the progress bar shows at least `files` files processed; the count seen."""
    seen, buf, end = 0, b"", time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        ready, _, _ = select.select([master], [], [], 0.05)
        if not ready:
            continue
        try:
            buf = (buf + os.read(master, 4096))[-4096:]
        except OSError:
            break
        for m in _PROGRESS.finditer(buf):
            seen = max(seen, int(m.group(1)))
        if seen >= files:
            return seen
    raise AssertionError(f"no progress to {files} files within {timeout}s (saw {seen}; exit {proc.poll()})")


def _record(name: str, record: dict) -> None:
    out = os.environ.get("EXITKIT_RELIABILITY_DIR")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / f"crash-{name}.json").write_text(json.dumps(record))


def test_sigkill_mid_load_leaves_the_store_as_it_was_and_a_rerun_completes(big_load, tmp_path):
    expected = {
        "sources": big_load["counts"]["sources"] + FILES,
        "metric_points": big_load["counts"]["metric_points"] + FILES * ROWS_PER_FILE,
    }
    trials = []
    for trial in range(TRIALS):
        d = tmp_path / f"trial{trial}"
        d.mkdir()
        db = d / "store.duckdb"
        shutil.copy(big_load["base"], db)
        kill_after = KILL_AFTER[trial % len(KILL_AFTER)]
        proc, master = _start_on_pty(_cmd(big_load["exports"], db), d)
        try:
            seen = _wait_progress(proc, master, kill_after)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            os.close(master)
        assert proc.returncode == -signal.SIGKILL, f"trial {trial}: the load finished before the kill"
        # The store opens and holds exactly what it held before: every table, every column.
        after_kill = table_contents(db)
        assert after_kill == big_load["before"], f"trial {trial}: killed load left a changed store"
        # The same command, run again, completes with exactly the expected rows.
        rerun = subprocess.run(_cmd(big_load["exports"], db), capture_output=True, text=True, cwd=d, timeout=300)
        assert rerun.returncode == 0, rerun.stderr
        got = counts(db)
        assert got == expected, f"trial {trial}: {got} != {expected}"
        with open_store(db) as con:
            per_file = con.execute(
                "SELECT min(n), max(n) FROM (SELECT count(*) AS n FROM metric_points JOIN sources USING (source_id) "
                "WHERE sources.path LIKE ? GROUP BY source_id)",
                [f"%{os.sep}answer-%"],
            ).fetchone()
        assert per_file == (ROWS_PER_FILE, ROWS_PER_FILE)
        trials.append({"trial": trial, "killed_after_files": seen, "of": FILES, "store_unchanged": True,
                       "rerun_rows": got["metric_points"], "expected_rows": expected["metric_points"]})  # fmt: skip
        shutil.rmtree(d, ignore_errors=True)
    _record("sigkill", {"suite": "crash", "name": "sigkill", "trials": trials, "files": FILES,
                        "rows_per_file": ROWS_PER_FILE})  # fmt: skip


def test_second_concurrent_ingest_is_refused_with_one_line_and_nothing_breaks(big_load, tmp_path):
    db = tmp_path / "store.duckdb"
    shutil.copy(big_load["base"], db)
    small = tmp_path / "other__acls.txt"  # content the store does not hold yet
    small.write_text((FIX / "kafka_cli" / "c1" / "acls.txt").read_text() + "\n")
    # The folder named four times: every file is read four times (and loaded once), so the first
    # load is still running while the two other commands start up.
    first, master = _start_on_pty(_cmd(big_load["exports"], db) + [str(big_load["exports"])] * 3, tmp_path)
    try:
        _wait_progress(first, master, 2)
        others = [
            subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for cmd in (
                [sys.executable, "-m", "exitkit", "ingest", str(small), "--db", str(db)],
                [sys.executable, "-m", "exitkit", "profile", "--db", str(db), "--format", "json"],
            )
        ]
        while any(p.poll() is None for p in others):  # keep the terminal drained meanwhile
            if select.select([master], [], [], 0.1)[0]:
                os.read(master, 65536)
        second, reader = (subprocess.CompletedProcess(p.args, p.returncode, *p.communicate()) for p in others)
        still_running = first.poll() is None
        # drain the progress bar so the first load never blocks on a full terminal buffer
        while first.poll() is None:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    os.read(master, 65536)
                except OSError:
                    break
        first.wait(timeout=300)
    finally:
        os.close(master)
    assert still_running, "the first load finished before the second started: the test proved nothing"
    for other in (second, reader):
        assert other.returncode == 2, other.stderr
        lines = other.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "store is in use" in lines[0], other.stderr
    assert first.returncode == 0
    assert counts(db) == {
        "sources": big_load["counts"]["sources"] + FILES,
        "metric_points": big_load["counts"]["metric_points"] + FILES * ROWS_PER_FILE,
    }
    # Once the first is done, the refused command works (same store, nothing corrupted).
    again = subprocess.run(
        [sys.executable, "-m", "exitkit", "ingest", str(small), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert counts(db)["sources"] == big_load["counts"]["sources"] + FILES + 1
    _record("concurrent", {"suite": "crash", "name": "concurrent", "second_exit": second.returncode,
                           "second_stderr": second.stderr.strip(), "reader_exit": reader.returncode,
                           "first_exit": first.returncode})  # fmt: skip
