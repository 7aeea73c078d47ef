"""The event bus (emit steps start listening workflows) and `prepare` (files -> ready engine)."""

from __future__ import annotations

import asyncio
import textwrap
import time
from pathlib import Path

import pytest

from engine import (
    Engine,
    Event,
    EventBus,
    HybridTransport,
    MockTransport,
    Notification,
    RunFinished,
    SetupError,
    VirtualClock,
    prepare,
)
from engine.runtime.callers import HybridCaller
from engine.runtime.scheduler import MAX_EMIT_DEPTH
from tests.engine.test_run_support import START, arun, mocks_file, workflow

MOCKS = mocks_file("""
    version: 1
    mocks:
      S.a: {body: {n: 1}, delay: 1s}
      S.b: {body: "${ request.body }", delay: 2s}
""")

LISTENER = workflow("""
    version: 1
    name: listener
    trigger: [thingHappened, otherThing]
    steps:
      - {service: S, action: b}
""")


def test_emit_step_starts_the_listening_workflow_with_its_data() -> None:
    emitter = workflow("""
        version: 1
        name: emitter
        steps:
          - {service: S, action: a}
          - emit: {event: thingHappened, data: {n: "${ steps.a.output.n }"}}
    """)

    async def main() -> None:
        clock = VirtualClock(start=START)
        events: list[Event] = []
        bus = EventBus()
        bus.register(LISTENER)
        async with Engine(
            transport=MockTransport(MOCKS.mocks, clock), clock=clock, sinks=[events.append], bus=bus
        ) as engine:
            result = await engine.run(emitter)
            assert result.status == "succeeded"
            (child_id,) = result.steps["emit"].output["runs"]
        # aclose waited for the triggered run
        finished = {e.result.workflow: e for e in events if isinstance(e, RunFinished)}
        child = finished["listener"].result
        assert child.run_id == child_id and child.status == "succeeded"
        assert child.steps["b"].output == {"n": 1}
        # it ran concurrently in the same virtual time: started at 1 s, took 2 s
        assert finished["listener"].time == START + 3

    arun(main())


def test_publish_waits_for_every_listener() -> None:
    other = workflow("""
        version: 1
        name: other
        trigger: otherThing
        steps:
          - {service: S, action: a}
    """)

    async def main() -> None:
        clock = VirtualClock(start=START)
        bus = EventBus()
        bus.register(LISTENER)
        bus.register(other)
        assert bus.events == ["otherThing", "thingHappened"]
        async with Engine(transport=MockTransport(MOCKS.mocks, clock), clock=clock, bus=bus):
            results = await bus.publish("otherThing", {"x": 1})
            assert [r.workflow for r in results] == ["listener", "other"]
            assert results[0].steps["b"].output == {"x": 1}
            assert await bus.publish("nobodyListens") == []
        bus.unregister("listener")
        assert bus.events == ["otherThing"]

    arun(main())


def test_a_workflow_triggering_itself_stops_at_the_depth_limit() -> None:
    loop = workflow("""
        version: 1
        name: loop
        trigger: again
        steps:
          - emit: {event: again}
    """)

    async def main() -> None:
        events: list[Event] = []
        bus = EventBus()
        bus.register(loop)
        clock = VirtualClock(start=START)
        async with Engine(
            transport=MockTransport({}, clock), clock=clock, bus=bus, sinks=[events.append]
        ):
            await bus.publish("again")
        runs = [e for e in events if isinstance(e, RunFinished)]
        assert len(runs) == MAX_EMIT_DEPTH
        warnings = [e for e in events if isinstance(e, Notification) and e.level == "warning"]
        assert len(warnings) == 1 and "triggers itself" in warnings[0].message

    arun(main())


# --- prepare ----------------------------------------------------------------------------------

WF = """
version: 1
name: flow
steps:
  - {service: PolicyService, action: updatePolicy}
  - {service: Slow, action: wait, timeout: 2h}
  - emit: {event: flowDone, data: "${ steps.updatePolicy.output }"}
"""
FLOW_MOCKS = """
version: 1
mocks:
  PolicyService.updatePolicy: {body: {version: 7}}
  Slow.wait: {delay: 1h}
scenarios:
  locked:
    PolicyService.updatePolicy: {status: 409}
"""
SIBLING = """
version: 1
name: sibling
trigger: flowDone
steps:
  - {service: PolicyService, action: updatePolicy}
"""


def _folder(tmp_path: Path, envs: str | None) -> Path:
    (tmp_path / "flow.yaml").write_text(textwrap.dedent(WF))
    (tmp_path / "flow.mocks.yaml").write_text(textwrap.dedent(FLOW_MOCKS))
    (tmp_path / "sibling.yaml").write_text(textwrap.dedent(SIBLING))
    if envs is not None:
        (tmp_path / "environments.yaml").write_text(textwrap.dedent(envs))
    return tmp_path / "flow.yaml"


def test_prepare_mocked_run_uses_virtual_time_and_starts_siblings(tmp_path: Path) -> None:
    path = _folder(tmp_path, None)

    async def main() -> None:
        events: list[Event] = []
        setup = prepare(
            workflow_path=path, mocks=tmp_path / "flow.mocks.yaml", sinks=[events.append]
        )
        assert setup.mode == "mock" and setup.engine.clock.virtual
        t0 = time.perf_counter()
        result = await setup.run()
        await setup.finish()
        assert time.perf_counter() - t0 < 2  # an hour of mock delay took no real time
        assert result.status == "succeeded" and result.duration_ms == 3_600_000
        assert setup.mock_calls == {"PolicyService.updatePolicy": 2, "Slow.wait": 1}
        assert {e.result.workflow for e in events if isinstance(e, RunFinished)} == {
            "flow",
            "sibling",
        }

    arun(main())


def test_prepare_scenario_and_its_errors(tmp_path: Path) -> None:
    path = _folder(tmp_path, None)
    mocks = tmp_path / "flow.mocks.yaml"

    async def main() -> None:
        setup = prepare(workflow_path=path, mocks=mocks, scenario="locked")
        result = await setup.run()
        await setup.finish()
        assert result.status == "failed" and result.error is not None
        assert result.error["type"] == "http"

    arun(main())
    with pytest.raises(SetupError, match="known scenarios: locked"):
        prepare(workflow_path=path, mocks=mocks, scenario="nope")
    with pytest.raises(SetupError, match="needs a mocks file"):
        prepare(workflow_path=path, scenario="locked")
    with pytest.raises(SetupError, match="has no environments.yaml"):
        prepare(workflow_path=path, env="staging")


ENVS = """
version: 1
default: mock
environments:
  mock:
    mocks: flow.mocks.yaml
  hybrid:
    services: {PolicyService: "http://127.0.0.1:9"}
    mocks: flow.mocks.yaml
    notify: [{webhook: "http://127.0.0.1:9/hook"}]
  live:
    services: {PolicyService: "http://127.0.0.1:9"}
    secrets: {TOKEN: MY_TOKEN_VAR}
"""


def test_prepare_resolves_environments(tmp_path: Path) -> None:
    path = _folder(tmp_path, ENVS)

    async def main() -> None:
        setup = prepare(workflow_path=path)
        assert (setup.env_name, setup.mode) == ("mock", "mock")
        assert setup.engine.clock.virtual
        await setup.finish()

        setup = prepare(workflow_path=path, env="hybrid")
        assert setup.mode == "hybrid" and not setup.engine.clock.virtual
        assert isinstance(setup.engine.caller, HybridCaller)
        assert setup.env.notify == [{"webhook": "http://127.0.0.1:9/hook"}]
        assert setup.mock_calls is not None
        await setup.finish()

        setup = prepare(workflow_path=path, env="live")
        assert setup.mode == "live" and setup.mock_calls is None
        assert setup.engine.services == {"PolicyService": "http://127.0.0.1:9"}
        assert setup.engine.secrets.variable("TOKEN") == "MY_TOKEN_VAR"
        await setup.finish()

    arun(main())
    with pytest.raises(SetupError, match="no environment 'prod'; known: mock, hybrid, live"):
        prepare(workflow_path=path, env="prod")


def test_prepare_real_time_option(tmp_path: Path) -> None:
    path = _folder(tmp_path, ENVS)

    async def main() -> None:
        setup = prepare(workflow_path=path, real_time=True)
        assert not setup.engine.clock.virtual
        await setup.finish()

    arun(main())


def test_prepare_record_writes_the_mocks_file(tmp_path: Path) -> None:
    path = _folder(tmp_path, None)
    out = tmp_path / "rec.mocks.yaml"

    async def main() -> None:
        setup = prepare(
            workflow_path=path, mocks=tmp_path / "flow.mocks.yaml", record=out, listeners=False
        )
        await setup.run()
        await setup.finish()

    arun(main())
    from engine import load_mocks

    rec = load_mocks(out)
    assert rec.mocks["PolicyService.updatePolicy"][0].body == {"version": 7}
    assert rec.mocks["Slow.wait"][0].delay == 3_600_000


def test_hybrid_transport_sends_unmocked_calls_to_the_live_side() -> None:
    import httpx

    seen: list[str] = []

    def live(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"live": True})

    wf = workflow("""
        version: 1
        name: hyb
        steps:
          - {service: S, action: a}
          - {service: Real, action: thing}
    """)

    async def main() -> None:
        mock = MockTransport(MOCKS.mocks)
        transport = HybridTransport(mock, httpx.MockTransport(live))
        async with Engine(transport=transport, services={"Real": "http://real:1"}) as engine:
            task = asyncio.ensure_future(engine.run(wf))
            result = await task
        assert result.steps["thing"].output == {"live": True}
        assert seen == ["http://real:1/thing"]
        assert transport.calls == {"S.a": 1}

    arun(main())
