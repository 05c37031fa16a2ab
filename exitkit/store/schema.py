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

BILL_LINES = """
CREATE TABLE IF NOT EXISTS bill_lines (
    source_id INTEGER NOT NULL, line BIGINT, provider VARCHAR NOT NULL, month VARCHAR NOT NULL,
    billing_period_start TIMESTAMP, charge_start TIMESTAMP NOT NULL, charge_end TIMESTAMP,
    service VARCHAR, region VARCHAR, resource_id VARCHAR, cluster VARCHAR, usage_type VARCHAR,
    charge_category VARCHAR NOT NULL, charge_type VARCHAR, path VARCHAR,
    quantity DECIMAL(38, 10), unit VARCHAR, list_cost DECIMAL(38, 10), billed_cost DECIMAL(38, 10),
    effective_cost DECIMAL(38, 10) NOT NULL, currency VARCHAR NOT NULL, cost_basis VARCHAR NOT NULL, tags VARCHAR)"""

# Snapshot tables: one row per fact seen in a CLI output or scrape. Columns are documented
# in the README's "Store" section. The snapshot readers (exitkit.ingest.kafka_*, mm2_offsets, prometheus_*) fill them.
# `observed_at` is the snapshot time when the content says it (else NULL). Kafka CLI outputs
# do not name their cluster: it comes from --cluster or the file name (see README).
SNAPSHOT_TABLES: dict[str, str] = {
    # kafka-log-dirs (size_bytes, log_dir, is_future, offset_lag, dir_error) and
    # kafka-topics --describe (is_leader, in_sync; size_bytes NULL): one row per replica.
    "partition_replicas": """
CREATE TABLE IF NOT EXISTS partition_replicas (
    source_id INTEGER NOT NULL, cluster VARCHAR, topic VARCHAR NOT NULL, partition INTEGER NOT NULL,
    broker VARCHAR, log_dir VARCHAR, size_bytes BIGINT, offset_lag BIGINT, is_future BOOLEAN,
    dir_error VARCHAR, is_leader BOOLEAN, in_sync BOOLEAN, observed_at TIMESTAMP)""",
    # kafka-topics --describe (Configs: and PartitionCount/ReplicationFactor as
    # `partition_count` / `replication_factor` rows) and kafka-configs --describe [--all].
    # topic NULL = a broker-level default (kafka-configs --entity-type brokers).
    # Sensitive values are stored as NULL, never as text.
    "topic_configs": """
CREATE TABLE IF NOT EXISTS topic_configs (
    source_id INTEGER NOT NULL, cluster VARCHAR, topic VARCHAR, name VARCHAR NOT NULL,
    value VARCHAR, config_source VARCHAR, sensitive BOOLEAN, observed_at TIMESTAMP)""",
    # kafka-consumer-groups --describe; NULL where the output shows `-`.
    "consumer_offsets": """
CREATE TABLE IF NOT EXISTS consumer_offsets (
    source_id INTEGER NOT NULL, cluster VARCHAR, consumer_group VARCHAR NOT NULL, topic VARCHAR,
    partition INTEGER, current_offset BIGINT, log_end_offset BIGINT, lag BIGINT,
    consumer_id VARCHAR, host VARCHAR, client_id VARCHAR, observed_at TIMESTAMP)""",
    # kafka-acls --list: one row per (resource pattern, ACL entry).
    "acls": """
CREATE TABLE IF NOT EXISTS acls (
    source_id INTEGER NOT NULL, cluster VARCHAR, resource_type VARCHAR NOT NULL,
    resource_name VARCHAR NOT NULL, pattern_type VARCHAR NOT NULL, principal VARCHAR NOT NULL,
    host VARCHAR, operation VARCHAR NOT NULL, permission VARCHAR NOT NULL)""",
    # kafka-configs --describe --entity-type users|clients|ips: one row per quota key.
    "quotas": """
CREATE TABLE IF NOT EXISTS quotas (
    source_id INTEGER NOT NULL, cluster VARCHAR, user_principal VARCHAR, client_id VARCHAR,
    ip VARCHAR, is_default BOOLEAN, quota VARCHAR NOT NULL, value DOUBLE NOT NULL)""",
    # KIP-511 socket-server connections by client software (inter-broker listener excluded).
    "client_software": """
CREATE TABLE IF NOT EXISTS client_software (
    source_id INTEGER NOT NULL, cluster VARCHAR, broker VARCHAR, listener VARCHAR,
    software_name VARCHAR NOT NULL, software_version VARCHAR NOT NULL, connections DOUBLE NOT NULL,
    observed_at TIMESTAMP)""",
    # RequestsPerSec{request=...}: per-second rate by API, per broker.
    "request_rates": """
CREATE TABLE IF NOT EXISTS request_rates (
    source_id INTEGER NOT NULL, cluster VARCHAR, broker VARCHAR, request VARCHAR NOT NULL,
    rate_per_s DOUBLE NOT NULL, observed_at TIMESTAMP)""",
    # MirrorMaker 2 CheckpointFormatter / OffsetSyncFormatter exports; `seq` = line order
    # (the latest record per key wins).
    "mm2_checkpoints": """
CREATE TABLE IF NOT EXISTS mm2_checkpoints (
    source_id INTEGER NOT NULL, cluster VARCHAR, consumer_group VARCHAR NOT NULL, topic VARCHAR NOT NULL,
    partition INTEGER NOT NULL, upstream_offset BIGINT NOT NULL, downstream_offset BIGINT NOT NULL,
    metadata VARCHAR, seq INTEGER NOT NULL)""",
    "mm2_offset_syncs": """
CREATE TABLE IF NOT EXISTS mm2_offset_syncs (
    source_id INTEGER NOT NULL, cluster VARCHAR, topic VARCHAR NOT NULL, partition INTEGER NOT NULL,
    upstream_offset BIGINT NOT NULL, downstream_offset BIGINT NOT NULL, seq INTEGER NOT NULL)""",
    # Bill exports (FOCUS, AWS CUR legacy / 2.0, Cost Explorer, Confluent Billing API): one row per
    # bill line, `line` = its record number in the file. Money is DECIMAL; `effective_cost` is the
    # amortized cost to sum (docs/formats/bills.md); `cluster` and `path` are derived at ingest
    # (NULL: unattributed / no byte path), the raw resource id, usage type and tags are kept.
    "bill_lines": BILL_LINES,
}

# `exitkit rehearse`: one row per finished run (written in one INSERT, never part of a run);
# checks / producer / consumer are the JSON of the rehearsal file at `path` (sha256 of it).
REHEARSALS = """
CREATE TABLE IF NOT EXISTS rehearsals (
    rehearsal_id VARCHAR PRIMARY KEY, workload VARCHAR NOT NULL, platform VARCHAR NOT NULL, bootstrap VARCHAR,
    started_at TIMESTAMP NOT NULL, duration_s DOUBLE, result VARCHAR NOT NULL, checks VARCHAR NOT NULL,
    producer VARCHAR, consumer VARCHAR, path VARCHAR, sha256 VARCHAR)"""

# The store's layout version, in `exitkit_meta`. 1: the layout before versions (no
# `exitkit_meta`); 2: `exitkit_meta` and `source_paths`; 3: `rehearsals`; 4: `bill_lines`. Raise it with every change to a table
# above, and add the step from the previous layout to MIGRATIONS (run in one transaction).
LAYOUT_VERSION = 4

META = """
CREATE TABLE IF NOT EXISTS exitkit_meta (
    key    VARCHAR PRIMARY KEY,
    value  VARCHAR NOT NULL
)"""

# The exact bytes of each source's path (`os.fsencode`): `sources.path` is text for people
# (a name that is not UTF-8 shows its bad bytes as \xNN), this column is the name itself.
SOURCE_PATHS = """
CREATE TABLE IF NOT EXISTS source_paths (
    source_id   INTEGER PRIMARY KEY,
    path_bytes  BLOB NOT NULL
)"""

# The columns of `sources` in layout 1, which every later layout keeps (a file whose `sources`
# table lacks them is not an exitkit store).
SOURCES_V1_COLUMNS = ("source_id", "path", "sha256", "format", "cluster", "loaded_at", "rows")

# Layout N -> N + 1: statements run, in order, inside the caller's transaction.
MIGRATIONS: dict[int, list[str]] = {
    1: [META, SOURCE_PATHS, "INSERT INTO source_paths SELECT source_id, encode(path) FROM sources"],
    2: [REHEARSALS],
    3: [BILL_LINES],
}

ALL = [SOURCES, METRIC_POINTS, REHEARSALS]


def ddl() -> list[str]:
    return ALL + list(SNAPSHOT_TABLES.values()) + [META, SOURCE_PATHS]
