"""Client settings and bounded connection for the commands that talk to a live cluster.

`exitkit collect kafka` and `exitkit rehearse` take librdkafka settings from `-X name=value`
and from `EXITKIT_KAFKA_<NAME>` environment variables (`EXITKIT_KAFKA_SASL_PASSWORD` →
`sasl.password`; `-X` wins). A setting whose name says password, secret, key or token is a
credential: it is shown as `***` wherever settings are written, and its value is scrubbed
from every file and message (`ssl.key.location` is a path, not a secret, but its name says
"key" and it is redacted too: better one path hidden than one secret shown).

librdkafka retries a dead bootstrap for ever and logs to stderr; here every client gets a
logger that keeps its lines in memory (the last ones explain a failure) and every wait is
bounded: `connect()` gives up after `timeout_s`, or at once when every broker is down.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, KafkaException

from exitkit.errors import ExitkitError

ENV_PREFIX = "EXITKIT_KAFKA_"
SECRET_NAME = re.compile(r"password|secret|key|token|jaas|sasl\.oauthbearer\.config", re.IGNORECASE)
REDACTED = "***"
MIN_SCRUB_CHARS = 4  # shorter values are redacted by name but not searched for in file bodies
_CREDENTIAL_SETTINGS = ("sasl.username", "sasl.mechanism", "sasl.mechanisms", "security.protocol")


class KafkaClientError(ExitkitError):
    """A live cluster that cannot be used: unreachable, refused credentials, bad settings."""


@dataclass(frozen=True)
class ClientSettings:
    """librdkafka settings for one command: the real ones, and what may be shown or written."""

    bootstrap: str
    settings: dict[str, str]  # bootstrap.servers included
    origin: dict[str, str] = field(default_factory=dict)  # name -> "-X" | "$EXITKIT_KAFKA_…"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Credential values long enough to search for in what is written."""
        return tuple(v for k, v in self.settings.items() if SECRET_NAME.search(k) and v and len(v) >= MIN_SCRUB_CHARS)

    def shown(self) -> dict[str, str]:
        """The settings with every credential replaced by `***` (for manifests and result files)."""
        return {k: (REDACTED if SECRET_NAME.search(k) else v) for k, v in sorted(self.settings.items())}

    def credentials(self) -> str:
        """Where the credentials came from, never what they are."""
        named = [f"{k} from {self.origin.get(k, '-X')}" for k in sorted(self.settings) if SECRET_NAME.search(k)]
        proto = self.settings.get("security.protocol", "PLAINTEXT (librdkafka default)")
        mech = self.settings.get("sasl.mechanism") or self.settings.get("sasl.mechanisms")
        return (
            f"security.protocol {proto}"
            + (f", sasl.mechanism {mech}" if mech else "")
            + (f"; {', '.join(named)} (redacted)" if named else "; no credential settings")
        )

    def scrub(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, REDACTED)
        return text


def client_settings(bootstrap: str, pairs: Iterable[str] = (), env: Mapping[str, str] | None = None) -> ClientSettings:
    """Settings from `EXITKIT_KAFKA_*` then `-X name=value` (later wins); `--bootstrap` is required."""
    if not re.fullmatch(r"[^\s,]+:\d{1,5}(,[^\s,]+:\d{1,5})*", bootstrap or ""):
        raise KafkaClientError(f"--bootstrap {bootstrap!r}: expected HOST:PORT (or a comma-separated list of them)")
    env = os.environ if env is None else env
    settings: dict[str, str] = {}
    origin: dict[str, str] = {}
    for var, value in sorted(env.items()):
        if var.startswith(ENV_PREFIX) and len(var) > len(ENV_PREFIX):
            name = var[len(ENV_PREFIX) :].lower().replace("_", ".")
            settings[name], origin[name] = value, f"${var}"
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name or not re.fullmatch(r"[a-z][a-z0-9._-]*", name):
            raise KafkaClientError(
                f"-X {pair.split('=', 1)[0]!r}: expected -X name=value with a librdkafka setting name"
            )
        settings[name], origin[name] = value, "-X"
    if "bootstrap.servers" in settings:
        raise KafkaClientError("-X bootstrap.servers: give the cluster with --bootstrap HOST:PORT instead")
    for reserved in ("logger", "error_cb", "on_delivery", "stats_cb"):
        settings.pop(reserved, None)
    return ClientSettings(bootstrap, {"bootstrap.servers": bootstrap, **settings}, origin)


class ClientLog(logging.Handler):
    """librdkafka's log lines and error callbacks, kept in memory (never printed, never written)."""

    def __init__(self, name: str = "exitkit.kafka") -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.errors: deque[str] = deque(maxlen=20)
        self.all_down = False
        self.fatal: str | None = None
        self.logger = logging.getLogger(f"{name}.{id(self)}")
        self.logger.handlers = [self]
        self.logger.setLevel(logging.DEBUG)
        self.logger.propagate = False

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if len(self.lines) < 5000:
            self.lines.append(msg)
        if record.levelno >= logging.WARNING:
            self.errors.append(msg)

    def error_cb(self, err) -> None:

        self.errors.append(f"{err.name()}: {err.str()}")
        if err.code() == KafkaError._ALL_BROKERS_DOWN:
            self.all_down = True
        if err.code() in (KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED) or err.fatal():
            self.fatal = f"{err.name()}: {err.str()}"

    def last_error(self) -> str | None:
        return self.errors[-1] if self.errors else None

    def config(self) -> dict:
        return {"logger": self.logger, "error_cb": self.error_cb}

    def api_versions(self) -> dict[int, dict]:
        """The broker's ApiVersions answer as librdkafka logged it (needs `debug=feature`): key → {name, min, max}."""
        out: dict[int, dict] = {}
        for line in self.lines:
            m = _API_LINE.search(line)
            if m:
                out.setdefault(int(m["key"]), {"key": int(m["key"]), "name": m["name"], "min": int(m["lo"]),
                                               "max": int(m["hi"])})  # fmt: skip
        return out


_API_LINE = re.compile(r"ApiKey (?P<name>\S+) \((?P<key>\d+)\) Versions (?P<lo>\d+)\.\.(?P<hi>\d+)")


def connect(admin, cs: ClientSettings, log: ClientLog, timeout_s: float):
    """Cluster metadata from the bootstrap within `timeout_s`, else a `KafkaClientError` (one line).

    Gives up early when librdkafka reports every broker down or an authentication failure.
    """

    deadline = time.monotonic() + timeout_s
    while True:
        step = max(0.05, min(1.0, deadline - time.monotonic()))
        try:
            return admin.list_topics(timeout=step)
        except KafkaException as exc:
            err = exc.args[0] if exc.args else None
            detail = err.str() if hasattr(err, "str") else str(exc)
        if hasattr(admin, "poll"):
            admin.poll(0)  # serves error_cb: all brokers down / authentication failed
        if log.fatal:
            raise KafkaClientError(cs.scrub(f"kafka {cs.bootstrap}: the cluster refused the client ({log.fatal}); "
                                            "check the -X security settings"))  # fmt: skip
        if log.all_down or time.monotonic() >= deadline:
            why = log.last_error() or detail
            raise KafkaClientError(
                cs.scrub(
                    f"kafka {cs.bootstrap}: no broker answered within {timeout_s:g} s ({why}); "
                    "check --bootstrap, the network path and the -X security settings"
                )
            )
