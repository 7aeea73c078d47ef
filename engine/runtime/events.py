"""What a run reports as it goes: frozen event dataclasses, the run result, and the Sink type.

Events are delivered synchronously, in order, to every sink of the engine (`Sink` is any callable
taking one event; it must not block). Every step of a run gets exactly one `StepFinished`, skipped
and cancelled steps included, so a consumer can rely on seeing each step end. `time` fields are
the engine clock's `now()` in epoch seconds (virtual in mocked runs). Secrets are already shown as
`***` in everything an event carries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, TypeVar

_T = TypeVar("_T")

__all__ = [
    "RunStarted",
    "StepStarted",
    "StepRetrying",
    "StepFinished",
    "Notification",
    "RunFinished",
    "CallRecord",
    "StepResult",
    "RunResult",
    "Event",
    "Sink",
    "iso_utc",
]


_last_iso: tuple[int, str] = (-1, "")


def iso_utc(epoch: float) -> str:
    """Epoch seconds -> `2026-11-25T10:00:00Z` (ISO 8601, UTC, whole seconds, as the spec shows).
    The last second's text is kept: every run formats its start, mostly within the same second."""
    global _last_iso
    second = int(epoch // 1)
    if _last_iso[0] != second:
        _last_iso = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return _last_iso[1]


def _fast_pickle(cls: type[_T]) -> type[_T]:
    """Pickle as `cls(*values)`: the default for frozen slotted dataclasses calls `fields()` for
    every object unpickled, which made decoding a 2,000-step run's events cost the designer's
    GUI thread 0.4 s (the events cross a process boundary, engine.worker)."""
    values = attrgetter(*(f.name for f in fields(cls)))  # type: ignore[arg-type]

    def __reduce__(self: Any) -> tuple[type, tuple[Any, ...]]:
        return cls, values(self)

    cls.__reduce__ = __reduce__  # type: ignore[method-assign]
    return cls


@_fast_pickle
@dataclass(frozen=True, slots=True)
class CallRecord:
    """One HTTP attempt of a call step.

    `request` is `{method, url, headers, body}`, `response` `{status, headers, body}` (None when the
    attempt got no response). `error` is a readable message, `error_type` its spec type
    (`http`, `timeout`, `connection`, `mock`, `cancelled`). `target` is `Service.action`; `seq`
    orders attempts across a whole engine by the moment each request was sent (the recorder uses
    it to lay recorded responses out in the order they were asked for).
    """

    attempt: int
    index: int | None
    request: dict[str, Any]
    response: dict[str, Any] | None
    error: str | None
    duration_ms: int
    target: str = ""
    seq: int = 0
    error_type: str | None = None
    delay_ms: int = 0  # time from sending the request to the response (or failure)


@_fast_pickle
@dataclass(frozen=True, slots=True)
class StepResult:
    status: str  # succeeded | failed | skipped | cancelled
    attempts: int
    output: Any
    error: dict[str, Any] | None  # {type, message, status}
    duration_ms: int

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "attempts": self.attempts,
            "output": self.output,
            "error": self.error,
            "duration_ms": self.duration_ms,
        }


@_fast_pickle
@dataclass(frozen=True, slots=True)
class RunResult:
    run_id: str
    workflow: str
    status: str  # succeeded | failed | cancelled
    started: str  # ISO 8601 UTC, "…Z"
    duration_ms: int
    steps: dict[str, StepResult]
    output: Any
    error: dict[str, Any] | None  # {type, message, step}

    def to_json(self) -> dict[str, Any]:
        """The spec's "Run result (--json)" object."""
        return {
            "run": self.run_id,
            "workflow": self.workflow,
            "status": self.status,
            "started": self.started,
            "duration_ms": self.duration_ms,
            "steps": {sid: r.to_json() for sid, r in self.steps.items()},
            "output": self.output,
            "error": self.error,
        }


@_fast_pickle
@dataclass(frozen=True, slots=True)
class RunStarted:
    run_id: str
    workflow: str
    time: float
    input: Any


@_fast_pickle
@dataclass(frozen=True, slots=True)
class StepStarted:
    run_id: str
    step: str
    attempt: int
    time: float
    index: int | None = None  # the foreach item, when the step has `foreach`


@_fast_pickle
@dataclass(frozen=True, slots=True)
class StepRetrying:
    run_id: str
    step: str
    attempt: int  # the attempt that failed
    max_attempts: int
    delay: float  # seconds until the next attempt
    reason: str
    time: float
    index: int | None = None


@_fast_pickle
@dataclass(frozen=True, slots=True)
class StepFinished:
    run_id: str
    step: str
    status: str
    output: Any
    error: dict[str, Any] | None
    duration_ms: int
    attempts: int
    calls: tuple[CallRecord, ...]
    time: float


@_fast_pickle
@dataclass(frozen=True, slots=True)
class Notification:
    run_id: str
    step: str | None
    level: str  # info | success | warning | error
    message: str
    time: float


@_fast_pickle
@dataclass(frozen=True, slots=True)
class RunFinished:
    run_id: str
    result: RunResult
    time: float


Event = RunStarted | StepStarted | StepRetrying | StepFinished | Notification | RunFinished
Sink = Callable[[Event], None]
