"""Human units in and out: `25 MiB/s`, `7d`, `30%` → numbers; numbers → `25.0 MiB/s`."""

from __future__ import annotations

import math
import re

BYTE_UNITS = {
    "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
    "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40,
}  # fmt: skip
DURATION_UNITS = {"MS": 0.001, "S": 1, "M": 60, "H": 3600, "D": 86400, "W": 7 * 86400}

_NUM = r"([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|[-+]?\.\d+)"


def parse_bytes(text: str | float | int) -> float:
    """`10 GiB` → 10737418240.0; a bare number is bytes."""
    if isinstance(text, (int, float)):
        return float(text)
    m = re.fullmatch(rf"\s*{_NUM}\s*([A-Za-z]+)?\s*", str(text))
    if not m or (m.group(2) and m.group(2).upper() not in BYTE_UNITS):
        raise ValueError(f"{text!r} is not a size; expected a number with one of B KB MB GB TB KiB MiB GiB TiB")
    return float(m.group(1)) * BYTE_UNITS[(m.group(2) or "B").upper()]


def parse_rate(text: str | float | int) -> float:
    """`25 MiB/s` → bytes per second; a bare number is B/s."""
    if isinstance(text, (int, float)):
        return float(text)
    s = str(text).strip()
    if not s.lower().endswith("/s"):
        if re.fullmatch(_NUM, s):
            return float(s)
        raise ValueError(f"{text!r} is not a rate; expected e.g. '25 MiB/s' (B/s KB/s MB/s GB/s KiB/s MiB/s GiB/s)")
    try:
        return parse_bytes(s[:-2])
    except ValueError:
        raise ValueError(
            f"{text!r} is not a rate; expected e.g. '25 MiB/s' (B/s KB/s MB/s GB/s KiB/s MiB/s GiB/s)"
        ) from None


def parse_duration(text: str | float | int) -> float:
    """`7d` → seconds; a bare number is seconds. Units: ms s m h d w."""
    if isinstance(text, (int, float)):
        return float(text)
    m = re.fullmatch(rf"\s*{_NUM}\s*([A-Za-z]+)?\s*", str(text))
    if not m or (m.group(2) and m.group(2).upper() not in DURATION_UNITS):
        raise ValueError(f"{text!r} is not a duration; expected a number with one of ms s m h d w")
    return float(m.group(1)) * DURATION_UNITS[(m.group(2) or "S").upper()]


def parse_fraction(text: str | float | int) -> float:
    """`30%` → 0.3; a bare number is taken as a fraction."""
    if isinstance(text, (int, float)):
        return float(text)
    s = str(text).strip()
    if s.endswith("%"):
        return float(s[:-1]) / 100
    return float(s)


def human_bytes(n: float | None, suffix: str = "") -> str:
    """1048576 → `1.0 MiB` (binary units, as cloud bills count GB)."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "—"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}{suffix}" if unit == "B" else f"{n:.1f} {unit}{suffix}"
        n /= 1024
    raise AssertionError("unreachable")


def human_rate(n: float | None) -> str:
    return human_bytes(n, "/s")


def human_duration_ms(ms: float | None) -> str:
    if ms is None or (isinstance(ms, float) and math.isnan(ms)):
        return "—"
    if ms < 0:
        return "unlimited"
    s = ms / 1000
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size and s % size == 0:
            return f"{s / size:.0f}{unit}"
    return f"{s / 86400:.1f}d" if s >= 86400 else f"{s:.0f}s"
