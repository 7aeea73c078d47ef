"""What runs the server's runs: `Runner`, the seam a `Service` is given (default `run_job`, in
this process), and `DurableRunner`, one whose runs go on elsewhere when the server stops
(`switchboard serve --engine temporal` gives `engine.temporal.serving.TemporalRuns`).

A runner gets each run's `JobRequest`, the service's sink and Host, reports the run's events to
the sink and returns the `JobOutcome`; cancelling its task ends it `cancelled`. A durable one
returns None when the server stopped first (`stopping`), so the store keeps the run `running`,
and the next server on the same store attaches to the runs it finds in flight (`resume`)
instead of marking them interrupted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Protocol

from engine.jobs.request import JobOutcome, JobRequest
from engine.jobs.setup import Host
from engine.runtime.events import Sink

__all__ = ["Runner", "DurableRunner"]


class Runner(Protocol):
    def __call__(
        self, request: JobRequest, *, sinks: Sequence[Sink] = (), host: Host | None = None
    ) -> Awaitable[JobOutcome | None]: ...


class DurableRunner(Runner, Protocol):
    durable: bool  # runs go on without the server
    stopping: bool  # set by the server when it stops: a run cancelled now is only left

    async def resume(self, run_id: str, workflow: str, sinks: Sequence[Sink]) -> JobOutcome | None:
        """Attach to a run a previous server started, until it ends."""
        ...

    async def aclose(self) -> None: ...
