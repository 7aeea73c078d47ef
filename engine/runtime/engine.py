"""The Engine: runs workflows through its ports and reports what happens as events to sinks.

One Engine holds one Caller (one connection pool) for all its runs, a clock, the secrets it may
read, an event bus for `emit`, and where run ids come from. `run` executes a workflow with the
scheduler; the engine is also the bus's `Starter`.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from engine.core.model import Workflow
from engine.runtime.bus import EventBus
from engine.runtime.callers import live_caller
from engine.runtime.clock import Clock, RealClock
from engine.runtime.events import RunResult, Sink
from engine.runtime.http import HttpxCaller
from engine.runtime.ports import Caller, Cascade, IdSource, RandomIds, SecretReader, Services
from engine.runtime.scheduler import execute_run
from engine.runtime.secrets import SecretSource
from engine.runtime.wire import HttpSettings

__all__ = ["Engine"]


class Engine:
    """Runs workflows.

    `caller` makes the HTTP attempts; without one, an `HttpxCaller` over `transport`, or when
    that is not given either the live Caller (`callers.live_caller`), set up by `http` (TLS,
    proxies, redirects, response-size limit). `services` may be a `Services` naming the
    environment they come from. `secrets` default to none at all: a host
    says where they come from (`SecretSource(environ=os.environ)`).
    """

    def __init__(
        self,
        *,
        caller: Caller | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        services: dict[str, str] | None = None,
        clock: Clock | None = None,
        sinks: Sequence[Sink] = (),
        secrets: SecretReader | None = None,
        bus: EventBus | None = None,
        rng: random.Random | None = None,
        ids: IdSource | None = None,
        limits: httpx.Limits | None = None,
        http: HttpSettings | None = None,
    ) -> None:
        self.clock: Clock = clock or RealClock()
        if caller is None:
            if transport is not None or limits is not None:
                caller = HttpxCaller(transport, limits, settings=http)
            else:
                caller = live_caller(http)
        self.caller: Caller = caller
        self.services: dict[str, str] = (
            services if isinstance(services, Services) else dict(services or {})
        )
        self.sinks: list[Sink] = list(sinks)
        self.secrets: SecretReader = secrets if secrets is not None else SecretSource(environ={})
        self.rng = rng or random.Random()
        self.ids: IdSource = ids or RandomIds()
        self.bus: EventBus = bus if bus is not None else EventBus()
        if self.bus.starter is None:
            self.bus.starter = self
        self._seq = itertools.count(1)

    def add_sink(self, sink: Sink) -> None:
        self.sinks.append(sink)

    def remove_sink(self, sink: Sink) -> None:
        if sink in self.sinks:
            self.sinks.remove(sink)

    def next_seq(self) -> int:
        return next(self._seq)

    async def run(
        self,
        workflow: Workflow,
        input: Any = None,
        *,
        run_id: str | None = None,
        sinks: Sequence[Sink] = (),
        cascade: Cascade | None = None,
        pinned: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> RunResult:
        """Run a workflow to its end. Its events go to the engine's sinks and to `sinks` (this
        run's own, passed on to the runs its emits start). Cancelling the calling task cancels
        the run (re-raised after RunFinished is emitted). `pinned` steps finish at once as
        recorded, without running (execute_run)."""
        run_id = run_id or self.ids.new_run_id()
        entered = self.clock.enter()
        try:
            return await execute_run(
                self, workflow, input, run_id, sinks, cascade or Cascade(), pinned
            )
        finally:
            self.clock.leave(entered)
            self.caller.run_ended(run_id)

    def start_run(
        self, workflow: Workflow, input: Any, *, cascade: Cascade, sinks: Sequence[Sink] = ()
    ) -> tuple[str, asyncio.Task[RunResult]]:
        """Start a run in a task of its own (the bus's `Starter`)."""
        run_id = self.ids.new_run_id()
        task = self.clock.spawn(
            self.run(workflow, input, run_id=run_id, sinks=sinks, cascade=cascade),
            name=f"switchboard-{workflow.name}-{run_id}",
        )
        return run_id, task

    async def aclose(self) -> None:
        """Wait for runs started by emit steps, then close the caller."""
        await self.bus.drain()
        await self.caller.aclose()

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
