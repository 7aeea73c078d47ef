"""Events as words: one line of text per event, and durations as people read them.

The console sink, the designer's log and the server's feed all describe events the same way.
"""

from __future__ import annotations

from typing import Any

from engine.runtime import events as ev

__all__ = ["describe", "format_ms", "error_text"]


def format_ms(ms: float) -> str:
    """`3 ms`, `1.25 s`, `2 m 03 s`: short enough for a log line, exact enough to compare."""
    if ms < 1000:
        return f"{int(round(ms))} ms"
    s = ms / 1000.0
    if s < 60:
        return f"{s:.2f}".rstrip("0").rstrip(".") + " s"
    m, rest = divmod(int(round(s)), 60)
    return f"{m} m {rest:02d} s"


def error_text(error: dict[str, Any] | None) -> str:
    if not error:
        return ""
    kind = error.get("type") or "error"
    msg = error.get("message") or ""
    status = error.get("status")
    head = f"{kind} {status}" if status and str(status) not in msg else str(kind)
    return f"{head}: {msg}" if msg else head


def _step_name(step: str | None, index: int | None = None) -> str:
    if step is None:
        return ""
    return f"{step}[{index}]" if index is not None else step


def describe(event: Any) -> tuple[str, str] | None:
    """(kind, text) for one event: kind picks the icon and colour. None for unknown events."""
    if isinstance(event, ev.RunStarted):
        return "run", f"run {event.workflow} started (run {event.run_id})"
    if isinstance(event, ev.StepStarted):
        again = f" (attempt {event.attempt})" if event.attempt > 1 else ""
        return "start", f"{_step_name(event.step, event.index)} started{again}"
    if isinstance(event, ev.StepRetrying):
        return "retry", (
            f"{event.step} attempt {event.attempt} of {event.max_attempts} failed: "
            f"{event.reason}; next attempt in {format_ms(event.delay * 1000)}"
        )
    if isinstance(event, ev.StepFinished):
        status = event.status
        if status == "succeeded":
            tries = f" ({event.attempts} attempts)" if event.attempts > 1 else ""
            return status, f"{event.step} succeeded in {format_ms(event.duration_ms)}{tries}"
        if status == "failed":
            tries = f" after {event.attempts} attempts" if event.attempts > 1 else ""
            why = error_text(event.error)
            return status, (
                f"{event.step} failed in {format_ms(event.duration_ms)}{tries}"
                f"{': ' + why if why else ''}"
            )
        return status, f"{event.step} {status}"
    if isinstance(event, ev.Notification):
        where = f"{event.step}: " if event.step else ""
        return event.level, f"{event.level.upper()} {where}{event.message}"
    if isinstance(event, ev.RunFinished):
        r = event.result
        tail = ""
        if r.error:
            step = r.error.get("step")
            tail = f": {error_text(r.error)}{f' (step {step})' if step else ''}"
        return "end", f"run {r.workflow} {r.status} in {format_ms(r.duration_ms)}{tail}"
    return None
