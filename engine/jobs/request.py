"""A job as every host asks for one, and how it ended: `JobRequest`, `JobOutcome`, `JobShape`.

One request type for the command line, the designer's worker, the server and scripts: a run
of a workflow, an event emitted to a folder, or tests files. Both are plain picklable data
(they cross the designer's process boundary).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from engine.core.errors import Problem
from engine.core.model import CallStep, Workflow, resolve_call

__all__ = [
    "JobKind",
    "OutcomeKind",
    "JobRequest",
    "JobOutcome",
    "JobShape",
    "max_attempts",
    "EXIT_OK",
    "EXIT_FAILED",
    "EXIT_USAGE",
    "EXIT_CANCELLED",
    "EXIT_TERMINATED",
]

JobKind = Literal["run", "emit", "tests"]
OutcomeKind = Literal["run", "emit", "tests", "error", "cancelled", "warning"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED, EXIT_TERMINATED = 0, 1, 2, 130, 143


@dataclass
class JobRequest:
    """One job.

    - `run`: the workflow at `path` (or the model `workflow`, which stands in for that file:
      the designer's unsaved document) with `input`.
    - `emit`: `event` with `data` to every workflow of `folder` (default: the folder of `path`)
      whose trigger names it; `workflow` stands in for its file there too.
    - `tests`: the tests files among `tests` (files or folders).

    `env`, `mocks`, `scenario`, `real_time` choose how calls resolve (see `environments`);
    `record` writes the run's calls as a mocks file; `environ` is where secrets are read (the
    host's environment when None); `allow_outside_files` lets the environments file name files
    outside its folder; `check_contract` warns (an event each) of every response of a service
    with an imported OpenAPI spec that its operation's response schema does not allow.
    """

    kind: JobKind
    path: Path | None = None
    workflow: Workflow | None = None
    input: Any = None
    run_id: str | None = None
    folder: Path | None = None
    event: str = ""
    data: Any = None
    tests: list[Path] = field(default_factory=list)
    env: str | None = None
    mocks: Path | None = None
    scenario: str | None = None
    real_time: bool = False
    record: Path | None = None
    environ: dict[str, str] | None = None
    allow_outside_files: bool = False  # an environment may name files outside its folder
    check_contract: bool = False  # run, emit: check responses against imported OpenAPI specs
    # a run: how deep in a cascade of emits it starts (an event an emit step published to a
    # stream, consumed here), so a workflow that triggers itself stops there as in one process
    depth: int = 0
    # run: steps that finish at once as a run recorded them, by id (`{status, output, error,
    # attempts}`): the designer's "run from here" replays the steps before the one chosen
    pinned: dict[str, dict[str, Any]] | None = None


@dataclass
class JobOutcome:
    """How a job ended (or, with kind `warning`, something to tell the user on the way).

    `payload`: the RunResult (run), the list of RunResults (emit), the TestReport (tests); for
    a cancelled run, the result it ended with when there is one. `problems`: the files'
    problems when the job could not start because one did not load.
    """

    kind: OutcomeKind
    run_ids: list[str] = field(default_factory=list)
    message: str = ""
    payload: Any = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    terminated: bool = False  # cancelled by SIGTERM rather than by the user (exit 143, not 130)

    @property
    def exit_code(self) -> int:
        """The command line's exit code for this outcome: 0 all succeeded (or passed), 1 a run
        failed (a case did not pass), 2 invalid input or usage, 130 cancelled (Ctrl-C), 143
        terminated (SIGTERM)."""
        if self.kind == "error":
            return EXIT_USAGE
        if self.kind == "cancelled":
            return EXIT_TERMINATED if self.terminated else EXIT_CANCELLED
        if self.kind == "tests":
            report = self.payload
            if report is None or report.errors:
                return EXIT_USAGE
            return EXIT_OK if report.ok else EXIT_FAILED
        results = self.payload if isinstance(self.payload, list) else [self.payload]
        codes = [_exit_for(r) for r in results if r is not None]
        if not codes:
            return EXIT_USAGE  # an emit that started nothing
        return max(codes)


def _exit_for(result: Any) -> int:
    if result.status == "succeeded":
        return EXIT_OK
    if result.error and result.error.get("type") == "input":
        return EXIT_USAGE
    return EXIT_FAILED


@dataclass
class JobShape:
    """What a viewer needs of the run workflow: its name, step ids and attempts per step."""

    name: str
    ids: list[str]
    attempts: dict[str, int]


def max_attempts(workflow: Workflow) -> dict[str, int]:
    """Attempts each call step may make (its retry policy merged over the defaults)."""
    out: dict[str, int] = {}
    for step in workflow.steps:
        if isinstance(step, CallStep):
            try:
                out[step.id] = max(1, resolve_call(step, workflow.defaults).retry.attempts)
            except (TypeError, ValueError, AttributeError):
                out[step.id] = 1  # a half-edited step: the engine reports the real problem
    return out
