"""The workload file: which topics, what traffic, which candidates, under which assumptions.

A workload is YAML validated by the pydantic models below (unknown keys are errors
everywhere). Human units are parsed once, here: rates become bytes per second, durations
seconds, sizes bytes, percentages fractions. `load_workload` turns every problem into one
`BadWorkload` line naming the file, the line, the field and what was expected.
See docs/workloads.md and templates/workload.yaml.
"""

from __future__ import annotations

import difflib
import math
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from exitkit.errors import BadWorkload
from exitkit.units import parse_bytes, parse_duration, parse_fraction, parse_rate

# The platform ids a workload may name (source and candidates). ONE list: the cost model
# registry is checked against it by a test.
PLATFORMS: tuple[str, ...] = (
    "confluent-standard",
    "confluent-enterprise",
    "confluent-dedicated",
    "msk-standard",
    "msk-express",
    "msk-serverless",
    "kafka-ec2",
    "kafka-ec2-tiered",
    "automq-byoc",
    "warpstream-byoc",
    "managed-kafka-plan",
)
MIGRATION_TOOLS: tuple[str, ...] = ("mirrormaker2", "msk-replicator", "cluster-linking", "automq-linking")
PAYEES: tuple[str, ...] = ("cloud", "vendor", "internal")
NAME_PATTERN = r"[a-z0-9][a-z0-9_-]*"

_RATE_UNITS = "B/s KB/s MB/s GB/s KiB/s MiB/s GiB/s"
_DURATION_UNITS = "ms s m h d"
_SIZE_UNITS = "B KB MB GB TB KiB MiB GiB TiB"


# --- human-unit field types -------------------------------------------------------------


def _number_guard(v: Any, what: str) -> None:
    if isinstance(v, bool) or v is None or isinstance(v, (dict, list)):
        raise ValueError(f"{v!r} is not a {what}")


def _finite_nonnegative(x: float, v: Any, what: str, example: str) -> float:
    if not math.isfinite(x):
        raise ValueError(f"{v!r} is not a finite {what}; expected e.g. {example!r}")
    if x < 0:
        raise ValueError(f"{v!r} is negative; expected a {what} ≥ 0 such as {example!r}")
    return x


def _rate(v: Any) -> float:
    _number_guard(v, "rate")
    return _finite_nonnegative(parse_rate(v), v, "rate", "25 MiB/s")


def _duration(v: Any) -> float:
    _number_guard(v, "duration")
    try:
        x = parse_duration(v)
    except ValueError:
        raise ValueError(f"{v!r} is not a duration; expected e.g. '7d' (units {_DURATION_UNITS})") from None
    return _finite_nonnegative(x, v, "duration", "7d")


def _size(v: Any) -> float:
    _number_guard(v, "size")
    try:
        x = parse_bytes(v)
    except ValueError:
        raise ValueError(f"{v!r} is not a size; expected e.g. '500 GiB' (units {_SIZE_UNITS})") from None
    return _finite_nonnegative(x, v, "size", "500 GiB")


def _fraction(lo: float, hi: float, *, lo_open: bool = False) -> Any:
    def check(v: Any) -> float:
        _number_guard(v, "fraction")
        try:
            x = parse_fraction(v)
        except ValueError:
            raise ValueError(f"{v!r} is not a fraction; expected e.g. 0.3 or '30%'") from None
        if not math.isfinite(x) or x < lo or x > hi or (lo_open and x == lo):
            low = f"above {lo:g}" if lo_open else f"at least {lo:g}"
            raise ValueError(f"{v!r} is out of range; expected a fraction {low} and at most {hi:g} (e.g. 0.3 or '30%')")
        return x

    return check


def _number(*, positive: bool = False) -> Any:
    def check(v: Any) -> float:
        _number_guard(v, "number")
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"{v!r} is not a number") from None
        if not math.isfinite(x):
            raise ValueError(f"{v!r} is not a finite number")
        if x < 0 or (positive and x == 0):
            raise ValueError(f"{v!r} is out of range; expected a number {'> 0' if positive else '≥ 0'}")
        return x

    return check


def _platform(v: str) -> str:
    if v not in PLATFORMS:
        close = difflib.get_close_matches(v, PLATFORMS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ValueError(f"{v!r} is not a platform id{hint}; expected one of {', '.join(PLATFORMS)}")
    return v


def _human(kind: str, pattern: str, description: str) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": pattern}, {"type": "number", "minimum": 0}],
            "description": description,
        }
    )


_NUM_RE = r"^\s*[0-9.]+([eE][-+]?[0-9]+)?\s*"
Rate = Annotated[
    float,
    BeforeValidator(_rate),
    _human(
        "rate",
        _NUM_RE + r"(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)/s\s*$",
        f"A rate, e.g. '25 MiB/s' ({_RATE_UNITS}); a bare number is B/s. Stored as bytes per second.",
    ),
]
Duration = Annotated[
    float,
    BeforeValidator(_duration),
    _human(
        "duration",
        _NUM_RE + r"(ms|s|m|h|d|w)?\s*$",
        f"A duration, e.g. '7d' ({_DURATION_UNITS}); a bare number is seconds. Stored as seconds.",
    ),
]
Size = Annotated[
    float,
    BeforeValidator(_size),
    _human(
        "size",
        _NUM_RE + r"(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$",
        f"A size, e.g. '500 GiB' ({_SIZE_UNITS}); a bare number is bytes. Stored as bytes.",
    ),
]


def _fraction_type(lo: float, hi: float, *, lo_open: bool = False) -> Any:
    return Annotated[
        float,
        BeforeValidator(_fraction(lo, hi, lo_open=lo_open)),
        WithJsonSchema(
            {
                "anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^\s*-?[0-9.]+\s*%\s*$"}],
                "description": f"A fraction between {lo:g} and {hi:g}: 0.3 or '30%'.",
            }
        ),
    ]


Fraction01 = _fraction_type(0, 1)
NonNegative = Annotated[float, BeforeValidator(_number()), WithJsonSchema({"type": "number", "minimum": 0})]
Positive = Annotated[
    float, BeforeValidator(_number(positive=True)), WithJsonSchema({"type": "number", "exclusiveMinimum": 0})
]
Platform = Annotated[str, AfterValidator(_platform), WithJsonSchema({"type": "string", "enum": list(PLATFORMS)})]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# --- the file's sections ----------------------------------------------------------------


class Source(_Strict):
    """Where the workload runs today."""

    platform: Platform = Field(description="Current platform id (one of PLATFORMS).")
    cluster: str | None = Field(
        None, min_length=1, description="Cluster id in the store; limits topic globs without a `cluster:` prefix."
    )


class Traffic(_Strict):
    """Overrides of measured traffic; with no `topics`, the whole (what-if) traffic."""

    write_rate: Rate | None = Field(None, description="Mean producer write rate, e.g. '25 MiB/s'.")
    write_p95: Rate | None = Field(None, description="95th percentile write rate (default: scaled from measured).")
    write_peak: Rate | None = Field(None, description="Peak write rate, e.g. '80 MiB/s'.")
    fan_out: NonNegative | None = Field(None, description="Bytes read per byte written (consumer groups' reads).")
    retention: Duration | None = Field(None, description="Retention, e.g. '7d' (ms s m h d).")
    partitions: int | None = Field(None, ge=1, description="Partition count (leaders, not replicas).")
    retained: Size | None = Field(None, description="Logical retained size (one replica), e.g. '2 TiB'.")
    record_size: Size | None = Field(None, description="Average record size, e.g. '1 KiB'.")

    @model_validator(mode="after")
    def _peak_not_below_mean(self) -> Traffic:
        w, p95, peak = self.write_rate, self.write_p95, self.write_peak
        if w is not None and peak is not None and peak < w:
            raise _field_error(
                "traffic.write_peak", "is lower than traffic.write_rate; expected a peak ≥ the mean rate"
            )
        if p95 is not None and peak is not None and peak < p95:
            raise _field_error("traffic.write_peak", "is lower than traffic.write_p95; expected a peak ≥ the p95 rate")
        return self


class ConsumerReplay(_Strict):
    per_year: NonNegative = Field(6, description="Consumer replays (reset to an earlier offset) per year.")
    hours_of_data: NonNegative = Field(24, description="Hours of data each replay re-reads.")


class Recovery(_Strict):
    """Abnormal-state events per year, each modelled separately from steady state."""

    broker_replacement: NonNegative = Field(4, description="Broker replacements per year (re-replication).")
    partition_reassignment: NonNegative = Field(12, description="Partition reassignments per year (rebalancing).")
    zone_failover: NonNegative = Field(1, description="Zone failovers per year.")
    consumer_replay: ConsumerReplay = Field(default_factory=ConsumerReplay)


class Migration(_Strict):
    dual_run_months: NonNegative = Field(2, description="Months source and destination run side by side.")
    tool: Literal["mirrormaker2", "msk-replicator", "cluster-linking", "automq-linking"] = Field(
        "mirrormaker2", description="Replication tool for the migration sync."
    )


class Labor(_Strict):
    hourly_rate: NonNegative = Field(120, description="Loaded cost of one engineer hour, USD.")
    hours_per_month: dict[Platform, NonNegative] = Field(
        default_factory=dict,
        description="Operating hours per month by platform id; a platform not listed uses the cost model's default.",
    )


class Assumptions(_Strict):
    """Every assumption has a default; a value given in the file is marked `assumed`, a default `default`."""

    replication_factor: int = Field(3, ge=1, le=10, description="Replicas per partition on the candidates.")
    zone_aware_consumers: bool = Field(
        False, description="Consumers fetch from a same-zone replica (fetch-from-follower / zone hints)."
    )
    private_link: bool = Field(True, description="Clients reach the cluster over private connectivity.")
    storage_headroom: _fraction_type(0, 10) = Field(0.4, description="Provisioned disk = data × (1 + headroom).")
    local_retention: Duration | None = Field(
        None,
        description="Tiered storage: time on broker disks (kafka-ec2-tiered defaults to 24h; "
        "msk-standard tiers only when set).",
    )
    broker_utilization: _fraction_type(0, 1, lo_open=True) = Field(
        0.5, description="Share of a broker's capacity that sizing may use."
    )
    month_hours: Annotated[Positive, AfterValidator(lambda v: _at_most(v, 744, "hours in a month"))] = Field(
        730, description="Hours in a billing month."
    )
    growth_per_year: _fraction_type(-0.99, 100) = Field(
        0.3, description="Traffic and storage growth per year: 0.3 or '30%'."
    )
    recovery: Recovery = Field(default_factory=Recovery)
    migration: Migration = Field(default_factory=Migration)
    labor: Labor = Field(default_factory=Labor)


def _at_most(v: float, hi: float, what: str) -> float:
    if v > hi:
        raise ValueError(f"{v:g} is out of range; expected at most {hi:g} {what}")
    return v


def _topic_glob(v: str) -> str:
    cluster, sep, pattern = v.rpartition(":") if ":" in v else ("", "", v)
    if not pattern.strip() or (sep and not cluster.strip()):
        raise ValueError(f"{v!r} is not a topic glob; expected e.g. 'payments.*' or 'lkc-abc12:payments.*'")
    return v


def _name(v: str) -> str:
    if not re.fullmatch(NAME_PATTERN, v):
        raise ValueError(
            f"{v!r} is not a workload name; expected lower-case letters, digits, '-' and '_' "
            f"starting with a letter or digit ({NAME_PATTERN}); it is used in file names"
        )
    return v


class Workload(_Strict):
    """A workload file. Rates are bytes/s, durations seconds, sizes bytes once validated."""

    name: Annotated[str, AfterValidator(_name)] = Field(
        max_length=64,
        description=f"Identifier used in file names: {NAME_PATTERN}.",
        json_schema_extra={"pattern": f"^{NAME_PATTERN}$"},
    )
    title: str | None = Field(None, description="Human title for reports (default: the name).")
    source: Source
    topics: list[Annotated[str, AfterValidator(_topic_glob)]] = Field(
        default_factory=list,
        description="Topic globs (fnmatch) over the store's topics; 'cluster:glob' limits one glob to a cluster. "
        "Empty: a what-if workload from `traffic` alone.",
    )
    traffic: Traffic | None = Field(None, description="Overrides of measured traffic (marked as assumed).")
    region: str = Field(min_length=1, description="Cloud region of the candidates, e.g. us-east-1.")
    zones: int = Field(3, ge=1, le=6, description="Availability zones the cluster spans.")
    candidates: list[Platform] = Field(
        default_factory=list, description="Platform ids to compare; empty: every platform in PLATFORMS."
    )
    assumptions: Assumptions = Field(default_factory=Assumptions)
    prices: dict[str, Positive] = Field(
        default_factory=dict, description="Catalog price overrides by key, e.g. {aws.cross_az_per_gb: 0.02}."
    )
    discounts: dict[Literal["cloud", "vendor", "internal"], Fraction01] = Field(
        default_factory=dict, description="Discount per payee (cloud, vendor, internal): 0.15 or '15%'."
    )
    contract: dict[str, Any] = Field(
        default_factory=dict, description="Kafka contract evidence; its fields are defined by the plan step."
    )
    cutover: dict[str, Any] = Field(
        default_factory=dict, description="Cutover moments and runbook; its fields are defined by the plan step."
    )
    owners: dict[str, Any] = Field(default_factory=dict, description="Owners by role, e.g. {workload: team-payments}.")

    _path: str = PrivateAttr("<workload>")

    @field_validator("prices", mode="before")
    @classmethod
    def _bare_price_numbers(cls, v: Any) -> Any:
        """An override is a bare number in the catalog's unit; a value carrying a unit is refused,
        naming the unit the catalog uses (`0.02 USD/TB` for a USD/GiB price would be off by 1024)."""
        if not isinstance(v, dict):
            return v
        for key, raw in v.items():
            if isinstance(raw, str) and not _is_number_text(raw):
                unit = None if str(key).startswith("discount.") else _catalog_unit(str(key))
                if str(key).startswith("discount."):
                    where = "a discount is a share such as 0.15"
                else:
                    where = f"the catalog prices {key} in {unit}" if unit else f"{key} is not a catalog key"
                raise _field_error(
                    f"prices.{key}", f"{_short(raw)} is not a bare number; {where}: give the number in that unit"
                )
        return v

    @model_validator(mode="after")
    def _checks(self) -> Workload:
        if not self.topics and (self.traffic is None or self.traffic.write_rate is None):
            raise _field_error(
                "topics",
                "selects nothing and traffic.write_rate is not set; expected topic globs to measure, "
                "or traffic.write_rate for a what-if workload",
            )
        dup = sorted({c for c in self.candidates if self.candidates.count(c) > 1})
        if dup:
            raise _field_error("candidates", f"lists {', '.join(dup)} more than once")
        return self

    @property
    def path(self) -> str:
        """The file this workload was loaded from (`<workload>` when built in code)."""
        return self._path

    @property
    def display_title(self) -> str:
        return self.title or self.name

    @property
    def what_if(self) -> bool:
        """True when the workload selects no topics: its traffic is entirely assumed."""
        return not self.topics

    def fail(self, field: str | None, message: str) -> BadWorkload:
        """A `BadWorkload` naming this workload's file and `field` (raise it)."""
        return BadWorkload(self._path, field, message)


def _is_number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _catalog_unit(key: str) -> str | None:
    """The unit of a catalog price, for error messages (None: no such key)."""
    from exitkit.errors import BadPrice
    from exitkit.prices import load_catalog

    try:
        return load_catalog().get(key).unit
    except BadPrice:
        return None


def _field_error(field: str, message: str) -> PydanticCustomError:
    return PydanticCustomError("exitkit_field", "{field} {message}", {"field": field, "message": message})


# --- loading ----------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """safe_load that also rejects duplicate keys (YAML would silently keep the last)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, typing.Hashable) and key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})", key_node.start_mark
            )
        if isinstance(key, typing.Hashable):
            seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _bad(path: str, line: int | None, field: str | None, message: str) -> BadWorkload:
    """BadWorkload whose text is `path[:line]: field: message`; `.path` stays the file."""
    exc = BadWorkload(f"{path}:{line}" if line else path, field, message)
    exc.path = path
    exc.line = line  # type: ignore[attr-defined]
    return exc


def load_workload(path: str | Path) -> Workload:
    """Read and validate a workload file; any problem is one `BadWorkload` line."""
    p = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _bad(p, None, None, "no such file; start from templates/workload.yaml") from None
    except IsADirectoryError:
        raise _bad(p, None, None, "is a directory; expected a workload YAML file") from None
    except UnicodeDecodeError as exc:
        raise _bad(p, None, None, f"not UTF-8 text (byte {exc.start}); expected a YAML file") from None
    except OSError as exc:
        raise _bad(p, None, None, f"cannot read ({exc.strerror})") from None
    return parse_workload(text, p)


def parse_workload(text: str | dict, path: str = "<workload>") -> Workload:
    """Validate workload YAML text (or an already-parsed mapping); `path` names it in errors."""
    node = None
    if isinstance(text, str):
        try:
            data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            what = getattr(exc, "problem", None) or str(exc)
            if "could not determine a constructor" in str(exc):
                what = f"unsupported YAML tag {_tag_of(exc)}; expected plain values (no !!python or other tags)"
            field = None
            if isinstance(exc, yaml.constructor.ConstructorError) and mark is not None:
                field = _field_at(yaml.compose(text, Loader=yaml.SafeLoader), mark)  # composing builds no objects
            raise _bad(path, mark.line + 1 if mark else None, field, f"not valid YAML: {what}") from None
    else:
        data = text
    if data is None:
        raise _bad(path, None, None, "empty file; expected a YAML mapping with name, source, region and topics")
    if not isinstance(data, dict):
        raise _bad(path, None, None, f"expected a YAML mapping at the top level, got a {_kind(data)}")
    try:
        wl = Workload.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        field, message = _describe(err)
        loc = tuple(x for x in err["loc"] if x != "[key]")
        if err["type"] == "exitkit_field":
            loc = tuple(field.split("."))
        raise _bad(path, _line_of(node, loc), field, message) from None
    wl._path = path
    # contract / cutover / owners are defined by the plan step; validate them now so a typo
    # there is one clear line at load time, like every other field (imported lazily: the plan
    # models build on this module).
    from exitkit.plan.models import plan_inputs

    plan_inputs(wl)
    return wl


def _tag_of(exc: yaml.YAMLError) -> str:
    m = re.search(r"tag '([^']+)'", str(exc))
    return repr(m.group(1).replace("tag:yaml.org,2002:", "!!")) if m else ""


def _field_at(node: yaml.Node | None, mark: yaml.Mark) -> str | None:
    """Dotted path of the deepest YAML node that contains `mark` (for errors YAML reports by position)."""
    loc: list = []

    def inside(n: yaml.Node) -> bool:
        return n.start_mark.index <= mark.index < max(n.end_mark.index, n.start_mark.index + 1)

    while node is not None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if inside(k) or inside(v):
                    loc.append(k.value if isinstance(k, yaml.ScalarNode) else "?")
                    node = v if inside(v) else None
                    break
            else:
                node = None
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                if inside(v):
                    loc.append(i)
                    node = v
                    break
            else:
                node = None
        else:
            node = None
    return _dotted(tuple(loc)) or None


def _kind(v: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(v), type(v).__name__)


def _dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        if part == "[key]":
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def _describe(err: dict) -> tuple[str, str]:
    """(dotted field, human message) for one pydantic error."""
    loc, kind, msg, value = err["loc"], err["type"], err["msg"], err.get("input")
    field = _dotted(loc)
    if kind == "exitkit_field":
        return err["ctx"]["field"], err["ctx"]["message"]
    if kind == "extra_forbidden":
        known = _keys_at(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean {close[0]}?" if close else f"expected one of {', '.join(known)}"
        return field, f"unknown key ({hint})"
    if kind == "missing":
        return field, "missing; this key is required (see templates/workload.yaml)"
    if kind == "value_error":
        return field, msg.removeprefix("Value error, ")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return field, f"expected a mapping (key: value), got {_kind(value)} {_short(value)}"
    if kind == "list_type":
        return field, f"expected a list, e.g. [a, b], got {_kind(value)} {_short(value)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return field, f"{_short(value)} is not a whole number"
    if kind in ("bool_type", "bool_parsing"):
        return field, f"{_short(value)} is not true or false"
    if kind in ("string_type",):
        return field, f"expected text, got {_kind(value)} {_short(value)}"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        options = re.findall(r"'([^']+)'", expected)
        close = difflib.get_close_matches(str(value), options, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return field, f"{_short(value)} is not allowed{hint}; expected one of {', '.join(options)}"
    return field, f"{_short(value)}: {msg[:1].lower()}{msg[1:]}"


def _unwrap_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, Annotated):
        for arg in typing.get_args(annotation):
            m = _unwrap_model(arg)
            if m is not None:
                return m
    return None


def _keys_at(loc: tuple) -> list[str]:
    """The keys a mapping at `loc` accepts (for 'did you mean')."""
    model: type[BaseModel] | None = Workload
    for part in loc:
        field = model.model_fields.get(part) if model else None
        model = _unwrap_model(field.annotation) if field else None
    return list(model.model_fields) if model else []


def _line_of(node: yaml.Node | None, loc: tuple) -> int | None:
    """1-based line of the deepest YAML node on the path `loc` (best effort)."""
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    line, node = k.start_mark.line + 1, v
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def workload_json_schema() -> dict:
    """JSON schema of the workload file, for editor completion (YAML language servers)."""
    schema = Workload.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "exitkit workload"
    return schema
