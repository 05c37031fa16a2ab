"""DuckDB DDL of the store. Metric tables here; snapshot tables (CLI outputs) below them.

Every data row carries `source_id` back to `sources`, so each number can be traced to a file.
"""

SOURCES = """
CREATE TABLE IF NOT EXISTS sources (
    source_id  INTEGER PRIMARY KEY,
    path       VARCHAR NOT NULL,
    sha256     VARCHAR NOT NULL UNIQUE,
    format     VARCHAR NOT NULL,
    cluster    VARCHAR,
    loaded_at  TIMESTAMP NOT NULL,
    rows       BIGINT NOT NULL
)"""

METRIC_POINTS = """
CREATE TABLE IF NOT EXISTS metric_points (
    source_id       INTEGER NOT NULL,
    cluster         VARCHAR,
    topic           VARCHAR,      -- NULL: a cluster-wide series, never added to topic sums
    partition       INTEGER,
    broker          VARCHAR,
    consumer_group  VARCHAR,
    metric          VARCHAR NOT NULL,
    ts_start        TIMESTAMP NOT NULL,  -- UTC
    ts_end          TIMESTAMP NOT NULL,  -- UTC, exclusive
    value           DOUBLE NOT NULL      -- rates: per second over [ts_start, ts_end)
)"""

# Snapshot tables: one row per fact seen in a CLI output or scrape. Columns are documented
# in the README's "Store" section. The snapshot readers (exitkit.ingest.kafka_cli, ...) fill them.
SNAPSHOT_TABLES: dict[str, str] = {}

ALL = [SOURCES, METRIC_POINTS]


def ddl() -> list[str]:
    return ALL + list(SNAPSHOT_TABLES.values())
