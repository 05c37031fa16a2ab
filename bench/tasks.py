"""Baselines that bench/run.py times in their own process (so each has its own peak RSS).

    python bench/tasks.py floor-confluent DB LISTFILE   DuckDB reads the pages into a flat table
    python bench/tasks.py floor-read-json DB LISTFILE   the same with read_json (its slower path)
    python bench/tasks.py floor-prometheus DB LISTFILE  flat (series labels, ts, value) rows
    python bench/tasks.py floor-cloudwatch DB LISTFILE  flat (id, ts, value) rows
    python bench/tasks.py peer DB LISTFILE              json.load + pandas.DataFrame + insert
    python bench/tasks.py raw-agg DB                    one GROUP BY topic over the flat table
    python bench/tasks.py raw-agg-p95 DB                the same with the exact p95 as well

LISTFILE holds one path per line. Every task prints one JSON line: {"rows": N, "seconds": S}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

# The pages as flat rows, no normalization: what the API wrote, one row per point.
CONFLUENT_TYPE = json.dumps({"data": [{"timestamp": "VARCHAR", "metric.topic": "VARCHAR", "value": "DOUBLE"}]})
PROM_TYPE = json.dumps({"data": {"result": [{"metric": "JSON", "values": [["DOUBLE"]]}]}})
CW_TYPE = json.dumps({"MetricDataResults": [{"Id": "VARCHAR", "Timestamps": ["VARCHAR"], "Values": ["DOUBLE"]}]})
BATCH = 8  # files per statement: DuckDB parses them in parallel; memory stays bounded


def _files(listfile: str) -> list[str]:
    return [p for p in Path(listfile).read_text().splitlines() if p]


def _batched(con: duckdb.DuckDBPyConnection, files: list[str], create: str, insert: str) -> None:
    """Run `create` on the first batch and `insert` on the rest; each gets a `docs` table of parsed files."""
    for i in range(0, len(files), BATCH):
        con.execute("CREATE OR REPLACE TEMP TABLE docs AS " + _DOCS, [files[i : i + BATCH]])
        con.execute(create if i == 0 else insert)
    con.execute("DROP TABLE IF EXISTS docs")


_DOCS = ""


def floor_json(db: str, listfile: str, json_type: str, select: str) -> int:
    global _DOCS
    _DOCS = f"SELECT filename, from_json(content, '{json_type}') AS doc FROM read_text(?)"
    con = duckdb.connect(db)
    files = _files(listfile)
    _batched(con, files, f"CREATE OR REPLACE TABLE flat AS {select}", f"INSERT INTO flat {select}")
    n = con.execute("SELECT count(*) FROM flat").fetchall()[0][0]
    con.close()
    return n


def floor_read_json(db: str, listfile: str) -> int:
    con = duckdb.connect(db)
    files = _files(listfile)
    con.execute(
        "CREATE OR REPLACE TABLE flat AS SELECT filename, unnest(data, recursive := true) FROM read_json(?, "
        'columns = {data: \'STRUCT("timestamp" VARCHAR, "metric.topic" VARCHAR, value DOUBLE)[]\'}, '
        "maximum_object_size = 268435456, filename = true)",
        [files],
    )
    n = con.execute("SELECT count(*) FROM flat").fetchall()[0][0]
    con.close()
    return n


def peer(db: str, listfile: str) -> int:
    """What a notebook would do: json.load each page, a DataFrame of its points, insert it."""
    import pandas as pd

    con = duckdb.connect(db)
    con.execute(
        'CREATE OR REPLACE TABLE flat ("timestamp" VARCHAR, "metric.topic" VARCHAR, value DOUBLE, filename VARCHAR)'
    )
    n = 0
    for f in _files(listfile):
        with open(f, encoding="utf-8") as fh:
            doc = json.load(fh)
        df = pd.DataFrame(doc["data"])
        df["filename"] = f
        con.register("page", df)
        con.execute('INSERT INTO flat SELECT "timestamp", "metric.topic", value, filename FROM page')
        con.unregister("page")
        n += len(df)
    con.close()
    return n


RAW_AGG = """
SELECT "metric.topic" AS topic, count(*) AS n, avg(value) AS mean, max(value) AS peak,
       min("timestamp") AS first, max("timestamp") AS last
FROM flat GROUP BY "metric.topic"
"""


# The same, with the exact nearest-rank p95 the profile reports (the values of every group kept).
RAW_AGG_P95 = RAW_AGG.replace("max(value) AS peak,", "max(value) AS peak, quantile_disc(value, 0.95) AS p95,")


def raw_agg(db: str, sql: str = RAW_AGG) -> int:
    con = duckdb.connect(db, read_only=True)
    rows = con.execute(sql).fetchall()
    con.close()
    return len(rows)


def main(argv: list[str]) -> int:
    task, *args = argv
    started = time.perf_counter()
    if task == "floor-confluent":
        rows = floor_json(*args, CONFLUENT_TYPE, "SELECT filename, unnest(doc.data, recursive := true) FROM docs")
    elif task == "floor-read-json":
        rows = floor_read_json(*args)
    elif task == "floor-prometheus":
        rows = floor_json(
            *args,
            PROM_TYPE,
            "SELECT filename, r.metric, v[1] AS ts, v[2] AS value "
            "FROM (SELECT filename, unnest(doc.data.result) AS r FROM docs), unnest(r.values) AS u(v)",
        )
    elif task == "floor-cloudwatch":
        rows = floor_json(
            *args,
            CW_TYPE,
            "SELECT filename, r.Id AS id, unnest(r.Timestamps) AS ts, unnest(r.Values) AS value "
            "FROM (SELECT filename, unnest(doc.MetricDataResults) AS r FROM docs)",
        )
    elif task == "peer":
        rows = peer(*args)
    elif task == "raw-agg":
        rows = raw_agg(*args)
    elif task == "raw-agg-p95":
        rows = raw_agg(*args, RAW_AGG_P95)
    else:
        raise SystemExit(f"unknown task {task!r}")
    print(json.dumps({"rows": rows, "seconds": time.perf_counter() - started}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
