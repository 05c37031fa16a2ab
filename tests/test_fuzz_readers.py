"""Fuzzing every reader: mutated copies of the fixture exports go through `exitkit.ingest.ingest`.

Seeds are the readers' own fixtures. A mutation is one to four operations, structural where
the format allows it (JSON: drop a key, swap a value's type, extreme numbers, NaN/Inf, odd
Unicode strings, duplicate keys, reordered keys, deep nesting; text: drop/duplicate/swap/cut
lines, extreme or non-ASCII numbers, odd Unicode names, CRLF) and byte-level (truncate, flip,
insert, delete, gzip). The only outcomes allowed:

- the file loads (into a store that already holds data), or
- `IngestFailed` whose every error is a `BadExport` with a ONE-line message naming the file,
  and the store's tables are exactly what they were before the call.

Budget: `EXITKIT_FUZZ=ci` (default, `make test`) runs 30 examples per reader;
`EXITKIT_FUZZ=fuzz` (`make fuzz`) 500, plus a sweep of every number at the type limits. With `EXITKIT_RELIABILITY_DIR` set, each test
writes its counts there for `tools/reliability.py`.
"""

from __future__ import annotations

import copy
import gzip
import itertools
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from exitkit.errors import BadExport
from exitkit.ingest import IngestFailed, ingest
from exitkit.store import open_store

FIX = Path(__file__).parent / "fixtures"

settings.register_profile(
    "ci",
    max_examples=30,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile(
    "fuzz",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile(  # find many distinct failures fast: no shrinking, report every one
    "hunt",
    max_examples=300,
    deadline=None,
    phases=[Phase.generate],
    report_multiple_bugs=True,
    suppress_health_check=list(HealthCheck),
)
PROFILE = os.environ.get("EXITKIT_FUZZ", "ci")
FUZZ = settings(settings.get_profile(PROFILE))


class Seed:
    """A fixture file to mutate, the name it is written under, its companions, the --cluster hint."""

    def __init__(self, rel: str, *, name: str | None = None, companions: tuple[str, ...] = (), cluster=None):
        self.path = FIX / rel
        self.name = name or self.path.name
        self.companions = tuple(FIX / c for c in companions)
        self.cluster = cluster
        self.data = self.path.read_bytes()


# reader -> seeds (every one loads unmodified as that reader: test_every_seed_loads_as_its_reader)
SEEDS: dict[str, list[Seed]] = {
    "cloudwatch": [
        Seed("cloudwatch/get-metric-data.json"),
        Seed("cloudwatch/get-metric-statistics.json", cluster="prod-msk"),
        Seed("cloudwatch/payments-b3.json", companions=("cloudwatch/payments-b3.request.json",)),
    ],
    "confluent-query": [
        Seed(
            "confluent/query_flat/received_bytes.json", companions=("confluent/query_flat/received_bytes.request.json",)
        ),
        Seed("confluent/query_grouped/lkc-abc12_sent_bytes_p1.json"),
        Seed("confluent/query_cluster/cluster_total.json", name="received_bytes_total.json"),
    ],
    "confluent-request": [Seed("confluent/query_flat/received_bytes.request.json")],
    "confluent-export": [
        Seed("confluent/export/scrape_ms.prom"),
        Seed("confluent/export/scrape_s.txt", name="lkc-7q2x9_scrape.txt"),
    ],
    "prometheus-range": [Seed("fuzz/prom_range.json")],
    "prometheus-text": [
        Seed("prometheus/b-1.msk-prod.scrape.txt", cluster="msk-prod"),
        Seed("prometheus/kafka_exporter.prom", cluster="prod"),
        Seed("prometheus/strimzi_untimed.txt", cluster="my-cluster"),
    ],
    "kafka-log-dirs": [Seed("kafka_cli/c1/log-dirs.txt", cluster="c1")],
    "kafka-topics": [Seed("kafka_cli/c1/topics.txt", cluster="c1")],
    "kafka-configs": [
        Seed("kafka_cli/c1/topic-configs.txt", cluster="c1"),
        Seed("kafka_cli/c1/broker-configs.txt", cluster="c1"),
        Seed("kafka_cli/c1/quotas.txt", name="c1__quotas.txt"),
    ],
    "kafka-consumer-groups": [Seed("kafka_cli/c1/consumer-groups.txt", cluster="c1")],
    "kafka-acls": [Seed("kafka_cli/c1/acls.txt", cluster="c1")],
    "mm2-offsets": [
        Seed("kafka_cli/c1/mm2-checkpoints.txt", cluster="c1"),
        Seed("kafka_cli/c1/mm2-offset-syncs.txt", cluster="c1"),
    ],
    "collect-manifest": [Seed("fuzz/manifest.json")],
}
READERS = sorted(SEEDS)

# --- mutation pools ------------------------------------------------------------------------

ODD_TEXT = [
    "é", "\u202e", "\x00", "\ufeff", "\u2028", "\u2029", "\x0c", "\U0001f600", "\u200b", "e\u0301",
    "\ud800", "'; DROP TABLE sources; --", "<script>alert(1)</script>", "x" * 5000, "\t", " ", "",
    "\\", '"', "'", "{", "}", ",", "=", "-", "--", "../../etc/passwd", "日本語", "٣", "²", "NaN",
]  # fmt: skip
EXTREME_NUMBERS = [
    0, -1, 1, 2**31, -(2**31) - 1, 2**53 + 1, 2**63, -(2**63) - 1, 2**64, 10**400, 1e308, -1e308,
    5e-324, float("nan"), float("inf"), float("-inf"), -0.0, 0.5, 1e11, 1e13, 4102444800, 946684799,
]  # fmt: skip
NUMBER_TEXT = [
    "0", "-1", "9223372036854775808", "-9223372036854775809", "2147483648", "18446744073709551616",
    "1e999", "-1e999", "NaN", "nan", "Inf", "+Inf", "-Inf", "1e-400", "0x10", "١٢٣", "²", "1_000",
    "1.5", "-0", "00", " 1", "", "9" * 400, "4102444800000", "946684799",
]  # fmt: skip
TYPE_POOL = [None, True, False, 0, -5, 1.5, "", "text", "3", [], [1, 2], {}, {"a": 1}]
SEP = "\u0000"


def _paths(node, prefix=()):
    """Every (path) inside a JSON document, parents before children."""
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _get(doc, path):
    for p in path:
        doc = doc[p]
    return doc


def _set(doc, path, value):
    if not path:
        return value
    _get(doc, path[:-1])[path[-1]] = value
    return doc


def _dumps(node, dups: dict[int, tuple[str, object]]) -> str:
    """JSON text (NaN/Infinity allowed, as Python writes them) with duplicated keys where asked."""
    if isinstance(node, dict):
        parts = [f"{json.dumps(k)}: {_dumps(v, dups)}" for k, v in node.items()]
        if id(node) in dups:
            k, v = dups[id(node)]
            parts.insert(0, f"{json.dumps(k)}: {_dumps(v, dups)}")
        return "{" + ", ".join(parts) + "}"
    if isinstance(node, list):
        return "[" + ", ".join(_dumps(v, dups) for v in node) + "]"
    return json.dumps(node)


def mutate_json(draw, doc) -> str:
    """1–3 structural mutations of a parsed JSON document, serialized."""
    dups: dict[int, tuple[str, object]] = {}
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        node = _get(doc, path)
        op = draw(
            st.sampled_from(["drop", "swap_type", "number", "string", "reorder", "duplicate_key", "list", "nest"])
        )
        if op == "drop" and path:
            parent = _get(doc, path[:-1])
            del parent[path[-1]]
        elif op == "swap_type":  # a copy: the pool's lists and dicts must never be mutated later
            doc = _set(doc, path, copy.deepcopy(draw(st.sampled_from(TYPE_POOL))))
        elif op == "number":
            n = draw(st.sampled_from(EXTREME_NUMBERS))
            doc = _set(doc, path, str(n) if isinstance(node, str) and draw(st.booleans()) else n)
        elif op == "string":
            odd = draw(st.sampled_from(ODD_TEXT))
            base = node if isinstance(node, str) else ""
            doc = _set(doc, path, draw(st.sampled_from([odd, base + odd, odd + base])))
        elif op == "reorder" and isinstance(node, dict) and node:
            keys = draw(st.permutations(list(node)))
            doc = _set(doc, path, {k: node[k] for k in keys})
        elif op == "duplicate_key" and isinstance(node, dict) and node:
            k = draw(st.sampled_from(list(node)))
            dups[id(node)] = (k, copy.deepcopy(draw(st.sampled_from(TYPE_POOL + [node[k]]))))
        elif op == "list" and isinstance(node, list) and node:
            i = draw(st.integers(0, len(node) - 1))
            what = draw(st.sampled_from(["dup", "drop", "reverse"]))
            if what == "dup":
                node.insert(i, json.loads(json.dumps(node[i])))
            elif what == "drop":
                node.pop(i)
            else:
                node.reverse()
        elif op == "nest":
            depth = draw(st.sampled_from([50, 5000, 200_000]))
            doc = _set(doc, path, "NEST")
            return _dumps(doc, dups).replace('"NEST"', "[" * depth + "]" * depth, 1)
    return _dumps(doc, dups)


_NUM_RE = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")


def mutate_text(draw, text: str) -> str:
    """1–3 line-level or token-level mutations of a text export."""
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 3))):
        lines = lines or [""]
        i = draw(st.integers(0, len(lines) - 1))
        line = lines[i] if lines else ""
        op = draw(
            st.sampled_from(
                ["drop", "dup", "swap", "cut", "insert", "number", "number", "word", "num_to_word", "crlf", "space"]
            )
        )
        if op == "drop" and lines:
            lines.pop(i)
        elif op == "dup" and lines:
            lines.insert(i, line)
        elif op == "swap" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "cut":
            lines[i] = line[: draw(st.integers(0, len(line)))]
        elif op == "insert":
            lines.insert(i, draw(st.sampled_from(ODD_TEXT + ["Topic:", "{", "garbage line", "# EOF", "   x=y"])))
        elif op in ("number", "num_to_word", "word"):
            pattern = _WORD_RE if op == "word" else _NUM_RE
            matches = list(pattern.finditer(line))
            if not matches:
                continue
            m = draw(st.sampled_from(matches))
            if op == "number":
                new = draw(st.sampled_from(NUMBER_TEXT))
            elif op == "num_to_word":
                new = draw(st.sampled_from(["abc", "true", "null", "-", "None", "1,2"]))
            else:
                odd = draw(st.sampled_from(ODD_TEXT))
                new = draw(st.sampled_from([odd, m.group() + odd, odd + m.group()]))
            lines[i] = line[: m.start()] + new + line[m.end() :]
        elif op == "crlf":
            lines = [ln + "\r" for ln in lines]
        elif op == "space":
            lines[i] = line.replace("\t", "  ") if "\t" in line else line.replace(" ", "\t")
    return "\n".join(lines)


def mutate_bytes(draw, data: bytes) -> bytes:
    op = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "gzip", "gzip_truncated", "bom"]))
    n = len(data)
    if op == "truncate":
        return data[: draw(st.integers(0, max(0, n - 1)))]
    if op == "flip" and n:
        i = draw(st.integers(0, n - 1))
        return data[:i] + bytes([data[i] ^ draw(st.integers(1, 255))]) + data[i + 1 :]
    if op == "insert":
        i = draw(st.integers(0, n))
        return data[:i] + draw(st.binary(min_size=1, max_size=8)) + data[i:]
    if op == "delete" and n:
        i = draw(st.integers(0, n - 1))
        return data[:i] + data[i + draw(st.integers(1, 64)) :]
    if op == "gzip":
        return gzip.compress(data)
    if op == "gzip_truncated":
        z = gzip.compress(data)
        return z[: draw(st.integers(2, max(2, len(z) - 1)))]
    if op == "bom":
        return b"\xef\xbb\xbf" + data
    return data


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate becomes invalid UTF-8, as in real files


def mutate(draw, seed: Seed) -> bytes:
    """A mutated copy of the seed: structural (JSON or text), then maybe byte-level, or bytes only."""
    text = seed.data.decode("utf-8")
    mode = draw(st.sampled_from(["structure", "structure", "structure+bytes", "bytes"]))
    out = seed.data
    if mode.startswith("structure"):
        doc = _json(text)
        if doc is not None:
            out = _encode(mutate_json(draw, doc))
        elif (j := _json_line(text)) is not None:  # kafka-log-dirs: banner lines, then one JSON line
            i, doc = j
            lines = text.split("\n")
            lines[i] = mutate_json(draw, doc) if draw(st.booleans()) else mutate_text(draw, lines[i])
            out = _encode("\n".join(lines))
        else:
            out = _encode(mutate_text(draw, text))
    if mode != "structure":
        out = mutate_bytes(draw, out)
    return out


def _json(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return None


def _json_line(text: str):
    for i, line in enumerate(text.split("\n")):
        if line.lstrip().startswith("{"):
            doc = _json(line)
            return None if doc is None else (i, doc)
    return None


# --- the store the mutated files are loaded into ------------------------------------------------


def table_contents(db: Path) -> dict[str, list]:
    """Every table's full contents (sorted rows), for before/after comparisons."""
    with open_store(db) as con:
        tables = sorted(r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall())
        return {t: sorted(map(repr, con.execute(f'SELECT * FROM "{t}"').fetchall())) for t in tables}


@pytest.fixture(scope="module")
def base_store(tmp_path_factory) -> tuple[Path, dict]:
    """A store holding data from several readers (CLI snapshots, Prometheus, Confluent)."""
    d = tmp_path_factory.mktemp("fuzz-base")
    db = d / "base.duckdb"
    ingest([FIX / "kafka_cli" / "c1"], db, cluster="base", progress=False)
    ingest([FIX / "fuzz" / "prom_range.json", FIX / "confluent" / "export" / "scrape_ms.prom"], db, progress=False)
    return db, table_contents(db)


class Tally:
    """Outcome counts of one test, written for tools/reliability.py when asked."""

    def __init__(self, suite: str, name: str):
        self.suite, self.name = suite, name
        # fallback: a rejection by the driver's catch-all (`cannot read as X: ValueError: ...`), i.e.
        # a case the reader itself did not check; allowed (one line, names the file) but counted
        self.counts = {"examples": 0, "loaded": 0, "rejected": 0, "skipped": 0, "fallback": 0}
        self.messages: set[str] = set()
        self.fallbacks: set[str] = set()

    def write(self) -> None:
        out = os.environ.get("EXITKIT_RELIABILITY_DIR")
        if not out:
            return
        Path(out).mkdir(parents=True, exist_ok=True)
        record = {
            "suite": self.suite,
            "name": self.name,
            "profile": PROFILE,
            **self.counts,
            "distinct_errors": len(self.messages),
            "fallback_messages": sorted(self.fallbacks)[:10],
        }
        (Path(out) / f"{self.suite}-{self.name}.json").write_text(json.dumps(record))


_counter = itertools.count()
FALLBACK = re.compile(r"cannot read as [\w-]+: \w+(Error|Exception)\b")


def check_one(data: bytes, seed: Seed, work: Path, base_db: Path, before: dict, tally: Tally) -> None:
    """Ingest one mutated file into a copy of the base store; assert the only allowed outcomes."""
    d = work / f"ex{next(_counter)}"
    d.mkdir()
    try:
        for c in seed.companions:
            shutil.copy(c, d / c.name)
        target = d / seed.name
        target.write_bytes(data)
        db = d / "store.duckdb"
        shutil.copy(base_db, db)
        tally.counts["examples"] += 1
        try:
            reports = ingest([target], db, cluster=seed.cluster, progress=False)
        except IngestFailed as exc:
            tally.counts["rejected"] += 1
            assert exc.errors, "IngestFailed without errors"
            for err in exc.errors:
                assert isinstance(err, BadExport), type(err)
                msg = str(err)
                assert "\n" not in msg and "\r" not in msg, f"message is not one line: {msg!r}"
                assert str(d) in msg, f"message does not name the file: {msg!r}"
                tally.messages.add(re.sub(r"\d+", "N", err.message)[:60])
                if FALLBACK.match(err.message):
                    tally.counts["fallback"] += 1
                    tally.fallbacks.add(re.sub(r"\d+", "N", err.message)[:100])
            assert str(exc).count("\n") == len(exc.errors) - 1
            assert table_contents(db) == before, "a failed ingest changed the store"
        else:
            status = reports[0].status
            tally.counts["loaded" if status == "loaded" else "skipped"] += 1
            after = table_contents(db)
            for table, rows in before.items():  # nothing that was there is gone or changed
                assert set(rows) <= set(after[table]), table
    finally:
        shutil.rmtree(d, ignore_errors=True)


# --- the tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", READERS)
def test_every_seed_loads_as_its_reader(reader, tmp_path):
    for i, seed in enumerate(SEEDS[reader]):
        d = tmp_path / str(i)
        d.mkdir()
        for c in seed.companions:
            shutil.copy(c, d / c.name)
        (d / seed.name).write_bytes(seed.data)
        [rep] = ingest([d / seed.name], tmp_path / f"{i}.duckdb", cluster=seed.cluster, progress=False)
        assert rep.format == reader
        assert rep.status in ("loaded", "companion")


@pytest.mark.parametrize("reader", READERS)
def test_mutated_exports_load_or_fail_cleanly(reader, base_store, tmp_path_factory):
    base_db, before = base_store
    work = tmp_path_factory.mktemp(f"fuzz-{reader}")
    tally = Tally("fuzz", reader)

    @FUZZ
    @given(data=st.data())
    def run(data):
        seed = data.draw(st.sampled_from(SEEDS[reader]), label="seed")
        check_one(mutate(data.draw, seed), seed, work, base_db, before, tally)

    try:
        run()
    finally:
        tally.write()
    assert tally.counts["examples"] >= 1


# --- numbers at the store's type limits (defects the fuzzing found; see docs/reliability.md) --------

# (seed, text to replace, replacement): each once raised a DuckDB ConversionException (a
# traceback) or fell through to the driver's catch-all with "OverflowError: Python int too large".
BOUNDARY_CASES = [
    ("kafka-topics", "Partition: 0", "Partition: 2147483648"),
    ("kafka-topics", "PartitionCount: 3", "PartitionCount: 99999999999999999999"),
    ("kafka-consumer-groups", "0          500", "2147483648          500"),
    ("kafka-consumer-groups", "500             1000", "9223372036854775808             1000"),
    ("kafka-log-dirs", '"size":', '"size": 99999999999999999999, "x":'),
    ("kafka-log-dirs", "orders.v1-0", "orders.v1-2147483648"),
    ("mm2-offsets", "upstreamOffset=", "upstreamOffset=9223372036854775808"),
    ("prometheus-text", 'partition="0"', 'partition="2147483648"'),
    ("prometheus-text", 'partition="0"', 'partition="-1"'),
    ("prometheus-range", '"partition": "0"', '"partition": "9223372036854775808"'),
]


@pytest.mark.parametrize("reader,old,new", BOUNDARY_CASES)
def test_numbers_beyond_the_store_columns_are_a_clear_bad_export(reader, old, new, base_store, tmp_path):
    base_db, before = base_store
    seed = next(s for s in SEEDS[reader] if old.encode() in s.data)
    data = seed.data.replace(old.encode(), new.encode(), 1)
    tally = Tally("boundary", reader)
    check_one(data, seed, tmp_path, base_db, before, tally)
    assert tally.counts["rejected"] == 1 and tally.counts["fallback"] == 0, tally.counts


@pytest.mark.skipif(PROFILE != "fuzz", reason="the full sweep runs with EXITKIT_FUZZ=fuzz (make fuzz)")
@pytest.mark.parametrize("reader", READERS)
def test_every_number_at_every_type_limit(reader, base_store, tmp_path_factory):
    """Every number of every seed replaced by each limit value: loads, or a reader's own BadExport."""
    base_db, before = base_store
    work = tmp_path_factory.mktemp(f"sweep-{reader}")
    tally = Tally("sweep", reader)
    values = ["2147483648", "-2147483649", "9223372036854775808", "-9223372036854775809", "1" * 30, "1e400"]
    number = re.compile(rb"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")
    try:
        for seed in SEEDS[reader]:
            for m in list(number.finditer(seed.data))[:60]:
                for v in values:
                    data = seed.data[: m.start()] + v.encode() + seed.data[m.end() :]
                    check_one(data, seed, work, base_db, before, tally)
    finally:
        tally.write()
    assert tally.counts["fallback"] == 0, sorted(tally.fallbacks)


# --- lone surrogates in JSON strings (a defect the fuzzing found) -------------------------------------

# JSON may spell `"\ud800"`; Python decodes it into a str that is not encodable as UTF-8, and DuckDB
# raised `InvalidInputException` at insert time (a traceback, not a BadExport).
SURROGATE_CASES = [
    ("prometheus-range", '"orders.v1"', '"\\ud800x"'),
    ("kafka-log-dirs", "orders.v1-0", "\\udc00x-0"),
    ("cloudwatch", '"prod-msk"', '"\\ud800"'),
    ("collect-manifest", '"prod"', '"\\ud800"'),
    ("confluent-request", "lkc-7q2x9", "\\ud800"),
]


@pytest.mark.parametrize("reader,old,new", SURROGATE_CASES)
def test_lone_surrogates_in_json_are_a_clear_bad_export(reader, old, new, base_store, tmp_path):
    base_db, before = base_store
    seed = next(s for s in SEEDS[reader] if old.encode() in s.data)
    tally = Tally("surrogate", reader)
    check_one(seed.data.replace(old.encode(), new.encode()), seed, tmp_path, base_db, before, tally)
    assert tally.counts["rejected"] == 1 and tally.counts["fallback"] == 0, tally.counts


def test_lone_surrogate_in_a_confluent_query_label_is_a_bad_export(base_store, tmp_path):
    base_db, before = base_store
    seed = SEEDS["confluent-query"][0]
    data = seed.data.replace(b'"orders.v1"', b'"\\ud800x"', 1)
    tally = Tally("surrogate", "confluent-query")
    check_one(data, seed, tmp_path, base_db, before, tally)
    assert tally.counts["rejected"] == 1
