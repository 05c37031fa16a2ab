"""The demo estate: three Kafka clusters' exports written as real tools write them, plus the truth.

    truth = generate(Path("exports"))        # writes the files and exports/truth.json
    ingest_demo(Path("exports"), "demo.duckdb")

Layout: `<out>/<cluster>/<part>/...`, one folder per cluster so each ingests with its own
`--cluster`; `<out>/bills/` a month of bills for the three clusters (`exitkit.demo.bills`,
ingested with `--cluster-tag kafka-cluster`); `<out>/truth.json` holds the per-topic truth
(see `estate.TRUTH_RULES`).
"""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

import duckdb

from exitkit.bill.paths import Attribution
from exitkit.demo.bills import CLUSTER_TAG, write_bills
from exitkit.demo.cli_outputs import write_cli
from exitkit.demo.estate import CLUSTERS, Estate, Truth, build_estate, compute_truth
from exitkit.demo.writers import (
    write_cloudwatch,
    write_confluent,
    write_kafka_exporter_lag,
    write_msk_open_monitoring,
    write_prometheus_range,
    write_text,
)
from exitkit.ingest import ingest

__all__ = [
    "DEMO_CLUSTERS", "PARTS", "WORKLOADS_DIR", "Truth", "build_estate", "compute_truth", "demo_workloads",
    "generate", "ingest_demo", "workload_path",
]  # fmt: skip

DEMO_CLUSTERS: tuple[str, ...] = tuple(c.name for c in CLUSTERS)

# The demo workloads are package data (an installed wheel has them too): real files on disk,
# since a wheel installs the package as plain files.
WORKLOADS_DIR = Path(str(files("exitkit.demo").joinpath("workloads")))


def demo_workloads() -> list[Path]:
    """The demo workload files, sorted by name."""
    return sorted(WORKLOADS_DIR.glob("*.yaml"))


def workload_path(name: str) -> Path:
    """A demo workload's file by name (`payments` or `payments.yaml`)."""
    path = WORKLOADS_DIR / (name if name.endswith(".yaml") else f"{name}.yaml")
    if not path.is_file():
        known = ", ".join(p.stem for p in demo_workloads())
        raise FileNotFoundError(f"no demo workload {name!r}; the demo has {known}")
    return path


def resolve_workload(p: str | Path) -> Path:
    """A workload file as given when it exists, else the demo workload of that file name.

    Notebooks run in `notebooks/` and reports in a worker: `telemetry`, `telemetry.yaml` or an
    old `data/workloads/telemetry.yaml` still find the demo's file, installed or not.
    """
    path = Path(p).expanduser()
    if path.is_absolute() or path.exists():
        return path
    try:
        return workload_path(path.name)
    except FileNotFoundError:
        return path


# Sub-folders per cluster and what writes them.
PARTS: dict[str, tuple[str, ...]] = {
    "lkc-demo01": ("metrics", "cli"),
    "demo-msk": ("cloudwatch", "open-monitoring", "cli"),
    "demo-onprem": ("prometheus", "cli"),
}


def _write_cluster(estate: Estate, root: Path, cluster: str) -> None:
    if cluster == "lkc-demo01":
        write_confluent(estate, root / "metrics", cluster)
    elif cluster == "demo-msk":
        write_cloudwatch(estate, root / "cloudwatch", cluster)
        write_msk_open_monitoring(estate, root / "open-monitoring", cluster)
    else:
        write_prometheus_range(estate, root / "prometheus", cluster)
        write_kafka_exporter_lag(estate, root / "prometheus", cluster)
    write_cli(estate, root / "cli", cluster)


def generate(out_dir: Path, seed: int = 7) -> Truth:
    """Write the demo estate's exports under `out_dir` and return (and write) its truth.

    Deterministic: the same seed gives byte-identical files. Each cluster folder is
    replaced as a whole, so no file of an earlier run lingers.
    """
    out_dir = Path(out_dir)
    estate = build_estate(seed)
    for cluster in DEMO_CLUSTERS:
        root = out_dir / cluster
        if root.exists():
            shutil.rmtree(root)
        _write_cluster(estate, root, cluster)
    if (out_dir / "bills").exists():
        shutil.rmtree(out_dir / "bills")
    write_bills(out_dir / "bills")
    truth = compute_truth(estate)
    write_text(out_dir / "truth.json", truth.to_json())
    return truth


def ingest_demo(
    out_dir: Path,
    db: str | Path | None = None,
    *,
    clusters: tuple[str, ...] = DEMO_CLUSTERS,
    parts: tuple[str, ...] | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    bills: bool = True,
) -> list:
    """Ingest each cluster folder with its cluster name (one `exitkit.ingest.ingest` call per cluster),
    then the bills folder (when `bills` and it exists) with the demo's cluster tag.

    `parts` limits the sub-folders (e.g. `("cloudwatch",)`); returns every FileReport.
    """
    reports = []
    for cluster in clusters:
        paths = [Path(out_dir) / cluster / p for p in PARTS[cluster] if parts is None or p in parts]
        paths = [p for p in paths if p.exists()]
        if paths:
            reports += ingest(paths, db, cluster=cluster, con=con, progress=False)
    bill_dir = Path(out_dir) / "bills"
    if bills and parts is None and bill_dir.is_dir():
        reports += ingest([bill_dir], db, con=con, progress=False, bill=Attribution(tag=CLUSTER_TAG))
    return reports
