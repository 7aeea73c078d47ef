"""Hosting runs on Temporal: the worker with the settings the notes measured, and starting runs.

`run_args` turns a job's `RunSetup` (the environment resolved on the starting side, as for an
in-process run) into the workflow's arguments; `execute` starts the run with an idempotent id
and waits for its result; `make_worker` builds a worker that runs `SwitchboardRun` and the
attempt activities.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from engine.core.model import CallStep, Workflow
from engine.core.model import resolve_call as _resolve_call  # noqa: I001
from engine.files.documents import dump_any
from engine.jobs.setup import RunSetup
from engine.runtime.ports import new_run_id
from engine.runtime.wire import HttpSettings
from engine.temporal.activities import Activities
from engine.temporal.payloads import DEFAULT_TASK_QUEUE, RunArgs, RunOutcome, workflow_id
from engine.temporal.workflow import ACTIVITY_MARGIN, SwitchboardRun

__all__ = [
    "run_args",
    "start",
    "execute",
    "make_worker",
    "workflow_id",
    "shutdown_timeout",
    "workflow_runner",
]

# Modules the sandbox hands to workflow code as they are: the engine's own (deterministic by
# design: it asks its ports for time, randomness and I/O) and the pure libraries it uses.
_PASSTHROUGH = (
    "engine",
    "jmespath",
    "jsonschema",
    "jsonschema_specifications",
    "referencing",
    "rpds",
    "attrs",
    "yaml",
    "httpx",
    "httpcore",
    "anyio",
    "sniffio",
    "idna",
    "certifi",
    "h11",
    "httpx_aiohttp",
    "aiohttp",
)


def run_args(
    setup: RunSetup,
    input: Any = None,
    *,
    run_id: str | None = None,
    real_time: bool = False,
    workflow: Workflow | None = None,
    notify: bool = False,
) -> RunArgs:
    """The workflow's arguments for a run of `setup`'s workflow (or `workflow`); with `notify`
    the environment's notification sinks get the run's notifications (tests never do)."""
    wf = workflow or setup.workflow
    assert wf is not None, "a run needs a workflow"
    env = setup.env
    bus = setup.engine.bus
    listeners = {w.name: w for event in bus.events for w in bus.listeners(event)}
    return RunArgs(
        workflow=dump_any(wf, comments=False),  # the run's history needs none
        input=input,
        run_id=run_id or new_run_id(),
        services=dict(env.services),
        mocks=env.mocks,
        secret_vars=dict(env.secrets),
        virtual_time=env.mode == "mock" and not real_time,
        listeners=[dump_any(w, comments=False) for w in listeners.values()],
        notify=list(env.notify) if notify else [],
        notify_base=str(env.base_dir.resolve()) if notify else "",
        follow_redirects=env.http.follow_redirects,
        max_response_bytes=env.http.max_response_bytes,
        tls=_tls(env.http),
    )


def _tls(http: HttpSettings) -> dict[str, Any] | None:
    """The environment's TLS settings for the workers (paths as this machine sees them)."""
    if not (http.ca or http.cert or not http.verify):
        return None
    return {"ca": http.ca, "cert": http.cert, "key": http.key, "verify": http.verify}


async def start(
    client: Client, args: RunArgs, *, task_queue: str = DEFAULT_TASK_QUEUE, name: str = ""
) -> WorkflowHandle[SwitchboardRun, RunOutcome]:
    """Start the run; a second start of the same run id is refused (REJECT_DUPLICATE)."""
    return await client.start_workflow(
        SwitchboardRun.run,
        args,
        id=workflow_id(name or "run", args.run_id),
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )


async def execute(
    client: Client, args: RunArgs, *, task_queue: str = DEFAULT_TASK_QUEUE, name: str = ""
) -> RunOutcome:
    """Start the run and wait for its outcome."""
    handle = await start(client, args, task_queue=task_queue, name=name)
    return await handle.result()


def workflow_runner() -> SandboxedWorkflowRunner:
    """Temporal's sandbox, with the engine and its pure libraries passed through."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*_PASSTHROUGH)
    )


def shutdown_timeout(workflows: Iterable[Workflow]) -> timedelta:
    """At least the longest attempt timeout: a SIGTERM then lets the call in flight finish
    instead of cancelling it (which would make it repeat)."""
    longest = 30.0
    for wf in workflows:
        for step in wf.steps:
            if isinstance(step, CallStep):
                longest = max(longest, _resolve_call(step, wf.defaults).timeout / 1000)
    return timedelta(seconds=longest + ACTIVITY_MARGIN)


def make_worker(
    client: Client,
    *,
    task_queue: str = DEFAULT_TASK_QUEUE,
    activities: Activities | None = None,
    environ: Mapping[str, str] | None = None,
    graceful: timedelta | None = None,
    max_activities: int | None = None,
) -> Worker:
    """A worker for `SwitchboardRun` and its activities, set as the notes measured: a sticky
    queue given up after 1 s (a crashed run resumes in seconds, not 18), and a graceful
    shutdown as long as the longest step timeout."""
    acts = activities or Activities(environ)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[SwitchboardRun],
        activities=[acts.attempt, acts.mock_attempt, acts.secrets_set, acts.notify, acts.events],
        workflow_runner=workflow_runner(),
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=1),
        graceful_shutdown_timeout=graceful or timedelta(seconds=40),
        max_concurrent_activities=max_activities or 100,  # 100: temporalio's default
    )
