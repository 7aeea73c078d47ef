"""Temporal's payload limit (2 MB a payload; the server fails the workflow task past it, and the
run then hangs, retrying that task) kept in workflow code: what a run sends out is made to fit.

- a run's result over `RESULT_LIMIT` ends the run `failed`, type `limit`, with a message naming
  the limit; the step results stay, with each value too big to carry replaced by a note;
- event batches carry at most `BATCH_LIMIT` bytes; a value inside an event bigger than
  `PIECE_LIMIT` is replaced by a note (the run's result, read back from Temporal, has it whole).

The same functions run on every replay, so what they decide is deterministic.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "RESULT_LIMIT",
    "BATCH_LIMIT",
    "PIECE_LIMIT",
    "size_of",
    "trimmed",
    "fit_result",
    "fit_event",
]

RESULT_LIMIT = 1_800_000  # bytes of a run's result (Temporal: 2 MB a payload)
BATCH_LIMIT = 1_000_000  # bytes of one batch of events
PIECE_LIMIT = 64_000  # bytes of one value inside an event


def size_of(value: Any) -> int:
    """Bytes of `value` as JSON (what Temporal's converter will carry, about)."""
    return len(json.dumps(value, ensure_ascii=False, default=str).encode())


def _note(size: int, limit: int) -> dict[str, str]:
    return {
        "omitted": f"{size:,} bytes, more than the {limit:,} bytes a value may have here on "
        "Temporal (its payloads are limited to 2 MB)"
    }


def trimmed(value: Any, limit: int) -> Any:
    """`value` with every part bigger than `limit` bytes that cannot be opened further (a
    string, a number) or still is too big replaced by a note; small parts are kept as they are."""
    size = size_of(value)
    if size <= limit:
        return value
    if isinstance(value, dict):
        return {k: trimmed(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [trimmed(v, limit) for v in value]
    return _note(size, limit)


def fit_result(result: dict[str, Any], limit: int = RESULT_LIMIT) -> dict[str, Any]:
    """A run result (`RunResult.to_json()`) as it is, or failed with type `limit` when it is
    bigger than `limit`: each step's output and the run's output over a fair share are notes."""
    size = size_of(result)
    if size <= limit:
        return result
    steps = result.get("steps") or {}
    share = max(1_000, limit // (2 * (len(steps) + 1)))
    out = dict(result)
    out["steps"] = {
        sid: {**s, "output": trimmed(s.get("output"), share)} for sid, s in steps.items()
    }
    out["output"] = trimmed(result.get("output"), share)
    out["status"] = "failed"
    out["error"] = {
        "type": "limit",
        "message": f"the run's result is {size:,} bytes, more than the {limit:,} bytes a run "
        "on Temporal may return (Temporal's payload limit is 2 MB); the values too big are "
        "left out: make the steps return less (a page, an id to fetch), or run this workflow "
        "in-process",
        "step": None,
    }
    return out


def fit_event(event: dict[str, Any], limit: int = PIECE_LIMIT) -> dict[str, Any]:
    """An event's JSON with every value bigger than `limit` replaced by a note (a run result
    is fitted first as `fit_result` would)."""
    if event.get("event") == "RunFinished" and isinstance(event.get("result"), dict):
        event = {**event, "result": fit_result(event["result"])}
    if size_of(event) <= limit:
        return event
    fitted: dict[str, Any] = trimmed(event, limit)
    return fitted
