"""A run's events out of workflow code, without a Temporal query (queries hang while no worker
is up): batches, in order, sent by an activity to the sinks the starter named (`RunArgs.events`:
`{file: PATH}` as JSON lines, `{webhook: URL}` as POSTed batches, e.g. a server's store)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from engine.jobs.sinks import event_to_json
    from engine.runtime.events import Event, Notification, RunFinished, StepFinished
    from engine.temporal.payloads import EVENTS_ACTIVITY, EventBatch

__all__ = ["EventStream", "deliver"]

_RETRY = RetryPolicy(maximum_attempts=10, initial_interval=timedelta(milliseconds=500))
# A batch goes out when a step or the run ends (and on notifications): few activities, and a
# store sees each step's end promptly.
_FLUSH_ON = (StepFinished, RunFinished, Notification)


class EventStream:
    """Workflow side: collects events, sends them one batch after the other."""

    def __init__(self, run_id: str, sinks: list[dict[str, Any]]) -> None:
        self._run_id = run_id
        self._sinks = sinks
        self._buffer: list[dict[str, Any]] = []
        self._n = 0
        self._tail: asyncio.Task[None] | None = None

    def __call__(self, event: Event) -> None:
        self._buffer.append(json.loads(json.dumps(event_to_json(event), default=str)))
        if isinstance(event, _FLUSH_ON):
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        self._n += 1
        batch = EventBatch(f"{self._run_id}:{self._n}", self._buffer, self._sinks)
        self._buffer = []
        self._tail = asyncio.get_running_loop().create_task(self._send(self._tail, batch))

    async def _send(self, before: asyncio.Task[None] | None, batch: EventBatch) -> None:
        if before is not None:
            await asyncio.gather(before, return_exceptions=True)  # keep the order
        await workflow.execute_activity(EVENTS_ACTIVITY, batch, retry_policy=_RETRY,
                                        start_to_close_timeout=timedelta(seconds=30))

    async def sent(self) -> None:
        """Wait until every batch is out (the run must not end before its events)."""
        self._flush()
        if self._tail is not None:
            await asyncio.gather(self._tail, return_exceptions=True)


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
            r = await client.post(str(spec["webhook"]),
                                  json={"key": batch.key, "events": batch.events})
            if r.status_code >= 400:
                raise ApplicationError(f"events {batch.key}: {spec['webhook']} answered "
                                       f"{r.status_code}; Temporal retries the batch")
        else:
            raise ApplicationError(f"events sink {spec!r} is not understood: use "
                                   "{file: PATH} or {webhook: URL}", non_retryable=True)
