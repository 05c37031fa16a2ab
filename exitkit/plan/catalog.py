"""The plan's catalog data: capability matrix and boundaries per platform (YAML in this folder).

Every platform of the shipped table must be in both YAML files (checked); a platform added to
the table at run time (`exitkit.platforms.register_platform`) has no catalog facts yet, so its
cells are `unknown` (no evidence) rather than an error.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib.resources import files

import yaml

from exitkit import platforms

UNKNOWN_SOURCE = "no catalog entry for this platform yet"
STATUSES = ("supported", "unsupported", "limited", "unknown")


@dataclass(frozen=True)
class Cell:
    """One fact about one platform, with where it came from."""

    platform: str
    key: str
    status: str  # capabilities: supported|unsupported|limited|unknown; boundaries: a place or yes/no/unknown
    tag: str
    source: str
    as_of: str
    note: str | None = None
    value: str | None = None
    limit_bytes_per_s: float | None = None

    def cite(self) -> str:
        """`status (tag; source, as of date)` - how a conflict names its source."""
        extra = f" — {self.note}" if self.note else ""
        return f"{self.status} [{self.tag}] (source: {self.source}, as of {self.as_of}){extra}"


def _load(name: str) -> dict:
    return yaml.safe_load(files("exitkit.plan").joinpath(name).read_text(encoding="utf-8"))


def _shipped(pid: str) -> bool:
    return pid in platforms.SHIPPED


def capabilities() -> dict[str, dict[str, Cell]]:
    """{platform: {capability: Cell}} for every platform id (checked complete for the shipped table)."""
    return _capabilities(platforms.platform_ids())


@functools.cache
def _capabilities(ids: tuple[str, ...]) -> dict[str, dict[str, Cell]]:
    data = _load("capabilities.yaml")
    names = list(data["capabilities"])
    out: dict[str, dict[str, Cell]] = {}
    for pid in ids:
        cells = data["platforms"].get(pid)
        if cells is None and not _shipped(pid):
            out[pid] = {k: Cell(pid, k, "unknown", "U", UNKNOWN_SOURCE, str(data["as_of"])) for k in names}
            continue
        if cells is None or set(cells) != set(names):
            raise ValueError(f"capabilities.yaml: {pid} must list exactly {names}")
        out[pid] = {}
        for key in names:
            c = cells[key]
            if c["status"] not in STATUSES:
                raise ValueError(f"capabilities.yaml: {pid}.{key}: status {c['status']!r} not in {STATUSES}")
            out[pid][key] = Cell(
                pid, key, c["status"], c["tag"], c["source"], str(data["as_of"]), c.get("note"),
                None if c.get("value") is None else str(c["value"]), c.get("limit_bytes_per_s"),
            )  # fmt: skip
    return out


def capability_names() -> dict[str, str]:
    """{capability: description} in catalog order."""
    return dict(_load("capabilities.yaml")["capabilities"])


BOUNDARY_PLANES = ("control_plane", "data_plane", "metadata", "logs", "metrics", "backups")
NETWORK_PATHS = ("in_vpc", "private_endpoint", "peering", "transit_gateway", "public")


@dataclass(frozen=True)
class PlatformBoundary:
    platform: str
    planes: dict[str, Cell]  # control_plane (status = who runs it) and places of the rest
    network: dict[str, str]  # path -> yes|no|unknown
    network_source: Cell

    def private_path(self) -> str:
        """`yes` when any private path exists, `no` when all are known absent, else `unknown`."""
        private = [self.network[p] for p in NETWORK_PATHS if p != "public"]
        if "yes" in private:
            return "yes"
        return "no" if all(v == "no" for v in private) else "unknown"


def boundaries() -> dict[str, PlatformBoundary]:
    """{platform: PlatformBoundary} for every platform id (checked complete for the shipped table)."""
    return _boundaries(platforms.platform_ids())


@functools.cache
def _boundaries(ids: tuple[str, ...]) -> dict[str, PlatformBoundary]:
    data = _load("boundaries.yaml")
    as_of = str(data["as_of"])
    out = {}
    for pid in ids:
        b = data["platforms"].get(pid)
        if b is None and not _shipped(pid):
            planes = {p: Cell(pid, p, "unknown", "U", UNKNOWN_SOURCE, as_of) for p in BOUNDARY_PLANES}
            network = {p: "unknown" for p in NETWORK_PATHS}
            out[pid] = PlatformBoundary(pid, planes, network, Cell(pid, "network", "", "U", UNKNOWN_SOURCE, as_of))
            continue
        if b is None:
            raise ValueError(f"boundaries.yaml: platform {pid} is missing")
        planes = {}
        for plane in BOUNDARY_PLANES:
            c = b[plane]
            status = c.get("runs") if plane == "control_plane" else c.get("place")
            planes[plane] = Cell(pid, plane, status, c["tag"], c["source"], as_of, c.get("note"))
        n = b["network"]
        network = {p: str(n[p]) for p in NETWORK_PATHS}
        out[pid] = PlatformBoundary(
            pid, planes, network, Cell(pid, "network", "", n["tag"], n["source"], as_of, n.get("note"))
        )
    return out
