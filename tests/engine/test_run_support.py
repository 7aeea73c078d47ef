"""Helpers for the runner's tests (workflows from YAML text, mocked runs with collected events),
and the tests of those helpers' own assumptions."""

from __future__ import annotations

import asyncio
import random
import textwrap
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from engine import (
    Clock,
    Engine,
    Event,
    MocksFile,
    MockTransport,
    RunResult,
    SecretSource,
    StepFinished,
    StepRetrying,
    StepStarted,
    VirtualClock,
    Workflow,
    parse_mocks,
    parse_workflow,
)

T = TypeVar("T")

START = 1_800_000_000.0  # a fixed virtual epoch: times in tests are START + seconds


def workflow(text: str, *, validate: bool = True) -> Workflow:
    """A workflow from YAML text; `validate=False` keeps one that validation refuses (to test
    what the runner does with it anyway, as an embedding application might build one)."""
    loaded = parse_workflow(textwrap.dedent(text).lstrip())
    if validate:
        assert loaded.ok, [str(p) for p in loaded.problems]
    assert loaded.model is not None
    return loaded.model


def mocks_file(text: str) -> MocksFile:
    loaded = parse_mocks(textwrap.dedent(text).lstrip())
    assert loaded.ok, [str(p) for p in loaded.problems]
    assert loaded.model is not None
    return loaded.model


def arun(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a fresh loop and check that it left no task behind."""

    async def main() -> T:
        value = await coro
        await asyncio.sleep(0)
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert not left, f"tasks left behind: {left}"
        return value

    return asyncio.run(main())


@dataclass
class Outcome:
    result: RunResult
    events: list[Event]
    calls: dict[str, int]
    engine: Engine
    requests: list[httpx.Request] = field(default_factory=list)

    @property
    def json(self) -> dict[str, Any]:
        return self.result.to_json()

    def statuses(self) -> dict[str, str]:
        return {sid: r.status for sid, r in self.result.steps.items()}

    def started(self, step: str) -> list[StepStarted]:
        return [e for e in self.events if isinstance(e, StepStarted) and e.step == step]

    def finished(self, step: str) -> StepFinished:
        (only,) = [e for e in self.events if isinstance(e, StepFinished) and e.step == step]
        return only

    def retries(self, step: str) -> list[StepRetrying]:
        return [e for e in self.events if isinstance(e, StepRetrying) and e.step == step]

    def t(self, event: Any) -> float:
        """An event's time in seconds since the virtual start."""
        return round(float(event.time) - START, 6)


class Spy(httpx.AsyncBaseTransport):
    """Keeps every request on its way to the wrapped transport."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


async def run_mocked(
    wf: Workflow | str,
    mocks: MocksFile | str,
    input: Any = None,
    *,
    scenario: str | None = None,
    clock: Clock | None = None,
    secrets: dict[str, str] | None = None,
    seed: int = 1,
    services: dict[str, str] | None = None,
) -> Outcome:
    if isinstance(wf, str):
        wf = workflow(wf)
    if isinstance(mocks, str):
        mocks = mocks_file(mocks)
    clock = clock or VirtualClock(start=START)
    mock = MockTransport(mocks.for_scenario(scenario), clock)
    spy = Spy(mock)
    events: list[Event] = []
    engine = Engine(
        transport=spy,
        clock=clock,
        sinks=[events.append],
        secrets=SecretSource(environ={}, values=secrets or {}),
        rng=random.Random(seed),
        services=services,
    )
    try:
        result = await engine.run(wf, input)
    finally:
        await engine.aclose()
    return Outcome(result, events, dict(mock.calls), engine, spy.requests)


def test_workflow_helper_resolves_ids_and_after() -> None:
    wf = workflow("""
        version: 1
        name: w
        steps:
          - {service: A, action: one}
          - {service: A, action: two}
          - {id: x, service: A, action: one, after: []}
    """)
    assert [s.id for s in wf.steps] == ["one", "two", "x"]
    assert [s.after for s in wf.steps] == [[], ["one"], []]


def test_arun_catches_a_task_left_behind() -> None:
    async def leaky() -> None:
        asyncio.get_running_loop().create_task(asyncio.sleep(10))

    try:
        arun(leaky())
    except AssertionError as e:
        assert "tasks left behind" in str(e)
    else:  # pragma: no cover - the helper would be useless
        raise AssertionError("arun did not notice the leftover task")
