"""A collector's output folder: the files it writes (with sha256) and its `manifest.json`.

The manifest says what was asked (source, cluster, range, granularity or step, metrics),
from where (URL or region), when, and every file written with its sha256 and size. It never
holds a credential: `Export` also refuses to let a secret reach any file (it is replaced by
`***` and the manifest notes that a file was redacted).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from exitkit.errors import CollectError

MANIFEST = "manifest.json"
from exitkit.ingest.collect_manifest import MANIFEST_KIND  # noqa: E402  (one definition, beside its reader)


def utc_iso(ts: float | datetime) -> str:
    """`2025-03-03T00:00:00Z` from epoch seconds or an aware datetime."""
    dt = ts if isinstance(ts, datetime) else datetime.fromtimestamp(ts, UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bar(items: list, desc: str, unit: str, progress: bool | None):
    """A tqdm progress bar on stderr; `progress=None` shows it only on a terminal."""

    return tqdm(items, desc=desc, unit=unit, disable=None if progress is None else not progress, leave=False)


def default_folder(source: str, name: str, now: datetime) -> Path:
    """`exports/<source>-<name>-<UTC timestamp>/`, the name made safe for a folder."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "cluster"
    return Path("exports") / f"{source}-{safe}-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}"


class Export:
    """Files written under one folder, each recorded with its sha256, then the manifest."""

    def __init__(self, folder: Path, manifest: dict[str, Any], *, secrets: tuple[str, ...] = ()) -> None:

        self.folder = Path(folder)
        if self.folder.exists() and (not self.folder.is_dir() or any(self.folder.iterdir())):
            raise CollectError(f"{self.folder}: --out must be a new or empty folder (it would mix two collections)")
        self.manifest = {"kind": MANIFEST_KIND, **manifest}
        self.files: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self._secrets = tuple(s for s in secrets if s)
        self._created = not self.folder.exists()

    def write(self, rel: str, data: bytes, **about: Any) -> Path:
        """Write `data` to `folder/rel` and record it in the manifest (with `about`)."""
        redacted = False
        for s in self._secrets:
            if s.encode() in data:  # an API that echoes a credential must not put it on disk
                data = data.replace(s.encode(), b"***")
                redacted = True
        path = self.folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        entry = {"path": rel, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), **about}
        if redacted:
            entry["redacted"] = True
            self.notes.append(f"{rel}: a credential found in the answer was replaced by ***")
        self.files.append(entry)
        return path

    def write_json(self, rel: str, obj: Any, **about: Any) -> Path:
        return self.write(rel, json_bytes(obj), **about)

    def close(self, *, status: str = "complete", error: str | None = None, **extra: Any) -> Path:
        """Write `manifest.json` (files last) and return its path."""
        doc = {**self.manifest, **extra, "status": status, "finished_at": utc_iso(datetime.now(UTC))}
        if error:
            doc["error"] = error
        if self.notes:
            doc["notes"] = [*doc.get("notes", []), *self.notes]
        doc["files"] = self.files
        return self.write_manifest(doc)

    def write_manifest(self, doc: dict[str, Any]) -> Path:
        data = json.dumps(doc, indent=2).encode() + b"\n"
        for s in self._secrets:
            data = data.replace(s.encode(), b"***")
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / MANIFEST
        path.write_bytes(data)
        return path

    def abandon(self, error: str) -> None:
        """After a failure: keep what was written (manifest says `incomplete`), or leave no empty folder."""
        if self.files:
            self.close(status="incomplete", error=error)
        elif self._created and self.folder.exists():
            shutil.rmtree(self.folder)


def json_bytes(obj: Any) -> bytes:
    """JSON as written by the collectors: indented one space, newline-terminated, UTF-8."""
    return json.dumps(obj, indent=1, ensure_ascii=False).encode() + b"\n"
