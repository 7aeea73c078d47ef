"""Retry decisions, pure: which failures a policy retries, and the delay before the next attempt
(backoff capped by `maxDelay`, full jitter, or the server's `Retry-After`)."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from engine.core.model import RetryPolicy
from engine.runtime.ports import Rng

__all__ = ["retry_matches", "retry_after_seconds", "next_delay"]


def retry_matches(on: tuple[str | int, ...], kind: str, status: int | None) -> bool:
    """Does a failure of `kind` (and HTTP `status`) match a retry `on` list?"""
    for cond in on:
        if isinstance(cond, int):
            if status == cond:
                return True
            continue
        if cond == kind:
            return True
        if status is not None and kind == "http":
            if len(cond) == 3 and cond.endswith("xx") and cond[0].isdigit():
                if status // 100 == int(cond[0]):
                    return True
            elif cond.isdigit() and int(cond) == status:
                return True
    return False


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """A `Retry-After` header (seconds or an HTTP date) as seconds from `now`."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is no answer
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    try:
        return max(0.0, when.timestamp() - now)
    except (OverflowError, ValueError, OSError):
        return None


def next_delay(policy: RetryPolicy, attempt: int, retry_after: float | None, rng: Rng) -> float:
    """Seconds to wait after failed attempt `attempt` (1-based) before the next one;
    `retry_after` is the server's `Retry-After` in seconds."""
    if retry_after is not None:
        return min(policy.max_delay / 1000, retry_after)
    delay = policy.delay_before(attempt) / 1000
    if policy.jitter == "full":
        delay *= rng.random()
    return delay
