"""What the designer keeps of a run: step views, run records and log lines, built from events.

Qt-free on purpose: the run controller feeds engine events in on the GUI thread, and the tests
(and the tests panel, which rebuilds a record from a run result's JSON) use the same code.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from typing import Any

from engine.runtime.events import (
    CallRecord,
    Notification,
    RunFinished,
    RunResult,
    RunStarted,
    StepFinished,
    StepRetrying,
    StepStarted,
)
from engine.runtime.text import describe, format_ms

__all__ = [
    "LOG_LEVELS",
    "LogLine",
    "StepView",
    "RunRecord",
    "event_line",
    "apply_event",
    "record_from_result",
    "clock_text",
]

LOG_LEVELS = ("debug", "info", "success", "warning", "error")

# describe()'s kinds (engine/sinks.py) -> a log level the panel can filter and colour by
_KIND_LEVEL = {
    "run": "info",
    "start": "debug",
    "retry": "warning",
    "succeeded": "success",
    "failed": "error",
    "skipped": "debug",
    "cancelled": "warning",
}
_END_LEVEL = {"succeeded": "success", "failed": "error", "cancelled": "warning"}


def clock_text(t: float) -> str:
    """`10:04:05.123` in local time: the log's time column."""
    stamp = dt.datetime.fromtimestamp(t)
    return stamp.strftime("%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}"


class LogLine:
    """One line of the log panel. Slots, no dataclass: the panel holds up to 200,000 of them."""

    __slots__ = ("time", "level", "step", "message", "run_id", "workflow")

    def __init__(
        self, time: float, level: str, step: str, message: str, run_id: str, workflow: str
    ) -> None:
        self.time = time
        self.level = level
        self.step = step
        self.message = message
        self.run_id = run_id
        self.workflow = workflow

    def text(self) -> str:
        """The line as copied to the clipboard: tab-separated columns."""
        return f"{clock_text(self.time)}\t{self.level}\t{self.step}\t{self.message}"

    def to_json(self) -> dict[str, Any]:
        stamp = dt.datetime.fromtimestamp(self.time, dt.UTC)
        return {
            "time": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
            "level": self.level,
            "step": self.step or None,
            "message": self.message,
            "run": self.run_id,
            "workflow": self.workflow,
        }


def event_line(event: Any, workflow: str) -> LogLine | None:
    """The log line for one engine event (None for events with nothing to say)."""
    got = describe(event)
    if got is None:
        return None
    kind, text = got
    step = getattr(event, "step", None) or ""
    if isinstance(event, Notification):
        level = event.level if event.level in LOG_LEVELS else "info"
        text = event.message
    elif isinstance(event, RunFinished):
        level = _END_LEVEL.get(event.result.status, "info")
    else:
        level = _KIND_LEVEL.get(kind, "info")
    if isinstance(event, StepStarted) and event.index is not None:
        step = f"{step}[{event.index}]"
    return LogLine(event.time, level, step, text, event.run_id, workflow)


@dataclass
class StepView:
    """Where one step of a run stands, and what it did: the badge, its note, its attempts."""

    state: str = "pending"
    attempt: int = 0  # the attempt running now (or the last one)
    max_attempts: int = 1
    delay: float = 0.0  # seconds to the next attempt while retrying
    reason: str = ""
    duration_ms: int | None = None
    attempts: int = 0
    items: int = 0  # `foreach` items started
    calls: tuple[CallRecord, ...] = ()
    output: Any = None
    error: dict[str, Any] | None = None

    def note(self) -> str:
        """The line shown under the node: attempts, the next delay, the duration."""
        if self.state == "running":
            if self.items:
                return f"{_count(self.items, 'item')} started"
            if self.max_attempts > 1:
                return f"attempt {max(1, self.attempt)} of {self.max_attempts}"
            return "running…"
        if self.state == "retrying":
            return (
                f"attempt {self.attempt} of {self.max_attempts} failed · "
                f"next in {format_ms(self.delay * 1000)}"
            )
        if self.state == "pending" or self.duration_ms is None:
            return ""
        if self.state == "skipped":
            return ""  # the badge says it; a note under every skipped step is noise
        if self.items:  # a foreach step's attempts add up over its items
            tail = f" · {_count(self.items, 'item')}"
            if self.attempts > self.items:
                tail += f", {self.attempts} attempts"
        else:
            tail = f" · {self.attempts} attempts" if self.attempts > 1 else ""
        return f"{format_ms(self.duration_ms)}{tail}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


@dataclass
class RunRecord:
    """One run in the session: its steps, its result once it ended, where it ran."""

    run_id: str
    workflow: str
    env: str = ""  # what the toolbar showed: `mock`, `local`, `mocks: <a mocks file>`, …
    source: str = "run"  # run | emit | test
    started_wall: float = field(default_factory=time.time)
    status: str = "running"
    duration_ms: int | None = None
    result: RunResult | None = None
    result_json: dict[str, Any] | None = None
    steps: dict[str, StepView] = field(default_factory=dict)
    input: Any = None
    on_canvas: bool = False  # a run of the open document: its states go on the canvas

    def states(self) -> dict[str, str]:
        return {sid: v.state for sid, v in self.steps.items()}

    def title(self) -> str:
        return f"{self.workflow} {self.status}"


def apply_event(record: RunRecord, event: Any) -> str | None:
    """Update `record` with one of its events; the id of the step that changed, if any."""
    if isinstance(event, StepStarted):
        view = record.steps.setdefault(event.step, StepView())
        view.state = "running"
        view.attempt = event.attempt
        if event.index is not None and event.attempt == 1:
            view.items += 1
        return event.step
    if isinstance(event, StepRetrying):
        view = record.steps.setdefault(event.step, StepView())
        view.state = "retrying"
        view.attempt = event.attempt
        view.max_attempts = event.max_attempts
        view.delay = event.delay
        view.reason = event.reason
        return event.step
    if isinstance(event, StepFinished):
        view = record.steps.setdefault(event.step, StepView())
        view.state = event.status
        view.duration_ms = event.duration_ms
        view.attempts = event.attempts
        view.attempt = event.attempts
        view.calls = event.calls
        view.output = event.output
        view.error = event.error
        return event.step
    if isinstance(event, RunFinished):
        record.result = event.result
        record.status = event.result.status
        record.duration_ms = event.result.duration_ms
        return None
    if isinstance(event, RunStarted):
        record.input = event.input
    return None


def record_from_result(result: dict[str, Any], *, env: str = "", source: str = "test") -> RunRecord:
    """A run record rebuilt from a run result's JSON (a tests-file case's run)."""
    rec = RunRecord(
        run_id=str(result.get("run") or ""),
        workflow=str(result.get("workflow", "")),
        env=env,
        source=source,
        status=str(result.get("status", "")),
        duration_ms=result.get("duration_ms"),
        result_json=result,
    )
    for sid, s in (result.get("steps") or {}).items():
        rec.steps[sid] = StepView(
            state=s.get("status", "pending"),
            attempts=int(s.get("attempts") or 0),
            attempt=int(s.get("attempts") or 0),
            duration_ms=s.get("duration_ms"),
            output=s.get("output"),
            error=s.get("error"),
        )
    return rec


def pretty_json(value: Any) -> str:
    """JSON for people: indented, non-ASCII kept, anything odd shown as text."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)
