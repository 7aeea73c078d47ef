"""`emit` on Temporal: the listening workflows start as child workflows with derived ids.

A triggered run's id is a hash of the emitting run's id, the emit's place in that run (the
scheduler is deterministic, so the n-th start of a run is always the same emit) and the listening
workflow's name; it is started with REJECT_DUPLICATE, so an emit delivered twice (a replay, a
reset) starts its runs once. Triggered runs are abandoned by their parent (fire and forget, as
in-process), get the parent's environment, and carry the depth the scheduler's cascade cap reads.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, cast

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from engine.core.model import Workflow
    from engine.files.documents import dump_any
    from engine.runtime.clock import Clock
    from engine.runtime.events import RunResult, Sink
    from engine.temporal.payloads import WORKFLOW_NAME, RunArgs, workflow_id

__all__ = ["TemporalStarter", "derived_run_id"]


def derived_run_id(parent: str, n: int, workflow_name: str) -> str:
    """The run id of the `n`-th run a run starts: 16 hex digits, the same on every replay."""
    return hashlib.sha256(f"{parent}:{n}:{workflow_name}".encode()).hexdigest()[:16]


class TemporalStarter:
    """The event bus's Starter inside a workflow: each start is a child workflow."""

    def __init__(self, clock: Clock, args: RunArgs, run_id: str) -> None:
        self.clock = clock
        self._args = args
        self._run_id = run_id
        self._n = 0
        self.starting: list[asyncio.Task[None]] = []

    def start_run(self, workflow: Workflow, input: Any, *, depth: int,
                  sinks: Sequence[Sink] = ()) -> tuple[str, asyncio.Task[RunResult]]:
        self._n += 1
        run_id = derived_run_id(self._run_id, self._n, workflow.name)
        args = replace(self._args, workflow=dump_any(workflow), input=input, run_id=run_id,
                       depth=depth)
        task = asyncio.get_running_loop().create_task(self._start(args, workflow.name))
        self.starting.append(task)
        return run_id, cast("asyncio.Task[RunResult]", task)

    async def _start(self, args: RunArgs, name: str) -> None:
        try:
            await workflow.start_child_workflow(
                WORKFLOW_NAME, args, id=workflow_id(name, args.run_id),
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON)
        except WorkflowAlreadyStartedError:
            return None  # delivered before: starting it once is the point

    async def started(self) -> None:
        """Wait until every start was sent (a run must not end before its emits are out)."""
        if self.starting:
            await asyncio.gather(*self.starting, return_exceptions=True)
