"""Regenerate docs/reliability.md: run the reliability tests, then write what they found.

    .venv/bin/python tools/reliability.py [--profile fuzz|ci] [--jobs 2] [--out docs/reliability.md]

Runs the fuzz, crash, batch-fault and security tests with `EXITKIT_FUZZ=<profile>` (default
`fuzz`: 500 mutated files per reader plus the number sweep, 10 crash trials) and `EXITKIT_RELIABILITY_DIR` set to a
temporary folder; the tests write their counts there as JSON, and pytest's JUnit XML gives
every test's outcome. The figures in the document come from those files only. Exits non-zero
when any test failed (the document is still written, failures included).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = [
    "tests/test_fuzz_readers.py",
    "tests/test_ingest_confluent_fast.py",
    "tests/test_crash_ingest.py",
    "tests/test_store.py",
    "tests/test_batch_faults.py",
    "tests/test_security.py",
    "tests/test_security_browser.py",
    "tests/test_safe_output.py",
    "tests/test_outputs_strict.py",
    "tests/test_workload.py",
]

# Defects the fuzz, fault and security tests found, and their fixes (kept with the generator so
# every regeneration carries them). Status: fixed | xfail (a strict xfail test pins it).
DEFECTS: list[dict[str, str]] = [
    {
        "found_by": "fuzz (numbers at type limits)",
        "defect": "kafka-topics, kafka-consumer-groups, kafka-log-dirs, mm2-offsets, prometheus-text/-range and "
        "cloudwatch passed integers beyond the store columns (partition > 2^31-1, offsets/sizes > 2^63-1, "
        "negative partitions) to DuckDB: `ConversionException` traceback instead of a BadExport, or the "
        "driver's catch-all `OverflowError: Python int too large to convert to C long` without line or field",
        "fix": "`_kafka_cli.to_int/check_int` with INT32/INT64 bounds at every integer field (line and field "
        "named); `split_topic_partition` refuses partitions beyond int32; `frame()` checks INTEGER/BIGINT "
        "columns as a safety net; Prometheus partition labels and CloudWatch Partition dimensions must be "
        "0..2^31-1",
        "status": "fixed",
    },
    {
        "found_by": "fuzz (odd Unicode)",
        "defect": "a JSON string spelling a lone surrogate (`\\ud800`) reached DuckDB "
        "(`InvalidInputException: cannot encode str as UTF-8`, a traceback) or a printed note",
        "fix": "`_kafka_cli.check_json_text` rejects such strings with a one-line BadExport in "
        "prometheus-range, kafka-log-dirs, cloudwatch, collect-manifest and confluent-request",
        "status": "fixed",
    },
    {
        "found_by": "fuzz (odd Unicode)",
        "defect": "the same lone surrogate in a Confluent /query label (confluent_query.py) still reaches DuckDB; "
        "more generally `ingest()` lets any duckdb.Error from `_insert` escape as a non-ExitkitError",
        "fix": "`ingest()` turns any duckdb.Error while storing a file into a BadExport for that file "
        "(`cannot store its rows (...)`), and the call rolls back; the regression test now passes",
        "status": "fixed",
    },
    {
        "found_by": "fuzz (deep nesting)",
        "defect": "collect-manifest and kafka-log-dirs did not catch `RecursionError` from deeply nested JSON: "
        "rejected only by the driver's catch-all (`cannot read as X: RecursionError: ...`)",
        "fix": "both readers say `JSON nested too deeply; expected ...` (as the other JSON readers do)",
        "status": "fixed",
    },
    {
        "found_by": "security (credentials)",
        "defect": "kafka-configs stored values of credential configs not flagged `sensitive=true` (JAAS configs "
        "with passwords, `ssl.key.password`, API keys/secrets, tokens, `password=` inside a value) and "
        'kafka-topics stored `Configs:` values in clear (e.g. `sasl.jaas.config=...password="..."`)',
        "fix": "`_kafka_cli.stored_config`: a value is stored as NULL with sensitive=true when flagged, when "
        "the name matches password/secret/jaas/token/credential/apikey/`*.key`, or when the value embeds "
        "`password=`/`secret=`/`token=`/`LoginModule required`; errors quote at most 60 characters of a config",
        "status": "fixed",
    },
    {
        "found_by": "batch faults (timeout)",
        "defect": "on timeout `exitkit report` killed the worker's process group only; Jupyter starts kernels "
        "in their own session, so a kernel busy in C code holding the GIL (e.g. a catastrophic regex) kept "
        "running at 100% CPU after the batch; the notebook kept no trace of which cell timed out",
        "fix": "the worker enforces the timeout: SIGINT to the kernel tree (papermill saves the interrupted "
        "cell with its KeyboardInterrupt), SIGKILL after a 5 s grace; the parent's backstop (timeout + 30 s) "
        "kills the worker and every descendant, each in its own process group (`report._kill_tree`); "
        "`run_reports(notebook=...)` / `--notebook` run fault notebooks through the real path",
        "status": "fixed",
    },
    {
        "found_by": "security (price overrides)",
        "defect": "a price override carrying a unit (`0.02 USD/TB` for a USD/GiB price) was refused only as "
        '"not a number", without saying which unit the catalog expects',
        "fix": "the workload's `prices` validator names the catalog unit of the key (or says a discount is a "
        "share); negative, NaN/Inf, booleans, lists still refused with one line naming the key",
        "status": "fixed",
    },
    {
        "found_by": "fuzz (fast path against the Python reader)",
        "defect": "a Confluent /query page large enough for the DuckDB fast path with a deeply nested label "
        "or timestamp: a RecursionError escaped the fast path, so the file was rejected by the driver's "
        "catch-all (`cannot read as confluent-query: RecursionError ...`) instead of the reader's own "
        "`JSON nested too deeply` line; the fast path had no test comparing it with the Python reader",
        "fix": "the fast path hands any unexpected exception to the Python reader (always correct, only "
        "slower); `tests/test_ingest_confluent_fast.py` compares the two on fixtures, generated pages and "
        "mutated pages",
        "status": "fixed",
    },
    {
        "found_by": "adversarial pass (issue 19: store)",
        "defect": "a refused ingest left exitkit's tables in another application's DuckDB file; stores had no "
        'layout version (a newer store gave `"sources" has 8 columns but 7 values`, blaming the input file); '
        "damaged stores, a full disk at COMMIT and a folder without room for the WAL gave DuckDB tracebacks; "
        "`profile` ran out of memory on 500k topics (8 KiB of fast-path state per series)",
        "fix": "schema created and older layouts migrated inside the load's transaction; `exitkit_meta` "
        "layout_version, newer layouts refused naming both versions; `store.store_error` maps every store "
        "error to one line with the store's path and what to do; profile statistics in bounded pieces",
        "status": "fixed",
    },
    {
        "found_by": "adversarial pass (issue 19: hostile and real inputs)",
        "defect": "Prometheus repeats of a (series, time) resolved by last-wins (lost brokers, fake counter resets); "
        ".gz inflated whole before sniffing (gzip bombs); FIFOs reported as missing; non-UTF-8 file names "
        "unloadable; epoch floats in time errors; MM2 `metatadata=`, Kafka 1.x consumer-groups and untimed "
        "scrapes refused; disagreeing overlapping files not reported",
        "fix": "repeats counted once or refused with the line; streamed, limited gunzip "
        "(EXITKIT_MAX_DECOMPRESSED); 'not a regular file'; `source_paths` bytes; ISO times; the three "
        "outputs read; a note naming both files and the size of the disagreement",
        "status": "fixed",
    },
    {
        "found_by": "adversarial pass (issue 19: outputs)",
        "defect": "a topic, group or title beginning with `=`, `+`, `-`, `@`, tab or CR became a live formula in "
        "CSV and xlsx (openpyxl stores any `=` string as a formula); a finite input that overflowed printed "
        "`$inf`, JSON `Infinity` and `NaN` (not JSON); `report --out` on a read-only place gave an `OSError` "
        "traceback; two reports into one folder interleaved, with `index.html`/`summary.json` half-written",
        "fix": "`exitkit.safe_output`: OWASP CSV-injection quoting in every CSV/xlsx writer, numbers kept "
        "numeric; `strict_json` (NaN → null, an infinity refused with its JSON path) for every JSON written; "
        "infinite CSV/xlsx cells refused with column and row; one-line `OutputError`; a `filelock` lock "
        "on the output folder (second run refuses); fleet files written to a temporary file and renamed",
        "status": "fixed",
    },
    {
        "found_by": "adversarial pass (issue 19: YAML and scale)",
        "defect": "a 582-byte YAML alias bomb took 36 s and 3.1 GB before its unknown key was reported; deep "
        "nesting raised `RecursionError`; 200k candidates took over 100 s (quadratic duplicate check)",
        "fix": "the workload loader refuses nesting deeper than 64 and documents over 100,000 nodes (aliases "
        "counted as expanded), one line each; the duplicate check is linear (a Counter)",
        "status": "fixed",
    },
    {
        "found_by": "fuzz (test harness)",
        "defect": "none in the product: the first fuzz runs failed on the harness itself (shared mutable "
        "values in the mutation pool; an empty line list)",
        "fix": "values copied before use; empty files handled",
        "status": "fixed (tests)",
    },
]


def run_tests(profile: str, jobs: int, work: Path) -> int:
    env = {**os.environ, "EXITKIT_FUZZ": profile, "EXITKIT_RELIABILITY_DIR": str(work)}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", str(jobs),
           "--junitxml", str(work / "junit.xml"), *TESTS]  # fmt: skip
    print("running:", " ".join(cmd[2:]), f"(EXITKIT_FUZZ={profile})", flush=True)
    return subprocess.run(cmd, cwd=ROOT, env=env).returncode


def junit_cases(path: Path) -> list[dict]:
    if not path.exists():
        return []
    cases = []
    for tc in ET.parse(path).getroot().iter("testcase"):
        outcome = "passed"
        for child in tc:
            if child.tag in ("failure", "error"):
                outcome = "failed"
            elif child.tag == "skipped":
                outcome = "xfailed" if "xfail" in (child.get("type", "") + child.get("message", "")) else "skipped"
        cases.append({"file": tc.get("classname", ""), "name": tc.get("name", ""), "outcome": outcome,
                      "seconds": float(tc.get("time", 0))})  # fmt: skip
    return cases


def records(work: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(work.glob("*.json"))}


def _table(header: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in r) + " |" for r in rows]
    return "\n".join(out)


def render(profile: str, rc: int, cases: list[dict], recs: dict[str, dict]) -> str:
    def outcome_of(module: str, prefix: str) -> dict[str, str]:
        return {c["name"]: c["outcome"] for c in cases if module in c["file"] and c["name"].startswith(prefix)}

    parts = [
        "# Reliability: what is tested, and the figures",
        "",
        f"Generated by `tools/reliability.py` (`make reliability`) on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC with the `{profile}` profile. Every figure below comes "
        "from that run: the tests write their counts to a temporary folder and pytest's JUnit XML "
        "gives each test's outcome. Do not edit by hand; run `make reliability`.",
        "",
        f"Overall: {sum(c['outcome'] == 'passed' for c in cases)} passed, "
        f"{sum(c['outcome'] == 'failed' for c in cases)} failed, "
        f"{sum(c['outcome'] == 'xfailed' for c in cases)} xfailed, "
        f"{sum(c['outcome'] == 'skipped' for c in cases)} skipped "
        f"(pytest exit code {rc}).",
        "",
        "## 1. Fuzzing the readers (`tests/test_fuzz_readers.py`)",
        "",
        "Mutated copies of each reader's fixtures (truncation, flipped/inserted/deleted bytes, broken "
        "gzip, BOM; JSON: dropped keys, swapped types, huge/negative/NaN/Inf numbers, odd Unicode and "
        "HTML/SQL strings, duplicate and reordered keys, deep nesting; text: dropped/duplicated/swapped/"
        "cut lines, extreme and non-ASCII numbers, odd names, CRLF) are ingested into a store that "
        "already holds data. Allowed outcomes: a load, or `IngestFailed` whose every error is a one-line "
        "`BadExport` naming the file, with every table of the store exactly as before.",
        "",
    ]
    fuzz = {k.removeprefix("fuzz-"): v for k, v in recs.items() if k.startswith("fuzz-")}
    fuzz_outcomes = outcome_of("test_fuzz_readers", "test_mutated_exports_load_or_fail_cleanly")
    rows = []
    for reader in sorted(fuzz):
        r = fuzz[reader]
        rows.append([reader, r["examples"], r["loaded"], r["rejected"], r.get("fallback", 0), r["skipped"],
                     r["distinct_errors"],
                     fuzz_outcomes.get(f"test_mutated_exports_load_or_fail_cleanly[{reader}]", "?")])  # fmt: skip
    if rows:
        total = sum(r[1] for r in rows)
        parts += [
            _table(
                [
                    "reader",
                    "cases run",
                    "loaded",
                    "rejected (BadExport)",
                    "of which by the driver's catch-all",
                    "companion / already loaded",
                    "distinct error messages",
                    "result",
                ],
                rows,
            ),  # fmt: skip
            "",
            f'{total} mutated files in all ({profile} profile). "Catch-all" rejections are BadExports the '
            "driver made from an exception the reader did not anticipate (`cannot read as X: ValueError: ...`): "
            "still one line naming the file, but a case the reader could explain better.",
        ]
    else:
        parts.append("No fuzz figures recorded (the fuzz tests did not run).")
    sweep = {k.removeprefix("sweep-"): v for k, v in recs.items() if k.startswith("sweep-")}
    if sweep:
        parts += [
            "",
            "Number sweep (fuzz profile): every number of every seed (first 60 per seed) replaced in turn by "
            "2^31, -2^31-1, 2^63, -2^63-1, a 30-digit number and 1e400; no catch-all rejection is allowed.",
            "",
            _table(
                ["reader", "cases", "loaded", "rejected", "catch-all"],
                [
                    [k, v["examples"], v["loaded"], v["rejected"], v.get("fallback", 0)]
                    for k, v in sorted(sweep.items())
                ],
            ),
        ]

    regress = [c for c in cases if "test_fuzz_readers" in c["file"]
               and c["name"].startswith(("test_numbers_beyond", "test_lone_surrogate"))]  # fmt: skip
    if regress:
        parts += [
            "",
            f"Regression cases for the defects below: {len(regress)} "
            f"({sum(c['outcome'] == 'passed' for c in regress)} passed, "
            f"{sum(c['outcome'] == 'xfailed' for c in regress)} strict xfail, "
            f"{sum(c['outcome'] == 'failed' for c in regress)} failed).",
        ]

    fast = {k.removeprefix("fastpath-"): v for k, v in recs.items() if k.startswith("fastpath-")}
    if fast:
        fast_outcomes = outcome_of("test_ingest_confluent_fast", "test_mutated_pages_give_the_python_readers_outcome")
        parts += [
            "",
            "Confluent `/query` fast path (`tests/test_ingest_confluent_fast.py`): large FLAT pages are parsed by "
            "DuckDB, the rest by the Python reader. Each mutated page is read with the fast path forced and "
            "by the Python reader alone; the outcomes must be identical (points, cluster, notes, or the same "
            "one-line error).",
            "",
            _table(
                ["seed", "cases", "answered by the fast path", "loaded (both)", "rejected (both)", "result"],
                [
                    [
                        k,
                        v["examples"],
                        v.get("fast_path", 0),
                        v["loaded"],
                        v["rejected"],
                        fast_outcomes.get(f"test_mutated_pages_give_the_python_readers_outcome[{k}]", "?"),
                    ]
                    for k, v in sorted(fast.items())
                ],
            ),  # fmt: skip
        ]

    parts += ["", "## 2. Crash safety of `exitkit ingest` (`tests/test_crash_ingest.py`)", ""]
    crash = recs.get("crash-sigkill")
    if crash:
        parts += [
            f"A load of {crash['files']} Prometheus query_range files ({crash['rows_per_file']:,} rows each) into "
            "a store already holding data, killed with SIGKILL once the CLI's progress bar shows K files "
            "processed. After each kill: the store opens and every table equals its content before the "
            "load; the same command then completes with exactly the expected rows.",
            "",
            _table(
                ["trial", "killed after (files)", "store unchanged after kill", "rows after re-run", "expected"],
                [
                    [
                        t["trial"],
                        f"{t['killed_after_files']} / {t['of']}",
                        "yes" if t["store_unchanged"] else "NO",
                        f"{t['rerun_rows']:,}",
                        f"{t['expected_rows']:,}",
                    ]
                    for t in crash["trials"]
                ],  # fmt: skip
            ),
        ]
    conc = recs.get("crash-concurrent")
    if conc:
        parts += [
            "",
            f"Two loads at once: the second `exitkit ingest` (and an `exitkit profile`) exit {conc['second_exit']} "
            f"with one line, `{re.sub(r'error: .*store.duckdb: ', 'error: STORE: ', conc['second_stderr'])}`; "
            f"the first exits {conc['first_exit']} with every row; "
            "the refused command succeeds afterwards.",
        ]
    crash_outcomes = {c["name"]: c["outcome"] for c in cases if "test_crash_ingest" in c["file"]}
    parts += ["", _table(["test", "result"], sorted(crash_outcomes.items()))] if crash_outcomes else []

    store_outcomes = {c["name"]: c["outcome"] for c in cases if "test_store" in c["file"]}
    if store_outcomes:
        parts += [
            "",
            "Store faults (`tests/test_store.py`): another application's DuckDB file, a store of the last "
            "release (layout 1, migrated forward in the load's transaction) and of a newer layout (refused), "
            "a damaged or truncated store, a full disk at COMMIT (a 6 MiB tmpfs, root only), a folder where "
            "the WAL cannot be created, a file name that is not UTF-8. Each refusal is one line naming the "
            "store and what to do, exit 2, and the file exactly as before.",
            "",
            _table(["test", "result"], sorted(store_outcomes.items())),
        ]

    parts += ["", "## 3. Batch faults in `exitkit report` (`tests/test_batch_faults.py`)", ""]
    faults = recs.get("faults-batch")
    if faults:
        parts += [
            f"One batch of {len(faults['cases'])} workloads through `run_reports(..., notebook=...)` with a "
            f"fault notebook (real worker, papermill and kernel), {faults['seconds']}s in all:",
            "",
            _table(
                ["workload", "fault", "status", "recorded cause", "executed notebook kept"],
                [
                    [c["workload"], c["fault"], c["status"], c["error"] or "—", "yes" if c["notebook_kept"] else "no"]
                    for c in faults["cases"]
                ],
            ),  # fmt: skip
        ]
    fault_outcomes = {c["name"]: c["outcome"] for c in cases if "test_batch_faults" in c["file"]}
    parts += ["", _table(["test", "result"], sorted(fault_outcomes.items()))] if fault_outcomes else []

    parts += ["", "## 4. Safe to share (`tests/test_security.py`, `tests/test_security_browser.py`)", ""]
    sec = [c for c in cases if "test_security" in c["file"]]
    areas = [
        ("a. HTML/JS payloads stay text (Chromium)", ("test_report_shows", "test_fleet_index")),
        ("b. YAML loaded safely", ("test_workload_yaml_tags", "test_price_yaml_tags")),
        ("c. workload names stay in the output folder", ("test_workload_names", "test_report_with_an_escaping")),
        ("d. credentials never stored, printed or reported",
         ("test_no_table", "test_credentials_are", "test_no_command", "test_no_report_file", "test_a_bad_line")),
        ("e. bad price overrides rejected", ("test_bad_price", "test_price_override")),
        ("f. SQL values bound, never interpolated", ("test_quoted_names", "test_sql_audit")),
    ]  # fmt: skip
    rows = []
    for title, prefixes in areas:
        mine = [c for c in sec if c["name"].startswith(prefixes)]
        rows.append([title, len(mine), sum(c["outcome"] == "passed" for c in mine),
                     sum(c["outcome"] == "failed" for c in mine)])  # fmt: skip
    parts += [_table(["area", "cases", "passed", "failed"], rows)]

    parts += ["", "## 5. Defects found, and their fixes", ""]
    parts += [_table(["#", "found by", "defect", "fix", "status"],
                     [[i + 1, d["found_by"], d["defect"], d["fix"], d["status"]] for i, d in enumerate(DEFECTS)])]  # fmt: skip
    failed = [c for c in cases if c["outcome"] == "failed"]
    if failed:
        parts += ["", "## Failures in this run", ""] + [f"- `{c['file']}::{c['name']}`" for c in failed]
    return "\n".join(parts) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="fuzz", choices=["ci", "fuzz"])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "reliability.md")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="exitkit-reliability-") as tmp:
        work = Path(tmp)
        rc = run_tests(args.profile, args.jobs, work)
        text = render(args.profile, rc, junit_cases(work / "junit.xml"), records(work))
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} (pytest exit {rc})")
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
