"""What crosses Temporal's boundary: the run's arguments and outcome, one attempt in and out.

Plain dataclasses of JSON values, so Temporal's default converter carries them and the history
stays readable. No secret value is ever in one of them: requests carry placeholders
(`placeholder(name)`), which only the activity replaces, and answers come back redacted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from engine.core.model import MockResponse
from engine.core.sizes import DEFAULT_RESPONSE_SIZE

__all__ = [
    "RunArgs",
    "RunOutcome",
    "Attempt",
    "Answer",
    "SecretQuery",
    "placeholder",
    "PLACEHOLDER_RE",
    "WORKFLOW_NAME",
    "ATTEMPT_ACTIVITY",
    "MOCK_ACTIVITY",
    "SECRETS_ACTIVITY",
    "NOTIFY_ACTIVITY",
    "DEFAULT_TASK_QUEUE",
    "CALL_FAILED",
    "workflow_id",
    "Notice",
    "EVENTS_ACTIVITY",
    "EventBatch",
]

WORKFLOW_NAME = "switchboard.run"
ATTEMPT_ACTIVITY = "switchboard.attempt"
MOCK_ACTIVITY = "switchboard.mock_attempt"
SECRETS_ACTIVITY = "switchboard.secrets_set"
NOTIFY_ACTIVITY = "switchboard.notify"
EVENTS_ACTIVITY = "switchboard.events"
DEFAULT_TASK_QUEUE = "switchboard"
CALL_FAILED = "SwitchboardCallFailed"  # ApplicationError type of an attempt with no answer

# Only characters urlencode leaves alone, so a placeholder survives a query string as it is.
PLACEHOLDER_RE = re.compile(r"sbsecret-([A-Za-z0-9_]+)-q9z")


def workflow_id(workflow: str, run_id: str) -> str:
    """The Temporal workflow id of a run: starting the same run twice is refused."""
    return f"switchboard-{workflow}-{run_id}"


def placeholder(name: str) -> str:
    """What stands for secret `name` in workflow code and in the history."""
    return f"sbsecret-{name}-q9z"


@dataclass
class RunArgs:
    """One run: the workflow as YAML text (parsed in the workflow, so a file edited later cannot
    change a run being replayed), its input and the environment resolved by the starter."""

    workflow: str
    input: Any = None
    run_id: str = ""
    services: dict[str, str] = field(default_factory=dict)
    mocks: dict[str, list[MockResponse]] | None = None  # None: live; with services: hybrid
    secret_vars: dict[str, str] = field(default_factory=dict)  # secret -> variable
    virtual_time: bool = False
    depth: int = 0  # how deep in a cascade of emits
    runs_left: int = 1000  # runs this branch of the cascade may still start
    listeners: list[str] = field(default_factory=list)  # workflows with a trigger, as YAML
    notify: list[dict[str, Any]] = field(default_factory=list)  # the environment's sinks
    notify_base: str = ""  # where the sinks' relative file paths start
    events: list[dict[str, Any]] = field(default_factory=list)  # where every event goes
    history_limit: int = 45_000  # events; Temporal ends a run at 51,200
    max_pending: int = 1_000  # activities at once; Temporal refuses more than 2,000
    follow_redirects: bool = False  # the environment's defaults for its call steps
    max_response_bytes: int = DEFAULT_RESPONSE_SIZE
    tls: dict[str, Any] | None = None  # {ca, cert, key, verify}, absolute paths, or None


@dataclass
class RunOutcome:
    """The run result (`RunResult.to_json()`) and the mocks' call counts (faults included)."""

    result: dict[str, Any]
    calls: dict[str, int] = field(default_factory=dict)


@dataclass
class Attempt:
    """One HTTP attempt as the scheduler built it, placeholders for secrets."""

    method: str
    url: str
    headers: dict[str, str]
    body: Any
    content: str | None  # the encoded body (JSON, a form or text), as the scheduler built it
    target: str
    timeout: float
    run_id: str
    secret_vars: dict[str, str] = field(default_factory=dict)
    mock: MockResponse | None = None  # the canned answer the workflow picked
    call: int = 0  # the mock's 1-based call count, counted in workflow code
    # transfer settings: the step's, else the environment's (see runtime.wire)
    follow_redirects: bool = False
    max_response_bytes: int = DEFAULT_RESPONSE_SIZE
    secret_headers: list[str] = field(default_factory=list)
    secret_body: bool = False
    tls: dict[str, Any] | None = None  # the environment's {ca, cert, key, verify}: worker paths


@dataclass
class Answer:
    """One attempt's response, secrets shown as `***`."""

    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class SecretQuery:
    """Which of these secrets the worker can read (`variables`: secret -> variable)."""

    names: list[str]
    variables: dict[str, str] = field(default_factory=dict)


@dataclass
class Notice:
    """One notification for the environment's sinks; `key` (run:step) makes delivery once."""

    key: str
    run_id: str
    step: str
    level: str
    message: str
    time: float
    sinks: list[dict[str, Any]]
    base_dir: str = ""


@dataclass
class EventBatch:
    """A run's events since the last batch, in order; `key` (run:n) lets a store drop repeats.

    `sinks`: `{file: PATH}` appends JSON lines, `{webhook: URL}` POSTs `{key, events}`."""

    key: str
    events: list[dict[str, Any]]
    sinks: list[dict[str, Any]]
