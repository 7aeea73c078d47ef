"""Shape checks shared by every file kind: mappings, typed optional keys, unknown keys, version.

Each helper records a problem on the `Collector` (with the path inside the document) and
returns what it could read, so parsing never stops at the first problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from engine.core.durations import DurationError, parse_duration
from engine.core.errors import Collector
from engine.core.names import suggest
from engine.core.sizes import SizeError, parse_size

__all__ = [
    "type_name",
    "check_keys",
    "as_map",
    "opt_str",
    "opt_duration",
    "opt_number",
    "opt_str_map",
    "parse_version",
]

Path = tuple[str | int, ...]
_MISSING = object()


def type_name(v: Any) -> str:
    if v is None:
        return "nothing (null)"
    if isinstance(v, bool):
        return f"the boolean {str(v).lower()}"
    if isinstance(v, (int, float)):
        return f"the number {v}"
    if isinstance(v, str):
        return f"the text '{v}'" if len(v) < 40 else "text"
    if isinstance(v, list):
        return "a list"
    return "a mapping"


def check_keys(
    c: Collector,
    d: dict[str, Any],
    allowed: frozenset[str] | set[str],
    path: Path,
    what: str,
    step: str | None = None,
) -> None:
    for k in d:
        if k not in allowed:
            hint = suggest(k, allowed) or "; allowed: " + ", ".join(sorted(allowed))
            c.add(f"unknown key '{k}' in {what}{hint}", path + (k,), key=True, step=step)


def as_map(
    c: Collector, v: Any, path: Path, what: str, step: str | None = None
) -> dict[str, Any] | None:
    if isinstance(v, dict):
        return v
    c.add(f"{what} must be a mapping (key: value lines), not {type_name(v)}", path, step=step)
    return None


def opt_str(
    c: Collector,
    d: dict[str, Any],
    key: str,
    path: Path,
    step: str | None = None,
    *,
    pattern: re.Pattern[str] | None = None,
    hint: str = "",
) -> str | None:
    v = d.get(key, _MISSING)
    if v is _MISSING or v is None:
        return None
    if not isinstance(v, str):
        if isinstance(v, (int, float)) and not isinstance(v, bool) and pattern is None:
            return str(v)
        c.add(f"'{key}' must be text, not {type_name(v)}", path + (key,), step=step)
        return None
    if pattern is not None and not pattern.match(v):
        c.add(f"'{v}' is not a valid {key}{': ' + hint if hint else ''}", path + (key,), step=step)
    return v


def _opt_parsed(
    c: Collector,
    d: dict[str, Any],
    key: str,
    path: Path,
    step: str | None,
    parse: Callable[[Any], int],
    error: type[ValueError],
) -> int | None:
    """`d[key]` through `parse` (durations, sizes), its error a problem at the key."""
    v = d.get(key, _MISSING)
    if v is _MISSING or v is None:
        return None
    try:
        return parse(v)
    except error as e:
        c.add(f"'{key}': {e}", path + (key,), step=step)
        return None


def opt_duration(
    c: Collector, d: dict[str, Any], key: str, path: Path, step: str | None = None
) -> int | None:
    return _opt_parsed(c, d, key, path, step, parse_duration, DurationError)


def opt_bool(
    c: Collector, d: dict[str, Any], key: str, path: Path, step: str | None = None
) -> bool | None:
    v = d.get(key, _MISSING)
    if v is _MISSING or v is None:
        return None
    if not isinstance(v, bool):
        c.add(f"'{key}' must be true or false, not {type_name(v)}", path + (key,), step=step)
        return None
    return v


def opt_size(
    c: Collector, d: dict[str, Any], key: str, path: Path, step: str | None = None
) -> int | None:
    return _opt_parsed(c, d, key, path, step, parse_size, SizeError)


def opt_number(
    c: Collector,
    d: dict[str, Any],
    key: str,
    path: Path,
    step: str | None = None,
    *,
    integer: bool = False,
    minimum: float | None = None,
) -> Any:
    v = d.get(key, _MISSING)
    if v is _MISSING or v is None:
        return None
    ok = isinstance(v, int) if integer else isinstance(v, (int, float))
    if isinstance(v, bool) or not ok:
        kind = "a whole number" if integer else "a number"
        c.add(f"'{key}' must be {kind}, not {type_name(v)}", path + (key,), step=step)
        return None
    if minimum is not None and v < minimum:
        c.add(f"'{key}' must be at least {minimum:g}, got {v}", path + (key,), step=step)
        return None
    return v


def opt_str_map(
    c: Collector, d: dict[str, Any], key: str, path: Path, step: str | None = None
) -> dict[str, Any] | None:
    v = d.get(key, _MISSING)
    if v is _MISSING or v is None:
        return None
    m = as_map(c, v, path + (key,), f"'{key}'", step)
    if m is None:
        return None
    out: dict[str, Any] = {}
    for k, item in m.items():
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            c.add(f"'{key}.{k}' must be text, not {type_name(item)}", path + (key, k), step=step)
        else:
            out[k] = item
    return out


def parse_version(c: Collector, d: dict[str, Any], what: str) -> None:
    v = d.get("version", _MISSING)
    if v is _MISSING:
        c.add(f"the {what} has no 'version': add 'version: 1' as its first line", ())
    elif v != 1 or isinstance(v, bool):
        c.add(f"'version' must be 1 (this is format version 1), not {v!r}", ("version",))


# --- workflow --------------------------------------------------------------------------------
