"""Byte sizes as files write them (`512KiB`, `10MiB`, `1GB`, or a number of bytes) <-> bytes.

A response-size limit (`maxResponseSize`) is the one size in the format. It is kept as an `int`
of bytes in a model and written back in the largest whole binary unit, so what is written back
reads as what was read.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = [
    "parse_size",
    "format_size",
    "describe_size",
    "SizeError",
    "MAX_SIZE",
    "DEFAULT_RESPONSE_SIZE",
]

_RE = re.compile(r"^\s*(\d{1,15}(?:\.\d{1,9})?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?\s*$", re.IGNORECASE)
_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}
MAX_SIZE = 4 * 1024**3  # a response held in memory: anything larger is a typo
DEFAULT_RESPONSE_SIZE = 10 * 1024**2
_EXAMPLE = "a size such as 512KiB, 10MiB or 1GB (or a number of bytes)"


class SizeError(ValueError):
    pass


def parse_size(value: object) -> int:
    """Bytes for `512KiB`, `10MiB`, `2GB`, `100B` or a whole number of bytes. Raises SizeError
    saying what is wrong."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise SizeError(f"expected {_EXAMPLE}, got {value!r}")
    if isinstance(value, int):
        amount = Decimal(value) if abs(value) <= MAX_SIZE else Decimal(MAX_SIZE + 1)
    else:
        m = _RE.match(value)
        if not m:
            raise SizeError(f"expected {_EXAMPLE}, got {value!r}")
        try:
            amount = Decimal(m.group(1)) * _UNITS[(m.group(2) or "b").lower()]
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            raise SizeError(f"expected {_EXAMPLE}, got {value!r}") from None
    if amount < 1:
        raise SizeError(f"a size must be at least 1 byte, got {value!r}")
    if amount > MAX_SIZE:
        raise SizeError(f"a size must be at most 4GiB, got {value!r}")
    if amount != amount.to_integral_value():
        raise SizeError(f"a size is a whole number of bytes, got {value!r}")
    return int(amount)


def format_size(size: int) -> str | int:
    """The canonical form: the largest binary unit that divides it (`2MiB`), else the largest
    decimal one (`5MB` stays `5MB`), else bytes as a number."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    for unit, factor in (("GB", 1000**3), ("MB", 1000**2), ("KB", 1000)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return size


def describe_size(size: int) -> str:
    """A size for a message, as a file would write it: `10 MiB`, `5 MB`, `1536 bytes`."""
    written = format_size(size)
    if isinstance(written, int):
        return f"{written} bytes"
    unit = written.lstrip("0123456789")
    return f"{written[: -len(unit)]} {unit}"
