"""The run's own task runs its steps when it is free (no task per step in a chain), the skeleton
of a workflow is kept between runs only while the workflow is unchanged, and a run leaves no
reference cycles for the garbage collector."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import httpx
import pytest

from engine import Engine, MockTransport, RunFinished, VirtualClock, Workflow
from engine.runtime.skeleton import skeleton
from tests.engine.http_support import RecordingServer, http_server
from tests.engine.test_run_support import START, arun, mocks_file, run_mocked, workflow

__all__ = ["http_server"]


class TaskSpy(httpx.AsyncBaseTransport):
    """Notes which task sends each request, on its way to the wrapped transport."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.tasks: dict[str, asyncio.Task[Any] | None] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.tasks[request.url.path] = asyncio.current_task()
        return await self.inner.handle_async_request(request)


CHAIN = """
    version: 1
    name: chain
    steps:
      - {service: S, action: a}
      - {service: S, action: b}
      - {service: S, action: c}
      - {service: S, action: d, after: [a]}
"""

MOCKS = """
    version: 1
    mocks:
      S.a: {delay: 1s}
      S.b: {delay: 1s}
      S.c: {delay: 1s}
      S.d: {delay: 1s}
"""


def test_a_chain_runs_in_the_run_task_and_a_branch_in_a_task_of_its_own() -> None:
    async def main() -> None:
        clock = VirtualClock(start=START)
        spy = TaskSpy(MockTransport(mocks_file(MOCKS).mocks, clock))
        engine = Engine(transport=spy, clock=clock)
        result = await engine.run(workflow(CHAIN))
        await engine.aclose()
        assert result.status == "succeeded"
        me = asyncio.current_task()
        assert spy.tasks["/a"] is me and spy.tasks["/b"] is me and spy.tasks["/c"] is me
        assert spy.tasks["/d"] is not me  # b took the run's task; d, ready with it, got its own
        assert result.duration_ms == 3000  # d ran beside b and c

    arun(main())


def test_a_branch_failing_stops_the_step_the_run_task_is_running() -> None:
    """`slow` runs in the run's own task when `bad`, in a task of its own, fails: the run ends
    failed with bad's error (not as cancelled), and the caller's task is not left cancelled."""
    wf = """
        version: 1
        name: boom
        steps:
          - {service: S, action: a}
          - {id: slow, service: S, action: c, after: [a]}
          - {id: bad, service: S, action: b, after: [a]}
          - {id: later, service: S, action: d, after: [bad, slow]}
    """
    mocks = """
        version: 1
        mocks:
          S.a: {delay: 1s}
          S.b: {status: 500, delay: 1s}
          S.c: {delay: 10s}
          S.d: {}
    """

    async def main() -> None:
        out = await run_mocked(wf, mocks)
        assert out.result.status == "failed"
        assert out.json["error"]["step"] == "bad" and out.json["error"]["type"] == "http"
        assert out.statuses() == {
            "a": "succeeded",
            "slow": "cancelled",
            "bad": "failed",
            "later": "cancelled",
        }
        assert out.result.duration_ms == 2000
        task = asyncio.current_task()
        assert task is not None and task.cancelling() == 0
        await asyncio.sleep(0.001)  # the caller goes on awaiting: no cancel is left for it

    arun(main())


def test_the_deadline_stops_the_step_the_run_task_is_running() -> None:
    async def main() -> None:
        out = await run_mocked(
            """
            version: 1
            name: late
            timeout: 1500ms
            steps:
              - {service: S, action: a}
              - {service: S, action: b}
            """,
            MOCKS,
        )
        assert out.result.status == "failed"
        assert out.json["error"]["type"] == "deadline" and out.json["error"]["step"] == "b"
        assert out.statuses() == {"a": "succeeded", "b": "cancelled"}
        assert out.result.duration_ms == 1500
        finished = [e for e in out.events if isinstance(e, RunFinished)]
        assert len(finished) == 1
        task = asyncio.current_task()
        assert task is not None and task.cancelling() == 0
        await asyncio.sleep(0.001)

    arun(main())


def test_a_cancel_from_outside_during_a_deadline_still_cancels_the_run() -> None:
    """Both at once: the caller's cancel is not taken for the run's own."""
    wf = workflow("""
        version: 1
        name: both
        timeout: 1s
        steps:
          - {service: S, action: a}
    """)

    async def main() -> None:
        clock = VirtualClock(start=START)
        mocks = mocks_file("version: 1\nmocks:\n  S.a: {delay: 5s}\n").mocks
        engine = Engine(transport=MockTransport(mocks, clock), clock=clock)
        fired: list[bool] = []

        def deadline_then_cancel() -> None:
            fired.append(True)
            task.cancel()

        task = asyncio.get_running_loop().create_task(engine.run(wf))
        clock.call_later(1, deadline_then_cancel)  # the same moment as the run's deadline
        with pytest.raises(asyncio.CancelledError):
            await task
        assert fired
        await engine.aclose()

    arun(main())


def test_the_kept_skeleton_follows_every_change_to_the_workflow() -> None:
    wf = workflow("""
        version: 1
        name: edits
        defaults: {timeout: 2s}
        steps:
          - {id: send, service: S, action: a, with: {order: {n: 1}}}
    """)
    services = {"S": "http://s.test"}
    first = skeleton(wf, services)
    assert skeleton(wf, services) is first  # unchanged: kept
    step = wf.steps[0]
    step.with_["order"]["n"] = 2  # deep inside, in place
    second = skeleton(wf, services)
    assert second is not first and second is skeleton(wf, services)
    step.headers = {"Authorization": "Bearer ${ secrets.token }"}
    assert skeleton(wf, services).plans[0].secret_names == ["token"]
    step.headers["X-Key"] = "${ secrets.key }"  # in place
    assert skeleton(wf, services).plans[0].secret_names == ["token", "key"]
    services["S"] = "http://elsewhere.test"
    assert skeleton(wf, services).plans[0].base_url == "http://elsewhere.test"
    assert wf.defaults is not None
    wf.defaults.timeout = 5000
    assert skeleton(wf, services).plans[0].timeout == 5.0
    wf.steps[0] = workflow(
        "version: 1\nname: e\nsteps:\n  - {id: send, service: S, action: b}\n"
    ).steps[0]
    assert skeleton(wf, services).plans[0].target == "S.b"


def test_an_edit_between_runs_is_what_the_next_run_sends() -> None:
    async def main() -> None:
        wf = workflow("""
            version: 1
            name: edits
            steps:
              - {id: send, service: S, action: a, with: {order: {n: 1}}}
        """)
        mocks = "version: 1\nmocks:\n  S.a: {}\n  S.b: {}\n"
        out = await run_mocked(wf, mocks)
        assert out.requests[0].read() == b'{"order":{"n":1}}'
        wf.steps[0].with_["order"]["n"] = 2
        wf.steps[0].headers = {"X-Token": "${ secrets.token }"}
        out = await run_mocked(wf, mocks, secrets={"token": "t0k3n"})
        assert out.requests[0].read() == b'{"order":{"n":2}}'
        assert out.requests[0].headers["x-token"] == "t0k3n"
        wf.steps[0].action = "b"
        out = await run_mocked(wf, mocks, secrets={"token": "t0k3n"})
        assert out.requests[0].url.path == "/b"

    arun(main())


def test_an_input_schema_edited_between_runs_is_what_the_next_run_checks() -> None:
    """The schema's validator is kept between runs only while the schema is as it was."""

    async def main() -> None:
        wf = workflow("""
            version: 1
            name: schema
            input:
              type: object
              required: [policyId]
            steps:
              - {id: send, service: S, action: a}
        """)
        mocks = "version: 1\nmocks:\n  S.a: {}\n"
        assert (await run_mocked(wf, mocks, {"policyId": "P-1"})).result.status == "succeeded"
        assert wf.input is not None
        wf.input["required"].append("reason")  # edited in place, as the designer does
        out = await run_mocked(wf, mocks, {"policyId": "P-1"})
        assert out.result.status == "failed"
        assert out.result.error is not None and "'reason' is a required property" in str(
            out.result.error["message"]
        )
        wf.input = {"type": "object"}
        assert (await run_mocked(wf, mocks, {"policyId": "P-1"})).result.status == "succeeded"

    arun(main())


def test_run_ids_are_random_and_a_forked_child_draws_its_own() -> None:
    """Run ids come from os.urandom read in blocks: a server's forked worker must not hand out
    the ids its parent is about to."""
    import os

    from engine import new_run_id

    ids = {new_run_id() for _ in range(2000)}  # more than one block of randomness
    assert len(ids) == 2000
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in ids)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, to the parent
        try:
            os.write(write, new_run_id().encode())
        finally:
            os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 16
    assert child != new_run_id()


def test_a_broken_graph_is_refused_on_every_run() -> None:
    wf = Workflow(name="cyc", steps=workflow(CHAIN).steps)
    wf.steps[0].after = ["c"]  # a -> b -> c -> a
    services: dict[str, str] = {}
    for _ in range(2):
        with pytest.raises(Exception, match="cycle"):
            skeleton(wf, services)


async def _garbage_of(prefixes: tuple[str, ...], runs: Any) -> dict[str, int]:
    """The objects of these modules' types that only the collector freed while `runs` ran."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        await runs
        gc.collect()
        found: dict[str, int] = {}
        for o in gc.garbage:
            name = f"{type(o).__module__}.{type(o).__qualname__}"
            if name.startswith(prefixes):
                found[name] = found.get(name, 0) + 1
        return found
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def test_mocked_runs_leave_the_engine_no_reference_cycles() -> None:
    """What a run builds is freed by reference counting when it ends (httpx, under the mocks'
    Caller, makes cycles of its own: not counted here). Concurrent and failing runs too."""
    wf = workflow(CHAIN)
    ok = mocks_file(MOCKS).mocks
    failing = mocks_file("version: 1\nmocks:\n  S.a: {status: 500}\n").mocks

    async def main() -> None:
        for mocks in (ok, failing):
            clock = VirtualClock(start=START)
            engine = Engine(transport=MockTransport(mocks, clock), clock=clock)
            await engine.run(wf)  # warm: caches, the transport's pool
            runs = asyncio.gather(*(engine.run(wf, {"n": i}) for i in range(20)))
            assert await _garbage_of(("engine.",), runs) == {}
            await engine.aclose()

    arun(main())


def test_live_runs_leave_no_reference_cycles(http_server: RecordingServer) -> None:
    """On the live Caller (aiohttp) nothing of a run is left to the collector, so the
    collector's passes during a busy server's runs find nothing to do."""
    wf = workflow(CHAIN)

    async def main() -> None:
        engine = Engine(services={"S": http_server.url})
        await engine.run(wf)
        runs = asyncio.gather(*(engine.run(wf, {"n": i}) for i in range(10)))
        assert await _garbage_of(("engine.", "aiohttp.", "yarl.", "multidict."), runs) == {}
        await engine.aclose()

    arun(main())
