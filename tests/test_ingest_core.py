"""The ingest driver: sniffing by content, .gz, folders, skip-by-hash, all-or-nothing, CLI errors."""

import gzip
import os
import subprocess
import sys

import pytest

from exitkit.errors import ExitkitError
from exitkit.ingest import IngestFailed, ingest
from exitkit.ingest import readers as ingest_readers
from exitkit.ingest.base import Reader, ReadResult, finite, points_frame
from exitkit.store import open_store


def _read_toy(source):
    """`TOYMETRICS` then lines `topic ts value`: bytes_in over [ts, ts+60)."""
    topics, ts, vals = [], [], []
    for n, line in enumerate(source.text().splitlines()[1:], start=2):
        parts = line.split()
        if len(parts) != 3:
            raise source.fail("expected 'topic ts value'", n)
        topics.append(parts[0])
        ts.append(int(finite(parts[1], source, n, "timestamp")))
        vals.append(finite(parts[2], source, n))
    pts = points_frame(
        cluster="c1", topic=topics, metric="bytes_in", ts_start=ts, ts_end=[t + 60 for t in ts], value=vals
    )
    return ReadResult(points=pts, cluster="c1")


TOY = Reader("toy", "toy test format", lambda head, src: head.startswith("TOYMETRICS"), _read_toy)


@pytest.fixture(autouse=True)
def toy_reader(monkeypatch):
    monkeypatch.setattr(ingest_readers, "READERS", (*ingest_readers.READERS, TOY))  # the real readers, then the toy


def _toy(tmp_path, name, rows, *, gz=False):
    body = "TOYMETRICS\n" + "".join(f"{t} {ts} {v}\n" for t, ts, v in rows)
    p = tmp_path / name
    p.write_bytes(gzip.compress(body.encode()) if gz else body.encode())
    return p


def _contents(db):
    with open_store(db) as con:
        return (
            con.execute("SELECT source_id, path, sha256, format, rows FROM sources ORDER BY 1").fetchall(),
            con.execute("SELECT * FROM metric_points ORDER BY ALL").fetchall(),
        )


def test_folder_gz_and_misleading_extension_are_read_by_content(tmp_path):
    d = tmp_path / "exports"
    (d / "sub").mkdir(parents=True)
    _toy(d, "a.csv", [("t1", 0, 5)])  # not a CSV: the content decides
    _toy(d / "sub", "b.txt.gz", [("t2", 0, 7)], gz=True)
    reports = ingest([d], tmp_path / "s.duckdb")
    assert [r.status for r in reports] == ["loaded", "loaded"]
    _, points = _contents(tmp_path / "s.duckdb")
    assert sorted((p[2], p[-1]) for p in points) == [("t1", 5.0), ("t2", 7.0)]


def test_same_content_is_skipped_even_when_gzipped(tmp_path):
    a = _toy(tmp_path, "a.txt", [("t1", 0, 5)])
    ingest([a], tmp_path / "s.duckdb")
    again = ingest([a, _toy(tmp_path, "a2.gz", [("t1", 0, 5)], gz=True)], tmp_path / "s.duckdb")
    assert [r.status for r in again] == ["skipped", "skipped"]
    sources, points = _contents(tmp_path / "s.duckdb")
    assert len(sources) == 1 and len(points) == 1


BAD = {
    "empty.json": b"",
    "random.bin": bytes(range(256)) * 4,
    "unrelated.csv": b"name,age\nalice,31\nbob,42\n",
    "truncated.gz": gzip.compress(b"TOYMETRICS\nt1 0 5\n" * 50)[:40],
    "nonnumeric.txt": b"TOYMETRICS\nt1 0 lots\n",
    "overflow.txt": b"TOYMETRICS\nt1 0 1e999\n",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_fails_the_call_and_leaves_the_store_unchanged(tmp_path, name):
    db = tmp_path / "s.duckdb"
    ingest([_toy(tmp_path, "good0.txt", [("t0", 0, 1)])], db)
    before = _contents(db)
    bad = tmp_path / name
    bad.write_bytes(BAD[name])
    good = _toy(tmp_path, "good.txt", [("t1", 60, 2)])
    with pytest.raises(IngestFailed) as info:
        ingest([good, bad], db)
    assert len(info.value.errors) == 1
    msg = str(info.value.errors[0])
    assert msg.startswith(str(bad)) and "\n" not in msg
    assert _contents(db) == before


def test_every_bad_file_is_reported_and_no_store_is_created(tmp_path):
    bad1 = tmp_path / "x.json"
    bad1.write_text("{}")
    bad2 = tmp_path / "y.txt"
    bad2.write_text("TOYMETRICS\nt1 0\n")
    with pytest.raises(IngestFailed) as info:
        ingest([bad1, bad2], tmp_path / "new.duckdb")
    assert [e.path for e in info.value.errors] == [str(bad1), str(bad2)]
    assert info.value.errors[1].line == 2
    assert not (tmp_path / "new.duckdb").exists()


def test_cli_prints_one_line_per_bad_file_and_exits_2(tmp_path):
    bad = tmp_path / "unrelated.csv"
    bad.write_text("a,b\n1,2\n")
    missing = tmp_path / "nope.json"
    env = {**os.environ, "EXITKIT_DB": str(tmp_path / "env.duckdb")}
    out = subprocess.run([sys.executable, "-m", "exitkit", "ingest", str(bad)], capture_output=True, text=True, env=env)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [f"error: {bad}: " + out.stderr.split(f"{bad}: ", 1)[1].strip()]
    assert "Traceback" not in out.stderr
    out = subprocess.run(
        [sys.executable, "-m", "exitkit", "ingest", str(missing)], capture_output=True, text=True, env=env
    )
    assert out.returncode == 2 and out.stderr.strip() == f"error: {missing}: no such file or folder"
    assert not (tmp_path / "env.duckdb").exists()


def test_profile_without_store_is_a_clear_error(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "exitkit", "profile", "--db", str(tmp_path / "none.duckdb"), "--format", "json"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 2 and "no store here" in out.stderr and "Traceback" not in out.stderr


def test_unknown_format_option(tmp_path):
    p = _toy(tmp_path, "a.txt", [("t1", 0, 5)])
    with pytest.raises(IngestFailed, match="unknown --format 'nope'"):
        ingest([p], tmp_path / "s.duckdb", fmt="nope")


def test_cli_summary_counts_loaded_companion_and_skipped_files(tmp_path):
    from pathlib import Path

    flat = Path(__file__).parent / "fixtures" / "confluent" / "query_flat"  # 2 pages (3 + 2 points) + request
    db = str(tmp_path / "s.duckdb")
    cmd = [sys.executable, "-m", "exitkit", "ingest", str(flat), "--db", db]
    first = subprocess.run(cmd, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert (
        first.stdout.strip()
        .splitlines()[-1]
        .startswith(f"2 file(s) loaded, 1 companion file(s) used, 5 rows into {db} in ")
    )
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert (
        again.stdout.strip()
        .splitlines()[-1]
        .startswith(f"0 file(s) loaded, 1 companion file(s) used, 2 skipped (already loaded), 0 rows into {db} in ")
    )


def test_points_frame_takes_arrays_as_it_takes_lists():
    import numpy as np
    import pandas as pd

    # 1741003200 s = 2025-03-03 12:00:00 UTC; partitions 0, none, 7
    lists = points_frame(
        cluster="c1", topic=["a", "b", "a"], metric="bytes_in", partition=[0, None, 7],
        ts_start=[1741003200, 1741003260, 1741003320], ts_end=[1741003260, 1741003320, 1741003380],
        value=[1.0, 2.5, 3.0],
    )  # fmt: skip
    arrays = points_frame(
        cluster="c1", topic=np.array(["a", "b", "a"], dtype=object), metric="bytes_in",
        partition=np.array([0.0, np.nan, 7.0]),
        ts_start=np.array([1741003200, 1741003260, 1741003320]), ts_end=np.array([1741003260.0, 1741003320.0, 1741003380.0]),
        value=np.array([1.0, 2.5, 3.0]),
    )  # fmt: skip
    pd.testing.assert_frame_equal(arrays, lists, check_exact=True)
    assert arrays["ts_start"].tolist() == [pd.Timestamp("2025-03-03 12:00"), pd.Timestamp("2025-03-03 12:01"),
                                           pd.Timestamp("2025-03-03 12:02")]  # fmt: skip
    assert arrays["partition"].tolist() == [0, pd.NA, 7] and str(arrays["partition"].dtype) == "Int64"


def test_overlapping_files_that_disagree_are_named_with_the_size_of_the_disagreement(tmp_path):
    """Issue 19 item 4: the same intervals in two files with other values. The rule stays (the
    profile counts one value per interval); the summary says so, naming both files."""
    from exitkit.profile.topics import topic_profile

    first = _toy(tmp_path, "a.toy", [("t", 1_741_003_200 + 60 * k, 100.0) for k in range(4)])
    db = tmp_path / "s.duckdb"
    (rep_a,) = ingest([first], db, progress=False)
    assert not any("disagree" in n for n in rep_a.notes)
    # b: same 4 intervals, 2 of them 150 instead of 100 (50 % apart), and 1 interval of its own
    second = _toy(tmp_path, "b.toy", [("t", 1_741_003_200 + 60 * k, v) for k, v in enumerate([100, 150, 150, 100, 9])])
    agree = _toy(tmp_path, "c.toy", [("t", 1_741_003_200, 100.0), ("u", 1_741_003_200, 1.0)])
    rep_b, rep_c = ingest([second, agree], db, progress=False)
    assert rep_b.notes == [
        f"disagrees with {first} on 2 of 4 shared intervals (bytes_in of topic t, cluster c1: 150 here, 100 there, "
        "50% apart at most); the profile counts the larger value of each interval"
    ]
    assert rep_c.notes == []  # overlaps a and b, agrees with both
    with open_store(db) as con:
        mean = topic_profile(con).set_index("topic").loc["t", "write_bytes_per_s_mean"]
    assert mean == pytest.approx((100 + 150 + 150 + 100 + 9) / 5)


def test_out_of_range_timestamps_are_printed_as_iso_text_not_epoch_floats(tmp_path):
    """Issue 19 item 13: `timestamp 5000000000.0 is not a time ...` said nothing a reader could check."""
    text = tmp_path / "far.prom"
    text.write_text('kafka_server_brokertopicmetrics_bytesin_total{topic="t",cluster="c"} 1 5000000000000\n')
    rng = tmp_path / "far.json"
    rng.write_text(
        '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"kafka_log_log_size",'
        '"topic":"t","cluster":"c"},"values":[[1e15,"1"]]}]}}'
    )
    with pytest.raises(IngestFailed) as exc:
        ingest([text, rng], tmp_path / "s.duckdb", progress=False)
    lines = str(exc.value).splitlines()
    assert lines[0] == (
        f"{text}:1: timestamp 2128-06-11T08:53:20Z is not a time between 2000 and 2100 (expected Unix seconds or ms)"
    )
    assert lines[1] == (
        f"{rng}: data.result[0] sample 0: timestamp after year 9999 (1e+15 s since 1970) is not a time between 2000 "
        "and 2100 (expected Unix seconds or ms)"
    )
    assert "e+" not in lines[0] and ".0 " not in lines[0]


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_fifo_or_device_on_the_command_line_is_not_a_regular_file(tmp_path, kind):
    """Issue 19 item 13: was `no such file or folder` (and a FIFO must never be opened: it would block)."""
    if kind == "fifo":
        p = tmp_path / "pipe"
        os.mkfifo(p)
    else:
        p = "/dev/null"
    with pytest.raises(IngestFailed) as exc:
        ingest([p], tmp_path / "s.duckdb", progress=False)
    what = "a FIFO" if kind == "fifo" else "a character device"
    assert str(exc.value) == f"{p}: not a regular file ({what}); expected an export file or a folder of them"


# --- issue 19 item 9: gzip bombs --------------------------------------------------------------

_RSS = """
import resource, sys
from exitkit.cli import cli
try:
    cli(sys.argv[1:], prog_name="exitkit")
except SystemExit as exc:
    code = exc.code
print(f"RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss} EXIT {code}")
"""


def _bomb(path, mib: int, head: bytes = b"") -> None:
    """`head`, then `mib` MiB of spaces, gzipped (a few hundred KiB on disk)."""
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(head)
        block = b" " * 2**20
        for _ in range(mib):
            f.write(block)


def _run_rss(tmp_path, *args, env=None) -> tuple[int, int, str]:
    res = subprocess.run([sys.executable, "-c", _RSS, *args], capture_output=True, text=True, cwd=tmp_path,
                         env={**os.environ, **(env or {})})  # fmt: skip
    rss, code = res.stdout.split()[-3], res.stdout.split()[-1]
    return int(rss) * 1024, int(code), res.stderr


def test_gzip_bomb_is_refused_at_the_limit_with_bounded_memory(tmp_path):
    """Was: decompressed whole before sniffing (2 MB -> 4.3 GB RSS), two at once with read-ahead.
    Two 300 MiB bombs against a 16 MiB limit: one line each, and RSS stays within 100 MiB of a
    tiny load's."""
    head = b'kafka_log_log_size{topic="t",partition="0",cluster="c"} 1 1741003200000\n'
    a, b = tmp_path / "a.prom.gz", tmp_path / "b.prom.gz"
    _bomb(a, 300, head)
    _bomb(b, 300, head)
    tiny = tmp_path / "tiny.prom.gz"
    _bomb(tiny, 0, head)
    env = {"EXITKIT_MAX_DECOMPRESSED": "16MiB"}
    base_rss, code, err = _run_rss(tmp_path, "ingest", str(tiny), "--db", str(tmp_path / "t.duckdb"), env=env)
    assert code == 0, err
    rss, code, err = _run_rss(tmp_path, "ingest", str(a), str(b), "--db", str(tmp_path / "s.duckdb"), env=env)
    assert code == 2
    want = "decompresses to more than 16 MiB (EXITKIT_MAX_DECOMPRESSED); refused as a possible gzip bomb"
    assert err.splitlines() == [f"error: {a}: {want}", f"error: {b}: {want}"]
    assert rss - base_rss < 100 * 2**20, (rss, base_rss)
    assert not (tmp_path / "s.duckdb").exists()


def test_gzip_content_that_no_reader_knows_is_refused_from_its_first_bytes(tmp_path):
    """The format is sniffed from the first decompressed bytes: the rest (600 MiB, under the
    limit) is never inflated."""
    bomb = tmp_path / "x.gz"
    _bomb(bomb, 600, b"PK\x03\x04 not an export\n")
    tiny = tmp_path / "tiny.gz"
    _bomb(tiny, 0, b"PK\x03\x04 not an export\n")
    base_rss, code, _ = _run_rss(tmp_path, "ingest", str(tiny), "--db", str(tmp_path / "s.duckdb"))
    rss, code, err = _run_rss(tmp_path, "ingest", str(bomb), "--db", str(tmp_path / "s.duckdb"))
    assert code == 2 and "not a recognized export" in err
    assert rss - base_rss < 100 * 2**20, (rss, base_rss)


def test_decompression_limit_setting_is_checked(tmp_path, monkeypatch):
    f = tmp_path / "a.gz"
    f.write_bytes(gzip.compress(b"TOYMETRICS\nt 1741003200 1\n"))
    monkeypatch.setenv("EXITKIT_MAX_DECOMPRESSED", "lots")
    with pytest.raises(ExitkitError, match="EXITKIT_MAX_DECOMPRESSED='lots': not a size"):
        ingest([f], tmp_path / "s.duckdb", progress=False)
    monkeypatch.setenv("EXITKIT_MAX_DECOMPRESSED", "1KiB")
    (rep,) = ingest([f], tmp_path / "s.duckdb", progress=False)
    assert rep.rows == 1
