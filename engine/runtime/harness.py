"""A test harness shipped with the engine: run a workflow model on mocks in virtual time and get
its result and every event, with no files and no network (as httpx ships `MockTransport`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.core.model import MockResponse, MocksFile, Workflow
from engine.runtime.bus import EventBus
from engine.runtime.clock import RealClock, VirtualClock
from engine.runtime.engine import Engine
from engine.runtime.events import Event, RunResult
from engine.runtime.mock import MockTransport
from engine.runtime.secrets import SecretSource

__all__ = ["run_mocked"]


async def run_mocked(
    workflow: Workflow,
    mocks: MocksFile | Mapping[str, MockResponse | Sequence[MockResponse]],
    input: Any = None,
    *,
    scenario: str | None = None,
    secrets: Mapping[str, str] | None = None,
    real_time: bool = False,
    listeners: Sequence[Workflow] = (),
) -> tuple[RunResult, list[Event]]:
    """Run `workflow` against `mocks` (a mocks file's model, or `Service.action` -> response(s))
    and return its result with every event it reported, triggered runs' events included.

    `secrets` gives secret values by name; `listeners` are workflows an `emit` may start.
    """
    if isinstance(mocks, MocksFile):
        table = mocks.for_scenario(scenario)
    else:
        table = {k: [v] if isinstance(v, MockResponse) else list(v) for k, v in mocks.items()}
    clock = RealClock() if real_time else VirtualClock()
    events: list[Event] = []
    bus = EventBus()
    for wf in listeners:
        bus.register(wf)
    engine = Engine(
        transport=MockTransport(table, clock),
        clock=clock,
        sinks=[events.append],
        secrets=SecretSource(values=secrets or {}),
        bus=bus,
    )
    async with engine:
        result = await engine.run(workflow, input)
    return result, events
