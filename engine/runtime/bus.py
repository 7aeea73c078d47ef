"""The in-process event bus: trigger names -> workflows, started through the bus's `Starter`.

`emit` steps call `start` (fire and forget: the emitting step succeeds once the listening runs
are started, as a repository_dispatch or an EventBridge PutEvents does); `switchboard emit` calls
`publish`, which waits for every started run. `drain` waits for whatever is still running
(`Engine.aclose` calls it, so a process does not end under a triggered run).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engine.core.model import Workflow
from engine.runtime.ports import Cascade

if TYPE_CHECKING:
    from engine.runtime.events import RunResult, Sink
    from engine.runtime.ports import Starter

__all__ = ["EventBus"]


class EventBus:
    """Workflows by the events that trigger them."""

    def __init__(self, starter: Starter | None = None) -> None:
        self.starter = starter
        self._listeners: dict[str, list[Workflow]] = {}
        self._pending: set[asyncio.Task[RunResult]] = set()

    def register(self, workflow: Workflow) -> None:
        """Listen for every event in the workflow's `trigger`. A workflow of the same name that
        was registered before is replaced (a reloaded file)."""
        self.unregister(workflow.name)
        for event in workflow.trigger:
            self._listeners.setdefault(event, []).append(workflow)

    def unregister(self, name: str) -> None:
        for event, flows in list(self._listeners.items()):
            kept = [w for w in flows if w.name != name]
            if kept:
                self._listeners[event] = kept
            else:
                del self._listeners[event]

    def listeners(self, event: str) -> list[Workflow]:
        return list(self._listeners.get(event, ()))

    @property
    def events(self) -> list[str]:
        return sorted(self._listeners)

    def _spawn(
        self, event: str, data: Any, cascade: Cascade | None, sinks: Sequence[Sink]
    ) -> list[tuple[str, asyncio.Task[RunResult]]]:
        if self.starter is None:
            raise RuntimeError("this EventBus starts nothing: pass it to Engine(bus=…) first")
        out = []
        for wf in self.listeners(event):
            run_id, task = self.starter.start_run(
                wf, data, cascade=cascade or Cascade(), sinks=sinks
            )
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
            out.append((run_id, task))
        return out

    def start(
        self,
        event: str,
        data: Any = None,
        *,
        cascade: Cascade | None = None,
        sinks: Sequence[Sink] = (),
    ) -> list[str]:
        """Start every workflow listening for `event` with `data` as input; their run ids.
        `sinks` get the started runs' events besides the engine's own sinks."""
        return [run_id for run_id, _ in self._spawn(event, data, cascade, sinks)]

    async def publish(
        self,
        event: str,
        data: Any = None,
        *,
        cascade: Cascade | None = None,
        sinks: Sequence[Sink] = (),
    ) -> list[RunResult]:
        """Start every listening workflow and wait for them all; results in registration order."""
        started = self._spawn(event, data, cascade, sinks)
        if not started:
            return []
        return list(await asyncio.gather(*(task for _, task in started)))

    async def drain(self) -> None:
        """Wait until every run started through this bus has finished."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def cancel_all(self) -> None:
        """Cancel every run started through this bus and wait for them to end."""
        for task in list(self._pending):
            if self.starter is not None:
                self.starter.clock.cancel(task)
            else:
                task.cancel()
        await self.drain()
