"""What a run sends out of workflow code: the runs its emits start, and its events.

- `emit`: the listening workflows start as child workflows. A triggered run's id is a hash of the
  emitting run's id, the emit's place in that run (the scheduler is deterministic, so the n-th
  start of a run is always the same emit) and the listening workflow's name; it is started with
  REJECT_DUPLICATE, so an emit delivered twice (a replay, a reset) starts its runs once. Triggered
  runs are abandoned by their parent (fire and forget, as in-process), get the parent's
  environment, and carry the depth the scheduler's cascade cap reads.
- events: batches, in order, sent by an activity to the sinks the starter named
  (`RunArgs.events`: `{file: PATH}` as JSON lines, `{webhook: URL}` as POSTed batches, e.g. a
  server's store), so they reach a store without a Temporal query (queries hang while no worker
  is up).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import httpx
from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError, ApplicationError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from engine.core.model import Workflow
    from engine.files.documents import dump_any
    from engine.jobs.sinks import event_to_json
    from engine.runtime.clock import Clock
    from engine.runtime.events import (
        Event,
        Notification,
        RunFinished,
        RunResult,
        Sink,
        StepFinished,
        StepRetrying,
        StepStarted,
    )
    from engine.runtime.ports import Cascade
    from engine.temporal.limits import BATCH_LIMIT, fit_event, size_of
    from engine.temporal.payloads import (
        EVENTS_ACTIVITY,
        WORKFLOW_NAME,
        EventBatch,
        RunArgs,
        workflow_id,
    )

__all__ = ["TemporalStarter", "derived_run_id", "EventStream", "deliver"]


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

    def start_run(
        self, workflow: Workflow, input: Any, *, cascade: Cascade, sinks: Sequence[Sink] = ()
    ) -> tuple[str, asyncio.Task[RunResult]]:
        self._n += 1
        run_id = derived_run_id(self._run_id, self._n, workflow.name)
        # The cascade's budget of runs cannot be shared across workflows: each branch gets
        # what was left when it started (so a fan-out may start more than in-process).
        args = replace(
            self._args,
            workflow=dump_any(workflow, comments=False),
            input=input,
            run_id=run_id,
            depth=cascade.depth,
            runs_left=max(0, self._args.runs_left - self._n),
        )
        task = asyncio.get_running_loop().create_task(self._start(args, workflow.name))
        self.starting.append(task)
        return run_id, cast("asyncio.Task[RunResult]", task)

    async def _start(self, args: RunArgs, name: str) -> None:
        try:
            await workflow.start_child_workflow(
                WORKFLOW_NAME,
                args,
                id=workflow_id(name, args.run_id),
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
        except WorkflowAlreadyStartedError:
            return None  # delivered before: starting it once is the point

    async def started(self) -> None:
        """Wait until every start was sent (a run must not end before its emits are out)."""
        if self.starting:
            await asyncio.gather(*self.starting, return_exceptions=True)


# about 40 s in all: a host that cannot be reached must not hold the run's end for long
_RETRY = RetryPolicy(
    maximum_attempts=10,
    initial_interval=timedelta(milliseconds=500),
    maximum_interval=timedelta(seconds=5),
)
# A batch goes out when a step starts, retries or ends, when the run ends and on notifications:
# a store (a server's, the designer's canvas) shows a long step running while it runs.
_FLUSH_ON = (StepStarted, StepRetrying, StepFinished, RunFinished, Notification)


class EventStream:
    """Workflow side: collects events and sends them in order, one batch at a time; what comes
    while a batch is out goes in the next one (a busy run sends fewer, larger batches)."""

    def __init__(self, run_id: str, sinks: list[dict[str, Any]]) -> None:
        self._run_id = run_id
        self._sinks = sinks
        self._buffer: list[tuple[dict[str, Any], int]] = []  # (event, its size)
        self._ready = 0  # how many buffered events are due to go
        self._n = 0
        self._sender: asyncio.Task[None] | None = None

    def __call__(self, event: Event) -> None:
        data = fit_event(json.loads(json.dumps(event_to_json(event), default=str)))
        self._buffer.append((data, size_of(data)))
        if isinstance(event, _FLUSH_ON):
            self._flush()

    def _flush(self) -> None:
        self._ready = len(self._buffer)
        if self._ready and (self._sender is None or self._sender.done()):
            self._sender = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while self._ready:
            n, total = 0, 0
            while n < self._ready and (n == 0 or total + self._buffer[n][1] <= BATCH_LIMIT):
                total += self._buffer[n][1]
                n += 1
            events = [e for e, _ in self._buffer[:n]]
            self._buffer = self._buffer[n:]
            self._ready -= n
            self._n += 1
            batch = EventBatch(f"{self._run_id}:{self._n}", events, self._sinks)
            # a batch whose retries are spent is given up: the run goes on (its result holds
            # every step)
            with contextlib.suppress(ActivityError):
                await workflow.execute_activity(
                    EVENTS_ACTIVITY,
                    batch,
                    retry_policy=_RETRY,
                    start_to_close_timeout=timedelta(seconds=30),
                )

    async def sent(self) -> None:
        """Wait until every batch is out (the run must not end before its events)."""
        self._flush()
        if self._sender is not None:
            await asyncio.gather(self._sender, return_exceptions=True)


async def deliver(batch: EventBatch, client: httpx.AsyncClient) -> None:
    """Activity side: write or POST one batch to every sink. Raises to be retried."""
    for spec in batch.sinks:
        if "file" in spec:
            path = Path(str(spec["file"]))
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as f:
                for e in batch.events:
                    f.write(json.dumps(e, ensure_ascii=False) + "\n")
        elif "webhook" in spec:
            r = await client.post(
                str(spec["webhook"]), json={"key": batch.key, "events": batch.events}
            )
            if r.status_code >= 400:
                raise ApplicationError(
                    f"events {batch.key}: {spec['webhook']} answered "
                    f"{r.status_code}; Temporal retries the batch"
                )
        else:
            raise ApplicationError(
                f"events sink {spec!r} is not understood: use {{file: PATH}} or {{webhook: URL}}",
                non_retryable=True,
            )
