"""Safe to share: hostile names stay text, YAML stays data, names stay in their folder, secrets stay out.

One hostile store is built through the real CLI from exports a person could hand-edit:
- a topic and a consumer group whose names carry HTML/JavaScript payloads, a cluster name
  with a single quote and `'; DROP TABLE sources; --` (SQL must bind, never interpolate);
- kafka-configs and kafka-topics outputs with credentials: JAAS configs with passwords, a
  sensitive keystore password, API keys and secrets, a bearer token, a password inside a value.
A workload selects the hostile topic, carries payloads in its title and contract evidence,
and is reported with the real notebook. Then: the secrets are in no table, no command output,
no report file; every payload shows as text in Chromium and no script runs (see
`test_security_browser.py`); SQL round-trips the quoted names.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from exitkit.errors import BadPrice, BadWorkload, ExitkitError
from exitkit.store import open_store

pytestmark = pytest.mark.slow

CLUSTER = "prod'; DROP TABLE sources; --"
TOPIC = "orders'<img src=x onerror=window.__x=1;alert(1)>"
GROUP = "billing'</script><script>window.__y=2;alert(2)</script>"
SECURE_TOPIC = "orders.secure"
TITLE = "<img src=x onerror=window.__t=1;alert(1)><script>window.__t2=1;alert(2)</script>"
EVIDENCE = "acks=all <script>window.__w=3;alert(3)</script>"
NOTE = "<img src=x onerror=window.__n=4;alert(4)>"
DOC = "javascript:window.__j=5;alert(5)"
PAYLOAD_FLAGS = ["__x", "__y", "__t", "__t2", "__w", "__n", "__j"]
SECRET = "s3cret"  # every credential below contains it
SECRETS = [
    "s3cret-jaas-broker", "s3cret-keystore", "s3cret-keypass", "s3cret-apikey", "s3cret-apisecret",
    "s3cret-bearer-token", "s3cret-inline-value", "s3cret-jaas-topics", "s3cret-bearer-label",
]  # fmt: skip

T0 = 1_741_003_200_000  # ms


def _label(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"')


def scrape_text() -> str:
    """A broker's JMX scrape, five samples a minute apart: the hostile topic's traffic and lag."""
    lines = []
    for k in range(5):
        ts = T0 + 60_000 * k
        t, g = _label(TOPIC), _label(GROUP)
        lines += [
            f'kafka_server_BrokerTopicMetrics_Count{{name="BytesInPerSec",topic="{t}",}} {1e9 + k * 6e7:.0f} {ts}',
            f'kafka_server_BrokerTopicMetrics_Count{{name="BytesOutPerSec",topic="{t}",}} {3e9 + k * 1.8e8:.0f} {ts}',
            f'kafka_server_BrokerTopicMetrics_Count{{name="MessagesInPerSec",topic="{t}",}} {1e6 + k * 6e4:.0f} {ts}',
            f'kafka_log_Log_Value{{name="Size",topic="{t}",partition="0",}} {5e10 + k * 1e6:.0f} {ts}',
            f'kafka_consumer_group_ConsumerLagMetrics_Value{{groupId="{g}",name="SumOffsetLag",topic="{t}",}} {100 + k} {ts}',
            # a label nobody should keep: an Authorization header captured by a relabelling rule
            f'kafka_server_BrokerTopicMetrics_Count{{name="BytesInPerSec",topic="{SECURE_TOPIC}",'
            f'authorization="Bearer s3cret-bearer-label",}} {2e8 + k * 6e6:.0f} {ts}',
        ]
    return "\n".join(lines) + "\n"


JAAS_BROKER = (
    'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="s3cret-jaas-broker";'
)
JAAS_TOPIC = (
    'org.apache.kafka.common.security.plain.PlainLoginModule required username="svc" password="s3cret-jaas-topics";'
)

CONFIGS = f"""Dynamic configs for broker 1 are:
  listener.name.sasl_ssl.plain.sasl.jaas.config={JAAS_BROKER} sensitive=false synonyms={{DYNAMIC_BROKER_CONFIG:listener.name.sasl_ssl.plain.sasl.jaas.config={JAAS_BROKER}}}
  ssl.keystore.password=s3cret-keystore sensitive=true synonyms={{DYNAMIC_BROKER_CONFIG:ssl.keystore.password=s3cret-keystore}}
  ssl.key.password=s3cret-keypass sensitive=false synonyms={{STATIC_BROKER_CONFIG:ssl.key.password=s3cret-keypass}}
  confluent.api.key=s3cret-apikey sensitive=false synonyms={{}}
  confluent.api.secret=s3cret-apisecret sensitive=false synonyms={{}}
  sasl.oauthbearer.access.token=s3cret-bearer-token sensitive=false synonyms={{}}
  log.retention.hours=168 sensitive=false synonyms={{STATIC_BROKER_CONFIG:log.retention.hours=168}}
Dynamic configs for topic {SECURE_TOPIC} are:
  retention.ms=86400000 sensitive=false synonyms={{DYNAMIC_TOPIC_CONFIG:retention.ms=86400000}}
  connector.settings=connection.password=s3cret-inline-value sensitive=false synonyms={{}}
"""

TOPICS = (
    f"Topic: {SECURE_TOPIC}\tTopicId: Zx9Yw8Vu7Ts6Rq5Po4Nm3L\tPartitionCount: 1\tReplicationFactor: 1\t"
    f"Configs: retention.ms=86400000,sasl.jaas.config={JAAS_TOPIC}\n"
    f"\tTopic: {SECURE_TOPIC}\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\n"
)

GROUPS = f"""GROUP  TOPIC  PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  CONSUMER-ID  HOST  CLIENT-ID
{GROUP}  {SECURE_TOPIC}  0  10  20  10  consumer-1-abc  /10.0.0.7  billing-app
"""

# Stored as sensitive with no value: the name is kept (evidence that it is set), never the value.
REDACTED = {
    ("listener.name.sasl_ssl.plain.sasl.jaas.config", None), ("ssl.keystore.password", None),
    ("ssl.key.password", None), ("confluent.api.key", None), ("confluent.api.secret", None),
    ("sasl.oauthbearer.access.token", None), ("connector.settings", SECURE_TOPIC), ("sasl.jaas.config", SECURE_TOPIC),
}  # fmt: skip


def workload_doc() -> dict:
    return {
        "name": "hostile",
        "title": TITLE,
        "source": {"platform": "msk-standard", "cluster": CLUSTER},
        "topics": ["orders*"],
        "region": "us-east-1",
        "candidates": ["kafka-ec2", "msk-express"],
        "contract": {
            "producers": {
                "acks": {
                    "value": EVIDENCE,
                    "document": DOC,
                    "rehearsal": {"result": "pass", "date": "2026-10-14", "platform": "msk-standard", "note": NOTE},
                }
            }
        },
    }


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "exitkit", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def build_hostile(d: Path) -> None:
    """Exports → `exitkit ingest` → profile/cost/plan → `run_reports`, every output kept in `d`."""
    exports = d / "exports"
    exports.mkdir()
    (exports / "b-1.hostile.scrape.txt").write_text(scrape_text())
    (exports / "configs.txt").write_text(CONFIGS)
    (exports / "topics.txt").write_text(TOPICS)
    (exports / "groups.txt").write_text(GROUPS)
    db = d / "hostile.duckdb"
    wl = d / "hostile.yaml"
    wl.write_text(yaml.safe_dump(workload_doc(), sort_keys=False, allow_unicode=True))
    logs = {"ingest": _run("ingest", str(exports), "--db", str(db), "--cluster", CLUSTER, cwd=d)}
    if logs["ingest"].returncode == 0:
        logs["profile"] = _run("profile", "--db", str(db), "--format", "json", cwd=d)
        logs["profile_table"] = _run("profile", "--db", str(db), cwd=d)
        logs["cost"] = _run("cost", "--workload", str(wl), "--db", str(db), "--format", "json", cwd=d)
        logs["plan"] = _run("plan", "--workload", str(wl), "--db", str(db), "--format", "json", cwd=d)
    (d / "logs.json").write_text(
        json.dumps({k: {"rc": r.returncode, "stdout": r.stdout, "stderr": r.stderr} for k, r in logs.items()})
    )
    from exitkit.report.batch import run_reports

    results = run_reports([wl], db, d / "out", jobs=1, progress=False)
    (d / "result.json").write_text(json.dumps(results[0]))


@pytest.fixture(scope="session")
def hostile(tmp_path_factory) -> dict:
    """The hostile store, its command outputs and its report (built once per test session)."""
    from tests.conftest import shared_once

    d = shared_once(tmp_path_factory, "hostile", build_hostile)
    logs = {k: subprocess.CompletedProcess([], v["rc"], v["stdout"], v["stderr"])
            for k, v in json.loads((d / "logs.json").read_text()).items()}  # fmt: skip
    for name, r in logs.items():
        assert r.returncode == 0, f"{name}: {r.stderr}"
    result = json.loads((d / "result.json").read_text())
    assert result["status"] == "ok", result
    return {"dir": d, "db": d / "hostile.duckdb", "logs": logs, "out": d / "out", "result": result}


# --- (d) credentials never stored, printed or reported -------------------------------------------


def _tables(db: Path) -> dict[str, str]:
    with open_store(db) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return {t: repr(con.execute(f'SELECT * FROM "{t}"').fetchall()) for t in names}


def test_no_table_holds_a_credential(hostile):
    tables = _tables(hostile["db"])
    assert "topic_configs" in tables and len(tables) >= 10
    for table, text in tables.items():
        assert SECRET not in text, f"{table} holds a credential"
    assert SECRET.encode() not in hostile["db"].read_bytes()


def test_credentials_are_kept_as_set_but_redacted(hostile):
    with open_store(hostile["db"]) as con:
        rows = con.execute("SELECT name, topic, value, sensitive FROM topic_configs").fetchall()
    got = {(n, t): (v, s) for n, t, v, s in rows}
    for key in REDACTED:
        assert got[key] == (None, True), key
    assert got[("retention.ms", SECURE_TOPIC)] == ("86400000", False)  # ordinary configs untouched
    assert got[("log.retention.hours", None)] == ("168", False)


def test_no_command_output_shows_a_credential(hostile):
    for name, r in hostile["logs"].items():
        assert SECRET not in r.stdout + r.stderr, name


def test_no_report_file_shows_a_credential(hostile):
    files = sorted(p for p in hostile["out"].iterdir() if p.is_file())
    assert {p.suffix for p in files} >= {".html", ".ipynb", ".csv", ".xlsx", ".json"}
    for p in files:
        if p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as z:
                text = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        else:
            text = p.read_text(encoding="utf-8", errors="replace")
        assert SECRET not in text, p.name


def test_a_bad_line_never_quotes_a_credential(tmp_path):
    """Errors are logged: one naming a config line must not print the value on it."""
    from exitkit.ingest import IngestFailed, ingest

    bad = tmp_path / "c__configs.txt"
    bad.write_text("Dynamic configs for broker 1 are:\n  ssl.keystore.password=s3cret-x sensitive=maybe synonyms={}\n")
    with pytest.raises(IngestFailed) as exc:
        ingest([bad], tmp_path / "s.duckdb", progress=False)
    assert SECRET not in str(exc.value) and str(bad) in str(exc.value)


# --- (f) SQL binds values: quotes and `'; DROP TABLE ...; --` round-trip ----------------------------


def test_quoted_names_round_trip_through_sql(hostile):
    with open_store(hostile["db"]) as con:
        clusters = {r[0] for r in con.execute("SELECT DISTINCT cluster FROM metric_points").fetchall()}
        topics = {r[0] for r in con.execute("SELECT DISTINCT topic FROM metric_points").fetchall()}
        groups = {r[0] for r in con.execute("SELECT DISTINCT consumer_group FROM consumer_offsets").fetchall()}
        assert con.execute("SELECT count(*) FROM sources").fetchone()[0] == 4  # the table is still there
    assert clusters == {CLUSTER} and TOPIC in topics and groups == {GROUP}
    profile = json.loads(hostile["logs"]["profile"].stdout)
    rows = {(r["cluster"], r["topic"]): r for r in profile}
    assert rows[(CLUSTER, TOPIC)]["write_bytes_per_s_mean"] == pytest.approx(1e6)  # 6e7 B per minute
    cost = json.loads(hostile["logs"]["cost"].stdout)
    assert cost["workload"] == "hostile" and cost["platforms"]


def test_sql_audit_no_user_value_is_interpolated():
    """Every execute/sql call with a non-literal statement builds it from our own constants only."""
    import ast

    allowed = {  # (file, the names the f-string interpolates): all package constants or SQL builders
        ("exitkit/profile/evidence.py", "_ACLS_SQL"),
        ("exitkit/ingest/__init__.py", "table"),  # a snapshot table name from schema.SNAPSHOT_TABLES
        ("exitkit/ingest/__init__.py", "INGEST_MEMORY_LIMIT"),
    }
    root = Path(__file__).resolve().parents[1]
    found = []
    for p in sorted((root / "exitkit").rglob("*.py")):
        rel = str(p.relative_to(root))
        if rel in ("exitkit/ingest/confluent_query.py", "exitkit/profile/topics.py", "exitkit/ingest/_bill.py",
                   "exitkit/ingest/bill_focus.py", "exitkit/ingest/bill_cur.py"):  # fmt: skip
            continue  # audited by hand: interpolate only constants, column names and floats (see docs)
            # (bills: a header's column names as quoted identifiers, values bound; _bill.py docstring)
        for node in ast.walk(ast.parse(p.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in ("execute", "sql", "query", "executemany") or not node.args:
                continue
            arg = node.args[0]
            if isinstance(arg, ast.JoinedStr):
                names = {ast.unparse(v.value) for v in arg.values if isinstance(v, ast.FormattedValue)}
                found += [(rel, n) for n in names if (rel, n) not in allowed]
            elif isinstance(arg, ast.BinOp):
                found.append((rel, ast.unparse(arg)))
    assert found == []


# --- (b) YAML is data ------------------------------------------------------------------------------

EVIL_TAGS = [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
    "!!python/name:os.system",
    "!!python/object:exitkit.workload.model.Workload {{}}",
]


@pytest.mark.parametrize("tag", EVIL_TAGS)
def test_workload_yaml_tags_are_rejected_and_never_run(tmp_path, tag):
    from exitkit.workload.loader import load_workload

    marker = tmp_path / "pwned"
    p = tmp_path / "w.yaml"
    p.write_text(
        "name: evil\nsource: {platform: msk-standard}\nregion: us-east-1\n"
        f"traffic: {{write_rate: 5 MiB/s}}\ntitle: {tag.format(marker=marker)}\n"
    )
    with pytest.raises(BadWorkload) as exc:
        load_workload(p)
    assert "\n" not in str(exc.value) and str(p) in str(exc.value)
    assert not marker.exists()


@pytest.mark.parametrize("tag", EVIL_TAGS)
def test_price_yaml_tags_are_rejected_and_never_run(tmp_path, tag):
    from exitkit.prices import load_catalog

    marker = tmp_path / "pwned"
    p = tmp_path / "evil.yaml"
    p.write_text(
        "provider: evil\nprices:\n- key: evil.price\n  value: 1\n  unit: USD/GiB\n  region: us-east-1\n"
        f"  source: {tag.format(marker=marker)}\n  as_of: '2026-01-01'\n"
    )
    with pytest.raises(BadPrice) as exc:
        load_catalog([p])
    assert "\n" not in str(exc.value) and str(p) in str(exc.value)
    assert not marker.exists()


# --- (c) names cannot leave the output folder -------------------------------------------------------


@pytest.mark.parametrize("name", ["../x", "/abs", "..", "a/b", "a\\b", "x/../../y", ".hidden", "UP", "ok\n", ""])
def test_workload_names_that_would_escape_the_output_folder_are_rejected(tmp_path, name):
    from exitkit.workload.loader import parse_workload

    doc = {"name": name, "source": {"platform": "msk-standard"}, "region": "us-east-1", "traffic": {"write_rate": 1}}
    with pytest.raises(BadWorkload) as exc:
        parse_workload(doc, str(tmp_path / "w.yaml"))
    assert "name" in str(exc.value)


def test_report_with_an_escaping_name_writes_nothing_outside_its_folder(tmp_path):
    from exitkit.report.batch import run_reports

    box = tmp_path / "box"
    out = box / "out"
    wls = []
    for i, name in enumerate(["../../escaped", "/tmp/escaped-abs", "../x"]):
        w = box / f"w{i}.yaml"
        box.mkdir(exist_ok=True)
        w.write_text(yaml.safe_dump({"name": name, "source": {"platform": "msk-standard"}, "region": "us-east-1",
                                     "traffic": {"write_rate": "1 MiB/s"}}))  # fmt: skip
        wls.append(w)
    before = {p for p in tmp_path.rglob("*")}
    results = run_reports(wls, None, out, jobs=1, progress=False)
    assert [r["status"] for r in results] == ["failed"] * 3
    assert all("not a workload name" in r["error"] for r in results)
    created = {p for p in tmp_path.rglob("*")} - before
    assert all(out in p.parents or p == out for p in created), created
    assert not Path("/tmp/escaped-abs.html").exists()


# --- (e) price overrides ------------------------------------------------------------------------------

BAD_OVERRIDES = {
    "negative": (-0.02, "out of range"),
    "nan": (float("nan"), "not a finite number"),
    "inf": (float("inf"), "not a finite number"),
    "unit string": ("0.02 USD/TB", "USD/GiB"),
    "other currency": ("0.02 EUR", "USD/GiB"),
    "boolean": (True, "not a number"),
    "list": ([0.02], "not a number"),
}


@pytest.mark.parametrize("case", list(BAD_OVERRIDES))
def test_bad_price_overrides_in_a_workload_are_rejected_with_one_line(tmp_path, case):
    """Overrides are bare numbers in the catalog's unit: a unit in the value (other than the
    catalog's) is refused with a line naming the key and the catalog unit."""
    from exitkit.workload.loader import parse_workload

    value, expect = BAD_OVERRIDES[case]
    doc = {"name": "p", "source": {"platform": "msk-standard"}, "region": "us-east-1",
           "traffic": {"write_rate": 1}, "prices": {"aws.cross_az_per_gib": value}}  # fmt: skip
    with pytest.raises(ExitkitError) as exc:
        _load_and_price(parse_workload, doc, tmp_path)
    msg = str(exc.value)
    assert "\n" not in msg and "aws.cross_az_per_gib" in msg and expect in msg, msg


def _load_and_price(parse_workload, doc, tmp_path):
    from exitkit.cost.adapter import workload_cost

    wl = parse_workload(doc, str(tmp_path / "w.yaml"))
    return workload_cost(wl)


@pytest.mark.parametrize("value", [-1, float("nan"), float("-inf"), "0.02", "0.02 USD/GiB", None])
def test_bad_price_overrides_in_the_catalog_api_are_rejected(value):
    from exitkit.prices import load_catalog

    with pytest.raises(BadPrice) as exc:
        load_catalog(overrides={"aws.cross_az_per_gib": value})
    assert "aws.cross_az_per_gib" in str(exc.value) and "\n" not in str(exc.value)


def test_price_override_in_the_catalog_unit_is_accepted(tmp_path):
    from exitkit.workload.loader import parse_workload

    doc = {"name": "p", "source": {"platform": "msk-standard"}, "region": "us-east-1",
           "traffic": {"write_rate": 1}, "prices": {"aws.cross_az_per_gib": 0.01}}  # fmt: skip
    wc = _load_and_price(parse_workload, doc, tmp_path)
    assert wc.catalog.value("aws.cross_az_per_gib") == 0.01


def test_bill_hostile_header_and_path_are_quoted(tmp_path):
    """A bill whose file name and extra column name carry SQL quotes loads as data: same lines,
    same total as the clean fixture, and the store's tables are all still there."""
    from exitkit.bill.paths import Attribution
    from exitkit.ingest import ingest
    from exitkit.store import open_store

    clean = Path(__file__).parent / "fixtures" / "bills" / "focus-1.0-aws.csv"
    head, *rows = clean.read_text().splitlines()
    evil = 'x_Note\'); DROP TABLE sources; --""'
    hostile = tmp_path / "bill'); DROP TABLE sources; --.csv"
    hostile.write_text("\n".join([head + ',"' + evil.replace('"', '""') + '"'] + [r + ",1" for r in rows]) + "\n")
    totals = []
    for i, f in enumerate((clean, hostile)):
        db = tmp_path / f"s{i}.duckdb"
        ingest([f], db, bill=Attribution(tag="kafka-cluster"), progress=False)
        with open_store(db) as con:
            totals.append(con.execute("SELECT count(*), sum(effective_cost) FROM bill_lines").fetchone())
            assert con.execute("SELECT count(*) FROM sources").fetchone()[0] == 1
    assert totals[0] == totals[1] and totals[0][0] > 0
