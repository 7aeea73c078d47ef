"""The in-process event bus: trigger names -> workflows, started on the bus's engine.

`emit` steps call `start` (fire and forget: the emitting step succeeds once the listening runs
are started, as a repository_dispatch or an EventBridge PutEvents does); `switchboard emit` calls
`publish`, which waits for every started run. `drain` waits for whatever is still running
(`Engine.aclose` calls it, so a process does not end under a triggered run).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.model import Workflow

if TYPE_CHECKING:
    from engine.events import RunResult
    from engine.runner import Engine

__all__ = ["EventBus", "workflow_files"]


class EventBus:
    """Workflows by the events that trigger them."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine
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

    def _engine(self) -> Engine:
        if self.engine is None:
            raise RuntimeError("this EventBus has no engine: pass it to Engine(bus=…) first")
        return self.engine

    def _spawn(self, event: str, data: Any,
               depth: int) -> list[tuple[str, asyncio.Task[RunResult]]]:
        from engine.runner import new_run_id

        engine = self._engine()
        out = []
        for wf in self.listeners(event):
            run_id = new_run_id()
            task = engine.clock.spawn(engine.run(wf, data, run_id=run_id, _depth=depth),
                                      name=f"switchboard-{event}-{wf.name}")
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
            out.append((run_id, task))
        return out

    def start(self, event: str, data: Any = None, *, depth: int = 0) -> list[str]:
        """Start every workflow listening for `event` with `data` as input; their run ids."""
        return [run_id for run_id, _ in self._spawn(event, data, depth)]

    async def publish(self, event: str, data: Any = None, *, depth: int = 0) -> list[RunResult]:
        """Start every listening workflow and wait for them all; results in registration order."""
        started = self._spawn(event, data, depth)
        if not started:
            return []
        return list(await asyncio.gather(*(task for _, task in started)))

    async def drain(self) -> None:
        """Wait until every run started through this bus has finished."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def cancel_all(self) -> None:
        """Cancel every run started through this bus and wait for them to end."""
        engine = self.engine
        for task in list(self._pending):
            if engine is not None:
                engine.clock.cancel(task)
            else:
                task.cancel()
        await self.drain()

    def register_folder(self, folder: Path, *, skip: Iterable[Path] = ()) -> list[str]:
        """Register every workflow file in `folder` that has a trigger. Returns the problems of
        files that did not load (one line each), so a caller can show them."""
        from engine.errors import LoadError
        from engine.files import load_workflow

        skipped = {Path(p).resolve() for p in skip}
        problems: list[str] = []
        for path in workflow_files(folder):
            if path.resolve() in skipped:
                continue
            try:
                wf = load_workflow(path)
            except LoadError as e:
                problems.append(f"{path}: not registered: {e.problems[0] if e.problems else e}")
                continue
            except OSError as e:
                problems.append(f"{path}: not registered: {e}")
                continue
            if wf.trigger:
                self.register(wf)
        return problems


def workflow_files(folder: Path) -> list[Path]:
    """The workflow files of a folder: `*.yaml`/`*.yml` except mocks, tests and environments."""
    out = []
    for path in sorted(Path(folder).glob("*.y*ml")):
        name = path.name
        if name in ("environments.yaml", "environments.yml"):
            continue
        if name.endswith((".mocks.yaml", ".mocks.yml", ".tests.yaml", ".tests.yml")):
            continue
        out.append(path)
    return out
