"""The store file itself: layout version and migration, another application's file, DuckDB errors.

Issue 19 items 6, 7, 8 (and 13: file names that are not UTF-8). Every refusal is one line naming
the store and what to do, exit 2, and the file exactly as it was (every table compared).
With `EXITKIT_RELIABILITY_DIR` set, the cases are counted by `tools/reliability.py`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pytest

from exitkit.errors import StoreError
from exitkit.ingest import IngestFailed, ingest
from exitkit.store import LAYOUT_VERSION, open_store, schema

FIX = Path(__file__).parent / "fixtures"
PROM = FIX / "fuzz" / "prom_range.json"
GROUPS = FIX / "kafka_cli" / "c1" / "consumer-groups.txt"

# The layout of the last release (no version recorded): `sources` with 7 columns, the same
# metric and snapshot tables. Written out here, not taken from `exitkit.store.schema`, which moves on.
V1_SOURCES = """
CREATE TABLE sources (
    source_id INTEGER PRIMARY KEY, path VARCHAR NOT NULL, sha256 VARCHAR NOT NULL UNIQUE,
    format VARCHAR NOT NULL, cluster VARCHAR, loaded_at TIMESTAMP NOT NULL, rows BIGINT NOT NULL)"""


def contents(db: Path) -> dict[str, list]:
    """Every table of a DuckDB file, every row (the file opened read-only, as DuckDB itself)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = sorted(r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall())
        return {t: sorted(map(repr, con.execute(f'SELECT * FROM "{t}"').fetchall())) for t in tables}
    finally:
        con.close()


def v1_store(db: Path) -> None:
    """A store as the last release wrote it, holding one loaded file."""
    con = duckdb.connect(str(db))
    con.execute(V1_SOURCES)
    for name, stmt in [("metric_points", schema.METRIC_POINTS), *schema.SNAPSHOT_TABLES.items()]:
        if name != "bill_lines":  # layout 4
            con.execute(stmt)
    con.execute("INSERT INTO sources VALUES (1, 'old/f.json', 'sha-old', 'prometheus-range', 'c', now(), 1)")
    con.execute(
        "INSERT INTO metric_points VALUES (1, 'c', 't', NULL, NULL, NULL, 'bytes_in', "
        "'2025-03-03 12:00:00', '2025-03-03 12:01:00', 5.0)"
    )
    con.close()


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "exitkit", *args], capture_output=True, text=True, cwd=cwd)


# --- item 6: another application's DuckDB file ----------------------------------------------


def test_failed_ingest_into_another_applications_file_leaves_it_exactly_as_it_was(tmp_path):
    db = tmp_path / "app.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE customers (id INTEGER, name VARCHAR)")
    con.execute("INSERT INTO customers VALUES (1, 'a'), (2, 'b')")
    con.close()
    before = contents(db)
    bad = tmp_path / "bad.json"
    bad.write_text('{"status": "success", "data": {"resultType": "matrix", "result": 3}}')
    with pytest.raises(IngestFailed):
        ingest([PROM, bad], db, progress=False)
    assert contents(db) == before  # was: 11 exitkit tables left behind


# --- item 7: layout version, migration, newer layouts ---------------------------------------


def test_a_new_store_records_its_layout_version(tmp_path):
    db = tmp_path / "s.duckdb"
    ingest([PROM], db, progress=False)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT value FROM exitkit_meta WHERE key = 'layout_version'").fetchone() == (
        str(LAYOUT_VERSION),
    )
    con.close()


def test_a_store_of_the_last_release_is_migrated_forward_in_the_load_transaction(tmp_path):
    db = tmp_path / "old.duckdb"
    v1_store(db)
    before = contents(db)
    # a refused load migrates nothing
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(IngestFailed):
        ingest([bad], db, progress=False)
    assert contents(db) == before
    # a good one migrates and loads, in one transaction; the old rows stay
    (rep,) = ingest([PROM], db, progress=False)
    assert rep.status == "loaded" and rep.source_id == 2
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT value FROM exitkit_meta WHERE key = 'layout_version'").fetchone() == (
        str(LAYOUT_VERSION),
    )
    assert con.execute("SELECT source_id, path FROM sources ORDER BY 1").fetchall() == [
        (1, "old/f.json"),
        (2, str(PROM)),
    ]
    assert con.execute("SELECT source_id, path_bytes FROM source_paths ORDER BY 1").fetchall() == [
        (1, b"old/f.json"),
        (2, os.fsencode(PROM)),
    ]
    assert con.execute("SELECT count(*) FROM metric_points WHERE source_id = 1").fetchone() == (1,)
    con.close()


def v3_store(db: Path) -> None:
    """A layout-3 store (rehearsals, no bill_lines) holding one loaded file."""
    v1_store(db)
    con = duckdb.connect(str(db))
    for stmt in [*schema.MIGRATIONS[1], *schema.MIGRATIONS[2]]:
        con.execute(stmt)
    con.execute("INSERT INTO exitkit_meta VALUES ('layout_version', '3')")
    con.close()


def test_a_layout_3_store_gains_bill_lines_in_the_load_transaction(tmp_path):
    db = tmp_path / "v3.duckdb"
    v3_store(db)
    before = contents(db)
    assert "bill_lines" not in before
    bill = FIX / "bills" / "focus-1.0-aws.csv"
    bad = tmp_path / "bad.csv"
    bad.write_text(bill.read_text().replace("453.60,453.60", "453.60,lots", 1))
    with pytest.raises(IngestFailed, match=r"bad.csv:2: EffectiveCost 'lots' is not a number"):
        ingest([bad], db, progress=False)
    assert contents(db) == before  # a refused load migrates nothing
    (rep,) = ingest([bill], db, progress=False)
    assert rep.status == "loaded" and rep.source_id == 2
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT value FROM exitkit_meta WHERE key = 'layout_version'").fetchone() == ("4",)
    assert con.execute("SELECT count(*), count(DISTINCT source_id) FROM bill_lines").fetchone() == (9, 1)
    assert con.execute("SELECT count(*) FROM metric_points WHERE source_id = 1").fetchone() == (1,)
    con.close()


def test_an_old_store_is_read_as_it_is(tmp_path):
    db = tmp_path / "old.duckdb"
    v1_store(db)
    res = cli("profile", "--db", str(db), "--format", "csv", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[1].startswith("c,t,5.0,")


def _newer_store(db: Path) -> None:
    """A store of a future layout: `sources` has a column this exitkit does not know."""
    con = duckdb.connect(str(db))
    for stmt in schema.ddl():
        con.execute(stmt)
    con.execute("ALTER TABLE sources ADD COLUMN tenant VARCHAR")  # sources: 8 columns
    con.execute(f"INSERT INTO exitkit_meta VALUES ('layout_version', '{LAYOUT_VERSION + 1}')")
    con.close()


def test_a_newer_store_is_refused_with_one_line_naming_both_versions(tmp_path):
    """Was: `cannot store its rows (... "sources" has 8 columns but 7 values ...)`, blaming the input file."""
    db = tmp_path / "new.duckdb"
    _newer_store(db)
    before = contents(db)
    want = (
        f"error: {db}: store layout {LAYOUT_VERSION + 1} was written by a newer exitkit; this one knows layouts up "
        f"to {LAYOUT_VERSION}: upgrade exitkit, or use another --db"
    )
    for args in (["ingest", str(PROM)], ["profile"]):
        res = cli(*args, "--db", str(db), cwd=tmp_path)
        assert (res.returncode, res.stderr.strip()) == (2, want)
    assert contents(db) == before


def test_a_file_whose_sources_table_is_not_exitkits_is_refused(tmp_path):
    db = tmp_path / "x.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE sources (id INTEGER, url VARCHAR)")
    con.close()
    before = contents(db)
    with pytest.raises(StoreError, match="not an exitkit store"):
        ingest([PROM], db, progress=False)
    assert contents(db) == before


# --- item 13: file names that are not UTF-8 ---------------------------------------------------


def test_a_file_name_that_is_not_utf8_is_loaded_and_its_path_kept_losslessly(tmp_path):
    raw = os.fsencode(tmp_path) + b"/c1__caf\xe9-groups.txt"  # Latin-1 é: not UTF-8
    Path(os.fsdecode(raw)).write_bytes(GROUPS.read_bytes())
    db = tmp_path / "s.duckdb"
    res = subprocess.run(
        [sys.executable, "-m", "exitkit", "ingest", os.fsdecode(raw), "--db", str(db)],
        capture_output=True,
        cwd=tmp_path,
        env={**os.environ, "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"},
    )
    assert res.returncode == 0, res.stderr
    shown = os.fsencode(tmp_path).decode() + "/c1__caf\\xe9-groups.txt"
    assert f"loaded   {shown} (kafka-consumer-groups".encode() in res.stdout
    with open_store(db) as con:
        assert con.execute(
            "SELECT s.path, p.path_bytes FROM sources s JOIN source_paths p USING (source_id)"
        ).fetchall() == [(shown, raw)]
        assert con.execute("SELECT DISTINCT cluster FROM consumer_offsets").fetchall() == [("c1",)]


# --- item 8: DuckDB errors on the store are one line, exit 2, store unchanged -----------------


def _big_answer(path: Path, topics: int = 50, samples: int = 200) -> Path:
    """A query_range answer of topics × 8 partitions of log-size gauges (80,000 rows for the defaults)."""
    t0 = 1_741_003_200
    result = [
        {"metric": {"__name__": "kafka_log_log_size", "topic": f"t{t}", "partition": str(p), "cluster": "big"},
         "values": [[t0 + 60 * k, str(1000 * k + p + t)] for k in range(samples)]}
        for t in range(topics) for p in range(8)
    ]  # fmt: skip
    path.write_text(json.dumps({"status": "success", "data": {"resultType": "matrix", "result": result}}))
    return path


def _one_line(res: subprocess.CompletedProcess, db: Path, says: str) -> None:
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert lines[0].startswith(f"error: {db}: ") and says in lines[0], lines[0]


@pytest.fixture
def loaded_store(tmp_path) -> Path:
    db = tmp_path / "s.duckdb"
    ingest([PROM, FIX / "kafka_cli" / "c1"], db, cluster="c1", progress=False)
    return db


def test_a_damaged_store_is_one_line_saying_what_to_do(loaded_store, tmp_path):
    """Checksum errors in data blocks surfaced as `_duckdb.Error: Corrupt database file` tracebacks."""
    db = loaded_store
    size = db.stat().st_size
    with open(db, "r+b") as f:  # every 256 KiB block after the first two (DuckDB's header is 12 KiB)
        k = 2
        while 12288 + k * 262144 + 164 < size:
            f.seek(12288 + k * 262144 + 100)
            f.write(b"\x55" * 64)
            k += 1
    before = db.read_bytes()
    for args in (["profile"], ["ingest", str(_big_answer(tmp_path / "big.json", 2, 10))]):
        res = cli(*args, "--db", str(db), cwd=tmp_path)
        _one_line(res, db, "the store file is damaged")
        assert "restore it from a backup" in res.stderr
    assert db.read_bytes() == before


def test_a_truncated_store_is_one_line(loaded_store, tmp_path):
    db = loaded_store
    with open(db, "r+b") as f:
        f.truncate(20_000)
    before = db.read_bytes()
    _one_line(cli("profile", "--db", str(db), cwd=tmp_path), db, "the store file is damaged")
    assert db.read_bytes() == before


@pytest.fixture
def tiny_disk(tmp_path):
    """A 6 MiB tmpfs (root only): room for a small store, not for a big load's WAL."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mnt)]).returncode:
        pytest.skip("needs root to mount a small tmpfs")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_disk_full_at_commit_is_one_line_and_the_store_is_unchanged(tiny_disk, loaded_store, tmp_path):
    """Was: `TransactionException: Failed to commit: ... No space left on device` traceback."""
    db = tiny_disk / "s.duckdb"
    shutil.copy(loaded_store, db)
    before = contents(db)
    res = cli("ingest", str(_big_answer(tmp_path / "big.json")), "--db", str(db), cwd=tmp_path)
    _one_line(res, db, "the disk is full")
    assert contents(db) == before
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["s.duckdb"]  # no WAL left behind


def test_a_folder_where_the_wal_cannot_be_created_is_one_line(loaded_store, tmp_path):
    """The store file writable, its folder not: DuckDB failed at COMMIT creating `s.duckdb.wal`
    (`TransactionException ... Permission denied` traceback). As root the command runs as
    `nobody`, for whom the folder really is read-only (in a folder outside pytest's 0700 one)."""
    as_nobody = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="exitkit-ro-"))
    base.chmod(0o755)
    folder = base / "ro"
    folder.mkdir()
    db = folder / "s.duckdb"
    shutil.copy(loaded_store, db)
    big = _big_answer(base / "big.json", 2, 10)
    if as_nobody:
        os.chown(db, 65534, 65534)
    folder.chmod(0o555)
    before = db.read_bytes()
    try:
        cmd = [sys.executable, "-m", "exitkit", "ingest", str(big), "--db", str(db)]
        if as_nobody:
            if not shutil.which("setpriv"):
                pytest.skip("as root, needs setpriv to run the command as nobody")
            cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=base)
        _one_line(res, db, "cannot write beside the store")
        assert "make the folder writable" in res.stderr
        assert db.read_bytes() == before
    finally:
        folder.chmod(0o755)
        shutil.rmtree(base)
