"""The workflow, mocks, environments and tests models: plain dataclasses, no Qt, no I/O.

A model holds what its file says, resolved only where the format defines a resolved form:
every step has its `id` and its `after` list filled in (the defaults applied at load time), so
edits never have to reason about implicit ordering. Keys that a file may leave out and that
inherit from `defaults:` (timeout, retry, …) stay `None` on the step; `resolve_call` merges them.
Every duration is an `int` of milliseconds (`core.durations`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from engine.core.types import LEVELS, Level, StepKind

__all__ = [
    "Retry",
    "RetryPolicy",
    "CallDefaults",
    "Step",
    "CallStep",
    "WaitStep",
    "EmitStep",
    "NotifyStep",
    "AnyStep",
    "Workflow",
    "Comment",
    "Comments",
    "ResolvedCall",
    "resolve_call",
    "MockResponse",
    "MocksFile",
    "Environment",
    "Tls",
    "EnvironmentsFile",
    "TestExpect",
    "TestCase",
    "TestsFile",
    "step_kind",
    "NOTIFY_LEVELS",
    "RETRY_ON_DEFAULT",
    "DEFAULT_TIMEOUT",
]

NOTIFY_LEVELS: tuple[Level, ...] = LEVELS
RETRY_ON_DEFAULT: tuple[str | int, ...] = ("connection", "timeout", "5xx", "429")
DEFAULT_TIMEOUT = 30_000  # ms, one attempt of a call step


@dataclass
class Retry:
    """A `retry:` block as written: `None` means the key was left out."""

    attempts: int | None = None
    delay: int | None = None  # ms
    backoff: float | None = None
    max_delay: int | None = None  # ms
    jitter: str | None = None
    on: list[str | int] | None = None

    def merged_over(self, base: Retry | None) -> Retry:
        """This block with the keys it leaves out taken from `base` (key by key)."""
        if base is None:
            return replace(self)
        return Retry(
            attempts=self.attempts if self.attempts is not None else base.attempts,
            delay=self.delay if self.delay is not None else base.delay,
            backoff=self.backoff if self.backoff is not None else base.backoff,
            max_delay=self.max_delay if self.max_delay is not None else base.max_delay,
            jitter=self.jitter if self.jitter is not None else base.jitter,
            on=list(self.on) if self.on is not None else (list(base.on) if base.on else None),
        )

    def policy(self) -> RetryPolicy:
        return RetryPolicy(
            attempts=self.attempts if self.attempts is not None else 1,
            delay=self.delay if self.delay is not None else 1000,
            backoff=self.backoff if self.backoff is not None else 2.0,
            max_delay=self.max_delay if self.max_delay is not None else 30_000,
            jitter=self.jitter if self.jitter is not None else "full",
            on=tuple(self.on) if self.on is not None else RETRY_ON_DEFAULT,
        )


@dataclass(frozen=True)
class RetryPolicy:
    """A fully resolved retry policy, as the runner uses it."""

    attempts: int = 1
    delay: int = 1000  # ms
    backoff: float = 2.0
    max_delay: int = 30_000  # ms
    jitter: str = "full"
    on: tuple[str | int, ...] = RETRY_ON_DEFAULT

    def delay_before(self, attempt: int) -> float:
        """Delay in ms after failed attempt `attempt` (1-based), before jitter:
        `min(maxDelay, delay × backoff^(attempt-1))`, capped before it can overflow."""
        delay, cap = float(self.delay), float(self.max_delay)
        if delay >= cap:
            return cap
        if delay <= 0 or self.backoff <= 1 or attempt <= 1:
            return min(cap, delay)
        # the first exponent at which the cap is reached: no power is computed past it
        if attempt - 1 >= math.log(cap / delay) / math.log(self.backoff):
            return cap
        return min(cap, delay * float(self.backoff) ** (attempt - 1))


@dataclass
class CallDefaults:
    """`defaults:` — merged under every call step that does not set the key itself."""

    timeout: int | None = None  # ms
    retry: Retry | None = None
    on_error: str | None = None
    headers: dict[str, Any] | None = None
    # the transfer keys: a step's own value, else these, else its environment's (README)
    follow_redirects: bool | None = None
    max_response_size: int | None = None  # bytes

    def is_empty(self) -> bool:
        return (
            self.timeout is None
            and self.retry is None
            and self.on_error is None
            and self.headers is None
            and self.follow_redirects is None
            and self.max_response_size is None
        )


@dataclass
class Comment:
    """The YAML comments a file had at one key or list item (`files/comments.py` finds them).

    `before`: full lines above it (`"# text"`, `""` for a blank line); `trailing`: the comment
    at the end of its first line, `trailing_col` the column it stood at; `after`: full lines
    below its whole block (a comment indented as the block's last lines)."""

    before: list[str] = field(default_factory=list)
    trailing: str | None = None
    trailing_col: int = 0
    after: list[str] = field(default_factory=list)


# Comments by path: inside a file's data (`("defaults", "retry")`); on a step, inside the step
# (`()` is the step itself, `("with", "x")`; `("^layout",)` its `layout:` line).
Comments = dict[tuple[str | int, ...], Comment]


def _comments() -> Any:
    # not compared and not shown: two models that differ only in comments mean the same
    return field(default_factory=dict, compare=False, repr=False)


@dataclass
class Step:
    """Fields every step has. `after` is always resolved (never None) in a loaded model."""

    id: str = ""
    after: list[str] = field(default_factory=list)
    if_: str | None = None
    description: str | None = None
    disabled: bool = False  # skipped in every run (state `skipped`), kept in the file
    # kept on the step, so they follow it through a rename, a move in the list, a delete (and
    # its undo) and a copy
    comments: Comments = _comments()


@dataclass
class CallStep(Step):
    service: str = ""
    action: str = ""
    method: str | None = None
    path: str | None = None
    with_: Any = None  # None: the run input is the body
    query: dict[str, Any] | None = None
    headers: dict[str, Any] | None = None
    foreach: str | None = None
    max_concurrency: int | None = None
    timeout: int | None = None  # ms
    retry: Retry | None = None
    on_error: str | None = None
    output: Any = None
    follow_redirects: bool | None = None  # None: the environment's choice (off by default)
    max_response_size: int | None = None  # bytes; None: the environment's (10 MiB by default)
    no_body: bool = False  # `with: null`: send no body at all (not the run input)

    @property
    def target(self) -> str:
        return f"{self.service}.{self.action}"


@dataclass
class WaitStep(Step):
    wait: int = 0  # ms


@dataclass
class EmitStep(Step):
    event: str = ""
    data: Any = None


@dataclass
class NotifyStep(Step):
    message: str = ""
    level: str = "info"


AnyStep = CallStep | WaitStep | EmitStep | NotifyStep


def step_kind(step: Step) -> StepKind:
    """`call`, `wait`, `emit` or `notify`."""
    if isinstance(step, CallStep):
        return "call"
    if isinstance(step, WaitStep):
        return "wait"
    if isinstance(step, EmitStep):
        return "emit"
    return "notify"


@dataclass
class Note:
    """A sticky comment on the canvas (`notes:`): kept with the layout, ignored by the engine.
    `at` is its top-left corner in canvas units."""

    text: str = ""
    at: tuple[float, float] = (0.0, 0.0)


@dataclass
class Workflow:
    name: str = "workflow"
    description: str | None = None
    trigger: list[str] = field(default_factory=list)
    input: dict[str, Any] | None = None
    timeout: int | None = None  # ms, the whole run
    defaults: CallDefaults = field(default_factory=CallDefaults)
    steps: list[AnyStep] = field(default_factory=list)
    output: Any = None
    layout: dict[str, tuple[float, float]] = field(default_factory=dict)
    version: int = 1
    notes: list[Note] = field(default_factory=list)
    comments: Comments = _comments()  # all but the steps' own (and their layout lines')

    def step(self, step_id: str) -> AnyStep:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def find(self, step_id: str) -> AnyStep | None:
        for s in self.steps:
            if s.id == step_id:
                return s
        return None

    def index_of(self, step_id: str) -> int:
        for i, s in enumerate(self.steps):
            if s.id == step_id:
                return i
        raise KeyError(step_id)

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.steps]

    def services(self) -> dict[str, list[str]]:
        """Service name -> actions, in order of first use."""
        out: dict[str, list[str]] = {}
        for s in self.steps:
            if isinstance(s, CallStep) and s.service and s.action:
                acts = out.setdefault(s.service, [])
                if s.action not in acts:
                    acts.append(s.action)
        return out


@dataclass(frozen=True)
class ResolvedCall:
    """A call step with `defaults:` and the format's defaults applied."""

    method: str
    path: str
    timeout: int  # ms
    retry: RetryPolicy
    on_error: str
    headers: dict[str, Any]


def resolve_call(step: CallStep, defaults: CallDefaults | None = None) -> ResolvedCall:
    d = defaults or CallDefaults()
    if step.retry is not None:
        retry = step.retry.merged_over(d.retry)
    else:
        retry = d.retry or Retry()
    headers = dict(d.headers or {})
    headers.update(step.headers or {})
    return ResolvedCall(
        method=(step.method or "POST").upper(),
        path=step.path if step.path is not None else f"/{step.action}",
        timeout=step.timeout
        if step.timeout is not None
        else (d.timeout if d.timeout is not None else DEFAULT_TIMEOUT),
        retry=retry.policy(),
        on_error=step.on_error or d.on_error or "fail",
        headers=headers,
    )


# --- mocks ---------------------------------------------------------------------------------


@dataclass
class MockResponse:
    """One canned answer: a response, or a fault (`timeout` / `connection`)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: int = 0  # ms
    fault: str | None = None


@dataclass
class MocksFile:
    """`mocks:` maps `Service.action` to a list of responses (call 1, 2, …; the last repeats).

    A key written as one response (not a list) is a list of one; the writer writes a list of one
    back as a single response.
    """

    mocks: dict[str, list[MockResponse]] = field(default_factory=dict)
    scenarios: dict[str, dict[str, list[MockResponse]]] = field(default_factory=dict)
    version: int = 1
    comments: Comments = _comments()

    def for_scenario(self, scenario: str | None) -> dict[str, list[MockResponse]]:
        """The mocks with a scenario's overrides applied. Raises KeyError for an unknown one."""
        table = dict(self.mocks)
        if scenario:
            table.update(self.scenarios[scenario])
        return table


# --- environments --------------------------------------------------------------------------


@dataclass
class Tls:
    """`tls:` of an environment: files as written (relative to the environments file)."""

    ca: str | None = None  # a CA bundle (PEM) trusted besides the system's
    cert: str | None = None  # a client certificate (PEM), with its key in `key` or in it
    key: str | None = None
    verify: bool = True


@dataclass
class Environment:
    services: dict[str, str] = field(default_factory=dict)  # logical name -> base URL
    mocks: list[str] = field(default_factory=list)  # paths as written (relative to the file)
    notify: list[dict[str, Any]] = field(default_factory=list)  # sinks: {webhook: url} …
    secrets: dict[str, str] = field(default_factory=dict)  # NAME -> env var to read it from
    engine: str | None = None  # where runs run: None/"local" in-process, "temporal"
    temporal: dict[str, str] = field(default_factory=dict)  # address, namespace, taskQueue
    follow_redirects: bool | None = None  # the default of the environment's call steps
    max_response_size: int | None = None  # bytes
    tls: Tls | None = None


@dataclass
class EnvironmentsFile:
    environments: dict[str, Environment] = field(default_factory=dict)
    default: str | None = None
    version: int = 1
    comments: Comments = _comments()


# --- tests ---------------------------------------------------------------------------------


@dataclass
class TestExpect:
    __test__ = False  # not a pytest class

    status: str | None = None
    steps: dict[str, str] = field(default_factory=dict)
    output: Any = None
    has_output: bool = False
    calls: dict[str, int] = field(default_factory=dict)
    error: dict[str, Any] | None = None


@dataclass
class TestCase:
    __test__ = False

    name: str = ""
    input: Any = None
    scenario: str | None = None
    env: str | None = None
    expect: TestExpect = field(default_factory=TestExpect)


@dataclass
class TestsFile:
    __test__ = False

    workflow: str = ""
    mocks: str | None = None
    cases: list[TestCase] = field(default_factory=list)
    version: int = 1
    comments: Comments = _comments()
