"""What runs the server's runs when it is not this process: the `RunStarter` a `Service` may be
given (`switchboard serve --engine temporal` gives one from `engine.temporal.serving`).

Without one the server runs its runs in-process through `jobs.run_job`. A starter's runs report
their events to the sinks it is handed (the server's store and subscribers); a `durable` one's
runs go on when the server stops, so the next server on the same store attaches to the runs it
finds in flight (`resume`) instead of marking them interrupted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from engine.jobs.request import JobOutcome, JobRequest
from engine.jobs.setup import Host
from engine.runtime.events import Sink

__all__ = ["RunStarter"]


class RunStarter(Protocol):
    durable: bool  # runs go on without the server
    stopping: bool  # set by the server when it stops: a run cancelled now is only left

    async def run(
        self, request: JobRequest, sinks: Sequence[Sink], host: Host | None = None
    ) -> JobOutcome | None:
        """Run one job; None when the server stopped first and the run goes on elsewhere."""
        ...

    async def resume(self, run_id: str, workflow: str, sinks: Sequence[Sink]) -> JobOutcome | None:
        """Attach to a run a previous server started, until it ends."""
        ...

    async def aclose(self) -> None: ...
