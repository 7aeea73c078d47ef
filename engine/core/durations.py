"""Durations as files write them (`250ms`, `10s`, `2m`, `1h`, or seconds) <-> whole milliseconds.

Every duration in a model is an `int` of milliseconds, from parse to write: floats of seconds
drift (`13ms` read as 0.013 s writes back as `0.013000000000000001`). The clock works in seconds;
the runtime converts where it asks it to wait.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

__all__ = ["parse_duration", "format_duration", "DurationError", "MAX_DURATION_MS"]

_RE = re.compile(r"^\s*(\d{1,15}(?:\.\d{1,15})?)\s*(ms|s|m|h)\s*$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}
MAX_DURATION_MS = 10 * 366 * 24 * 3_600_000  # ten years: anything longer is a typo
_EXAMPLE = "a duration such as 500ms, 10s, 2m or 1h (or a number of seconds)"


class DurationError(ValueError):
    pass


def _whole_ms(amount: Decimal, shown: object) -> int:
    if amount < 0:
        raise DurationError(f"a duration must not be negative, got {shown!r}")
    if amount > MAX_DURATION_MS:
        raise DurationError(f"a duration must be at most ten years, got {shown!r}")
    if amount != amount.to_integral_value():
        raise DurationError(f"durations are whole milliseconds, got {shown!r}")
    return int(amount)


def parse_duration(value: object) -> int:
    """Whole milliseconds for `250ms`, `10s`, `2m`, `1h`, or a plain number of seconds.
    Raises DurationError saying what is wrong."""
    if isinstance(value, bool):
        raise DurationError(f"expected {_EXAMPLE}, got {value!r}")
    if isinstance(value, int):
        if abs(value) > MAX_DURATION_MS:  # before any arithmetic on a 400-digit number
            raise DurationError(
                "a duration must be at most ten years, got a number of "
                f"{len(str(abs(value)))} digits"
            )
        return _whole_ms(Decimal(value) * 1000, value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise DurationError(f"a duration must be a finite number, got {value!r}")
        if abs(value) > MAX_DURATION_MS:
            raise DurationError(f"a duration must be at most ten years, got {value!r}")
        # the decimal the file wrote (`0.013`), not the binary float it became
        return _whole_ms(Decimal(repr(value)) * 1000, value)
    if isinstance(value, str):
        m = _RE.match(value)
        if m:
            try:
                amount = Decimal(m.group(1)) * _UNIT_MS[m.group(2)]
            except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
                raise DurationError(f"expected {_EXAMPLE}, got {value!r}") from None
            return _whole_ms(amount, value)
        if len(value) > 40:
            raise DurationError(f"expected {_EXAMPLE}, got text of {len(value)} characters")
    raise DurationError(f"expected {_EXAMPLE}, got {value!r}")


def format_duration(ms: int) -> str:
    """The canonical spelling: the largest unit that divides it whole (`90s`, `2m`, `1500ms`)."""
    ms = int(ms)
    if ms == 0:
        return "0s"
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"
