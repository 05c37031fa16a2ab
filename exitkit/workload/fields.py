"""Field types of the workload file: human units parsed once, platform and tool ids from the table.

Rates become bytes per second, durations seconds, sizes bytes, percentages fractions; every
value is finite and in range or a one-line error that says what was expected.
"""

from __future__ import annotations

import difflib
import math
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from exitkit import platforms
from exitkit.units import parse_bytes, parse_duration, parse_fraction, parse_rate

# The vocabularies come from the one table (exitkit/platforms.yaml); read at validation time so a
# platform added with `exitkit.platforms.register_platform` is accepted too.
PLATFORMS = platforms.TABLE  # a live view: `v in PLATFORMS` sees run-time registrations
MIGRATION_TOOLS = platforms.MIGRATION_TOOLS
PAYEES = platforms.PAYEES
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


def bounded(lo: float, hi: float, what: str, *, hi_open: bool = False) -> Any:
    """A finite number in [lo, hi] (or [lo, hi) with `hi_open`): outside, one line with the range."""
    base = _number()

    def check(v: Any) -> float:
        x = base(v)
        if x < lo or x > hi or (hi_open and x == hi):
            top = f"below {hi:,g}" if hi_open else f"at most {hi:,g}"
            raise ValueError(f"{short(v)} is out of range; expected at least {lo:,g} and {top} {what}")
        return x

    return Annotated[
        float,
        BeforeValidator(check),
        WithJsonSchema(
            {"type": "number", "minimum": lo, ("exclusiveMaximum" if hi_open else "maximum"): hi, "description": what}
        ),
    ]


def check_platform(v: str) -> str:
    """A platform id of the table, or a ValueError with the closest id and the full list."""
    known = platforms.platform_ids()
    if v not in known:
        close = difflib.get_close_matches(v, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ValueError(f"{v!r} is not a platform id{hint}; expected one of {', '.join(known)}")
    return v


def check_tool(v: str) -> str:
    """A migration tool id of the table."""
    if v not in platforms.TOOLS:
        raise ValueError(f"{v!r} is not a migration tool; expected one of {', '.join(platforms.TOOLS)}")
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


def fraction_type(lo: float, hi: float, *, lo_open: bool = False) -> Any:
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


Fraction01 = fraction_type(0, 1)
NonNegative = Annotated[float, BeforeValidator(_number()), WithJsonSchema({"type": "number", "minimum": 0})]
Positive = Annotated[
    float, BeforeValidator(_number(positive=True)), WithJsonSchema({"type": "number", "exclusiveMinimum": 0})
]
# The JSON schema's enum is filled in by `workload_json_schema` from the table as it is then.
Platform = Annotated[str, AfterValidator(check_platform), WithJsonSchema({"type": "string", "x-exitkit": "platform"})]
Tool = Annotated[str, AfterValidator(check_tool), WithJsonSchema({"type": "string", "x-exitkit": "migration_tool"})]


class Strict(BaseModel):
    """Unknown keys are errors everywhere in a workload file."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def field_error(field: str, message: str) -> PydanticCustomError:
    """A validation error that names the field as the user wrote it (`traffic.write_peak`)."""
    return PydanticCustomError("exitkit_field", "{field} {message}", {"field": field, "message": message})


def short(v: Any) -> str:
    """A value as it appears in an error message, cut short."""
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."
