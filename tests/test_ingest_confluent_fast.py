"""The Confluent /query fast path (DuckDB parses large FLAT pages) gives what the Python reader gives.

Pages of at least `EXITKIT_FAST_MIN_BYTES` (1 MiB by default) are parsed by DuckDB; anything the
fast path is unsure of goes to the Python reader. The contract: for any file, valid or not, the
outcome is the Python reader's outcome — the same points (values, labels, order), cluster and
notes, or the same one-line BadExport. Checked here on the fixtures, on generated minute pages
and on mutated pages (hypothesis), with the fast path forced (threshold 0) against the Python
reader alone (threshold beyond any file).
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exitkit.errors import BadExport
from exitkit.ingest import confluent_query, read_file
from tests.test_fuzz_readers import FUZZ, SEEDS, Tally, mutate
from tests.test_ingest_confluent import FIX, generate, write_minute_pages

PYTHON_ONLY = str(1 << 62)


def outcome(path: Path, monkeypatch, threshold: str, **hints):
    """What reading `path` gives with this fast-path threshold: ("ok", frame, cluster, notes) or ("bad", message)."""
    monkeypatch.setenv("EXITKIT_FAST_MIN_BYTES", threshold)
    try:
        _, reader, r = read_file(path, **hints)
    except BadExport as exc:
        return ("bad", str(exc))
    pts = None if r.points is None else _plain(r.points)
    return ("ok", reader.name, pts, r.cluster, list(r.notes))


def _plain(points: pd.DataFrame) -> pd.DataFrame:
    """Label columns (categorical, string or object) as plain objects with None for missing: the
    store receives the same VARCHAR values and NULLs whichever of these dtypes a frame has."""
    out = points.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype | pd.StringDtype) or out[c].dtype == object:
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out.reset_index(drop=True)


def assert_same(a, b):
    assert a[0] == b[0], (a, b)
    if a[0] == "bad":
        assert a == b
        return
    assert a[1] == b[1] and a[3:] == b[3:]
    if a[2] is None or b[2] is None:
        assert a[2] is None and b[2] is None
    else:
        pd.testing.assert_frame_equal(a[2], b[2], check_exact=True)


@pytest.fixture
def fast_taken(monkeypatch):
    """How many reads the fast path answered itself (not handed to the Python reader)."""
    taken = []
    real = confluent_query._fast

    def spy(source):
        r = real(source)
        if r is not None:
            taken.append(source.path)
        return r

    monkeypatch.setattr(confluent_query, "_fast", spy)
    return taken


def _pages(tmp_path: Path) -> list[Path]:
    rng = random.Random(3)
    write_minute_pages(tmp_path / "write", "received_bytes", generate(1, {"orders.v1": {17, 18, 64}}), rng)
    write_minute_pages(tmp_path / "read", "sent_bytes", generate(2, {"orders.v1": {100}}), rng)
    pages = sorted(tmp_path.rglob("*.page*.json"))
    fixtures = [FIX / "query_flat/received_bytes.json", FIX / "query_flat/received_bytes.page2.json"]
    fixtures += [FIX / "query_grouped/lkc-abc12_sent_bytes_p1.json", FIX / "query_cluster/cluster_total.json"]
    return pages + fixtures


def test_fast_path_reads_every_page_as_the_python_reader_does(tmp_path, monkeypatch, fast_taken):
    pages = _pages(tmp_path)
    for page in pages:
        assert_same(outcome(page, monkeypatch, "0"), outcome(page, monkeypatch, PYTHON_ONLY))
    # not vacuous: the generated FLAT minute pages and the FLAT fixture pages were the fast path's own
    assert len(set(fast_taken)) >= 6, fast_taken


def test_fast_path_points_are_the_generators_truth(tmp_path, monkeypatch, fast_taken):
    truth = generate(7, {"orders.v1": {3}})
    write_minute_pages(tmp_path, "received_bytes", truth, random.Random(1))
    monkeypatch.setenv("EXITKIT_FAST_MIN_BYTES", "0")
    for n, (topic, minutes) in enumerate(truth.items(), 1):
        _, _, r = read_file(tmp_path / f"received_bytes.page{n}.json")
        p = r.points
        assert set(p["topic"].astype(str)) == {topic} and set(p["metric"].astype(str)) == {"bytes_in"}
        # per-minute deltas → bytes per second, one row per minute with data, gaps absent
        assert sorted(p["value"].tolist()) == sorted(v / 60 for v in minutes.values())
        assert (p["ts_end"] - p["ts_start"]).eq(pd.Timedelta(minutes=1)).all()
    assert len(fast_taken) == 2


@pytest.mark.parametrize("seed", SEEDS["confluent-query"], ids=lambda s: s.name)
def test_mutated_pages_give_the_python_readers_outcome(seed, tmp_path_factory, monkeypatch, fast_taken):
    work = tmp_path_factory.mktemp("fast-fuzz")
    for c in seed.companions:
        shutil.copy(c, work / c.name)
    hints = {"cluster": seed.cluster} if seed.cluster else {}
    tally = Tally("fastpath", seed.name)  # figures for docs/reliability.md (tools/reliability.py)
    tally.counts["fast_path"] = 0

    @FUZZ
    @given(data=st.data())
    def run(data):
        page = work / seed.name
        page.write_bytes(mutate(data.draw, seed))
        taken = len(fast_taken)
        fast = outcome(page, monkeypatch, "0", **hints)
        tally.counts["fast_path"] += len(fast_taken) > taken
        assert_same(fast, outcome(page, monkeypatch, PYTHON_ONLY, **hints))
        tally.counts["examples"] += 1
        tally.counts["loaded" if fast[0] == "ok" else "rejected"] += 1
        if fast[0] == "bad":
            tally.messages.add(fast[1].split(": ", 1)[-1])

    try:
        run()
    finally:
        tally.write()
