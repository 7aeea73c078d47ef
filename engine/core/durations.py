"""Durations as files write them (`250ms`, `10s`, `2m`, `1h`, or seconds) <-> float seconds."""

from __future__ import annotations

import math
import re

__all__ = ["parse_duration", "format_duration", "DurationError"]

_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


class DurationError(ValueError):
    pass


def parse_duration(value: object) -> float:
    """Return seconds for `250ms`, `10s`, `2m`, `1h`, or a plain number of seconds."""
    if isinstance(value, bool):
        raise DurationError(f"expected a duration such as 500ms, 10s, 2m or 1h, got {value!r}")
    if isinstance(value, (int, float)):
        if value < 0 or math.isnan(value) or math.isinf(value):
            raise DurationError(f"a duration must be a finite number >= 0, got {value!r}")
        return float(value)
    if isinstance(value, str):
        m = _RE.match(value)
        if m:
            return float(m.group(1)) * _UNITS[m.group(2)]
    raise DurationError(
        f"expected a duration such as 500ms, 10s, 2m or 1h (or a number of seconds), got {value!r}"
    )


def format_duration(seconds: float) -> str | float | int:
    """The canonical spelling: the largest whole unit, else milliseconds, else seconds."""
    ms = seconds * 1000.0
    if ms == int(ms):
        ms_i = int(ms)
        if ms_i == 0:
            return "0s"
        for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
            if ms_i % size == 0:
                return f"{ms_i // size}{unit}"
        return f"{ms_i}ms"
    return seconds
